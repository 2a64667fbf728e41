"""A distance model on the metadata's detector boxes: the docs' "go beyond" member of the blend.

The competition's metadata gives a detector box (x1, y1, x2, y2, probability; normalised 0-1,
NaN where nothing was detected) for every train and test row. Box height and bottom edge encode
distance in a fixed camera view, so a small gradient-boosted model on them is a strong, cheap
ensemble member that the write-up never used. It is trained on the runs' own folds (honest OOF)
and joins the greedy search as one more candidate; `06_ensemble` reports the blend of the
write-up's runs alone beside the blend with it. The site is deliberately not a feature: test
sites are unseen, and new videos come from new cameras.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, paths
from lib.chimpact.schema import KEY

NAME = "boxes-lgbm"  # its folder under runs/chimpact/ and its name in the blend
ROW_FEATURES = ["x1", "y1", "x2", "y2", "width", "height", "area", "probability", "missing"]
VIDEO_FEATURES = ["video_height", "video_bottom", "video_width", "video_missing", "video_rows"]
FEATURES = ROW_FEATURES + VIDEO_FEATURES


@dataclass(frozen=True)
class BoxConfig:
    n_estimators: int = 300
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_child_samples: int = 10
    objective: str = "l1"  # the competition metric is MAE


def member_dir() -> Path:
    return paths.runs_root() / "chimpact" / NAME


def features(rows: pd.DataFrame) -> pd.DataFrame:
    """The model's inputs for rows with box columns; a missing box stays NaN and is flagged.

    Besides the row's own box, the median box of all of the video's rows in `rows` (and the
    share of them without a box): an animal's distance changes little within one video, and a
    video whose animal is rarely detected is usually one where it is far or hidden. Only the
    metadata is used, which the test set has too; never a label.
    """
    missing_cols = [c for c in ("video_id", "x1", "y1", "x2", "y2", "probability") if c not in rows]
    if missing_cols:
        raise ValueError(f"rows lack the detector box columns {missing_cols}")
    box = rows[["x1", "y1", "x2", "y2", "probability"]].astype("float64").reset_index(drop=True)
    out = box.assign(
        width=box["x2"] - box["x1"],
        height=box["y2"] - box["y1"],
    )
    out["area"] = out["width"] * out["height"]
    out["missing"] = box[["x1", "y1", "x2", "y2"]].isna().any(axis=1).astype("int8")
    video = out.groupby(rows["video_id"].to_numpy())
    out["video_height"] = video["height"].transform("median")
    out["video_bottom"] = video["y2"].transform("median")
    out["video_width"] = video["width"].transform("median")
    out["video_missing"] = video["missing"].transform("mean")
    out["video_rows"] = video["missing"].transform("size")
    return out[FEATURES].reset_index(drop=True)


def _fit(x: pd.DataFrame, y: np.ndarray, cfg: BoxConfig, seed: int):
    import lightgbm as lgb

    model = lgb.LGBMRegressor(**asdict(cfg), random_state=seed, deterministic=True, verbose=-1)
    return model.fit(x, y)


def train(
    labelled: pd.DataFrame,
    folds: pd.DataFrame,
    test: pd.DataFrame,
    seed: int = 42,
    cfg: BoxConfig = BoxConfig(),
    out: Path | None = None,
) -> dict:
    """Fit one booster per fold of `folds` (video_id, time, fold) on `labelled` (KEY, distance,
    box columns); write oof.csv, test_pred.csv (fold mean), the boosters and metrics.json in the
    layout of a run folder, so the blend reads it like one. Returns the metrics."""
    out = out or member_dir()
    rows = labelled.merge(folds[[*KEY, "fold"]], on=KEY, how="inner", validate="one_to_one")
    if rows.empty:
        raise ValueError("no labelled row has a fold; build the records (03_tfrecords) first")
    x, y = features(rows), rows["distance"].to_numpy(np.float64)
    xt = features(test)
    oof = np.full(len(rows), np.nan)
    test_pred = np.zeros(len(test))
    fold_mae = {}
    n_folds = int(rows["fold"].max()) + 1
    out.mkdir(parents=True, exist_ok=True)
    for k in range(n_folds):
        val = (rows["fold"] == k).to_numpy()
        model = _fit(x[~val], y[~val], cfg, seed + k)
        oof[val] = model.predict(x[val])
        test_pred += model.predict(xt) / n_folds
        fold_mae[f"fold{k}"] = float(np.abs(oof[val] - y[val]).mean())
        model.booster_.save_model(str(out / f"fold{k}.txt"))
    oof_table = rows[KEY].assign(fold=rows["fold"], pred=oof, distance=y)
    fileio.write_csv(out / "oof.csv", oof_table.sort_values(KEY).reset_index(drop=True))
    fileio.write_csv(out / "test_pred.csv", test[KEY].assign(pred=test_pred))
    metrics = {
        "run_id": NAME,
        "cv_mae": float(np.abs(oof - y).mean()),
        "cv_rmse": float(np.sqrt(((oof - y) ** 2).mean())),
        "fold_mae": fold_mae,
        "rows": int(len(rows)),
        "features": FEATURES,
        "config": asdict(cfg),
        "seed": seed,
    }
    fileio.write_json(out / "metrics.json", metrics)
    return metrics
