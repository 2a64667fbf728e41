"""SIGKILL in the middle of extraction and of record writing, then a rerun: the stage finishes,
its output equals an uninterrupted run byte for byte, and nothing half-written is ever taken as
finished. (Training's resume after a kill is in test_training.py.)

The child process is slowed down by a sleep wrapped around one inner call, only so that the kill
reliably lands mid-stage on a fast machine; the code under test is unchanged.
"""

from __future__ import annotations

from helpers.procs import file_bytes, kill_when

from lib.chimpact import extract, records, schema


def test_extraction_killed_midway_resumes_to_the_same_frames(tiny_chimpact, tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    entries = killed / "extract" / "videos"
    kill_when(
        f"""
        import time
        from lib.chimpact import extract, schema
        inner = extract.extract_video
        def slow(*args, **kwargs):
            time.sleep(0.4)
            return inner(*args, **kwargs)
        extract.extract_video = slow
        extract.run(schema.load({str(tiny_chimpact)!r}), {str(killed)!r}, workers=1,
                    progress=False)
        """,
        lambda: entries.is_dir() and len(list(entries.rglob("*.json"))) >= 3,
    )
    assert not (killed / "extract" / "manifest.csv").exists()  # killed before the end
    finished_before = len(list(entries.rglob("*.json")))
    data = schema.load(tiny_chimpact)
    resumed = extract.run(data, killed, workers=1, progress=False)
    reference = extract.run(data, clean, workers=1, progress=False)
    assert (resumed["status"] == "ok").all() and len(resumed) == len(reference)
    assert finished_before < len(resumed)
    assert file_bytes(killed / "frames", (".jpg",)) == file_bytes(clean / "frames", (".jpg",))
    cols = ["split", "video_id", "status", "last_down", "last_full", "overexposed"]
    assert (
        resumed[cols]
        .sort_values(cols[:2])
        .reset_index(drop=True)
        .equals(reference[cols].sort_values(cols[:2]).reset_index(drop=True))
    )
    assert not [p for p in killed.rglob("*") if p.name.startswith(".") and "tmp" in p.name]


def test_record_writing_killed_midway_resumes_to_the_same_shards(tiny_extracted, tmp_path):
    import shutil

    data, work, _ = tiny_extracted
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for dest in (killed, clean):
        shutil.copytree(work / "extract", dest / "extract")
        shutil.copytree(work / "frames", dest / "frames")
    out = records.records_dir(killed)
    kill_when(
        f"""
        import time
        from lib import tfrecord_io
        from lib.chimpact import records, schema
        inner = tfrecord_io.serialize
        def slow(*args, **kwargs):
            time.sleep(0.01)
            return inner(*args, **kwargs)
        tfrecord_io.serialize = slow
        records.build(schema.load({str(data.root)!r}), {str(killed)!r}, n_splits=3,
                      shard_size=16, progress=False)
        """,
        lambda: out.is_dir() and len(list(out.rglob("*.tfrec"))) >= 3,
    )
    assert not (out / "manifest.json").exists()
    resumed = records.build(data, killed, n_splits=3, shard_size=16, progress=False)
    reference = records.build(data, clean, n_splits=3, shard_size=16, progress=False)
    assert resumed["counts"] == reference["counts"]
    assert file_bytes(out, (".tfrec",)) == file_bytes(records.records_dir(clean), (".tfrec",))
    assert not [p for p in out.rglob("*") if p.suffix == ".tmp"]
