"""Chimpact's profiles: one name fixes demo size, folds, shards and the model for every stage.

`quick` is the smallest setting that still runs every stage (smoke checks, CI); `demo` the
built-in demo on a CPU; `full` the write-up's scale for the real videos on a GPU/TPU machine.
The model's settings are a `ModelConfig` the profile holds whole; a run only sets its own
frame count on it (the run ID says 7 or 9).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lib.chimpact.model_config import ModelConfig


@dataclass(frozen=True, kw_only=True)
class ChimpactProfile:
    name: str
    demo_videos: int  # videos in the generated demo data (train + test)
    demo_max_duration: int  # longest demo video in seconds
    frame_size: tuple[int, int] | None  # frames stored by 02_extract; None = native size
    n_splits: int
    shard_size: int
    eda_sample: int  # videos whose target frames 01_eda decodes
    model: ModelConfig = field(default_factory=ModelConfig)  # the write-up's CNN-LSTM
    epochs: int = 40
    batch_size: int = 96
    learning_rate: float = 1e-3
    runs: str = "writeup"  # which run IDs run_all.sh trains: "writeup" (all 12) or "quick" (2)
    # TensorFlow threads a run trains on; 0 = TensorFlow's default (one per core). The small
    # CPU model's step keeps about one core busy however many threads it has, so run_all.sh
    # trains such runs side by side, one per core (lib.runs.side_by_side); a fixed count also
    # makes a run's numbers the same on any number of cores. Two: the numbers of TensorFlow's
    # default on two cores, where the demo's published results were trained.
    train_threads: int = 0

    def demo_options(self) -> dict:
        """The size of this profile's demo, as `lib.demo.ensure` takes it."""
        return {"videos": self.demo_videos, "max_duration": self.demo_max_duration}


# the small CNN the demo and quick profiles train on two CPU cores (lib.chimpact.model)
_CPU_MODEL = ModelConfig(
    backbone="small",
    backbone_weights=None,
    small_bn_momentum=0.9,
    small_downsample="pool_stem",
    motion=True,
    standardize=True,
)

PROFILES = {
    "quick": ChimpactProfile(
        name="quick", demo_videos=24, demo_max_duration=20, frame_size=None, n_splits=3,
        shard_size=64, eda_sample=24, epochs=2, batch_size=16, runs="quick", train_threads=2,
        model=replace(_CPU_MODEL, image_size=48, lstm_units=32, dense_units=32),
    ),
    "demo": ChimpactProfile(
        name="demo", demo_videos=120, demo_max_duration=60, frame_size=None, n_splits=5,
        shard_size=128, eda_sample=120, epochs=6, batch_size=32, train_threads=2,
        model=replace(_CPU_MODEL, image_size=64, lstm_units=128, dense_units=64),
    ),
    "full": ChimpactProfile(
        name="full", demo_videos=120, demo_max_duration=60, frame_size=(512, 512), n_splits=5,
        shard_size=128, eda_sample=300,
    ),
}  # fmt: skip
