"""Serengeti's profiles: one name fixes demo size, image sizes, the ladder's networks and the
stack for every stage.

`quick` is the smallest setting that still runs every stage (smoke checks, CI); `demo` the
built-in demo on a CPU; `full` the write-up's scale for the real images on a GPU/TPU machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
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
    # training augmentation (lib.serengeti.input_pipeline.AUGMENTS): "flip" is the write-up's
    augment: str = "flip"

    def demo_options(self) -> dict:
        """The size of this profile's demo, as `lib.demo.ensure` takes it."""
        return {"sequences": self.demo_sequences, "image_size": self.demo_image_size}

    def backbone_for(self, run_backbone: str) -> tuple[str, int]:
        for key, backbone, width in self.backbones:
            if key == run_backbone:
                return backbone, width
        raise ValueError(f"profile {self.name!r} has no backbone for {run_backbone!r}")


_CPU_BACKBONES = (("mnv2", "small", 8), ("irv2", "small", 16), ("small", "small", 16))
_CPU = {"backbones": _CPU_BACKBONES, "backbone_weights": None, "train_images": "all"}
_STACK = {"stack_feature_mode": "own", "neighbor_window_s": 120.0}
PROFILES = {
    "quick": SerengetiProfile(
        name="quick", demo_sequences=120, demo_image_size=(512, 384), image_size=(48, 64),
        **_CPU, epochs=2, finetune_epochs=1, batch_size=32, learning_rate=2e-3,
        finetune_learning_rate=1e-3, fusion_filters=32, shard_size=256, **_STACK,
        stack_min_data_in_leaf=5, stack_num_leaves=7, stack_learning_rate=0.05,
        eda_examples=3, runs="quick", progressive_sizes=((36, 48),), progressive_epochs=1,
    ),
    "demo": SerengetiProfile(
        name="demo", demo_sequences=800, demo_image_size=None, image_size=(72, 96),
        **_CPU, epochs=12, finetune_epochs=5, batch_size=32, learning_rate=2e-3,
        finetune_learning_rate=1e-3, fusion_filters=64, shard_size=512, **_STACK,
        stack_min_data_in_leaf=10, stack_num_leaves=7, stack_learning_rate=0.03,
        eda_examples=6, runs="writeup",
    ),
    "full": SerengetiProfile(
        name="full", demo_sequences=800, demo_image_size=None, image_size=(384, 512),
        backbones=(("mnv2", "mnv2", 0), ("irv2", "irv2", 0), ("small", "small", 32)),
        backbone_weights="imagenet", train_images="first", epochs=12, finetune_epochs=4,
        batch_size=32, learning_rate=1e-4, finetune_learning_rate=5e-5, fusion_filters=1024,
        shard_size=256, stack_feature_mode="all", stack_min_data_in_leaf=20,
        stack_num_leaves=15, stack_learning_rate=0.03, neighbor_window_s=120.0,
        eda_examples=6, runs="writeup", progressive_sizes=((240, 320), (360, 480)),
        progressive_epochs=3,
    ),
}  # fmt: skip
