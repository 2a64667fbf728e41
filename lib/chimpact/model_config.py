"""The chimpact model's settings, apart from the model code so that profiles and run configs
can hold them without importing Keras."""

from __future__ import annotations

from dataclasses import dataclass

# the small CNN's ways to halve its map after the stem (lib.chimpact.model._small_cnn)
DOWNSAMPLING = ("pool_stem", "pool_first", "pool", "stride")


@dataclass(frozen=True)
class ModelConfig:
    frames: int = 7
    image_size: int = 512
    backbone: str = "efficientnet_b0"  # "efficientnet_b0" | "small"
    backbone_weights: str | None = "imagenet"  # None | "imagenet" | path to a weights file
    lstm_units: int = 1024
    dense_units: int = 300
    time_distributed: bool = False  # True: the write-up's TimeDistributed form (slower to build)
    small_pool: str = "flatten"  # small CNN only: "flatten" keeps where the animal is, "avg" not
    small_bn_momentum: float = 0.99  # small CNN only; 0.9 when a fold has few hundred steps
    small_downsample: str = "pool"  # small CNN only: one of DOWNSAMPLING (model.py)
    motion: bool = False  # small CNN only: add |frame - mean over the window| as 3 channels
    standardize: bool = False  # small CNN only: each sequence to zero mean, unit spread
    output_bias: float = 0.0  # start of the distance output (train sets the train median)

    @classmethod
    def from_dict(cls, fields: dict) -> ModelConfig:
        """The config a run or bundle wrote. One written before `small_downsample` existed was
        trained with conv + max-pool: its weights fit the strided layout's shapes too, so any
        other default would load them without error and predict nonsense."""
        return cls(**{"small_downsample": "pool", **fields})
