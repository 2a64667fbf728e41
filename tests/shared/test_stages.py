"""The stage engine on a toy stage (copy a text file, upper-cased): what it skips, redoes, counts
and writes, on inline, process-pool and thread executors; `--shard` as a selection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from lib import fileio, inputs, stages


def upper(job: dict) -> dict:
    """The toy per-item function: fails with a reason for a file that says so."""
    text = Path(job["src"]).read_text()
    if text.startswith("bad"):
        return {"name": job["name"], "status": "error", "reason": "says bad", "error": text}
    fileio.write_text(job["out"], text.upper())
    return {"name": job["name"], "status": "ok", "chars": len(text)}


def die(job: dict) -> dict:
    os._exit(3)  # the worker process dies mid-item


def blank(job: dict, reason: str, error: str) -> dict:
    return {"name": job["name"], "status": "error", "reason": reason, "error": error}


def toy(tmp_path: Path, names=("a.txt", "b.txt", "c.txt")):
    src, work = tmp_path / "src", tmp_path / "work"
    src.mkdir(exist_ok=True)
    for n in names:
        if not (src / n).exists():
            (src / n).write_text(f"text of {n}")
    stage = stages.Stage(folder=work / "toy", settings={"mode": "upper"}, version=1)
    return src, work, stage


def items_of(src: Path, work: Path, rows: dict | None = None) -> list[stages.Item]:
    out = []
    for p in sorted(src.iterdir()):
        job = {"name": p.name, "src": str(p), "out": str(work / "out" / p.name)}
        out.append(
            stages.Item(
                name=p.name, job=job, rows=(rows or {}).get(p.name, {}), files=(str(p),),
                outputs=(job["out"],),
            )
        )  # fmt: skip
    return out


def finish(stage, report) -> bool:
    manifest = pd.DataFrame(report.results())
    return stages.finish(stage, report, manifest, {"toy": True})


def test_first_run_does_all_a_rerun_nothing(tmp_path):
    src, work, stage = toy(tmp_path)
    first = stages.run(stage, upper, items_of(src, work), blank, progress=False)
    assert first.ran == 3 and first.skipped == 0 and finish(stage, first)
    assert (work / "out" / "a.txt").read_text() == "TEXT OF A.TXT"
    second = stages.run(stage, upper, items_of(src, work), blank, progress=False)
    assert second.ran == 0 and second.skipped == 3
    finish(stage, second)
    summary = fileio.read_json(stage.folder / "summary.json")
    assert summary["engine"]["skipped_unchanged"] == 3 and summary["toy"] is True


@pytest.mark.parametrize("change", ["rows", "content", "settings", "version", "output"])
def test_exactly_the_changed_item_is_redone(tmp_path, change):
    src, work, stage = toy(tmp_path)
    stages.run(stage, upper, items_of(src, work), blank, progress=False)
    rows = None
    if change == "rows":
        rows = {"b.txt": {"times": [3]}}
    elif change == "content":  # same size, new bytes: the hash of head and tail sees it
        old = (src / "b.txt").stat()
        (src / "b.txt").write_text("TEXT of b.txt")
        os.utime(src / "b.txt", ns=(old.st_atime_ns, old.st_mtime_ns))
    elif change == "output":
        (work / "out" / "b.txt").unlink()
    if change == "settings":
        stage = stages.Stage(folder=stage.folder, settings={"mode": "other"}, version=1)
    if change == "version":
        stage = stages.Stage(folder=stage.folder, settings=stage.settings, version=2)
    again = stages.run(stage, upper, items_of(src, work, rows), blank, progress=False)
    expected = 3 if change in ("settings", "version") else 1
    assert again.ran == expected and again.skipped == 3 - expected
    if expected == 1:
        rec = fileio.read_json(stage.record_path("b.txt"))
        assert rec["status"] == "ok" and again.records["a.txt"]["seconds"] >= 0


def test_failures_are_counted_listed_and_retried(tmp_path):
    src, work, stage = toy(tmp_path)
    (src / "b.txt").write_text("bad content")
    (src / "d.txt").mkdir()  # a folder where a file is listed
    report = stages.run(stage, upper, items_of(src, work), blank, progress=False)
    counts = report.counts()
    assert counts["ok"] == 2 and counts["failed"] == 2
    assert counts["failed_by_reason"]["says bad"] == 1
    assert counts["failed_by_reason"][stages.UNEXPECTED] == 1  # IsADirectoryError in `upper`
    assert finish(stage, report)
    errors = stages.load_errors(stage.folder)
    assert list(errors["name"]) == ["b.txt", "d.txt"]
    (src / "b.txt").write_text("good now")
    again = stages.run(stage, upper, items_of(src, work), blank, progress=False)
    assert again.ran == 2 and again.records["b.txt"]["status"] == "ok"  # failures retried


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_any_executor_gives_the_same_outputs(tmp_path, kind):
    src, work, stage = toy(tmp_path, names=[f"{i}.txt" for i in range(9)])
    make = ProcessPoolExecutor if kind == "process" else ThreadPoolExecutor
    with make(max_workers=2) as pool:
        report = stages.run(stage, upper, items_of(src, work), blank, executor=pool,
                            progress=False)  # fmt: skip
    assert report.ran == 9 and report.counts()["ok"] == 9
    assert [r["name"] for r in report.results()] == sorted(p.name for p in src.iterdir())


def test_a_dead_worker_is_a_counted_failure_not_a_crash(tmp_path):
    src, work, stage = toy(tmp_path)
    report = stages.run(stage, die, items_of(src, work), blank, workers=2, progress=False)
    assert report.counts()["failed_by_reason"] == {stages.WORKER_LOST: 3}
    assert "rerun to retry" in report.records["a.txt"]["error"]
    again = stages.run(stage, upper, items_of(src, work), blank, progress=False)
    assert again.ran == 3 and again.counts()["ok"] == 3


def test_a_path_the_worker_cannot_see_is_named_with_the_worker():
    rec = stages.attempt(upper, {"name": "x"}, "x", ("/nonexistent/data/x.txt",))
    assert rec["reason"] == stages.NOT_VISIBLE
    assert "/nonexistent/data/x.txt: not found on worker process" in rec["error"]
    assert "shared filesystem" in rec["error"]


def test_an_unfinished_stage_writes_no_manifest(tmp_path):
    src, work, stage = toy(tmp_path)
    report = stages.run(stage, upper, items_of(src, work), blank, limit=1, progress=False)
    assert report.pending == ["b.txt", "c.txt"] and not finish(stage, report)
    assert not (stage.folder / "manifest.csv").exists()


def test_shards_run_apart_and_the_last_one_writes_the_manifest(tmp_path):
    src, work, stage = toy(tmp_path, names=[f"{i}.txt" for i in range(12)])
    items = items_of(src, work)
    parts = [stages.Shard(i, 3).select(items, key=lambda it: it.name) for i in range(3)]
    assert sorted(it.name for p in parts for it in p) == sorted(it.name for it in items)
    written = []
    for i in range(3):
        report = stages.run(stage, upper, items, blank, shard=stages.Shard(i, 3), progress=False)
        assert report.ran == len(parts[i])
        written.append(finish(stage, report))
    assert written == [False, False, True]
    assert len(pd.read_csv(stage.folder / "manifest.csv")) == 12


def test_names_must_be_unique_and_relative(tmp_path):
    src, work, stage = toy(tmp_path)
    one = items_of(src, work)[0]
    with pytest.raises(ValueError, match="share the work name"):
        stages.run(stage, upper, [one, one], blank, progress=False)
    with pytest.raises(ValueError, match="relative path"):
        stages.run(stage, upper, [stages.Item("../x", one.job, {})], blank, progress=False)


def test_names_with_one_stem_or_odd_characters_keep_their_own_records(tmp_path):
    stage = stages.Stage(folder=tmp_path, settings={}, version=1)
    paths = {stage.record_path(n) for n in ("PICT0001.AVI", "PICT0001.MP4", "a#b", "a_b")}
    assert len(paths) == 4


def refuses_a_read_only_folder(root: Path) -> None:
    """The check itself, also run by an unprivileged child when the tests run as root."""
    src, work, stage = toy(root)
    stage.folder.mkdir(parents=True)
    stage.folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot be written"):
            stages.run(stage, upper, items_of(src, work), blank, progress=False)
    finally:
        stage.folder.chmod(0o700)


_AS_UNPRIVILEGED = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import test_stages
test_stages.refuses_a_read_only_folder(Path(sys.argv[1]))
"""


def test_a_read_only_work_folder_is_refused_before_any_work(tmp_path):
    if os.geteuid() != 0:
        refuses_a_read_only_folder(tmp_path)
        return
    # root writes into read-only folders: the same check runs in a child without the
    # capabilities that override file permissions (util-linux's setpriv)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run this check as root"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--inh-caps=-all",
         "--", sys.executable, "-c", _AS_UNPRIVILEGED, str(tmp_path), str(Path(__file__).parent)],
        env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_file_where_the_work_folder_should_be_is_refused(tmp_path):
    src, work, stage = toy(tmp_path)
    stage.folder.parent.mkdir(parents=True)
    stage.folder.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        stages.run(stage, upper, items_of(src, work), blank, progress=False)


def test_file_problems_in_the_users_words(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "clip.mp4").mkdir()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "fine.mp4").write_bytes(b"x")
    assert inputs.problem(tmp_path / "loop") == inputs.LOOP
    assert inputs.problem(tmp_path / "dangling") == inputs.DANGLING
    assert inputs.problem(tmp_path / "clip.mp4", "video") == "a folder, not a video"
    assert inputs.problem(tmp_path / "empty.mp4") == inputs.EMPTY
    assert inputs.problem(tmp_path / "nothing.mp4") == inputs.MISSING
    assert inputs.problem(tmp_path / "fine.mp4") is None
    assert inputs.resolve_inside(tmp_path, "loop")[1] == inputs.LOOP
    assert inputs.identity(tmp_path / "loop") == {"problem": inputs.LOOP}
    assert inputs.video_reason("x.mp4: no video stream found (...)") == "no video stream"
    assert {".tif", ".webp", ".jpg", ".png"} <= set(inputs.image_suffixes())


def test_a_finished_output_clears_the_temporary_folders_of_killed_attempts(tmp_path):
    """A worker killed while filling `frames/x.mp4` leaves `.x.mp4.*.tmp`; the retried item's
    success removes it, and another output's temporary folder is left alone."""
    stale = tmp_path / ".x.mp4.abc123.tmp"
    stale.mkdir()
    (stale / "000.jpg").write_bytes(b"half")
    other = tmp_path / ".y.mp4.def456.tmp"
    other.mkdir()
    with fileio.atomic_dir(tmp_path / "x.mp4") as tmp:
        (tmp / "000.jpg").write_bytes(b"whole")
    assert (tmp_path / "x.mp4" / "000.jpg").read_bytes() == b"whole"
    assert not stale.exists() and other.is_dir()


def test_on_record_sees_every_item_once_the_skipped_first(tmp_path):
    src, work, stage = toy(tmp_path)
    stages.run(stage, upper, items_of(src, work)[:1], blank, progress=False)
    seen: list[tuple[str, str]] = []

    def note(item: stages.Item, rec: dict) -> None:
        seen.append((item.name, rec["status"]))

    report = stages.run(stage, upper, items_of(src, work), blank, progress=False, on_record=note)
    assert report.skipped == 1 and report.ran == 2
    assert seen[0] == ("a.txt", "ok") and sorted(seen) == [
        (n, "ok") for n in ("a.txt", "b.txt", "c.txt")
    ]
