"""Demo competition data, generated locally because the real videos are not available.

`ensure(track)` is what notebooks call: it returns the demo folder for a track, seed and size,
generating it first if needed. Generation happens in a temporary folder that is renamed into
place only when complete, so a killed run is never mistaken for a finished demo.
"""

from __future__ import annotations

from pathlib import Path

from lib.fileio import atomic_dir
from lib.paths import check_track, demo_dir

SERENGETI_ISSUE = 4
MARKER = "demo_info.json"  # written last by the generator: its presence means complete


def location(
    track: str, seed: int = 42, videos: int | None = None, max_duration: int | None = None
) -> Path:
    """Folder of a demo: `lib.paths.demo_dir`, plus `-d{max_duration}` when one is given, so
    demos of different clip lengths never share a folder."""
    folder = demo_dir(track, seed, videos)
    return folder.with_name(f"{folder.name}-d{max_duration}") if max_duration else folder


def ensure(
    track: str, seed: int = 42, videos: int | None = None, max_duration: int | None = None
) -> Path:
    """Return the demo folder for `track`, generating it first if it is missing."""
    check_track(track)
    if track == "serengeti":
        raise NotImplementedError(
            f"the Serengeti demo generator is not written yet (issue {SERENGETI_ISSUE}); "
            "only track 'chimpact' has demo data"
        )
    folder = location(track, seed, videos, max_duration)
    if (folder / MARKER).is_file():
        return folder
    from lib.demo.chimpact import generate  # heavy imports only when generating

    options: dict[str, int] = {}
    if videos is not None:
        options["videos"] = videos
    if max_duration is not None:
        options["max_duration"] = max_duration
    with atomic_dir(folder) as tmp:
        generate(tmp, seed=seed, **options)
    return folder
