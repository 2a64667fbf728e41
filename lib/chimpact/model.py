"""The write-up's CNN-LSTM: per-frame CNN -> global pooling -> LSTM -> Dense(300) -> Dense(1).

The per-frame CNN is applied with the time axis folded into the batch (B,T,H,W,C -> B*T,H,W,C)
rather than `TimeDistributed`: Keras 3 unrolls TimeDistributed into T copies of the CNN, which
made the first step ~4x slower to build and steady state slower on CPU (docs/stack.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers


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


def _small_cnn(size: int, pool: str = "flatten") -> keras.Model:
    """A light CNN for CPU demos: 4 conv blocks with batch norm, then a pooled feature vector.

    With `pool="flatten"` the last (size/16)^2 map is kept with its layout: where the animal
    touches the ground is the strongest distance cue in a fixed camera view, and global average
    pooling throws position away (the ImageNet backbone compensates with depth; a tiny CNN can't).
    """
    if pool not in ("flatten", "avg"):
        raise ValueError(f"small_pool must be 'flatten' or 'avg', got {pool!r}")
    inp = keras.Input((size, size, 3))
    x = inp
    for filters in (16, 32, 48, 64):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    if pool == "avg":
        x = layers.Conv2D(96, 3, padding="same", activation="relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
    else:
        x = layers.Conv2D(16, 1, activation="relu")(x)  # narrow the map before flattening
        x = layers.Flatten()(x)
    return keras.Model(inp, x, name="small_cnn")


def _efficientnet(size: int, weights: str | None) -> keras.Model:
    """EfficientNet-B0 without top, with global average pooling; inputs in [0, 1].

    Keras' EfficientNet rescales 0-255 inputs itself, so the [0, 1] frames are multiplied by
    255 first. `weights` may be a local file so machines without internet can use ImageNet
    weights downloaded elsewhere.
    """
    local = weights not in (None, "imagenet")
    if local and not Path(str(weights)).is_file():
        raise FileNotFoundError(
            f"backbone weights file {weights} not found; pass None, 'imagenet' (downloads) "
            "or the path of an EfficientNetB0 no-top .h5 file"
        )
    base = keras.applications.EfficientNetB0(
        include_top=False,
        weights=None if local else weights,
        input_shape=(size, size, 3),
        pooling="avg",
    )
    if local:
        base.load_weights(str(weights))
    inp = keras.Input((size, size, 3))
    out = base(layers.Rescaling(255.0)(inp))
    return keras.Model(inp, out, name="efficientnet_b0")


def backbone(cfg: ModelConfig) -> keras.Model:
    if cfg.backbone == "small":
        return _small_cnn(cfg.image_size, cfg.small_pool)
    if cfg.backbone == "efficientnet_b0":
        return _efficientnet(cfg.image_size, cfg.backbone_weights)
    raise ValueError(f"unknown backbone {cfg.backbone!r}; expected 'efficientnet_b0' or 'small'")


def build_model(cfg: ModelConfig) -> keras.Model:
    """(B, T, S, S, 3) float frames in [0, 1] -> (B, 1) distance in metres (float32)."""
    t, s = cfg.frames, cfg.image_size
    inp = keras.Input((t, s, s, 3), name="frames")
    cnn = backbone(cfg)
    if cfg.time_distributed:
        feats = layers.TimeDistributed(cnn)(inp)
    else:
        flat = layers.Reshape((s, s, 3))(keras.ops.reshape(inp, (-1, s, s, 3)))
        feats = cnn(flat)
        feats = keras.ops.reshape(feats, (-1, t, cnn.output.shape[-1]))
    x = layers.LSTM(cfg.lstm_units)(feats)
    x = layers.Dense(cfg.dense_units, activation="relu")(x)
    out = layers.Dense(1, dtype="float32", name="distance")(x)  # float32 under mixed precision
    return keras.Model(inp, out, name=f"cnn_lstm_{cfg.backbone}")
