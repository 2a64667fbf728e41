"""Inference of one run (5 fold models) on the demo-sized test set, and per-fold graph reuse.

A synthetic finished run is set up in a temporary folder: test records (demo test set size,
222 rows; deterministic synthetic frames), config.json and five fold weight files at the demo
profile's model. Timed, alternated within each repetition, medians:

- `ours`: `lib.chimpact.infer.predict_run` (one model, each fold's weights loaded into it);
- `per_fold_models`: the same pipeline, but a model built (and its predict graph traced) for
  every fold - what 05 did in its first version;
- `before`: per-fold models and the first version's input pipeline.

Also the model alone (sequences/s of `predict_on_batch` on an in-memory batch), and the fixed
cost per training fold that graph reuse could remove: building + compiling + the first `fit`
step of a fresh model against the first step of a compiled model that already ran.

    python -m bench.infer [--quick]
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import common
from lib.demo import synthetic_records

DEMO_TEST_ROWS = 222  # rows of the default demo's test split (seed 42, 120 videos)
RUN_ID = "run-20211104-1815-down-a4p50-f7s1"


def _demo_model():
    from lib import profiles

    demo = profiles.get("demo")
    return common.demo_model(), demo


def setup_run(root: Path, rows: int, folds: int) -> Path:
    """A finished run of RUN_ID under root/runs and its test records under root/work."""
    import keras

    from lib import fileio
    from lib.chimpact import runid
    from lib.chimpact.model import build_model
    from lib.chimpact.train import run_dir, weights_path
    from lib.tfrecord_io import record_count

    mcfg, demo = _demo_model()
    work = root / "work"
    dataset = runid.parse(RUN_ID).dataset
    files = synthetic_records.write_records(work / "records" / dataset, rows, prefix="test")
    manifest = {
        "config": {"n_splits": folds},
        "datasets": {
            dataset: {"test": [{"file": f.name, "count": record_count(f)} for f in files]}
        },
    }
    fileio.write_json(work / "records" / "manifest.json", manifest)
    out = run_dir(RUN_ID)
    config = {"model": asdict(mcfg), "batch_size": demo.batch_size, "n_splits": folds}
    fileio.write_json(out / "config.json", config)
    fileio.write_json(out / "metrics.json", {"run_id": RUN_ID})
    for k in range(folds):
        keras.utils.set_random_seed(k)
        build_model(mcfg).save_weights(weights_path(RUN_ID, k))
    return work


def _before_predict(work: Path, old_pipeline: bool):
    """predict_run in its first version: one model built per fold (optionally the old pipeline)."""
    from lib import fileio, training
    from lib.chimpact import input_pipeline, records, runid
    from lib.chimpact.model import ModelConfig
    from lib.chimpact.train import load_fold_model, run_dir

    from .pipeline import _before_dataset

    config = fileio.read_json(run_dir(RUN_ID) / "config.json")
    spec = runid.parse(RUN_ID)
    mcfg = ModelConfig.from_dict(config["model"])
    strategy = training.select_strategy("default")
    batch = config["batch_size"]
    files = records.files(work, spec.dataset, ["test"])
    make = _before_dataset if old_pipeline else input_pipeline.dataset
    ds = make(files, spec.frames, mcfg.image_size, batch)
    merged = None
    for k in range(config["n_splits"]):
        model = load_fold_model(RUN_ID, k, mcfg, strategy)
        pred = training.predict_keyed(model, ds, batch, strategy)
        pred = pred.rename(columns={"pred": f"pred_fold{k}"})
        merged = pred if merged is None else merged.merge(pred, on=["video_id", "time"])
    assert merged is not None
    return merged.sort_values(["video_id", "time"]).reset_index(drop=True)


def _fold_overhead(reps: int) -> dict[str, Any]:
    """Fixed cost of one training fold: a fresh model vs `lib.training.ModelSlot`'s reused one.

    Both get a model ready at a seed, then take a one-step `fit` with validation and one
    `predict_on_batch` (the graphs a fold traces: train, validation, OOF predict).
    """
    import keras
    import numpy as np

    from lib import training
    from lib.chimpact.model import build_model

    mcfg, demo = _demo_model()
    rng = np.random.default_rng(0)
    x = rng.random((demo.batch_size, 7, mcfg.image_size, mcfg.image_size, 3), dtype=np.float32)
    y = rng.uniform(0, 25, (demo.batch_size, 1)).astype(np.float32)
    strategy = training.select_strategy("default")

    def fold(model) -> None:
        model.fit(
            x, y, validation_data=(x[:8], y[:8]), epochs=1, batch_size=demo.batch_size, verbose=0
        )
        model.predict_on_batch(x)

    def fresh() -> tuple[float, float]:
        cpu0, start = common.cpu_seconds(), time.perf_counter()
        keras.utils.set_random_seed(1)
        fold(training._compiled(build_model(mcfg), demo.learning_rate))
        return time.perf_counter() - start, common.cpu_seconds() - cpu0

    slot = training.ModelSlot()
    fold(slot.fresh(lambda: build_model(mcfg), strategy, demo.learning_rate))  # first fold

    def reused() -> tuple[float, float]:
        cpu0, start = common.cpu_seconds(), time.perf_counter()
        keras.utils.set_random_seed(1)
        fold(slot.fresh(lambda: build_model(mcfg), strategy, demo.learning_rate))
        return time.perf_counter() - start, common.cpu_seconds() - cpu0

    fresh_m, reused_m = [], []
    for _ in range(reps):
        fresh_m.append(fresh())
        reused_m.append(reused())
    fresh_s, reused_s = [m[0] for m in fresh_m], [m[0] for m in reused_m]
    return {
        "fresh_s": common.median_spread(fresh_s),
        "reused_s": common.median_spread(reused_s),
        "saving_per_fold_s": statistics.median(fresh_s) - statistics.median(reused_s),
        "saving_per_fold_cpu_s": statistics.median(m[1] for m in fresh_m)
        - statistics.median(m[1] for m in reused_m),
        "what": "model ready + one-step fit with validation + predict_on_batch, demo model",
    }


def run(quick: bool = False) -> dict[str, Any]:
    import keras
    import numpy as np

    rows, folds, reps = (12, 2, 1) if quick else (DEMO_TEST_ROWS, 5, 4)
    mcfg, demo = _demo_model()
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        old = os.environ.get("CAMTRAP_RUNS")
        os.environ["CAMTRAP_RUNS"] = str(Path(tmp) / "runs")
        try:
            from lib.chimpact import infer

            work = setup_run(Path(tmp), rows, folds)
            variants = {
                "ours": lambda: infer.predict_run(RUN_ID, work, strategy_kind="default"),
                "per_fold_models": lambda: _before_predict(work, old_pipeline=False),
                "before": lambda: _before_predict(work, old_pipeline=True),
            }
            times: dict[str, list[float]] = {k: [] for k in variants}
            cpu: dict[str, list[float]] = {k: [] for k in variants}
            outputs = {}
            warmup = 0 if quick else 1  # a first round, not recorded
            names = list(variants)
            for rep in range(warmup + reps):
                for name in names[rep % 3 :] + names[: rep % 3]:  # rotate: no fixed slot
                    keras.backend.clear_session()
                    cpu0, start = common.cpu_seconds(), time.perf_counter()
                    outputs[name] = variants[name]()
                    if rep >= warmup:
                        times[name].append(time.perf_counter() - start)
                        cpu[name].append(common.cpu_seconds() - cpu0)
            cols = [f"pred_fold{k}" for k in range(folds)]
            agree = float(
                np.abs(
                    outputs["ours"][cols].to_numpy() - outputs["per_fold_models"][cols].to_numpy()
                ).max()
            )
        finally:
            if old is None:
                os.environ.pop("CAMTRAP_RUNS", None)
            else:
                os.environ["CAMTRAP_RUNS"] = old
    from lib.chimpact.model import build_model

    keras.backend.clear_session()
    model = build_model(mcfg)
    x = np.random.default_rng(0).random(
        (demo.batch_size, 7, mcfg.image_size, mcfg.image_size, 3), dtype=np.float32
    )
    model.predict_on_batch(x)

    def block() -> float:
        n = 2 if quick else 10
        return (
            n
            * demo.batch_size
            / common.timed(lambda: [model.predict_on_batch(x) for _ in range(n)])
        )

    model_rate = common.repeat(block, reps)
    totals = {k: common.median_spread(v) for k, v in times.items()}
    cpu_totals = {k: statistics.median(v) for k, v in cpu.items()}
    ours_s = totals["ours"]["median"]
    return {
        "test_rows": rows,
        "folds": folds,
        "run_total_s": ours_s,
        "run_seq_per_s": rows * folds / ours_s,
        "model_seq_per_s": common.median_spread(model_rate),
        "variants_total_s": totals,
        "variants_cpu_s": cpu_totals,
        "reuse_saving_s": totals["per_fold_models"]["median"] - ours_s,
        "reuse_saving_cpu_s": cpu_totals["per_fold_models"] - cpu_totals["ours"],
        "cpu_ratio_before_over_ours": cpu_totals["before"] / cpu_totals["ours"],
        "speedup_vs_before": totals["before"]["median"] / ours_s,
        "max_abs_diff_reuse_vs_per_fold": agree,
        "training_fold_overhead": _fold_overhead(1 if quick else reps),
        "quick": quick,
    }


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    v = result["variants_total_s"]
    rows = [
        (
            f"infer.run_total_s ({result['test_rows']} rows x {result['folds']} folds)",
            f"{result['run_total_s']:.2f} s ({result['run_seq_per_s']:.0f} seq/s incl. decode)",
        ),
        (
            "infer.model_seq_per_s (predict_on_batch)",
            f"{result['model_seq_per_s']['median']:.0f} seq/s",
        ),
        ("infer.per_fold_models_total_s", f"{v['per_fold_models']['median']:.2f} s"),
        (
            "infer.before_total_s",
            f"{v['before']['median']:.2f} s (ours {result['speedup_vs_before']:.2f}x faster)",
        ),
        (
            "infer.reuse_saving_s (one model vs one per fold)",
            f"{result['reuse_saving_s']:.2f} s wall, {result['reuse_saving_cpu_s']:.2f} s CPU",
        ),
        (
            "infer.cpu_ratio_before_over_ours",
            f"{result['cpu_ratio_before_over_ours']:.2f}x",
        ),
        (
            "infer.training_fold_overhead.saving_per_fold_s",
            f"{result['training_fold_overhead']['saving_per_fold_s']:.2f} s wall, "
            f"{result['training_fold_overhead']['saving_per_fold_cpu_s']:.2f} s CPU",
        ),
    ]
    return rows


main = common.main_for("python -m bench.infer", __doc__, run, table)


if __name__ == "__main__":
    raise SystemExit(main())
