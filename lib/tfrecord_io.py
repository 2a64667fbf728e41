"""TFRecord writing and parsing from one field spec, shards named with their record counts.

The writer and the parser read the same `Spec` (field -> kind and length), so a field added to
one cannot be forgotten in the other. Shard names carry their record count
(`fold0-00-n0123.tfrec`) and the stage manifest repeats it, so a reader can check that it saw
every record without scanning the files.

Given one content key per item (`lib.content_keys.item_key`: what the item's example is made
from - its label row, its upstream manifest entry - never the decoded pixels), a shard's name
also carries the digest of its items' keys, the settings and `FORMAT_VERSION`
(`fold0-00-3f2a9c01d4e5-n0123.tfrec`): a rerun keeps every shard whose name it would write
again and rewrites only the shards holding a changed item; shards of the same prefix that no
longer belong are removed. The names then serve downstream stages as their input key: a
training fold or a prediction is redone exactly when the names of the shards it reads change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import fileio
from lib.content_keys import digest


@dataclass(frozen=True)
class Field:
    kind: str  # "bytes", "float" or "int"
    length: int = 1  # 1 = scalar

    def __post_init__(self) -> None:
        if self.kind not in ("bytes", "float", "int"):
            raise ValueError(f"unknown field kind {self.kind!r}")


Spec = Mapping[str, Field]
_COUNT = re.compile(r"-n(\d+)\.tfrec$")
FORMAT_VERSION = 2  # 2: shards named by content digest; bump when an example's layout changes


# TensorFlow is imported lazily (stages 01-02 never need it); keep its C++ banners out of reports.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _tf():
    import tensorflow as tf

    return tf


def serialize(example: Mapping[str, Any], spec: Spec) -> bytes:
    """One tf.train.Example; every spec field must be present with the declared length."""
    tf = _tf()
    features = {}
    for name, f in spec.items():
        if name not in example:
            raise KeyError(f"example lacks field {name!r}")
        value = example[name]
        values = list(value) if f.length > 1 else [value]
        if len(values) != f.length:
            raise ValueError(f"field {name!r} needs {f.length} values, got {len(values)}")
        if f.kind == "bytes":
            values = [v.encode() if isinstance(v, str) else bytes(v) for v in values]
            features[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif f.kind == "float":
            features[name] = tf.train.Feature(
                float_list=tf.train.FloatList(value=[float(v) for v in values])
            )
        else:
            features[name] = tf.train.Feature(
                int64_list=tf.train.Int64List(value=[int(v) for v in values])
            )
    example = tf.train.Example(features=tf.train.Features(feature=features))
    return example.SerializeToString(deterministic=True)  # map order fixed: same bytes each run


def feature_description(spec: Spec) -> dict:
    tf = _tf()
    dtypes = {"bytes": tf.string, "float": tf.float32, "int": tf.int64}
    return {
        name: tf.io.FixedLenFeature([] if f.length == 1 else [f.length], dtypes[f.kind])
        for name, f in spec.items()
    }


def parse(serialized, spec: Spec) -> dict:
    """Parse a serialized example (or a batch of them) into tensors, inside or outside tf.data."""
    tf = _tf()
    if getattr(serialized, "shape", None) is not None and serialized.shape.rank == 1:
        return tf.io.parse_example(serialized, feature_description(spec))
    return tf.io.parse_single_example(serialized, feature_description(spec))


def shard_name(prefix: str, index: int, count: int, key: str = "") -> str:
    middle = f"-{key}" if key else ""
    return f"{prefix}-{index:02d}{middle}-n{count:04d}.tfrec"


def record_count(path: str | Path) -> int:
    match = _COUNT.search(Path(path).name)
    if not match:
        raise ValueError(f"{path}: shard name does not carry a record count")
    return int(match.group(1))


def write_shards(
    items: Sequence[Any],
    folder: str | Path,
    prefix: str,
    spec: Spec,
    shard_size: int,
    make: Callable[[Any], Mapping[str, Any]] | None = None,
    keys: Sequence[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    written: list[str] | None = None,
) -> list[dict]:
    """Write items into shards of at most `shard_size`; complete shards already on disk are kept.

    `make` turns an item into an example when its shard is written, so only one shard's
    examples are ever in memory. Each shard is written to a temporary file and renamed: a shard
    under its final name is complete. With `keys` (one content key per item) each shard is named
    by the digest of its items' keys, `settings`, the spec and FORMAT_VERSION, so a shard is
    rewritten exactly when one of those changed, and shards of `prefix` not in the new list are
    removed; `written` collects the names of the shards this call wrote. Returns one
    `{file, count}` entry per shard.
    """
    tf = _tf()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(items)
    if keys is not None and len(keys) != n:
        raise ValueError(f"{prefix}: {len(keys)} content keys for {n} items")
    shards = -(-n // shard_size) if n else 0
    out = []
    for i in range(shards):
        lo, hi = i * n // shards, (i + 1) * n // shards
        chunk = items[lo:hi]
        key = "" if keys is None else _shard_key(keys[lo:hi], spec, settings)
        path = folder / shard_name(prefix, i, len(chunk), key)
        if not path.exists():
            with fileio.atomic_path(path) as tmp, tf.io.TFRecordWriter(str(tmp)) as writer:
                for item in chunk:
                    writer.write(serialize(make(item) if make else item, spec))
            if written is not None:
                written.append(path.name)
        out.append({"file": path.name, "count": len(chunk)})
    if keys is not None:
        _prune(folder, prefix, {e["file"] for e in out})
    return out


def _shard_key(keys: Sequence[str], spec: Spec, settings: Mapping[str, Any] | None) -> str:
    layout = {name: [f.kind, f.length] for name, f in spec.items()}
    return digest({"v": FORMAT_VERSION, "spec": layout, "settings": settings, "items": keys})


def _prune(folder: Path, prefix: str, keep: set[str]) -> None:
    """Remove shards of `prefix` that the current build does not list (stale content)."""
    for path in folder.glob(f"{prefix}-*.tfrec"):
        if path.name not in keep:
            path.unlink()


def read(files: Iterable[str | Path], spec: Spec) -> Iterator[dict]:
    """Eager iteration over parsed examples as numpy values (tests, reports, small data)."""
    tf = _tf()
    ds = tf.data.TFRecordDataset([str(f) for f in files])
    for raw in ds:
        yield {k: v.numpy() for k, v in parse(raw, spec).items()}
