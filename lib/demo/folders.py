"""The folder a demo generator writes into (lib.demo.chimpact, lib.demo.serengeti)."""

from __future__ import annotations

from pathlib import Path


def prepare_folder(out: Path) -> None:
    """Create `out` for a new demo, refusing to mix it into existing files: a half-overwritten
    folder would pass for a finished demo with the wrong labels."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty; choose a new folder or remove it")
    out.mkdir(parents=True, exist_ok=True)
