"""Stage 05: each run's test predictions = mean of its fold models, keyed by (video_id, time).

The models are rebuilt from the run's own config.json, so inference does not depend on the
profile the notebook was started with - only on what the run folder says about itself.
"""

from __future__ import annotations

import pandas as pd

from lib import fileio
from lib.chimpact import records, runid
from lib.chimpact.model import ModelConfig
from lib.chimpact.train import load_fold_model, run_dir


def predict_run(
    run_id: str, work, strategy_kind: str = "auto", batch_size: int | None = None
) -> pd.DataFrame:
    """Columns video_id, time, pred (fold mean) and pred_fold{k}; written to test_pred.csv."""
    from lib import training
    from lib.chimpact import data as chdata

    out = run_dir(run_id)
    config_path = out / "config.json"
    if not (out / "metrics.json").is_file():
        raise FileNotFoundError(
            f"{out}: run not finished (no metrics.json); train it with 04_train"
        )
    config = fileio.read_json(config_path)
    spec = runid.parse(run_id)
    mcfg = ModelConfig(**config["model"])
    strategy = training.select_strategy(strategy_kind)
    training.set_precision(strategy)
    batch = batch_size or config["batch_size"]
    files = records.files(work, spec.dataset, ["test"])
    ds = chdata.dataset(files, spec.frames, mcfg.image_size, batch)
    merged: pd.DataFrame | None = None
    for k in range(config["n_splits"]):
        model = load_fold_model(run_id, k, mcfg, strategy)
        pred = training.predict_keyed(model, ds, batch, strategy).rename(
            columns={"pred": f"pred_fold{k}"}
        )
        merged = (
            pred
            if merged is None
            else merged.merge(pred, on=["video_id", "time"], how="outer", validate="one_to_one")
        )
    assert merged is not None
    fold_cols = [c for c in merged.columns if c.startswith("pred_fold")]
    merged.insert(2, "pred", merged[fold_cols].mean(axis=1))
    merged = merged.sort_values(["video_id", "time"]).reset_index(drop=True)
    fileio.write_csv(out / "test_pred.csv", merged)
    return merged
