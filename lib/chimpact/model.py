"""The write-up's CNN-LSTM: per-frame CNN -> global pooling -> LSTM -> Dense(300) -> Dense(1).

The per-frame CNN is applied with the time axis folded into the batch (B,T,H,W,C -> B*T,H,W,C)
rather than `TimeDistributed`: Keras 3 unrolls TimeDistributed into T copies of the CNN, which
made the first step ~4x slower to build and steady state slower on CPU (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from lib.chimpact.model_config import DOWNSAMPLING, ModelConfig


def _small_cnn(
    size: int,
    pool: str = "flatten",
    channels: int = 3,
    bn_momentum: float = 0.99,
    downsample: str = "pool",
) -> keras.Model:
    """A light CNN for CPU demos: 4 conv layers with batch norm, then a pooled feature vector.

    A strided stem, then three blocks that each halve the map, by `downsample`:
    - `"pool_first"`: max-pool, then convolve the half-size map. A quarter of the multiply-adds
      of `"pool"` and half the CPU of its training step under an AVX2 cap, and it keeps the
      write-up's gamma finding on the demo (docs/benchmarks.md): the max-pool keeps each small
      bright or dark detail the previous layer found, wherever it was.
    - `"pool_stem"` (the demo's): `"pool_first"` with the stem's max-pool moved up, between its
      convolution and its batch norm, so the largest map of the network is normalized at a
      quarter of its size. Keras 3's batch norm is a chain of element-wise passes, and the
      stem's was a quarter of the step (docs/benchmarks.md); every convolution sees the maps
      it sees in `"pool_first"`.
    - `"pool"`: convolve at full size, then max-pool (the first demo model; its bundles load).
    - `"stride"`: stride-2 convolutions, as cheap as `"pool_first"`, but each output sees only
      every other position; on the demo it lost the gamma finding.

    With `pool="flatten"` the last (size/16)^2 map is kept with its layout: where the animal
    touches the ground is the strongest distance cue in a fixed camera view, and global average
    pooling throws position away (the ImageNet backbone compensates with depth; a tiny CNN can't).
    Batch-norm momentum 0.99 suits long runs; a demo fold takes a few hundred steps, over which
    0.99's running statistics still carry the initial values and validation scores jump.
    """
    if pool not in ("flatten", "avg"):
        raise ValueError(f"small_pool must be 'flatten' or 'avg', got {pool!r}")
    if downsample not in DOWNSAMPLING:
        raise ValueError(
            f"small_downsample must be one of {', '.join(DOWNSAMPLING)}, got {downsample!r}"
        )
    inp = keras.Input((size, size, channels))
    x = inp
    for i, filters in enumerate((16, 24, 48, 64)):
        stem = i == 0
        if (downsample == "pool_first" and not stem) or (downsample == "pool_stem" and i > 1):
            x = layers.MaxPooling2D(2)(x)
        stride = 2 if stem or downsample == "stride" else 1
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        if downsample == "pool_stem" and stem:
            x = layers.MaxPooling2D(2)(x)
        x = layers.BatchNormalization(momentum=bn_momentum)(x)
        x = layers.Activation("relu")(x)
        if downsample == "pool" and not stem:
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
        channels = 6 if cfg.motion else 3
        return _small_cnn(
            cfg.image_size, cfg.small_pool, channels, cfg.small_bn_momentum, cfg.small_downsample
        )
    if cfg.backbone == "efficientnet_b0":
        return _efficientnet(cfg.image_size, cfg.backbone_weights)
    raise ValueError(f"unknown backbone {cfg.backbone!r}; expected 'efficientnet_b0' or 'small'")


def with_motion(frames):
    """(B, T, S, S, 3) -> (B, T, S, S, 6): each frame plus |frame - the window's mean frame|.

    A camera trap's view is still while the animal moves, so the difference from the window's
    mean picks the animal out of the background; a small CNN trained on a few hundred
    sequences does not learn that separation by itself. It is part of the model, so bundles
    and the predict CLI apply it without extra preprocessing.
    """
    mean = keras.ops.mean(frames, axis=1, keepdims=True)
    return keras.ops.concatenate([frames, keras.ops.abs(frames - mean)], axis=-1)


def standardized(frames):
    """Each sequence to zero mean and unit spread over all its pixels.

    Gamma-corrected overexposed originals come out at under half the brightness of other
    videos (docs: eq=gamma=0.1), and night shots are dark and grey; a CNN trained on a few
    dozen such videos otherwise reads brightness as distance. The 0.02 floor keeps a blank
    (all-white) sequence from being blown up into noise.
    """
    mean = keras.ops.mean(frames, axis=(1, 2, 3, 4), keepdims=True)
    spread = keras.ops.std(frames, axis=(1, 2, 3, 4), keepdims=True)
    return (frames - mean) / (spread + 0.02)


def build_model(cfg: ModelConfig) -> keras.Model:
    """(B, T, S, S, 3) float frames in [0, 1] -> (B, 1) distance in metres (float32)."""
    if (cfg.motion or cfg.standardize) and cfg.backbone != "small":
        raise ValueError(
            "motion channels and standardized inputs need the small backbone "
            "(ImageNet backbones expect 3-channel images in their own value range)"
        )
    t, s = cfg.frames, cfg.image_size
    inp = keras.Input((t, s, s, 3), name="frames")
    cnn = backbone(cfg)
    ch = cnn.input.shape[-1]
    x = standardized(inp) if cfg.standardize else inp
    x = with_motion(x) if cfg.motion else x
    if cfg.time_distributed:
        feats = layers.TimeDistributed(cnn)(x)
    else:
        flat = layers.Reshape((s, s, ch))(keras.ops.reshape(x, (-1, s, s, ch)))
        feats = cnn(flat)
        feats = keras.ops.reshape(feats, (-1, t, cnn.output.shape[-1]))
    x = layers.LSTM(cfg.lstm_units)(feats)
    x = layers.Dense(cfg.dense_units, activation="relu")(x)
    out = layers.Dense(  # float32 under mixed precision
        1, dtype="float32", name="distance",
        bias_initializer=keras.initializers.Constant(cfg.output_bias),
    )(x)  # fmt: skip
    return keras.Model(inp, out, name=f"cnn_lstm_{cfg.backbone}")
