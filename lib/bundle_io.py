"""Model bundles: a folder that carries everything needed to predict without `runs/` or `lib/`
internals - models in Keras 3's native `.keras` format plus one `bundle.json` that says how
inputs must be prepared (the same preprocessing the models were trained on) and how to combine
the models.

The manifest is written last inside a temporary folder that is renamed into place, so a folder
with a `bundle.json` is always complete - as exported. A copy can still be cut short (an
interrupted transfer), so loading checks every file before any library opens it: `bundle.json`
parses and has its keys, each `.keras` is a whole zip archive, each LightGBM booster text is
whole (LightGBM's native parser aborts the process on a cut file, so it must never see one). A
damaged file gives one BundleError naming it and saying to copy it again. Track-specific parts
(what goes into the manifest, how to predict) live in `lib/<track>/bundle.py`; this module only
knows the common envelope.
"""

from __future__ import annotations

import json
import platform
import re
import time
import zipfile
from pathlib import Path

from lib import runs

FORMAT_VERSION = 1
MANIFEST = "bundle.json"
REQUIRED_KEYS = ("format_version", "track", "files", "environment")
COPY_AGAIN = "the file is damaged or cut short; copy it again (or re-export the bundle)"


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
    manifest = _parse_manifest(path)
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
        check_file(folder / rel)
    return manifest


def _parse_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{path}: unreadable ({exc}); {COPY_AGAIN}") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{path}: not a bundle manifest (a JSON object); {COPY_AGAIN}")
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        raise BundleError(f"{path}: lacks {', '.join(missing)}; {COPY_AGAIN}")
    return manifest


def check_file(path: Path) -> None:
    """A bundle file whole enough to hand to Keras or LightGBM (BundleError otherwise)."""
    if path.suffix == ".keras":
        check_keras(path)
    elif path.suffix == ".txt":
        check_booster_text(path)
    elif path.suffix == ".json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BundleError(f"{path}: unreadable JSON ({exc}); {COPY_AGAIN}") from None


def check_keras(path: Path) -> None:
    """A `.keras` file is a zip archive whose members all read back with their CRC."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise BundleError(f"{path}: not a whole Keras archive ({exc}); {COPY_AGAIN}") from None
    if bad is not None:
        raise BundleError(f"{path}: archive member {bad} is corrupt; {COPY_AGAIN}")
    if "config.json" not in names:
        raise BundleError(f"{path}: a zip without a Keras model config; {COPY_AGAIN}")


TREE = re.compile(rb"^Tree=\d+$", re.MULTILINE)
TREE_SIZES = re.compile(rb"^tree_sizes=([\d ]*)$", re.MULTILINE)


def check_booster_text(path: Path) -> None:
    """A LightGBM text model is whole: its header's `tree_sizes` lists as many trees as it
    holds, their byte sizes add up, the `end of trees` and `end of parameters` lines are there
    and the last line (`pandas_categorical:`, which the Python package parses as JSON) is."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: unreadable ({exc}); {COPY_AGAIN}") from None
    sizes = TREE_SIZES.search(data)
    if not data.startswith(b"tree\n") or sizes is None or b"\nend of trees" not in data:
        raise BundleError(f"{path}: not a whole LightGBM model text; {COPY_AGAIN}")
    declared = [int(v) for v in sizes.group(1).split()]
    trees = TREE.findall(data)
    first = TREE.search(data)
    body = data[first.start() : data.index(b"\nend of trees")] if first else b""
    if len(trees) != len(declared) or (declared and len(body) + 1 < sum(declared)):
        raise BundleError(f"{path}: holds {len(trees)} of its {len(declared)} trees; {COPY_AGAIN}")
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        whole = b"\nend of parameters\n" in data and last.startswith(b"pandas_categorical:")
        whole = whole and json.loads(last.split(b":", 1)[1]) is not ... and data.endswith(b"\n")
    except ValueError:
        whole = False
    if not whole:
        raise BundleError(f"{path}: its last lines are missing; {COPY_AGAIN}")
