"""The write-up's networks: single-image, background and two-stream multilabel classifiers.

- single: backbone feature map -> global max pooling -> dropout 0.05 -> Dense(54, sigmoid).
  Max pooling rather than average: an animal often fills a small part of the frame, and its
  strongest response should not be diluted by the empty savanna around it.
- background: the same network, fine-tuned from the single model's weights on background images
  (`load_parent_weights`) - same head, so the 54-way scores are comparable in the stack.
- twostream: a mean-image backbone and a background backbone; their feature maps (same spatial
  size) are concatenated -> Conv2D(1024, 3x3) -> global max pooling -> Dense(54, sigmoid). The
  background stream acts as attention: where something moved (`init_twostream` starts each
  stream from the single and background models).

Backbones: `irv2` InceptionResNetV2 (the write-up's best), `mnv2` MobileNetV2 (its first rung),
`small` a light CNN that trains on a 2-core CPU for the demo. Inputs are float images in [0, 1],
(height, width) = `image_size`; the Keras backbones want [-1, 1], so a Rescaling layer sits in
front of them. `head="softmax"` gives the benchmark's softmax + categorical cross-entropy (the
ladder's loss rung); its targets are the label rows normalised to sum to 1 (`softmax_targets`).
The output layer is float32 so mixed precision never rounds probabilities near 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from lib.serengeti.schema import N_CLASSES

MODELS = ("single", "background", "twostream")
BACKBONES = ("irv2", "mnv2", "small")
HEADS = ("sigmoid", "softmax")
MIN_SIZE = {"irv2": 75, "mnv2": 32, "small": 16}
# Batch-norm running statistics of the small CNN follow the weights within ~10 steps: with
# Keras' default 0.99 (~100 steps) a few hundred steps of training leave them behind, and the
# validation loss climbs while the training loss falls (measured on the demo: S9 loss rose for
# 10 epochs and only recovered as the learning rate decayed).
BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class ModelConfig:
    model: str = "single"  # single | background | twostream
    backbone: str = "irv2"  # irv2 | mnv2 | small
    head: str = "sigmoid"  # sigmoid | softmax
    image_size: tuple[int, int] = (384, 512)  # (height, width)
    backbone_weights: str | None = "imagenet"  # None | "imagenet" | path to a no-top weights file
    dropout: float = 0.05
    fusion_filters: int = 1024  # two-stream Conv2D filters
    small_width: int = 32  # small CNN: filters of the first block (doubling per block)
    n_classes: int = N_CLASSES

    def __post_init__(self) -> None:
        for label, value, allowed in (
            ("model", self.model, MODELS),
            ("backbone", self.backbone, BACKBONES),
            ("head", self.head, HEADS),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {label} {value!r}; expected one of {allowed}")
        h, w = self.image_size
        if min(h, w) < MIN_SIZE[self.backbone]:
            raise ValueError(
                f"image_size {self.image_size} is too small for backbone {self.backbone!r} "
                f"(at least {MIN_SIZE[self.backbone]} pixels a side)"
            )
        if self.head == "softmax" and self.model != "single":
            raise ValueError("the softmax head is only for the single-image model")


def _small_cnn(shape: tuple[int, int, int], width: int, name: str) -> keras.Model:
    """Four conv blocks (batch norm, ReLU, 2x2 max pool) -> a (H/16, W/16, 8*width) map."""
    inp = keras.Input(shape)
    x = inp
    for i in range(4):
        x = layers.Conv2D(width * 2**i, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    return keras.Model(inp, x, name=name)


def _keras_backbone(cfg: ModelConfig, shape: tuple[int, int, int], name: str) -> keras.Model:
    local = cfg.backbone_weights not in (None, "imagenet")
    if local and not Path(str(cfg.backbone_weights)).is_file():
        raise FileNotFoundError(
            f"backbone weights file {cfg.backbone_weights} not found; pass None, 'imagenet' "
            f"(downloads) or the path of a no-top {cfg.backbone} weights file"
        )
    factory = {
        "irv2": keras.applications.InceptionResNetV2,
        "mnv2": keras.applications.MobileNetV2,
    }[cfg.backbone]
    base = factory(
        include_top=False, weights=None if local else cfg.backbone_weights, input_shape=shape
    )
    if local:
        base.load_weights(str(cfg.backbone_weights))
    inp = keras.Input(shape)
    out = base(layers.Rescaling(2.0, offset=-1.0)(inp))  # [0, 1] -> the [-1, 1] they expect
    return keras.Model(inp, out, name=name)


def backbone(cfg: ModelConfig, name: str = "backbone") -> keras.Model:
    """Feature-map extractor (no pooling): (H, W, 3) in [0, 1] -> (h, w, channels)."""
    shape = (*cfg.image_size, 3)
    if cfg.backbone == "small":
        return _small_cnn(shape, cfg.small_width, name)
    return _keras_backbone(cfg, shape, name)


def _head(x, cfg: ModelConfig):
    return layers.Dense(cfg.n_classes, activation=cfg.head, dtype="float32", name="scores")(x)


def build_model(cfg: ModelConfig) -> keras.Model:
    """single/background: image -> (B, 54); twostream: {"mean", "background"} -> (B, 54)."""
    shape = (*cfg.image_size, 3)
    if cfg.model in ("single", "background"):
        inp = keras.Input(shape, name="image")
        x = layers.GlobalMaxPooling2D(name="max_pool")(backbone(cfg)(inp))
        x = layers.Dropout(cfg.dropout, name="dropout")(x)
        return keras.Model(inp, _head(x, cfg), name=f"{cfg.model}_{cfg.backbone}")
    mean_in = keras.Input(shape, name="mean")
    bg_in = keras.Input(shape, name="background")
    a = backbone(cfg, "mean_backbone")(mean_in)
    b = backbone(cfg, "background_backbone")(bg_in)
    x = layers.Concatenate(name="concat")([a, b])
    x = layers.Conv2D(cfg.fusion_filters, 3, padding="same", activation="relu", name="fusion")(x)
    x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model([mean_in, bg_in], _head(x, cfg), name=f"twostream_{cfg.backbone}")


def loss(cfg: ModelConfig) -> keras.losses.Loss:
    """Binary cross-entropy for sigmoid (multilabel), categorical for the softmax benchmark."""
    if cfg.head == "sigmoid":
        return keras.losses.BinaryCrossentropy()
    return keras.losses.CategoricalCrossentropy()


def softmax_targets(labels: np.ndarray) -> np.ndarray:
    """Label rows scaled to sum to 1 (a two-species sequence: 0.5 each) for the softmax head.

    Every row has at least one class (`empty` is a class); an all-zero row is an error.
    """
    y = np.asarray(labels, dtype=np.float32)
    sums = y.sum(axis=-1, keepdims=True)
    if (sums <= 0).any():
        raise ValueError("a label row has no class; every sequence has at least `empty`")
    return y / sums


def single_config(cfg: ModelConfig) -> ModelConfig:
    """The single-image model a background or two-stream model starts from (same backbone)."""
    from dataclasses import replace

    return replace(cfg, model="single", head="sigmoid")


def load_parent_weights(model: keras.Model, weights_path: str | Path) -> keras.Model:
    """Start a background model from a single-image model's weights file (same architecture)."""
    path = Path(weights_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: parent weights not found; train the single model first")
    model.load_weights(str(path))
    return model


def init_twostream(
    model: keras.Model,
    cfg: ModelConfig,
    single_weights: str | Path,
    background_weights: str | Path,
) -> keras.Model:
    """Copy the single model's backbone into the mean stream and the background model's into
    the background stream; the fusion conv and head start fresh."""
    if cfg.model != "twostream":
        raise ValueError(f"init_twostream needs a twostream config, got {cfg.model!r}")
    parent_cfg = single_config(cfg)
    for stream, path in (
        ("mean_backbone", single_weights),
        ("background_backbone", background_weights),
    ):
        parent = load_parent_weights(build_model(parent_cfg), path)
        model.get_layer(stream).set_weights(parent.get_layer("backbone").get_weights())
    return model
