"""Stage 02 and 03 on the tiny demo: overexposure rule, gamma effect, resume, records, folds."""

import json

import numpy as np
import pandas as pd
import pytest

from lib import fileio, tfrecord_io
from lib.chimpact import extract, records, schema
from lib.chimpact.windows import needed_seconds, window
from lib.video import decode_jpeg, white_share


def test_every_video_is_extracted(tiny_extracted):
    data, work, manifest = tiny_extracted
    n_videos = sum(data.rows(s)["video_id"].nunique() for s in schema.SPLITS)
    assert len(manifest) == n_videos
    assert (manifest["status"] == "ok").all(), manifest.loc[manifest["status"] != "ok", "error"]


def test_the_rule_finds_exactly_the_overexposed_videos(tiny_chimpact, tiny_extracted):
    _, _, manifest = tiny_extracted
    truth = pd.read_csv(tiny_chimpact / "demo_truth.csv", dtype={"video_id": str})
    merged = manifest.merge(
        truth[["video_id", "overexposed"]], on="video_id", suffixes=("", "_truth")
    )
    assert merged["overexposed_truth"].sum() >= 1
    assert (merged["overexposed"] == merged["overexposed_truth"]).all()
    assert (merged["gamma_applied"] == merged["overexposed"]).all()


def test_gamma_corrected_target_frames_are_no_longer_white(tiny_extracted):
    data, work, manifest = tiny_extracted
    over = manifest[manifest["overexposed"]]
    assert len(over)
    assert (over["white_share_max"] > 0.2).all()  # downsampled target frames: white
    assert (over["white_share_full_max"] < 0.2).all()  # originals after eq=gamma=0.1: not white
    row = over.iloc[0]
    t = int(data.rows(row["split"]).query("video_id == @row.video_id")["time"].iloc[0])
    t = min(t, int(row["last_full"]))
    frame = decode_jpeg(
        extract.frame_path(work, "full", row["split"], row["video_id"], t).read_bytes()
    )
    assert white_share(frame) < 0.2
    assert frame.std() > 5  # the scene came back, not a flat dark frame


def test_every_window_frame_is_on_disk(tiny_extracted):
    data, work, manifest = tiny_extracted
    info = manifest.set_index("video_id")
    for split in schema.SPLITS:
        for row in data.rows(split).itertuples(index=False):
            for source in schema.SOURCES:
                last = int(info.loc[row.video_id, f"last_{source}"])
                for step in (1, 2):
                    for i in window(row.time, step, last):
                        assert extract.frame_path(work, source, split, row.video_id, i).is_file()


def test_stored_frames_are_exactly_the_needed_ones(tiny_extracted):
    data, work, manifest = tiny_extracted
    row = manifest.iloc[0]
    times = data.rows(row["split"]).query("video_id == @row.video_id")["time"]
    last = int(row["last_down"])
    expected = sorted({min(i, last) for i in needed_seconds(times)})
    stored = sorted(
        int(p.stem)
        for p in extract.frame_dir(work, "down", row["split"], row["video_id"]).glob("*.jpg")
    )
    assert stored == expected


def test_rerun_skips_finished_videos_and_redoes_a_missing_one(
    tiny_chimpact, tiny_extracted, tmp_path
):
    data, work, manifest = tiny_extracted
    summary = fileio.read_json(work / "extract" / "summary.json")
    again = extract.run(data, work, workers=1, progress=False)
    assert fileio.read_json(work / "extract" / "summary.json")["resumed_from_previous_run"] == len(
        manifest
    )
    pd.testing.assert_frame_equal(again, manifest)
    # losing one video's entry (a crash before its manifest was written) redoes only that video
    victim = manifest.iloc[0]
    (work / "extract" / "videos" / victim["split"] / f"{victim['video_id']}.json").unlink()
    extract.run(data, work, workers=1, progress=False)
    assert (
        fileio.read_json(work / "extract" / "summary.json")["resumed_from_previous_run"]
        == len(manifest) - 1
    )
    assert (
        summary["frames_written"]
        == fileio.read_json(work / "extract" / "summary.json")["frames_written"]
    )


def test_a_label_past_the_end_is_clamped_and_counted(tiny_chimpact, tmp_path):
    data = schema.load(tiny_chimpact)
    video = data.train["video_id"].iloc[0]
    late = data.train[data.train["video_id"] == video].iloc[[0]].assign(time=999)
    data = schema.Dataset(
        root=data.root,
        train=pd.concat([data.train, late], ignore_index=True),
        test=data.test.iloc[:0],
    )
    manifest = extract.run(data, tmp_path, workers=1, progress=False, splits=("train",))
    row = manifest.set_index("video_id").loc[video]
    assert row["status"] == "ok" and row["clamped_targets"] == 1
    assert fileio.read_json(tmp_path / "extract" / "summary.json")["clamped_targets"] == 1


def test_a_broken_video_is_an_error_row_not_a_crash(tiny_chimpact, tmp_path):
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(tiny_chimpact, data_dir)
    data = schema.load(data_dir)
    victim = data.train["video_id"].iloc[0]
    (data_dir / "train_videos_downsampled" / victim).write_bytes(b"not a video")
    manifest = extract.run(data, tmp_path / "work", workers=2, progress=False)
    bad = manifest[manifest["status"] != "ok"]
    assert list(bad["video_id"]) == [victim]
    assert victim in bad["error"].iloc[0]
    built = records.build(data, tmp_path / "work", n_splits=2, seed=1, progress=False)
    n_rows = int((data.train["video_id"] == victim).sum())
    assert built["skipped"]["train_rows"] == n_rows
    assert built["counts"]["train_rows"] == len(data.train) - n_rows


@pytest.fixture(scope="module")
def built(tiny_extracted):
    data, work, _ = tiny_extracted
    return data, work, records.build(data, work, n_splits=3, seed=5, shard_size=8, progress=False)


def test_records_hold_one_example_per_row_in_every_dataset(built):
    data, work, manifest = built
    for name in records.DATASETS:
        train_files = records.files(work, name, [f"fold{k}" for k in range(3)])
        examples = list(tfrecord_io.read(train_files, records.SPEC))
        assert len(examples) == len(data.train)
        keys = sorted((e["video_id"].decode(), int(e["time"])) for e in examples)
        assert keys == sorted(zip(data.train["video_id"], data.train["time"], strict=True))
        test_files = records.files(work, name, ["test"])
        assert sum(tfrecord_io.record_count(f) for f in test_files) == len(data.test)


def test_a_record_holds_the_right_window(built):
    data, work, manifest = built
    ex = next(tfrecord_io.read(records.files(work, "full-s2", ["fold0"]), records.SPEC))
    vid, t = ex["video_id"].decode(), int(ex["time"])
    info = fileio.read_json(work / "extract" / "videos" / "train" / f"{vid}.json")["result"]
    expected = [
        extract.frame_path(work, "full", "train", vid, i).read_bytes()
        for i in window(t, 2, info["last_full"])
    ]
    assert list(ex["frames"]) == expected
    label = data.train.set_index(["video_id", "time"]).loc[(vid, t), "distance"]
    assert np.isclose(ex["distance"], label)
    assert records.decode_sequence(ex).shape[0] == 11


def test_no_video_in_two_folds(built):
    _, work, _ = built
    folds = records.fold_table(work)
    assert (folds.groupby("video_id")["fold"].nunique() == 1).all()
    assert set(folds["fold"]) == {0, 1, 2}


def test_an_identical_build_is_reused_and_a_changed_one_rebuilt(built):
    data, work, manifest = built
    stamps = {p: p.stat().st_mtime_ns for p in (work / "records").rglob("*.tfrec")}
    again = records.build(data, work, n_splits=3, seed=5, shard_size=8, progress=False)
    assert again.pop("written") == []
    assert again == json.loads((work / "records" / "manifest.json").read_text())
    assert {p: p.stat().st_mtime_ns for p in (work / "records").rglob("*.tfrec")} == stamps
    other = records.build(data, work, n_splits=3, seed=6, shard_size=8, progress=False)
    assert other["config"]["seed"] == 6
    records.build(
        data, work, n_splits=3, seed=5, shard_size=8, progress=False
    )  # restore for others
