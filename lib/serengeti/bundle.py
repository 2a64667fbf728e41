"""Export the networks and stack of the serengeti submission as a self-contained bundle.

A bundle holds what turned test images into submission rows, and nothing that needs `runs/` or
`work/`: the networks the final stack reads (single-image, background, two-stream; Keras 3
`.keras`, loadable without this project's model code), the fitted LightGBM boosters (text model
files, as `lib.serengeti.stacking.save` wrote them in 06), and `bundle.json` with

- the preprocessing the networks were trained on: stage 02's settings (model input size, strip
  fraction, first `max_images` images by file name), the resize flow's constants (quarter size
  with Lanczos, or straight to 512x384 below 480x360, then bilinear to the model size) and
  whether the single model scores through the flow or the naive chain, and how mean and
  background images are made;
- how the stack used them: flip-TTA view, both boosters, feature columns, the neighbour-camera
  setting (used or not, window), the class priors for sequences without a readable image and
  the clip applied to the submission;
- the 54 classes in submission order, versions and git commit.

`lib.serengeti.predict_images` reads only this folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lib import bundle_io, fileio
from lib.serengeti import background, extract, resize, runid, stacking
from lib.serengeti.schema import CLASSES

TRACK = "serengeti"
ROLES = ("single", "background", "twostream")
# the summary.json scores a bundle reports (what its stack scored when it was made)
_SCORE_KEYS = (
    "baseline_logloss",
    "stacked_logloss",
    "stacked_neighbor_logloss",
    "stacked_logloss_writeup",
    "demo_test_logloss",
    "submission_uses_neighbors",
    "fallback_calibration",
)


def export(summary: dict, extract_config: dict, out: str | Path | None = None) -> Path:
    """Write the bundle of a finished `06_ensemble` (its summary.json dict) to `out`.

    `extract_config` is stage 02's config (work/.../extract/summary.json "config"): the model
    input size and strip fraction must match what the networks saw, so they travel with them.
    """
    out = Path(out) if out else bundle_io.default_dir(TRACK)
    stack_dir = _stack_dir(summary)
    info = stacking.read_info(stack_dir)
    extra = info["extra"]
    roles = {**extra["image_models"], **extra["sequence_models"]}
    image_size = [int(v) for v in extract_config["image_size"]]
    files, networks = [], {}
    with fileio.atomic_dir(out) as tmp:
        for role, run_id in roles.items():
            networks[role] = _export_network(tmp, role, run_id, image_size)
            files.append(networks[role]["file"])
        files += _copy_stack(stack_dir, info, tmp)
        manifest = {
            "format_version": bundle_io.FORMAT_VERSION,
            "track": TRACK,
            "classes": list(CLASSES),
            "networks": networks,
            "stack": _stack_manifest(info),
            "priors": extra["priors"],
            "neighbor_fill_priors": extra["neighbor_fill_priors"],
            "preprocessing": _preprocessing(extract_config, image_size),
            "scores": {k: summary.get(k) for k in _SCORE_KEYS},
            "trained_on": {"profile": summary.get("profile"), "data_dir": summary.get("data_dir")},
            "environment": bundle_io.environment(),
            "files": files,
        }
        fileio.write_json(tmp / bundle_io.MANIFEST, manifest)  # last: its presence means complete
    return out


def _stack_dir(summary: dict) -> Path:
    """The fitted stack the submission came from; a summary from before 06 kept its stack
    cannot be bundled, and says how to get one."""
    if not summary.get("stack_dir"):
        raise ValueError(
            "summary.json has no stack_dir: rerun 06_ensemble with this version (it saves the "
            "submission's stack to runs/serengeti/stack/)"
        )
    return Path(summary["stack_dir"])


def _export_network(tmp: Path, role: str, run_id: str, image_size: list[int]) -> dict:
    """Save one network of the stack as `models/<role>.keras` and return its manifest entry;
    a network trained at another size than stage 02 stored is refused, since the bundle's
    preprocessing would feed it images it never saw."""
    from lib.serengeti.train import load_model, run_dir

    config = fileio.read_json(run_dir(run_id) / "config.json")
    metrics = fileio.read_json(run_dir(run_id) / "metrics.json")
    size = [int(v) for v in config["model"]["image_size"]]
    if size != image_size:
        raise ValueError(
            f"{run_id} was trained at {size} but stage 02 extracted {image_size}; "
            "rerun 02-06 with one profile"
        )
    rel = f"models/{role}.keras"
    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    load_model(run_id).save(tmp / rel)
    spec = runid.parse(run_id)
    return {
        "run_id": run_id,
        "file": rel,
        "model": spec.model,
        "head": spec.head,
        "resize": spec.resize if spec.model == "single" else "flow",
        "backbone_used": metrics.get("backbone_used", ""),
        "image_size": size,
        "cv_logloss": metrics["cv_logloss"],
    }


def _copy_stack(stack_dir: Path, info: dict, tmp: Path) -> list[str]:
    """Copy the boosters' model files and the stack's own json into `stack/`; returns the
    bundle-relative paths, for the manifest's file list."""
    (tmp / "stack").mkdir()
    files = []
    for entry in info["boosters"].values():
        shutil.copyfile(stack_dir / entry["file"], tmp / "stack" / entry["file"])
        files.append(f"stack/{entry['file']}")
    shutil.copyfile(stack_dir / stacking.STACK_JSON, tmp / "stack" / stacking.STACK_JSON)
    files.append(f"stack/{stacking.STACK_JSON}")
    return files


def _stack_manifest(info: dict) -> dict:
    """How the stack used the networks (view, boosters, features, neighbours, clip): what a
    predictor must repeat to turn network scores into the submission's rows."""
    extra = info["extra"]
    return {
        "folder": "stack",
        "image_models": sorted(extra["image_models"]),
        "sequence_models": sorted(extra["sequence_models"]),
        "view": extra["view"],
        "directions": extra["directions"],
        "boosters": sorted(info["boosters"]),
        "neighbors": extra["neighbors"],
        "feature_columns": extra["feature_columns"],
        "clip": extra["clip"],
    }


def _preprocessing(extract_config: dict, image_size: list[int]) -> dict:
    """Every step from an image file to a network input, as the networks were trained on it:
    stage 02's settings and the resize and background constants, so new images can be made
    to match without this project's `work/`."""
    return {
        "image_size": image_size,
        "strip_fraction": float(extract_config["strip_fraction"]),
        "max_images": int(extract_config["max_images"]),
        "extract_version": int(extract_config.get("version", extract.VERSION)),
        "image_order": "file name (the first max_images images of a sequence)",
        "decode": "lib.images: EXIF orientation applied, any mode to 8-bit RGB, "
        "truncated files refused",
        "flow": {
            "quarter_filter": "lanczos",
            "intermediate_hw": list(resize.INTERMEDIATE_HW),
            "min_quarter_hw": list(resize.MIN_QUARTER_HW),
            "final_filter": "bilinear",
        },
        "naive": {"filter": "nearest", "strip_masked_after_resize": True},
        "background": {
            "images": background.MAX_IMAGES,
            "mean": "per-pixel mean of the intermediate (~512x384) images",
            "background": "sum |image - mean|, rounded, clipped to 255",
            "then": "resized to the model input like the flow's last step",
        },
        "scale": "uint8 / 255 -> float32 in [0, 1]",
        "tta": "mean of the image and its left-right mirror, every network",
    }


@dataclass
class Network:
    role: str  # single | background | twostream
    run_id: str
    resize: str  # single model: flow or naive
    model: object  # keras.Model


@dataclass
class Bundle:
    folder: Path
    manifest: dict
    networks: dict[str, Network] = field(default_factory=dict)
    stack: stacking.Stack | None = None

    @property
    def preprocessing(self) -> dict:
        return self.manifest["preprocessing"]

    @property
    def stack_info(self) -> dict:
        return self.manifest["stack"]

    def extract_config(self) -> extract.ExtractConfig:
        pre = self.preprocessing
        return extract.ExtractConfig(
            image_size=(int(pre["image_size"][0]), int(pre["image_size"][1])),
            strip_fraction=float(pre["strip_fraction"]),
            max_images=int(pre["max_images"]),
        )

    def priors(self) -> pd.Series:
        """Class priors (all training labels) for sequences with no readable image."""
        return _series(self.manifest["priors"])

    def neighbor_fill_priors(self) -> pd.Series:
        return _series(self.manifest["neighbor_fill_priors"])


def _series(values: dict) -> pd.Series:
    return pd.Series({c: float(values[c]) for c in CLASSES}, dtype=np.float64)


def load(folder: str | Path) -> Bundle:
    """Load a bundle's manifest, networks and stack."""
    import keras

    folder = Path(folder).expanduser().resolve()
    manifest = bundle_io.read_manifest(folder, TRACK)
    if manifest.get("classes") != list(CLASSES):
        raise bundle_io.BundleError(
            f"{folder / bundle_io.MANIFEST}: its classes differ from this code's 54 classes; "
            "re-export the bundle with this version of the project"
        )
    loaded = Bundle(folder=folder, manifest=manifest)
    for role, entry in manifest["networks"].items():
        model = keras.saving.load_model(folder / entry["file"], compile=False)
        loaded.networks[role] = Network(role, entry["run_id"], entry["resize"], model)
    if "single" not in loaded.networks:
        raise bundle_io.BundleError(f"{folder}: bundle has no single-image network; re-export it")
    loaded.stack = stacking.load(folder / manifest["stack"]["folder"])
    return loaded
