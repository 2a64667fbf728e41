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
    small_bn_momentum: float = 0.99  # small CNN only (lib.chimpact.model)
    motion: bool = False  # small CNN only: frame-minus-window-mean channels
    standardize: bool = False  # small CNN only: per-sequence standardized frames
    runs: str = "writeup"  # which run IDs run_all.sh trains: "writeup" (all 12) or "quick" (2)


PROFILES = {
    "quick": Profile(
        "quick", 24, 20, None, 3, 64, 24, image_size=48, backbone="small",
        backbone_weights=None, lstm_units=32, dense_units=32, epochs=2, batch_size=16, runs="quick",
        small_bn_momentum=0.9, motion=True, standardize=True,
    ),
    "demo": Profile(
        "demo", 120, 60, None, 5, 128, 120, image_size=64, backbone="small",
        backbone_weights=None, lstm_units=128, dense_units=64, epochs=6, batch_size=32,
        small_bn_momentum=0.9, motion=True, standardize=True,
    ),
    "full": Profile("full", 120, 60, (512, 512), 5, 128, 300),
}  # fmt: skip


@dataclass(frozen=True)
class SerengetiProfile:
    """Serengeti settings (docs/serengeti.md). `backbones` maps the run ID's backbone part
    (mnv2, irv2, small) to (model backbone, small-CNN width): on a CPU the demo cannot train
    InceptionResNetV2 or MobileNetV2 from scratch in minutes (and has no network for ImageNet
    weights), so there `mnv2` is a narrow small CNN and `irv2` a wider one - the ladder's
    "bigger backbone" rung, not the write-up's networks (the leaderboard says so)."""

    name: str
    demo_sequences: int  # sequences in the generated demo (train + test)
    demo_image_size: tuple[int, int] | None  # (width, height) of demo images; None = 2048x1536
    image_size: tuple[int, int]  # (height, width) of model inputs, stored by 02_extract
    backbones: tuple[tuple[str, str, int], ...]  # (run-ID backbone, model backbone, width)
    backbone_weights: str | None  # None, "imagenet" or a local no-top weights file
    train_images: str  # "first" image of each sequence (write-up) or "all" images
    epochs: int  # single-image models (from scratch)
    finetune_epochs: int  # background and two-stream models (from parents' weights)
    batch_size: int
    learning_rate: float
    finetune_learning_rate: float
    fusion_filters: int  # two-stream Conv2D filters
    shard_size: int  # TFRecord examples per shard
    stack_feature_mode: str  # lib.serengeti.stacking.columns_for: "all" or "own"
    stack_min_data_in_leaf: int
    stack_num_leaves: int
    stack_learning_rate: float
    neighbor_window_s: float  # seconds either side for the neighbour-camera feature
    eda_examples: int  # sequences whose mean/background 01_eda shows
    runs: str  # "writeup" (every ladder network) or "quick" (the three the stack needs)
    # progressive resizing of the single-image models (write-up: 240x320 -> 360x480 -> 384x512):
    # (height, width) stages trained before `image_size`, `progressive_epochs` epochs each; the
    # last stage is always `image_size` for `epochs`, the size 02 stores and inference uses
    progressive_sizes: tuple[tuple[int, int], ...] = ()
    progressive_epochs: int = 0
    # training augmentation (lib.serengeti.data.AUGMENTS): "flip" is the write-up's
    augment: str = "flip"

    def backbone_for(self, run_backbone: str) -> tuple[str, int]:
        for key, backbone, width in self.backbones:
            if key == run_backbone:
                return backbone, width
        raise ValueError(f"profile {self.name!r} has no backbone for {run_backbone!r}")


_CPU_BACKBONES = (("mnv2", "small", 8), ("irv2", "small", 16), ("small", "small", 16))
SERENGETI_PROFILES = {
    "quick": SerengetiProfile(
        "quick", 120, (512, 384), (48, 64), _CPU_BACKBONES, None, "all", 2, 1, 32, 2e-3,
        1e-3, 32, 256, "own", 5, 7, 0.05, 120.0, 3, "quick", ((36, 48),), 1,
    ),
    "demo": SerengetiProfile(
        "demo", 800, None, (72, 96), _CPU_BACKBONES, None, "all", 12, 5, 32, 2e-3,
        1e-3, 64, 512, "own", 10, 7, 0.03, 120.0, 6, "writeup",
    ),
    "full": SerengetiProfile(
        "full", 800, None, (384, 512),
        (("mnv2", "mnv2", 0), ("irv2", "irv2", 0), ("small", "small", 32)),
        "imagenet", "first", 12, 4, 32, 1e-4, 5e-5, 1024, 256, "all", 20, 15, 0.03, 120.0, 6,
        "writeup", ((240, 320), (360, 480)), 3,
    ),
}  # fmt: skip


def get(name: str, track: str = "chimpact") -> Profile | SerengetiProfile:
    """The named profile of a track (chimpact's and serengeti's settings differ in kind)."""
    table = SERENGETI_PROFILES if track == "serengeti" else PROFILES
    if track not in paths.TRACKS:
        paths.check_track(track)
    if name not in table:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(table)}")
    return table[name]


@dataclass(frozen=True)
class Context:
    """Everything a stage notebook needs to find its inputs and outputs."""

    track: str
    profile: Profile | SerengetiProfile
    data_dir: Path
    work: Path
    seed: int
    workers: int
    is_demo: bool


def resolve(
    track: str, profile: str, data_dir: str = "", seed: int = 42, workers: int = 0
) -> Context:
    """Pick the data folder (the demo one, generated on first use, when `data_dir` is empty)."""
    prof = get(profile, track)
    is_demo = not data_dir
    if is_demo:
        from lib import demo

        if isinstance(prof, SerengetiProfile):
            root = demo.ensure(
                track, seed=seed, sequences=prof.demo_sequences, image_size=prof.demo_image_size
            )
        else:
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
