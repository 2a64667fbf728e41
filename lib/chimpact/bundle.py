"""Export the blended chimpact runs as a self-contained bundle, and load it back.

A bundle holds every fold model of each run that has a non-zero weight in the greedy ensemble
(`.keras`, loadable without this project's model code), the ensemble weights, and the
preprocessing the models were trained with: 1 fps frames, JPEG quality and frame size of stage 02,
the overexposure rule and gamma filter, the window (frames, step), the model input size, and the
snapping grid. `lib.chimpact.predict_videos` reads only this folder.

When the ensemble includes the detector-box member (`lib.chimpact.boxes`), its boosters and the
blend's weights with it travel too (`boxes` in the manifest, and each run's
`weight_with_boxes`): predicting from MegaDetector detections then gives every detected animal
its own distance from its own box. Without detections the write-up's weights are used.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lib import bundle_io, fileio
from lib.bundle_io import BundleError
from lib.chimpact import boxes, runid, schema
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

    out = Path(out) if out else bundle_io.default_dir(TRACK)
    # the write-up's runs for videos without detections; the blend with the box member beside
    weights = _nonzero(summary.get("writeup_ensemble_weights", summary["ensemble_weights"]))
    weights.pop(boxes.NAME, None)
    with_boxes = _nonzero(summary["ensemble_weights"])
    if boxes.NAME not in with_boxes:
        with_boxes = {}
    if not weights:
        raise ValueError("the ensemble has no run with a non-zero weight; nothing to export")
    strategy = training.select_strategy(strategy_kind)
    runs, files = [], []
    run_ids = list(dict.fromkeys([*weights, *(r for r in with_boxes if r != boxes.NAME)]))
    with fileio.atomic_dir(out) as tmp:
        for run_id in run_ids:
            config = fileio.read_json(run_dir(run_id) / "config.json")
            metrics = fileio.read_json(run_dir(run_id) / "metrics.json")
            spec = runid.parse(run_id)
            mcfg = ModelConfig.from_dict(config["model"])
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
                    "weight": weights.get(run_id, 0.0),
                    "weight_with_boxes": with_boxes.get(run_id, 0.0),
                    "source": spec.source,
                    "step": spec.step,
                    "frames": spec.frames,
                    "image_size": mcfg.image_size,
                    "cv_mae": metrics["cv_mae"],
                    "models": models,
                }
            )
        manifest = {
            "format_version": bundle_io.FORMAT_VERSION,
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
            "boxes": _export_boxes(tmp, with_boxes, summary, files),
            "trained_on": {"profile": summary.get("profile"), "data_dir": summary.get("data_dir")},
            "environment": bundle_io.environment(),
            "files": files,
        }
        fileio.write_json(tmp / bundle_io.MANIFEST, manifest)  # last: its presence means complete
    return out


def _nonzero(blend: dict) -> dict[str, float]:
    return {r: float(w) for r, w in blend.items() if abs(w) > 1e-12}


def _export_boxes(tmp: Path, with_boxes: dict, summary: dict, files: list[str]) -> dict | None:
    """Copy the box member's fold boosters into the bundle; its manifest entry (or None)."""
    if not with_boxes:
        return None
    src = boxes.member_dir()
    models = []
    for path in sorted(src.glob("fold*.txt")):
        rel = f"boxes/{path.name}"
        (tmp / "boxes").mkdir(exist_ok=True)
        shutil.copyfile(path, tmp / rel)
        models.append(rel)
    if not models:
        raise ValueError(f"{src}: the blend uses {boxes.NAME} but its boosters are missing")
    files += models
    return {
        "weight": with_boxes[boxes.NAME],
        "features": boxes.FEATURES,
        "models": models,
        "cv_mae": summary.get("box_model_cv_mae"),
        "ensemble_cv_mae": summary.get("ensemble_cv_mae"),
        "box_format": "x1,y1,x2,y2 normalised to [0, 1]; probability = the detector's conf",
    }


@dataclass
class BoxMember:
    """The detector-box boosters (fold mean) and the blend's weight on them."""

    weight: float
    boosters: list[Any]

    def predict(self, rows) -> np.ndarray:
        """Distance per row of `rows` (video_id, x1, y1, x2, y2, probability)."""
        x = boxes.features(rows)
        return np.mean([b.predict(x) for b in self.boosters], axis=0).astype(np.float64)


@dataclass
class RunModels:
    run_id: str
    weight: float
    source: str
    step: int
    frames: int
    image_size: int
    weight_with_boxes: float = 0.0
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
    boxes: BoxMember | None = None

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
    manifest = bundle_io.read_manifest(folder, TRACK)
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
                weight_with_boxes=float(entry.get("weight_with_boxes", 0.0)),
                model=model,
                fold_weights=fold_weights,
            )
        )
    return Bundle(folder=folder, manifest=manifest, runs=runs, boxes=_load_boxes(folder, manifest))


def _load_boxes(folder: Path, manifest: dict) -> BoxMember | None:
    """The box member's boosters (each text checked whole by read_manifest first)."""
    entry = manifest.get("boxes")
    if not entry:
        return None
    import lightgbm as lgb

    boosters = [lgb.Booster(model_file=str(folder / rel)) for rel in entry["models"]]
    return BoxMember(weight=float(entry["weight"]), boosters=boosters)
