"""The bad-input matrix for the chimpact track: each case gets a clear error naming the file (and
row) and the fix, or a documented, counted skip - never a crash deep in TensorFlow or a silently
wrong row.

Table-level cases edit a copy of the tiny demo's CSVs and call `schema.load`; video-level cases
break video files and run stage 02 on them.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from lib.chimpact import extract, schema
from lib.chimpact.schema import DataError

CSVS = ("train_labels.csv", "train_metadata.csv", "test_metadata.csv", "submission_format.csv")


@pytest.fixture
def tables(tiny_chimpact, tmp_path):
    """A data folder holding the tiny demo's CSVs only (videos are not needed to load them)."""
    for name in (*CSVS, "test_answers.csv"):
        shutil.copy(tiny_chimpact / name, tmp_path / name)
    return tmp_path


def _edit(folder, name, change):
    frame = pd.read_csv(folder / name, dtype={"video_id": str})
    change(frame).to_csv(folder / name, index=False)


def _set(row: int, column: str, value):
    def change(frame):
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("train_labels.csv", _set(3, "time", -2), r"train_labels.csv: line 5 has time -2"),
        ("train_labels.csv", _set(0, "time", None), r"line 2 has time \(empty\)"),
        ("train_metadata.csv", _set(1, "time", 2.5), r"train_metadata.csv: line 3 .*whole seconds"),
        ("test_metadata.csv", _set(2, "time", "ten"), r"test_metadata.csv: line 4 has time 'ten'"),
        ("train_labels.csv", lambda f: pd.concat([f, f.iloc[[0]]]), r"repeat a \(video_id, time\)"),
        ("train_labels.csv", lambda f: f.drop(columns="distance"), r"missing column.*distance"),
        ("train_metadata.csv", lambda f: f.rename(columns={"site_id": "site"}), r"\['site_id'\]"),
        ("train_labels.csv", lambda f: f.iloc[1:], r"1 only in train_metadata.csv"),
        ("train_metadata.csv", lambda f: f.iloc[:-2], r"2 only in train_labels.csv"),
        ("submission_format.csv", lambda f: f.iloc[:-1], r"1 only in test_metadata.csv"),
        ("submission_format.csv", lambda f: f.iloc[::-1], r"in another order"),
        ("test_metadata.csv", _set(0, "video_id", "../../etc/passwd"), r"plain file name"),
        ("train_labels.csv", _set(0, "video_id", "sub/dir.mp4"), r"line 2 has video_id"),
    ],
)
def test_bad_tables_fail_with_file_row_and_fix(tables, name, change, message):
    _edit(tables, name, change)
    with pytest.raises(DataError, match=message):
        schema.load(tables)


def test_missing_table_and_empty_or_absent_folder(tables, tmp_path_factory):
    (tables / "test_metadata.csv").unlink()
    with pytest.raises(DataError, match="test_metadata.csv: file not found.*lib.demo"):
        schema.load(tables)
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DataError, match="data folder is empty"):
        schema.load(empty)
    with pytest.raises(DataError, match="data folder not found"):
        schema.load(empty / "nope")


def test_unknown_run_id_says_what_is_wrong():
    from lib.chimpact import runid

    with pytest.raises(ValueError, match="a3"):
        runid.parse("run-20211101-1526-down-a3p50-f7s1")


@pytest.fixture
def broken_videos(tiny_chimpact, tmp_path):
    """A copy of the tiny demo with four kinds of broken train video; returns (folder, cases)."""
    data = shutil.copytree(tiny_chimpact, tmp_path / "data")
    ids = sorted(pd.read_csv(data / "train_labels.csv")["video_id"].unique())
    full = data / "train_videos"
    cases = {"missing": ids[0], "zero_bytes": ids[1], "text": ids[2], "truncated": ids[3]}
    (full / cases["missing"]).unlink()
    (full / cases["zero_bytes"]).write_bytes(b"")
    (full / cases["text"]).write_text("this is a note, not a video\n")
    raw = (full / cases["truncated"]).read_bytes()
    (full / cases["truncated"]).write_bytes(raw[: len(raw) // 3])
    return data, cases


def test_broken_videos_are_counted_and_named_not_fatal(broken_videos, tmp_path):
    data_dir, cases = broken_videos
    data = schema.load(data_dir)
    manifest = extract.run(data, tmp_path / "work", workers=2, progress=False)
    by_id = manifest.set_index("video_id")
    errors = {  # the reason in the user's words; the error names the file (and the decoder's)
        "missing": ("missing", cases["missing"]),
        "zero_bytes": ("an empty file", cases["zero_bytes"]),
        "text": ("not a readable video", cases["text"]),
    }
    for case, (reason, text) in errors.items():
        row = by_id.loc[cases[case]]
        assert row["status"] == "error" and row["reason"] == reason, (case, row["reason"])
        assert text in row["error"], (case, row["error"])
    # a truncated file keeps the seconds before the cut; labels after it are clamped and counted
    cut = by_id.loc[cases["truncated"]]
    if cut["status"] == "ok":
        assert cut["last_full"] < by_id["last_full"].max()
    else:
        assert cut["error"]
    ok = manifest[~manifest["video_id"].isin([cases[c] for c in errors])]
    summary = extract.summarize(manifest, extract.ExtractConfig())
    assert summary["errors"] == int((manifest["status"] != "ok").sum()) >= 3
    assert (ok["status"] == "ok").sum() >= len(ok) - 1


def test_label_past_the_end_is_clamped_and_counted(tiny_chimpact, tmp_path):
    data_dir = shutil.copytree(tiny_chimpact, tmp_path / "data")
    labels = pd.read_csv(data_dir / "train_labels.csv", dtype={"video_id": str})
    video = labels["video_id"].iloc[0]
    late = labels["time"].max() + 500

    def push(frame):
        rows = frame.index[frame["video_id"] == video]
        frame.loc[rows[-1], "time"] = late
        return frame

    _edit(data_dir, "train_labels.csv", push)
    _edit(data_dir, "train_metadata.csv", push)
    data = schema.load(data_dir)
    manifest = extract.run(data, tmp_path / "work", workers=2, progress=False)
    row = manifest.set_index("video_id").loc[video]
    assert row["status"] == "ok" and row["clamped_targets"] == 1
