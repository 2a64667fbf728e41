"""Export the blended chimpact runs as a self-contained bundle, and load it back.

A bundle holds every fold model of each run that has a non-zero weight in the greedy ensemble
(`.keras`, loadable without this project's model code), the ensemble weights, and the
preprocessing the models were trained with: 1 fps frames, JPEG quality and frame size of stage 02,
the overexposure rule and gamma filter, the window (frames, step), the model input size, and the
snapping grid. `lib.chimpact.predict` reads only this folder.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lib import bundle as common
from lib import fileio
from lib.bundle import BundleError
from lib.chimpact import runid, schema
from lib.chimpact.model import ModelConfig
from lib.chimpact.windows import HALF
from lib.video import GAMMA_FILTER

TRACK = "chimpact"


def export(
    summary: dict,
    extract_config: dict,
    out: str | Path | None = None,
    strategy_kind: str = "default",
) -> Path:
    """Write the bundle of a finished `06_ensemble` (its summary.json dict) to `out`.

    `extract_config` is stage 02's config (work/.../extract/summary.json "config"): frame size
    and JPEG quality must match what the models saw, so they travel with the models.
    """
    from lib import training
    from lib.chimpact.train import load_fold_model, run_dir

    out = Path(out) if out else common.default_dir(TRACK)
    # the write-up's runs only: new videos come without the detector boxes the box model needs
    blend = summary.get("writeup_ensemble_weights", summary["ensemble_weights"])
    weights = {r: float(w) for r, w in blend.items() if abs(w) > 1e-12}
    if not weights:
        raise ValueError("the ensemble has no run with a non-zero weight; nothing to export")
    strategy = training.select_strategy(strategy_kind)
    runs, files = [], []
    with fileio.atomic_dir(out) as tmp:
        for run_id, weight in weights.items():
            config = fileio.read_json(run_dir(run_id) / "config.json")
            metrics = fileio.read_json(run_dir(run_id) / "metrics.json")
            spec = runid.parse(run_id)
            mcfg = ModelConfig(**config["model"])
            models = []
            for k in range(config["n_splits"]):
                rel = f"models/{run_id}/fold{k}.keras"
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                load_fold_model(run_id, k, mcfg, strategy).save(tmp / rel)
                models.append(rel)
            files += models
            runs.append(
                {
                    "run_id": run_id,
                    "weight": weight,
                    "source": spec.source,
                    "step": spec.step,
                    "frames": spec.frames,
                    "image_size": mcfg.image_size,
                    "cv_mae": metrics["cv_mae"],
                    "models": models,
                }
            )
        manifest = {
            "format_version": common.FORMAT_VERSION,
            "track": TRACK,
            "runs": runs,
            "ensemble": {
                "cv_mae": summary.get("writeup_ensemble_cv_mae", summary["ensemble_cv_mae"]),
                "rounded_cv_mae": summary.get("ensemble_rounded_cv_mae"),
                "weights": weights,
                "fallback_distance": summary.get("test_fallback_distance"),
            },
            "preprocessing": {
                "fps": 1,
                "window_half": HALF,
                "frame_size": extract_config.get("size"),
                "jpeg_quality": extract_config.get("quality", 2),
                "white_value": extract_config["white_value"],
                "white_share": extract_config["white_share"],
                "gamma_filter": GAMMA_FILTER,
                "resize": "tf.image.resize to image_size x image_size, antialias, aspect not kept",
            },
            "postprocessing": {"snap_to_grid": True, "grid": schema.DISTANCE_GRID.tolist()},
            "trained_on": {"profile": summary.get("profile"), "data_dir": summary.get("data_dir")},
            "environment": common.environment(),
            "files": files,
        }
        fileio.write_json(tmp / common.MANIFEST, manifest)  # last: its presence means complete
    return out


@dataclass
class RunModels:
    run_id: str
    weight: float
    source: str
    step: int
    frames: int
    image_size: int
    model: Any = None  # the run's network (its first fold's file), predicting for every fold
    fold_weights: list[list[np.ndarray]] = field(default_factory=list)  # each fold's weights

    @property
    def folds(self) -> int:
        return len(self.fold_weights)

    def predict_folds(self, x: np.ndarray) -> np.ndarray:
        """(folds, batch) predictions: each fold's weights set into the one network in turn.

        The folds of a run share one architecture, so one network traces its predict step
        once per run instead of once per fold model (60 traces for a 12-run bundle: most of
        the predict CLI's time on a short batch of videos); setting weights is a copy.
        """
        out = []
        for weights in self.fold_weights:
            self.model.set_weights(weights)
            out.append(np.asarray(self.model.predict_on_batch(x), np.float64).reshape(-1))
        return np.stack(out)


@dataclass
class Bundle:
    folder: Path
    manifest: dict
    runs: list[RunModels]

    @property
    def preprocessing(self) -> dict:
        return self.manifest["preprocessing"]

    def sources(self) -> set[str]:
        return {r.source for r in self.runs}

    def steps(self) -> tuple[int, ...]:
        return tuple(sorted({r.step for r in self.runs}))

    def snap(self, values: np.ndarray) -> np.ndarray:
        grid = np.asarray(self.manifest["postprocessing"]["grid"], dtype=np.float32)
        return schema.snap_to_grid(values, grid)


def _fold_weights(model, path: Path, first: Path) -> list[np.ndarray]:
    """`path`'s weights, read into the run's network, or BundleError when they do not fit it.

    Keras raises for a top-level mismatch but only warns ("Skipping nested container ...
    will retain their freshly-initialized weights") when a layer inside the per-frame CNN
    does not match, which would leave the previous fold's weights there; both are refused.
    """

    def misfit(why: object) -> BundleError:
        return BundleError(
            f"{path}: does not fit the network of {first.name} ({why}); export the bundle again"
        )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
        except ValueError as err:
            raise misfit(err) from err
    skipped = [str(w.message) for w in caught if "saving" in w.filename]
    if skipped:
        raise misfit(skipped[0][:200])
    return model.get_weights()


def load(folder: str | Path) -> Bundle:
    """Load a bundle's manifest and models (all folds of all runs)."""
    import keras

    folder = Path(folder).expanduser().resolve()
    manifest = common.read_manifest(folder, TRACK)
    runs = []
    for entry in manifest["runs"]:
        first, *others = [folder / rel for rel in entry["models"]]
        model = keras.saving.load_model(first, compile=False)
        fold_weights = [model.get_weights()]
        for path in others:
            fold_weights.append(_fold_weights(model, path, first))
        model.set_weights(fold_weights[0])
        runs.append(
            RunModels(
                run_id=entry["run_id"],
                weight=float(entry["weight"]),
                source=entry["source"],
                step=int(entry["step"]),
                frames=int(entry["frames"]),
                image_size=int(entry["image_size"]),
                model=model,
                fold_weights=fold_weights,
            )
        )
    return Bundle(folder=folder, manifest=manifest, runs=runs)
