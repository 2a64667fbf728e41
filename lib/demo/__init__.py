"""Demo competition data, generated locally because the real videos and images are not
available.

`ensure(track)` is what notebooks call: it returns the demo folder for a track, seed and size,
generating it first if needed. Generation happens in a temporary folder that is renamed into
place only when complete, so a killed run is never mistaken for a finished demo.
"""

from __future__ import annotations

from pathlib import Path

from lib.demo.folders import prepare_folder as prepare_folder  # where the generators get it
from lib.fileio import atomic_dir
from lib.paths import check_track, demo_dir

MARKER = "demo_info.json"  # written last by the generator: its presence means complete
SERENGETI_FULL_SIZE = (2048, 1536)  # the real camera images; lib.demo.serengeti_plan.FULL_SIZE


def location(
    track: str,
    seed: int = 42,
    videos: int | None = None,
    max_duration: int | None = None,
    *,
    sequences: int | None = None,
    image_size: tuple[int, int] | None = None,
    companions: float = 0.0,
) -> Path:
    """Folder of a demo: `lib.paths.demo_dir`, plus `-d{max_duration}` and `-c{companions}`
    (chimpact, a prediction demo where that share of videos hold a second animal) or
    `-{width}x{height}` (serengeti, when not full size), so demos of different shapes never
    share a folder."""
    _check_options(track, videos, max_duration, sequences, image_size)
    if track == "serengeti":
        folder = demo_dir(track, seed, sequences)
        if image_size is not None and tuple(image_size) != SERENGETI_FULL_SIZE:
            return folder.with_name(f"{folder.name}-{image_size[0]}x{image_size[1]}")
        return folder
    folder = demo_dir(track, seed, videos)
    name = folder.name + (f"-d{max_duration}" if max_duration else "")
    return folder.with_name(name + (f"-c{companions:g}" if companions else ""))


def ensure(
    track: str,
    seed: int = 42,
    videos: int | None = None,
    max_duration: int | None = None,
    *,
    sequences: int | None = None,
    image_size: tuple[int, int] | None = None,
    companions: float = 0.0,
) -> Path:
    """Return the demo folder for `track`, generating it first if it is missing.

    chimpact takes `videos`, `max_duration` and `companions`; serengeti takes `sequences` and
    `image_size`.
    """
    check_track(track)
    folder = location(
        track, seed, videos, max_duration, sequences=sequences, image_size=image_size,
        companions=companions,
    )  # fmt: skip
    if (folder / MARKER).is_file():
        return folder
    options: dict[str, object] = {}
    if track == "serengeti":
        from lib.demo.serengeti import generate  # heavy imports only when generating

        if sequences is not None:
            options["sequences"] = sequences
        if image_size is not None:
            options["image_size"] = tuple(image_size)
    else:
        from lib.demo.chimpact import generate  # type: ignore[assignment]

        if videos is not None:
            options["videos"] = videos
        if max_duration is not None:
            options["max_duration"] = max_duration
        if companions:
            options["companions"] = companions
    with atomic_dir(folder) as tmp:
        generate(tmp, seed=seed, **options)  # type: ignore[arg-type]
    return folder


def _check_options(
    track: str,
    videos: int | None,
    max_duration: int | None,
    sequences: int | None,
    image_size: tuple[int, int] | None,
) -> None:
    """Each track has its own size options; a wrong one is a mistake, not something to drop."""
    check_track(track)
    if track == "serengeti" and (videos is not None or max_duration is not None):
        raise ValueError(
            "the serengeti demo is sized by `sequences` (and `image_size`), "
            "not `videos`/`max_duration`"
        )
    if track == "chimpact" and (sequences is not None or image_size is not None):
        raise ValueError(
            "the chimpact demo is sized by `videos` and `max_duration`, "
            "not `sequences`/`image_size`"
        )
