"""Every path the project uses, in one place.

Raw competition data is read-only; everything derived lives under a work folder keyed by the
data folder, so pointing the notebooks at another data folder never mixes its frames and records
with the demo's. Environment variables override the roots (CAMTRAP_WORK, CAMTRAP_DATA,
CAMTRAP_RUNS) for machines where the repository sits on a small disk.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRACKS = ("chimpact", "serengeti")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_root() -> Path:
    """Where generated demo datasets are stored (one folder per track, seed and size)."""
    return _env_path("CAMTRAP_DATA", ROOT / "data")


def work_root() -> Path:
    return _env_path("CAMTRAP_WORK", ROOT / "work")


def runs_root() -> Path:
    return _env_path("CAMTRAP_RUNS", ROOT / "runs")


def submissions_root() -> Path:
    return _env_path("CAMTRAP_SUBMISSIONS", ROOT / "submissions")


def demo_dir(track: str, seed: int, videos: int | None = None) -> Path:
    check_track(track)
    size = f"-n{videos}" if videos else ""
    return data_root() / "demo" / f"{track}-seed{seed}{size}"


def work_dir(track: str, data_dir: str | Path) -> Path:
    """Derived files of one data folder: `<work>/<track>/<folder name>-<hash of its path>`."""
    check_track(track)
    data_dir = Path(data_dir).resolve()
    digest = hashlib.sha1(str(data_dir).encode(), usedforsecurity=False).hexdigest()[:8]
    return work_root() / track / f"{data_dir.name}-{digest}"


def check_track(track: str) -> None:
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}; expected one of {', '.join(TRACKS)}")


def inside(base: Path, relative: str) -> Path:
    """Resolve `relative` under `base`, refusing names that escape it (e.g. '../../etc/passwd').

    File names come from CSVs we do not control; a crafted name must not read or write
    outside the data folder.
    """
    base = Path(base).resolve()
    if not relative or Path(relative).is_absolute():
        raise ValueError(f"refusing path {relative!r}: expected a plain name inside {base}")
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"refusing path {relative!r}: it points outside {base}")
    return target
