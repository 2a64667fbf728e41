"""Stages after 02 redo exactly what changed: record shards are named by their rows' content
keys, a run's config carries the key of the train shards it reads, and a run's test predictions
are kept while their key (config, fold weights, test shards) holds. Change one distance: that
row's shard is rewritten in each dataset and the training key changes; change a test row: the
training key holds and the prediction key changes; change nothing: nothing is written."""

from __future__ import annotations

import shutil
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from lib import fileio, profiles, tfrecord_io
from lib.chimpact import extract, infer, records, train
from lib.chimpact.model import ModelConfig, build_model

DATASETS = ("down-s1", "full-s2")
RUN = "run-20211101-1526-down-a1p50-f7s1"  # reads down-s1
FOLDS = 3


def _build(data, work: Path) -> dict:
    return records.build(
        data, work, n_splits=FOLDS, seed=5, shard_size=8, datasets=DATASETS, progress=False
    )


@pytest.fixture
def work(tiny_extracted, tmp_path) -> Path:
    _, extracted, _ = tiny_extracted
    out = tmp_path / "work"
    shutil.copytree(extracted / "extract", out / "extract")
    shutil.copytree(extracted / "frames", out / "frames")
    return out


def _examples(work: Path, dataset: str) -> dict[tuple[str, int], tuple[str, dict]]:
    """(video_id, time) -> (shard name, example) over every part of a dataset."""
    out = {}
    folder = records.records_dir(work) / dataset
    for path in sorted(folder.glob("*.tfrec")):
        for ex in tfrecord_io.read([path], records.SPEC):
            out[(ex["video_id"].decode(), int(ex["time"]))] = (path.name, ex)
    return out


def _same(a: dict, b: dict) -> bool:
    """Two parsed examples hold the same values (NaN distances of test rows compare equal)."""
    return all(np.array_equal(a[k], b[k], equal_nan=np.asarray(a[k]).dtype.kind == "f") for k in a)


def _ctx(data, work: Path) -> profiles.Context:
    return profiles.Context(
        track="chimpact", profile=profiles.get("quick"), data_dir=data.root, work=work,
        seed=5, workers=1, is_demo=False,
    )  # fmt: skip


def test_one_changed_distance_rewrites_its_shard_only(tiny_extracted, work):
    data = tiny_extracted[0]
    first = _build(data, work)
    assert len(first["written"]) == len(list((work / "records").rglob("*.tfrec")))
    before = {d: _examples(work, d) for d in DATASETS}
    train_key = train.resolve(RUN, _ctx(data, work))["records"]

    assert _build(data, work)["written"] == []  # nothing changed: nothing written
    assert train.resolve(RUN, _ctx(data, work))["records"] == train_key

    rows = data.train.copy()
    vid, t = rows.loc[5, "video_id"], int(rows.loc[5, "time"])
    rows.loc[5, "distance"] += 1.5
    changed = _build(replace(data, train=rows), work)
    for d in DATASETS:
        after = _examples(work, d)
        shard = before[d][(vid, t)][0]
        assert [w for w in changed["written"] if w.startswith(f"{d}/")] == [
            f"{d}/{after[(vid, t)][0]}"
        ]
        assert after[(vid, t)][0] != shard and after[(vid, t)][0][:8] == shard[:8]
        assert np.isclose(after[(vid, t)][1]["distance"], rows.loc[5, "distance"])
        others = [k for k in before[d] if k != (vid, t)]
        assert all(_same(before[d][k][1], after[k][1]) for k in others)
        moved = {k for k in others if before[d][k][0] != after[k][0]}
        assert moved == {k for k in others if before[d][k][0] == shard}  # its shard-mates only
    ctx = _ctx(replace(data, train=rows), work)
    assert train.resolve(RUN, ctx)["records"] != train_key  # every fold reads that row


def test_a_changed_test_row_keeps_the_training_key(tiny_extracted, work):
    data = tiny_extracted[0]
    _build(data, work)
    train_key = train.resolve(RUN, _ctx(data, work))["records"]
    test_key = records.input_key(work, "down-s1", ["test"])
    rows = data.test.copy()
    rows.loc[0, "site_id"] = "elsewhere"
    changed = _build(replace(data, test=rows), work)
    assert changed["written"] and all("/test-" in w for w in changed["written"])
    assert train.resolve(RUN, _ctx(data, work))["records"] == train_key
    assert records.input_key(work, "down-s1", ["test"]) != test_key


def test_a_replaced_video_rewrites_the_shards_of_its_rows(tiny_extracted, work, tmp_path):
    """Stage 03 reads stage 02's entry of each video, not its frames: a video whose file was
    replaced is extracted again and gets new records; the other videos' shards stay."""
    data = replace(tiny_extracted[0], root=tmp_path / "data")
    shutil.copytree(tiny_extracted[0].root, data.root)
    extract.run(data, work, workers=1, progress=False)
    _build(data, work)
    ids = data.train["video_id"].drop_duplicates().tolist()
    victim, donor = ids[0], ids[-1]
    for folder in ("train_videos", "train_videos_downsampled"):
        shutil.copyfile(data.root / folder / donor, data.root / folder / victim)
    extract.run(data, work, workers=1, progress=False)
    changed = _build(data, work)
    for d in DATASETS:
        holding = {
            f"{d}/{name}" for (vid, _), (name, _) in _examples(work, d).items() if vid == victim
        }
        assert holding and {w for w in changed["written"] if w.startswith(f"{d}/")} == holding


def test_a_video_extracted_again_to_the_same_frames_rewrites_nothing(tiny_extracted, work):
    """A stage-02 entry removed and made again from the same file gives the same entry, so no
    record shard is rewritten: outputs follow content, not the act of re-running."""
    data = tiny_extracted[0]
    _build(data, work)
    victim = data.train["video_id"].iloc[0]
    (work / "extract" / "videos" / "train" / f"{Path(victim).name}.json").unlink()
    extract.run(data, work, workers=1, progress=False)
    assert _build(data, work)["written"] == []


def test_train_refuses_records_made_from_other_tables(tiny_extracted, work):
    data = tiny_extracted[0]
    _build(data, work)
    rows = data.train.copy()
    rows.loc[0, "distance"] += 1.0
    with pytest.raises(RuntimeError, match="other label tables.*rerun 02_extract and 03"):
        records.check_current(replace(data, train=rows), work)
    records.check_current(data, work)


def _fake_run(work: Path) -> ModelConfig:
    """A finished run with seeded fold weights (inference does not care how they were made)."""
    prof = profiles.get("quick")
    mcfg = ModelConfig(
        frames=7, image_size=prof.model.image_size, backbone=prof.model.backbone,
        backbone_weights=None, lstm_units=prof.model.lstm_units,
        dense_units=prof.model.dense_units,
    )  # fmt: skip
    config = {"model": asdict(mcfg), "batch_size": prof.batch_size, "n_splits": FOLDS}
    fileio.write_json(train.run_dir(RUN) / "config.json", config)
    fileio.write_json(train.run_dir(RUN) / "metrics.json", {"run_id": RUN})
    for k in range(FOLDS):
        keras.utils.set_random_seed(100 + k)
        build_model(mcfg).save_weights(train.weights_path(RUN, k))
    return mcfg


def test_predictions_are_kept_until_weights_or_test_shards_change(
    tiny_extracted, work, tmp_path, monkeypatch
):
    monkeypatch.setenv("CAMTRAP_RUNS", str(tmp_path / "runs"))
    data = tiny_extracted[0]
    _build(data, work)
    mcfg = _fake_run(work)
    out = train.run_dir(RUN) / "test_pred.csv"
    first = infer.predict_run(RUN, work, strategy_kind="default")
    stamp = out.stat().st_mtime_ns
    again = infer.predict_run(RUN, work, strategy_kind="default")
    assert out.stat().st_mtime_ns == stamp  # same inputs: nothing predicted
    pd.testing.assert_frame_equal(again, first)

    keras.utils.set_random_seed(999)  # fold 1 retrained
    build_model(mcfg).save_weights(train.weights_path(RUN, 1))
    third = infer.predict_run(RUN, work, strategy_kind="default")
    assert out.stat().st_mtime_ns != stamp
    np.testing.assert_array_equal(third["pred_fold0"], first["pred_fold0"])
    assert not np.allclose(third["pred_fold1"], first["pred_fold1"])

    rows = data.test.copy()
    rows.loc[0, "site_id"] = "elsewhere"  # a rewritten test shard
    _build(replace(data, test=rows), work)
    stamp = out.stat().st_mtime_ns
    infer.predict_run(RUN, work, strategy_kind="default")
    assert out.stat().st_mtime_ns != stamp
