"""The detector-box member of the chimpact blend (lib/chimpact/boxes.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.chimpact import boxes


def _rows(n: int, seed: int) -> pd.DataFrame:
    """Rows whose distance follows the box like a pinhole camera: height ~ 1 / distance."""
    rng = np.random.default_rng(seed)
    distance = rng.choice(np.arange(1.0, 16.0), n)
    height = np.clip(1.2 / distance, 0.02, 0.9)
    bottom = np.clip(0.55 + 0.4 / distance, 0, 1)
    x1 = rng.uniform(0, 0.5, n)
    frame = pd.DataFrame(
        {
            "video_id": [f"v{i // 4:03d}.mp4" for i in range(n)],
            "time": np.arange(n) % 4 * 10,
            "x1": x1, "y1": bottom - height, "x2": x1 + height * 0.8, "y2": bottom,
            "probability": rng.uniform(0.3, 1, n), "distance": distance,
        }
    )  # fmt: skip
    lost = rng.random(n) < 0.15  # the detector missed these rows
    frame.loc[lost, ["x1", "y1", "x2", "y2", "probability"]] = np.nan
    return frame


def test_features_flag_missing_boxes_and_keep_row_order():
    rows = _rows(40, 0)
    feats = boxes.features(rows)
    assert list(feats.columns) == boxes.FEATURES and len(feats) == len(rows)
    lost = rows["x1"].isna().to_numpy()
    assert (feats["missing"].to_numpy() == lost).all() and lost.any()
    np.testing.assert_allclose(feats["height"][~lost], (rows["y2"] - rows["y1"])[~lost])


def test_features_need_the_box_columns():
    with pytest.raises(ValueError, match="detector box columns"):
        boxes.features(pd.DataFrame({"video_id": ["a.mp4"], "time": [0]}))


def test_train_writes_a_run_folder_with_honest_oof(tmp_path):
    rows = _rows(400, 1)
    folds = rows[["video_id", "time"]].assign(fold=rows.index // 4 % 5)  # grouped by video
    test = _rows(60, 2).drop(columns="distance")
    metrics = boxes.train(rows, folds, test, seed=3, out=tmp_path)
    oof = pd.read_csv(tmp_path / "oof.csv")
    assert len(oof) == len(rows) and oof["pred"].notna().all()
    merged = oof.merge(rows[["video_id", "time", "distance"]], on=["video_id", "time"])
    np.testing.assert_allclose(merged["distance_x"], merged["distance_y"])
    baseline = np.abs(rows["distance"] - rows["distance"].median()).mean()
    assert metrics["cv_mae"] < 0.6 * baseline  # it learns the pinhole relation
    test_pred = pd.read_csv(tmp_path / "test_pred.csv")
    assert len(test_pred) == len(test) and test_pred["pred"].notna().all()
    assert sorted(p.name for p in tmp_path.glob("fold*.txt")) == [f"fold{k}.txt" for k in range(5)]
    again = boxes.train(rows, folds, test, seed=3, out=tmp_path / "again")
    assert again["cv_mae"] == metrics["cv_mae"]  # deterministic for one seed


def test_train_needs_folds(tmp_path):
    rows = _rows(20, 4)
    empty = pd.DataFrame({"video_id": [], "time": [], "fold": []})
    with pytest.raises(ValueError, match="03_tfrecords"):
        boxes.train(rows, empty.astype({"time": int}), rows, out=tmp_path)


def test_video_features_summarise_the_same_videos_boxes_without_labels():
    rows = _rows(40, 5)
    feats = boxes.features(rows)
    first = rows["video_id"] == rows["video_id"].iloc[0]
    heights = (rows["y2"] - rows["y1"])[first]
    assert (feats.loc[first.to_numpy(), "video_height"] == heights.median()).all()
    assert (feats.loc[first.to_numpy(), "video_missing"] == heights.isna().mean()).all()
    shuffled = rows.assign(distance=rows["distance"].sample(frac=1, random_state=0).to_numpy())
    pd.testing.assert_frame_equal(boxes.features(shuffled), feats)  # labels play no part
