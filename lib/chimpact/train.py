"""Stage 04: train one run ID over all folds into `runs/chimpact/<run_id>/`.

The run ID says *what* varies (source, augmentation, frames, step); the profile says *how big*
(image size, backbone, epochs, batch, folds). The folder is self-describing: the resolved
config with the git commit, per-fold history and best weights, out-of-fold predictions keyed by
(video_id, time), and metrics.json. A rerun resumes: finished folds are skipped, an interrupted
fold continues from its last epoch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import pandas as pd

from lib import fileio, paths, profiles, runs
from lib.chimpact import records, runid
from lib.chimpact.model import ModelConfig, build_model
from lib.chimpact.profile import ChimpactProfile
from lib.tfrecord_io import record_count

if TYPE_CHECKING:
    import tensorflow as tf

    from lib import training
    from lib.chimpact import input_pipeline


def run_dir(run_id: str) -> Path:
    return paths.runs_root() / "chimpact" / run_id


def weights_path(run_id: str, fold: int) -> Path:
    return run_dir(run_id) / f"{run_id}-fold{fold}-best.weights.h5"


def load_fold_model(run_id: str, fold: int, mcfg: ModelConfig, strategy) -> keras.Model:
    """Fold `fold`'s best model of a run, built inside the strategy's scope (05 uses it too)."""
    with strategy.scope():
        model = build_model(mcfg)
    model.load_weights(weights_path(run_id, fold))
    return model


def model_config(spec: runid.RunSpec, prof: ChimpactProfile) -> ModelConfig:
    """The profile's model with the run's frame count (the run ID says 7 or 9)."""
    return replace(prof.model, frames=spec.frames)


def fold_medians(labels: pd.DataFrame, folds: pd.DataFrame, n_splits: int) -> list[float]:
    """Median distance of each fold's training rows: where its distance output starts.

    A zero-initialised output spends the first of a demo fold's few hundred steps walking to
    the typical distance; starting there costs nothing and uses no validation label.
    """
    rows = labels.merge(folds[["video_id", "time", "fold"]], on=["video_id", "time"])
    return [float(rows.loc[rows["fold"] != k, "distance"].median()) for k in range(n_splits)]


def resolve(run_id: str, ctx: profiles.Context) -> dict:
    """The run's full configuration (what is written to config.json)."""
    spec = runid.parse(run_id)
    prof = ctx.profile
    manifest = fileio.read_json(records.records_dir(ctx.work) / "manifest.json")
    return fileio.jsonable(
        {
            "run_id": run_id,
            "spec": asdict(spec),
            "dataset": spec.dataset,
            "profile": prof.name,
            "model": asdict(model_config(spec, prof)),
            "epochs": prof.epochs,
            "batch_size": prof.batch_size,
            "learning_rate": prof.learning_rate,
            "threads": prof.train_threads,  # the numbers' last digits depend on it
            "n_splits": manifest["config"]["n_splits"],
            "folds_grouped_by": manifest["config"]["group_by"],
            # every fold reads every train shard (to train on or to pick its best epoch by), so
            # a changed train row retrains the run; test rows do not enter training
            "records": records.input_key(
                ctx.work, spec.dataset, [f"fold{k}" for k in range(manifest["config"]["n_splits"])]
            ),
            "seed": ctx.seed,
            "data_dir": str(ctx.data_dir),
            "work": str(ctx.work),
        }
    )


@dataclass
class _RunSetup:
    """What every fold of one run trains and scores with; built once, before the first fold."""

    run_id: str
    ctx: profiles.Context
    spec: runid.RunSpec
    mcfg: ModelConfig
    config: dict
    labels: pd.DataFrame
    strategy: tf.distribute.Strategy
    slot: training.ModelSlot
    cached: bool  # decoded frames in memory: a resumed fold replays its finished epochs
    decoded: input_pipeline.DecodedParts | None
    verbose: int


def _shared_decode(
    ctx: profiles.Context, spec: runid.RunSpec, mcfg: ModelConfig, n_splits: int
) -> tuple[bool, input_pipeline.DecodedParts | None]:
    """Whether the run's decoded frames stay in memory, and the run-wide decode if so.

    Decoded frames in memory (demo, quick): each record is decoded once for all folds, and a
    resumed fold replays the finished epochs' batches, so it ends exactly like an
    uninterrupted one; at full size they are not cached, and replaying would mean decoding
    those epochs again, so a resumed fold there continues with a fresh stream instead.
    """
    from lib.chimpact import input_pipeline

    every_part = records.files(ctx.work, spec.dataset, [f"fold{j}" for j in range(n_splits)])
    total = sum(record_count(f) for f in every_part)
    cached = input_pipeline.cache_fits(total, spec.frames, mcfg.image_size)
    decoded = (
        input_pipeline.DecodedParts(every_part, spec.frames, mcfg.image_size) if cached else None
    )
    return cached, decoded


def _fold_dataset(run: _RunSetup, parts: list[str], training_: bool, k: int) -> tf.data.Dataset:
    """Fold `k`'s keyed batches of `parts`: augmented and shuffled from a per-fold seed when
    training, in record order and unaugmented for validation."""
    from lib.chimpact import input_pipeline

    return input_pipeline.dataset(
        records.files(run.ctx.work, run.spec.dataset, parts),
        frames=run.spec.frames,
        image_size=run.mcfg.image_size,
        batch_size=run.config["batch_size"],
        training=training_,
        augment=run.spec.policy if training_ else None,
        prob=run.spec.prob,
        seed=run.ctx.seed + k,
        decoded=run.decoded,
    )


def _train_fold(run: _RunSetup, k: int, median: float) -> tuple[pd.DataFrame, dict]:
    """Fit fold `k` (or find it finished) and predict its validation part with its best epoch.

    The global seed is set before the datasets are built, since they take their ops' seeds
    from it; the distance output starts at the training rows' median. Returns the fold's
    predictions joined to the labels by key, and what `training.fit` reported.
    """
    from lib import training
    from lib.chimpact import input_pipeline

    n_splits = run.config["n_splits"]
    train_parts = [f"fold{j}" for j in range(n_splits) if j != k]
    keras.utils.set_random_seed(run.ctx.seed * 100 + k)  # before the datasets trace their ops
    val = _fold_dataset(run, [f"fold{k}"], False, k)
    fold_cfg = replace(run.mcfg, output_bias=median)
    info = training.fit(
        lambda fold_cfg=fold_cfg: build_model(fold_cfg),
        input_pipeline.without_keys(_fold_dataset(run, train_parts, True, k)),
        input_pipeline.without_keys(val),
        run_dir(run.run_id) / f"fold{k}",
        weights_path(run.run_id, k),
        epochs=run.config["epochs"],
        learning_rate=run.config["learning_rate"],
        strategy=run.strategy,
        seed=run.ctx.seed * 100 + k,
        verbose=run.verbose,
        slot=run.slot,
        resume_same_stream=run.cached,
    )
    if run.slot.model is None:  # fold finished earlier: nothing was built yet
        run.slot.model = load_fold_model(run.run_id, k, run.mcfg, run.strategy)
    model = run.slot.model
    model.load_weights(weights_path(run.run_id, k))  # the fold's best epoch
    pred = training.predict_keyed(model, val, run.config["batch_size"], run.strategy)
    pred = pred.assign(fold=k)
    pred = pred.merge(run.labels, on=["video_id", "time"], how="left", validate="one_to_one")
    return pred, info


def _write_oof(out: Path, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All folds' predictions as oof.csv, in key order; a prediction without a label means the
    records and the labels disagree, and CV would be scored on the wrong rows."""
    oof = pd.concat(parts).sort_values(["video_id", "time"]).reset_index(drop=True)
    if oof["distance"].isna().any():
        raise RuntimeError("out-of-fold predictions do not match the labels by key")
    fileio.write_csv(out / "oof.csv", oof[["video_id", "time", "fold", "pred", "distance"]])
    return oof


def train_run(
    run_id: str, ctx: profiles.Context, strategy_kind: str = "auto", verbose: int = 2
) -> dict:
    """Train every fold of one run; returns metrics (also written to metrics.json)."""
    from lib import training

    config = resolve(run_id, ctx)
    out = run_dir(run_id)
    labels = ctx_labels(ctx)  # CV is scored on these: the records must hold the same ones
    runs.start(out, config)

    training.pin_threads(ctx.profile.train_threads)
    strategy = training.select_strategy(strategy_kind)
    precision = training.set_precision(strategy)
    spec = runid.parse(run_id)
    mcfg = model_config(spec, ctx.profile)
    n_splits = config["n_splits"]
    medians = fold_medians(labels, records.fold_table(ctx.work), n_splits)
    slot = training.ModelSlot()  # one compiled model for all folds (bench/infer.py: saves s/fold)
    cached, decoded = _shared_decode(ctx, spec, mcfg, n_splits)
    run = _RunSetup(
        run_id, ctx, spec, mcfg, config, labels, strategy, slot, cached, decoded, verbose
    )
    oof_parts, fold_mae, fold_info = [], {}, {}
    for k in range(n_splits):
        pred, fold_info[f"fold{k}"] = _train_fold(run, k, medians[k])
        fold_mae[f"fold{k}"] = float(np.abs(pred["pred"] - pred["distance"]).mean())
        oof_parts.append(pred)
    oof = _write_oof(out, oof_parts)
    err = oof["pred"] - oof["distance"]
    metrics = {
        "run_id": run_id,
        "cv_mae": float(err.abs().mean()),
        "cv_rmse": float(np.sqrt((err**2).mean())),
        "fold_mae": fold_mae,
        "folds": fold_info,
        "rows": int(len(oof)),
        "precision": precision,
        "replicas": int(strategy.num_replicas_in_sync),
        "profile": ctx.profile.name,
    }
    fileio.write_json(out / "metrics.json", metrics)
    return metrics


def ctx_labels(ctx: profiles.Context) -> pd.DataFrame:
    """The train labels of the context's data folder, checked to be those the records hold."""
    from lib.chimpact import schema

    data = schema.load(ctx.data_dir)
    records.check_current(data, ctx.work)
    return data.train[["video_id", "time", "distance"]]


def history(run_id: str) -> pd.DataFrame:
    """All folds' training history in one table (for plots)."""
    parts = []
    for path in sorted(run_dir(run_id).glob("fold*/history.csv")):
        parts.append(pd.read_csv(path).assign(fold=int(path.parent.name[4:])))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
