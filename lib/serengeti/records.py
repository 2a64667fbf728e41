"""Stage 03: TFRecords of the extracted arrays, split by season into the write-up's parts.

Parts: `fit` (seasons S1-S8: the networks train here), `s9` (checkpoint selection, and the
first stacking season), `s10` (the second stacking season and every number of the ladder), and
`test` (the test season). Two kinds of example:

- `images`: one per readable image (first three of a sequence): its `flow` and `naive` pixels
  (raw uint8 bytes at model size, so the JPEG-free arrays of stage 02 reach the model
  unchanged), `seq_id`, `image_index`, `first` (1 for the sequence's first readable image: the
  write-up trained on those), `labels` (the sequence's 54 classes; zeros for test);
- `sequences`: one per sequence with a readable image: `mean`, `background`, `seq_id`,
  `n_images`, `labels`.

Shard names carry their record counts and the manifest repeats them, so the reader asserts it
saw every record. The manifest is written last; a build killed midway keeps its finished shards
(each written to a temporary name and renamed) and resumes. Shards are named by the content
keys of their sequences (`sequence_keys`: labels, stage-02 manifest rows, arrays file), so a
rerun rewrites only the shards whose sequences changed (a part's later shards too when a
change adds or removes an image record, as the shard boundaries move). Sequences with no
readable image have no example; they are listed in the manifest (stage 06 gives them class
priors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lib import content_keys, fileio, tfrecord_io
from lib.serengeti import extract, schema
from lib.serengeti.schema import CLASSES, KEY, N_CLASSES

FIT_SEASONS = tuple(range(1, 9))
STACK_SEASONS = (9, 10)
PARTS = ("fit", "s9", "s10", "test")
KINDS = ("images", "sequences")

IMAGE_SPEC: tfrecord_io.Spec = {
    "flow": tfrecord_io.Field("bytes"),
    "naive": tfrecord_io.Field("bytes"),
    "seq_id": tfrecord_io.Field("bytes"),
    "image_index": tfrecord_io.Field("int"),
    "first": tfrecord_io.Field("int"),
    "labels": tfrecord_io.Field("float", N_CLASSES),
}
SEQUENCE_SPEC: tfrecord_io.Spec = {
    "mean": tfrecord_io.Field("bytes"),
    "background": tfrecord_io.Field("bytes"),
    "seq_id": tfrecord_io.Field("bytes"),
    "n_images": tfrecord_io.Field("int"),
    "labels": tfrecord_io.Field("float", N_CLASSES),
}
SPECS = {"images": IMAGE_SPEC, "sequences": SEQUENCE_SPEC}


def records_dir(work: str | Path) -> Path:
    return Path(work) / "records"


def part_of(split: str, season: int) -> str | None:
    """Which part a sequence belongs to (None: a train season outside S1-S10)."""
    if split == "test":
        return "test"
    if season in FIT_SEASONS:
        return "fit"
    if season in STACK_SEASONS:
        return f"s{season}"
    return None


def sequence_table(data: schema.Dataset) -> pd.DataFrame:
    """One row per sequence (train and test): schema.sequences columns + split and part."""
    parts = []
    for split in ("train", "test"):
        seqs = schema.sequences(data.images(split)).assign(split=split)
        seqs["part"] = [part_of(split, int(s)) for s in seqs["season"]]
        parts.append(seqs)
    return pd.concat(parts, ignore_index=True)


def _labels(data: schema.Dataset) -> dict[str, np.ndarray]:
    table = data.train_labels.set_index(KEY)[list(CLASSES)]
    return {k: v.astype(np.float32) for k, v in zip(table.index, table.to_numpy(), strict=True)}


def build(data: schema.Dataset, work: str | Path, shard_size: int = 512) -> dict:
    """Write every part's shards; shards whose content key is unchanged are kept (see
    `sequence_keys`), so a rerun rewrites only the shards of changed sequences. Returns the
    manifest plus `written`: the shards this call wrote (`kind/file`)."""
    work = Path(work)
    out_dir = records_dir(work)
    readable = extract.readable_sequences(work)
    summary = fileio.read_json(extract.extract_dir(work) / "summary.json")
    settings = {"extract": summary["config"], "version": tfrecord_io.FORMAT_VERSION}
    manifest_path = out_dir / "manifest.json"
    fileio.remove_stale_temps(out_dir)  # half-written shards of a killed build
    manifest_path.unlink(missing_ok=True)  # written last: its presence means "complete"
    seqs = sequence_table(data)
    ok = set(zip(readable["split"], readable[KEY], strict=True))
    seqs["readable"] = [(s, q) in ok for s, q in zip(seqs["split"], seqs[KEY], strict=True)]
    labels = _labels(data)
    keys = sequence_keys(work, seqs[seqs["readable"]], labels)
    manifest: dict = {
        "key": settings,
        "tables": tables_key(data),
        "image_size": summary["config"]["image_size"],
        "parts": {},
    }
    written: list[str] = []
    for part in PARTS:
        chosen = seqs[(seqs["part"] == part) & seqs["readable"]]
        items = list(zip(chosen["split"], chosen[KEY], strict=True))
        manifest["parts"][part] = {
            **_write_part(work, part, items, keys, labels, settings, shard_size, written),
            "sequences_total": int((seqs["part"] == part).sum()),
            "sequences_without_image": int(((seqs["part"] == part) & ~seqs["readable"]).sum()),
        }
    fileio.write_csv(out_dir / "sequences.csv", seqs.drop(columns=["file_names"]))
    fileio.write_json(manifest_path, manifest)
    return {**manifest, "written": sorted(written)}  # this build's rewritten shards (not stored)


def sequence_keys(
    work: Path, readable: pd.DataFrame, labels: dict[str, np.ndarray]
) -> dict[tuple[str, str], str]:
    """(split, seq_id) -> content key: the sequence's labels, its stage-02 manifest rows (which
    images were read, and why not) and the identity of its arrays file - read from stage 02's
    outputs, never by decoding an image again. A damaged image replaced by a good copy and
    extracted again changes its rows and its arrays, so its shards are rewritten."""
    entries = extract.load_manifest(work).groupby(["split", KEY], sort=False)
    out = {}
    for split, seq_id in zip(readable["split"], readable[KEY], strict=True):
        rows = entries.get_group((split, seq_id)).drop(columns=["split", KEY])
        out[(split, seq_id)] = content_keys.item_key(
            split=split,
            seq_id=seq_id,
            labels=labels.get(seq_id, _ZEROS).tolist(),
            stage02=rows.to_dict(orient="list"),
            # the arrays file's content, not its time: a second extraction of the same inputs
            # writes the same bytes at another moment and must keep the same records
            arrays=_content_identity(extract.arrays_path(work, split, seq_id)),
        )
    return out


def _content_identity(path: Path) -> dict:
    """A file's size and head/tail hash, without its modification time."""
    return {k: v for k, v in content_keys.file_identity(path).items() if k != "mtime_ns"}


_ZEROS = np.zeros(N_CLASSES, np.float32)


def _write_part(
    work: Path, part: str, items: list[tuple[str, str]], keys: dict, labels: dict,
    settings: dict, shard_size: int, written: list[str],
) -> dict:  # fmt: skip
    """One part's image and sequence shards, each named by its items' content keys."""
    out_dir = records_dir(work)
    image_items = []
    for split, seq_id in items:
        idx = extract.load_arrays(work, split, seq_id)["image_index"]
        image_items += [(split, seq_id, int(i), j == 0) for j, i in enumerate(idx)]

    def make_image(item):
        split, seq_id, index, first = item
        arr = extract.load_arrays(work, split, seq_id)
        j = int(np.flatnonzero(arr["image_index"] == index)[0])
        return {
            "flow": arr["flow"][j].tobytes(),
            "naive": arr["naive"][j].tobytes(),
            "seq_id": seq_id,
            "image_index": index,
            "first": int(first),
            "labels": labels.get(seq_id, _ZEROS),
        }

    def make_sequence(item):
        split, seq_id = item
        arr = extract.load_arrays(work, split, seq_id)
        return {
            "mean": arr["mean"].tobytes(),
            "background": arr["background"].tobytes(),
            "seq_id": seq_id,
            "n_images": len(arr["image_index"]),
            "labels": labels.get(seq_id, _ZEROS),
        }

    image_keys = [f"{keys[(s, q)]}/{i}/{int(f)}" for s, q, i, f in image_items]
    done: dict[str, list[str]] = {"images": [], "sequences": []}
    entry = {
        "images": tfrecord_io.write_shards(
            image_items, out_dir / "images", part, IMAGE_SPEC, shard_size, make_image,
            keys=image_keys, settings=settings, written=done["images"],
        ),
        "sequences": tfrecord_io.write_shards(
            items, out_dir / "sequences", part, SEQUENCE_SPEC, shard_size, make_sequence,
            keys=[keys[item] for item in items], settings=settings, written=done["sequences"],
        ),
    }  # fmt: skip
    written += [f"{kind}/{name}" for kind, names in done.items() for name in names]
    return entry


def tables_key(data: schema.Dataset) -> str:
    """Digest of the train labels the records hold, so a later stage can tell that the label
    table was edited after stage 03 ran."""
    return content_keys.digest(data.train_labels.sort_values(KEY).to_dict(orient="list"))


def check_current(data: schema.Dataset, work: str | Path) -> None:
    """Refuse to train or score on records made from another label table than `data`'s."""
    if read_manifest(work).get("tables") != tables_key(data):
        raise RuntimeError(
            f"{records_dir(work) / 'manifest.json'}: the records were made from another "
            f"train_labels.csv than the one in {data.root} (edited since?); rerun 02_extract and "
            "03_tfrecords, which redo exactly the changed sequences"
        )


def input_key(work: str | Path, parts: tuple[str, ...]) -> str:
    """What a stage reading `parts` (both kinds) was made from: the names of those shards,
    which carry their content digests (a training run's or a prediction's input key)."""
    return content_keys.digest(
        [p.name for k in KINDS for part in parts for p in files(work, k, part)]
    )


def read_manifest(work: str | Path) -> dict:
    """Stage 03's manifest; it is written last, so its absence means 03 has not finished."""
    path = records_dir(work) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no record manifest; run 03_tfrecords (to the end) first")
    return fileio.read_json(path)


def files(work: str | Path, kind: str, part: str) -> list[Path]:
    """The shards of one kind and part, checked against the manifest's counts."""
    if kind not in KINDS or part not in PARTS:
        raise ValueError(f"unknown records {kind!r}/{part!r}; kinds {KINDS}, parts {PARTS}")
    manifest = read_manifest(work)
    shards = manifest["parts"][part][kind]
    out = [records_dir(work) / kind / s["file"] for s in shards]
    missing = [p for p in out if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: record shard missing; rerun 03_tfrecords")
    return out


def image_size(work: str | Path) -> tuple[int, int]:
    h, w = read_manifest(work)["image_size"]
    return int(h), int(w)


def sequences(work: str | Path) -> pd.DataFrame:
    """The sequence table stage 03 wrote (split, part, readable, season, site, datetime...)."""
    seqs = pd.read_csv(records_dir(work) / "sequences.csv", dtype={KEY: str, "site": str})
    seqs["datetime"] = pd.to_datetime(seqs["datetime"])
    return seqs
