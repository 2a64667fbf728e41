"""Which frames a labelled second needs: the write-up's 11-frame window with edge repetition.

For a target at second t and time step s the sequence is frames t + d*s for d = -5..+5;
indices before the first or after the last frame repeat that edge frame (no zero padding, no
wrap-around). Models use the middle 7 or 9 of the 11.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

HALF = 5  # frames on each side of the target stored in the records
STEPS = (1, 2)
LENGTH = 2 * HALF + 1


def offsets(step: int, half: int = HALF) -> np.ndarray:
    return np.arange(-half, half + 1, dtype=np.int64) * int(step)


def window(t: int, step: int, last: int, half: int = HALF) -> list[int]:
    """Frame indices of the sequence centred on t, clamped to [0, last]."""
    if last < 0:
        raise ValueError("a video needs at least one frame")
    return np.clip(int(t) + offsets(step, half), 0, int(last)).tolist()


def needed_seconds(
    times: Iterable[int], steps: Iterable[int] = STEPS, half: int = HALF
) -> list[int]:
    """Every second any window of these targets may touch (before clamping to the video end)."""
    wanted: set[int] = set()
    for t in times:
        for step in steps:
            wanted.update(max(0, int(i)) for i in int(t) + offsets(step, half))
    return sorted(wanted)


def middle(frames: int, length: int = LENGTH) -> slice:
    """The middle `frames` of an 11-frame sequence (f7 -> indices 2..8, f9 -> 1..9)."""
    if frames % 2 == 0 or not 1 <= frames <= length:
        raise ValueError(f"frames must be odd and between 1 and {length}, got {frames}")
    start = (length - frames) // 2
    return slice(start, start + frames)
