"""Model bundles: a folder that carries everything needed to predict without `runs/` or `lib/`
internals - models in Keras 3's native `.keras` format plus one `bundle.json` that says how
inputs must be prepared (the same preprocessing the models were trained on) and how to combine
the models.

The manifest is written last inside a temporary folder that is renamed into place, so a folder
with a `bundle.json` is always complete. Track-specific parts (what goes into the manifest, how
to predict) live in `lib/<track>/bundle.py`; this module only knows the common envelope.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

from lib import fileio, runs

FORMAT_VERSION = 1
MANIFEST = "bundle.json"


class BundleError(ValueError):
    """A bundle folder that cannot be used; the message names the folder and the fix."""


def environment() -> dict:
    """Versions and commit a bundle was made with: enough to rebuild its environment."""
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "git_commit": runs.git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def default_dir(track: str) -> Path:
    from lib.paths import runs_root

    return runs_root() / track / "bundle"


def read_manifest(folder: str | Path, track: str) -> dict:
    """The checked manifest of a bundle folder for `track`."""
    folder = Path(folder).expanduser()
    path = folder / MANIFEST
    if not path.is_file():
        raise BundleError(
            f"{folder}: not a model bundle (no {MANIFEST}); export one with 06_ensemble "
            f"(it writes runs/{track}/bundle/) and pass that folder"
        )
    manifest = fileio.read_json(path)
    if manifest.get("track") != track:
        raise BundleError(f"{path}: bundle is for track {manifest.get('track')!r}, not {track!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format {manifest.get('format_version')!r}; this code reads "
            f"format {FORMAT_VERSION} - re-export it with this version of the project"
        )
    for rel in manifest.get("files", []):
        if not (folder / rel).is_file():
            raise BundleError(f"{folder}: bundle is incomplete, {rel} is missing; re-export it")
    return manifest
