"""Mean and "background" images of a sequence: what moved between the shots.

The write-up: for the first (up to) three images of a sequence, sorted by file name,
mean = the per-pixel average image and background = sum over images of |image - mean|, clipped
to 0-255. A fixed camera sees the same scene in every shot, so an empty sequence gives a nearly
black background while a moving animal lights up; a model fine-tuned on backgrounds improved
the `empty` class (0.045 -> 0.035 log loss on S10).

The write-up's snippet reads `np.mean(np.asarray(imgs))`, which without `axis=0` is one scalar
for all pixels; the sum of |image - scalar| is bright everywhere and could not give the black
empty backgrounds it describes, so the per-pixel mean (axis 0) is what it meant and what we do.

A sequence with one image: the same formula gives mean = the image and background = all zeros,
and we keep exactly that (no special case). A black background therefore means "nothing moved
*or* nothing to compare with"; the stacking step sees how many images a sequence had (missing
image scores are filled with a sentinel) and can tell the two apart. Images that cannot be read
are skipped; a sequence with no readable image has no mean/background (callers give it priors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lib import images

MAX_IMAGES = 3


def first_images(file_names: Sequence[str], limit: int = MAX_IMAGES) -> list[str]:
    """The first `limit` file names in file-name order (the write-up's choice of images)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return sorted(file_names)[:limit]


def mean_and_background(frames: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, background) as uint8 arrays shaped like one frame, from 1 or more uint8 frames.

    Computed in float64: uint8 arithmetic would wrap |a - b| around 256. The mean is rounded to
    the nearest integer; the background sum is rounded, then clipped to 255.
    """
    if len(frames) == 0:
        raise ValueError("a sequence needs at least one image for a mean and background")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError(
            f"images of one sequence must share a shape (resize them first), got {sorted(shapes)}"
        )
    stack = np.stack([np.asarray(f, dtype=np.float64) for f in frames])
    mean = stack.mean(axis=0)
    background = np.abs(stack - mean).sum(axis=0)
    return (
        np.clip(np.rint(mean), 0, 255).astype(np.uint8),
        np.clip(np.rint(background), 0, 255).astype(np.uint8),
    )


@dataclass
class SequenceImages:
    """The outcome for one sequence: which images were used, which failed and why."""

    mean: np.ndarray | None  # None when no image could be read
    background: np.ndarray | None
    used: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file name -> ImageError.reason


def sequence_images(
    file_names: Sequence[str],
    load: Callable[[str], np.ndarray],
    limit: int = MAX_IMAGES,
) -> SequenceImages:
    """Mean and background of a sequence, reading its first `limit` images with `load`.

    `load(file_name)` returns a resized uint8 frame (e.g. `resize.load` bound to the data
    folder and model size) or raises lib.images.ImageError; failed images are skipped and
    reported, not replaced by the next file, so "first three" means the same with or without
    a broken file.
    """
    frames, used, failed = [], [], {}
    for name in first_images(file_names, limit):
        try:
            frames.append(load(name))
            used.append(name)
        except images.ImageError as err:
            failed[name] = err.reason
    if not frames:
        return SequenceImages(None, None, used, failed)
    mean, background = mean_and_background(frames)
    return SequenceImages(mean, background, used, failed)


def loader(root: Path, size: tuple[int, int], how: str = "flow") -> Callable[[str], np.ndarray]:
    """`load(file_name)` for `sequence_images`: the data folder's image through a resize chain."""
    from lib.paths import inside
    from lib.serengeti import resize

    def load(name: str) -> np.ndarray:
        try:
            path = inside(root, name)
        except ValueError as err:  # e.g. a symlink out of the data folder: a skip, as in 02
            raise images.ImageError(Path(root) / name, "outside_folder", str(err)) from None
        return resize.load(path, size, how)

    return load
