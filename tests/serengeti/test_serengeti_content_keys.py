"""Serengeti stage 03 redoes exactly what changed: shards are named by their sequences' content
keys (labels, stage-02 manifest rows, arrays file). A changed label rewrites the shards of its
sequence only; a damaged image replaced by a good copy and extracted again clears the
sequence's `truncated` state in the records; nothing changed, nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib import tfrecord_io
from lib.serengeti import extract, records, schema

SIZE = (24, 32)
CFG = extract.ExtractConfig(image_size=SIZE)


@pytest.fixture
def copy(tiny_serengeti, tmp_path):
    """A private copy of the tiny data folder (its images are edited) and an empty work."""
    root = tmp_path / "data"
    shutil.copytree(tiny_serengeti, root)
    return root, tmp_path / "work"


def _holding(work: Path, kind: str, seq_id: str) -> set[str]:
    """The shards (`kind/file`) that hold a record of `seq_id`."""
    spec = records.SPECS[kind]
    out = set()
    for path in sorted((records.records_dir(work) / kind).glob("*.tfrec")):
        if any(ex["seq_id"].decode() == seq_id for ex in tfrecord_io.read([path], spec)):
            out.add(f"{kind}/{path.name}")
    return out


def _images_of(work: Path, seq_id: str) -> list[int]:
    return sorted(
        int(ex["image_index"])
        for path in (records.records_dir(work) / "images").glob("*.tfrec")
        for ex in tfrecord_io.read([path], records.IMAGE_SPEC)
        if ex["seq_id"].decode() == seq_id
    )


def _a_fit_sequence(data: schema.Dataset, work: Path, images: int = 1) -> str:
    """A readable fit-season train sequence with at least `images` readable images."""
    readable = extract.readable_sequences(work)
    seqs = records.sequence_table(data).merge(readable, on=["split", "seq_id"])
    fit = seqs[(seqs["part"] == "fit") & (seqs["n_ok"] >= images) & (seqs["split"] == "train")]
    return str(fit["seq_id"].iloc[0])


def test_a_changed_label_rewrites_its_sequence_shards_only(copy):
    root, work = copy
    data = schema.load(root)
    extract.run(data, work, CFG, workers=2, progress=False)
    records.build(data, work, shard_size=8)
    assert records.build(data, work, shard_size=8)["written"] == []

    seq_id = _a_fit_sequence(data, work)
    labels = data.train_labels.copy()
    row = labels.index[labels["seq_id"] == seq_id][0]
    labels.loc[row, list(schema.CLASSES)] = 0
    labels.loc[row, "zebra"] = 1
    changed = schema.Dataset(**{**data.__dict__, "train_labels": labels})
    written = set(records.build(changed, work, shard_size=8)["written"])
    assert written == _holding(work, "images", seq_id) | _holding(work, "sequences", seq_id)


def test_a_repaired_image_clears_the_truncated_state(copy):
    root, work = copy
    data = schema.load(root)
    extract.run(data, work, CFG, workers=2, progress=False)
    seq_id = _a_fit_sequence(data, work, images=2)
    name = sorted(data.train_images.loc[data.train_images["seq_id"] == seq_id, "file_name"])[0]
    good = (root / name).read_bytes()

    def extract_again() -> None:
        # stage 02 redoes a sequence whose files changed (its own content key); here the
        # sequence's stage-02 entry is removed to the same effect
        (work / "extract" / "sequences" / "train" / f"{extract.safe_name(seq_id)}.json").unlink()
        extract.run(data, work, CFG, workers=1, progress=False)

    (root / name).write_bytes(good[: len(good) // 2])  # a card pulled out mid-write
    extract_again()
    manifest = extract.load_manifest(work).set_index("file_name")
    assert manifest.loc[name, "status"] == "truncated"
    records.build(data, work, shard_size=8)
    assert 0 not in _images_of(work, seq_id)

    (root / name).write_bytes(good)  # the good copy
    extract_again()
    assert extract.load_manifest(work).set_index("file_name").loc[name, "status"] == "ok"
    written = set(records.build(data, work, shard_size=8)["written"])
    assert 0 in _images_of(work, seq_id)
    assert _holding(work, "sequences", seq_id) <= written
    assert _holding(work, "images", seq_id) <= written
