"""Serengeti stages 02 and 03 killed with SIGKILL midway, then rerun: the stage finishes, its
output equals an uninterrupted run byte for byte, and nothing half-written - nor an earlier
run's manifest - is ever taken as finished.

The child process is slowed down by a sleep wrapped around one inner call, only so that the kill
reliably lands mid-stage; the code under test is unchanged. (Training resumes through
lib.training.fit's BackupAndRestore, tested in test_training.py; a same-seed training is
reproducible, test_serengeti_determinism.py.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.procs import file_bytes, kill_when

from lib import fileio
from lib import tfrecord_io as shared_records
from lib.serengeti import extract, records, schema

SIZE = (24, 32)


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_extraction_killed_midway_resumes_to_the_same_arrays(tiny_serengeti, tmp_path):
    data = schema.load(tiny_serengeti)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    # an earlier, finished run with other settings: its manifest must not survive the kill
    extract.run(data, killed, extract.ExtractConfig(image_size=(16, 20)), progress=False)
    assert (killed / "extract" / "manifest.csv").is_file()
    records_before = len(list((killed / "extract" / "sequences").rglob("*.json")))
    entries = killed / "extract" / "sequences"

    def finished_with_new_settings() -> int:
        n = 0
        for p in entries.rglob("*.json"):
            try:
                n += fileio.read_json(p)["result"]["config"]["image_size"] == list(SIZE)
            except (ValueError, OSError):  # being replaced right now
                pass
        return n

    kill_when(
        f"""
        import time
        from lib.serengeti import extract, schema
        inner = extract.extract_sequence
        def slow(*args, **kwargs):
            time.sleep(0.3)
            return inner(*args, **kwargs)
        extract.extract_sequence = slow
        extract.run(schema.load({str(tiny_serengeti)!r}), {str(killed)!r},
                    extract.ExtractConfig(image_size={SIZE!r}), workers=1, progress=False)
        """,
        lambda: finished_with_new_settings() >= 3,
    )
    done_before = finished_with_new_settings()
    assert 3 <= done_before < records_before  # killed midway
    for name in ("manifest.csv", "summary.json"):  # the earlier run's are gone, none written
        assert not (killed / "extract" / name).exists()
    with pytest.raises(FileNotFoundError, match="run 02_extract first"):
        records.build(data, killed)

    cfg = extract.ExtractConfig(image_size=SIZE)
    resumed = extract.run(data, killed, cfg, workers=1, progress=False)
    summary = fileio.read_json(killed / "extract" / "summary.json")
    assert summary["sequences_skipped_finished"] == done_before  # kept, not redone
    reference = extract.run(data, clean, cfg, workers=1, progress=False)
    assert resumed.equals(reference)
    arrays = file_bytes(killed / "extract" / "arrays", (".npz",))
    assert arrays and arrays == file_bytes(clean / "extract" / "arrays", (".npz",))
    assert not _temps(killed)


def test_a_stopped_extraction_is_not_read_as_complete(tiny_serengeti, tmp_path):
    data = schema.load(tiny_serengeti)
    manifest = extract.run(
        data, tmp_path, extract.ExtractConfig(image_size=SIZE), progress=False, limit=5
    )
    assert (manifest["status"] == "pending").any()
    with pytest.raises(FileNotFoundError, match=r"run 02_extract first"):  # no manifest written
        records.build(data, tmp_path)


@pytest.fixture(scope="module")
def extracted(tiny_serengeti, tmp_path_factory):
    data = schema.load(tiny_serengeti)
    work = tmp_path_factory.mktemp("serengeti-extracted")
    extract.run(data, work, extract.ExtractConfig(image_size=SIZE), workers=2, progress=False)
    return data, work


def test_record_writing_killed_midway_resumes_to_the_same_shards(extracted, tmp_path):
    data, work = extracted
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for dest in (killed, clean):
        shutil.copytree(work / "extract", dest / "extract")
    out = records.records_dir(killed)
    kill_when(
        f"""
        import time
        from lib import tfrecord_io
        from lib.serengeti import records, schema
        inner = tfrecord_io.serialize
        def slow(*args, **kwargs):
            time.sleep(0.02)
            return inner(*args, **kwargs)
        tfrecord_io.serialize = slow
        records.build(schema.load({str(data.root)!r}), {str(killed)!r}, shard_size=4)
        """,
        lambda: out.is_dir() and len(list(out.rglob("*.tfrec"))) >= 3,
    )
    assert not (out / "manifest.json").exists()
    with pytest.raises(FileNotFoundError, match="run 03_tfrecords"):
        records.files(killed, "images", "fit")
    kept = {p: p.stat().st_mtime_ns for p in out.rglob("*.tfrec")}
    resumed = records.build(data, killed, shard_size=4)
    reference = records.build(data, clean, shard_size=4)
    assert set(resumed.pop("written")) < set(reference.pop("written"))
    assert resumed == reference
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # finished shards were kept
    shards = file_bytes(out, (".tfrec",))
    assert len(shards) > len(kept) and shards == file_bytes(records.records_dir(clean), (".tfrec",))
    assert (out / "sequences.csv").read_bytes() == (
        records.records_dir(clean) / "sequences.csv"
    ).read_bytes()
    assert not _temps(out)


def test_records_from_other_inputs_are_not_kept(extracted, tmp_path):
    """Shards of a killed build are resumed only if they came from the same inputs: a label
    changed in between means other shard contents under the same names."""
    data, work = extracted
    shutil.copytree(work / "extract", tmp_path / "extract")
    first = records.build(data, tmp_path, shard_size=8)
    (records.records_dir(tmp_path) / "manifest.json").unlink()  # as if killed before the end
    readable = set(extract.readable_sequences(tmp_path)["seq_id"])
    labels = data.train_labels.copy()
    row = labels.index[(labels["empty"] == 1) & labels["seq_id"].isin(readable)][0]
    labels.loc[row, ["empty", "zebra"]] = [0, 1]
    changed = schema.Dataset(**{**data.__dict__, "train_labels": labels})
    second = records.build(changed, tmp_path, shard_size=8)
    assert second["written"] and set(second["written"]) != set(first["written"])
    seq_id = labels.loc[row, "seq_id"]
    found = [
        ex
        for part in records.PARTS
        for ex in shared_records.read(
            records.files(tmp_path, "sequences", part), records.SEQUENCE_SPEC
        )
        if ex["seq_id"].decode() == seq_id
    ]
    assert len(found) == 1
    assert found[0]["labels"][schema.CLASSES.index("zebra")] == 1.0
    assert found[0]["labels"][schema.CLASSES.index("empty")] == 0.0
