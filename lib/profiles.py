"""Run profiles: one name fixes data size, parallelism and model scale for every stage.

`quick` is the smallest setting that still exercises every stage (smoke checks, CI);
`demo` is the default built-in demo; `full` is the write-up's scale for real data on a
GPU/TPU machine. Notebooks receive only the profile name and look the numbers up here, so
the parameters cell stays literal and the numbers live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lib import paths


@dataclass(frozen=True)
class Profile:
    name: str
    demo_videos: int  # videos in the generated demo data (train + test)
    demo_max_duration: int  # longest demo video in seconds
    frame_size: tuple[int, int] | None  # frames stored by 02_extract; None = native size
    n_splits: int
    shard_size: int
    eda_sample: int  # videos whose target frames 01_eda decodes
    # model and training (04_train); the full profile is the write-up's setting
    image_size: int = 512
    backbone: str = "efficientnet_b0"  # or "small": a light CNN that trains on a 2-core CPU
    backbone_weights: str | None = "imagenet"  # None, "imagenet" or a local .h5/.keras file
    lstm_units: int = 1024
    dense_units: int = 300
    epochs: int = 40
    batch_size: int = 96
    learning_rate: float = 1e-3
    runs: str = "writeup"  # which run IDs run_all.sh trains: "writeup" (all 12) or "quick" (2)


PROFILES = {
    "quick": Profile(
        "quick", 24, 20, None, 3, 64, 24, image_size=48, backbone="small",
        backbone_weights=None, lstm_units=32, dense_units=32, epochs=2, batch_size=16, runs="quick",
    ),
    "demo": Profile(
        "demo", 120, 60, None, 5, 128, 120, image_size=64, backbone="small",
        backbone_weights=None, lstm_units=128, dense_units=64, epochs=8, batch_size=32,
    ),
    "full": Profile("full", 120, 60, (512, 512), 5, 128, 300),
}  # fmt: skip


def get(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}")
    return PROFILES[name]


@dataclass(frozen=True)
class Context:
    """Everything a stage notebook needs to find its inputs and outputs."""

    track: str
    profile: Profile
    data_dir: Path
    work: Path
    seed: int
    workers: int
    is_demo: bool


def resolve(
    track: str, profile: str, data_dir: str = "", seed: int = 42, workers: int = 0
) -> Context:
    """Pick the data folder (the demo one, generated on first use, when `data_dir` is empty)."""
    prof = get(profile)
    is_demo = not data_dir
    if is_demo:
        from lib import demo

        root = demo.ensure(
            track, seed=seed, videos=prof.demo_videos, max_duration=prof.demo_max_duration
        )
    else:
        root = Path(data_dir).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"data folder {root} not found (given as --data {data_dir!r})")
    return Context(
        track=track,
        profile=prof,
        data_dir=root,
        work=paths.work_dir(track, root),
        seed=seed,
        workers=workers or (os.cpu_count() or 1),
        is_demo=is_demo,
    )
