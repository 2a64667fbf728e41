"""Sequence augmentation policies of the Deep Chimpact 3rd-place solution, in plain TF ops.

Why it looks like this:

- One transform per *sequence*, the same for every frame: the LSTM compares frames over time, so
  frames flipped or rotated differently would look like camera motion that never happened.
- With probability `prob` one transform is drawn uniformly from the policy, else the frames pass
  through untouched (the write-up's `p50` / `p80`). The original code drew an integer in
  [0, round(n / p)) instead, so its real augmentation share was n / round(n / p) (e.g. 15/19 =
  0.789 for a2p80); we use `p` exactly, as the write-up states it.
- tensorflow-addons no longer imports with TF 2.21, so its two ops are rebuilt here:
  `tfa.image.rotate` (nearest neighbour, black fill, counter-clockwise) via
  `ImageProjectiveTransformV3` with the same matrix, and `tfa.image.gaussian_filter2d` (REFLECT
  padding, integer-offset kernel) as a separable depthwise convolution. For an even kernel size
  tfa's kernel is *not* symmetric: size 10 covers offsets -4..+5, size 20 covers -9..+10
  (x = range(-k//2 + 1, k//2 + 1)), and the padding matches (4 before, 5 after). We reproduce that
  exactly rather than use `keras.ops.image.gaussian_blur`, which pads with zeros (dark borders)
  and centres even kernels on half-pixel offsets.
- Everything is a TF op, so `augment` runs inside `tf.data.Dataset.map` (graph mode), and with a
  stateless seed pair the draw is reproducible.

Input frames are float32 (T, H, W, 3) in [0, 1]; every transform returns the same shape, dtype
and range. Rotations by 90/270 degrees of non-square frames are resized back to (H, W) (the
pipeline resizes frames to a square without keeping aspect anyway); rotations by 45-degree
multiples are cropped to the central 70% (which removes the black corners) and resized back with
bilinear interpolation, as the original did. Gaussian blur with REFLECT padding needs H and W
greater than half the kernel size (at least 11 pixels for the 20-tap blur).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from numbers import Real
from typing import Any

import numpy as np
import tensorflow as tf

Transform = Callable[[tf.Tensor], tf.Tensor]

_A1 = (
    "flip_lr",
    "flip_ud",
    "rotate90",
    "rotate180",
    "rotate270",
    "rotate45_crop",
    "rotate135_crop",
    "rotate225_crop",
    "rotate315_crop",
)

# Transform names per policy, in the write-up's order.
POLICIES: dict[str, tuple[str, ...]] = {
    "a1": _A1,
    "a2": _A1
    + (
        "gray",
        "gray_brightness+0.4",
        "gray_brightness+0.8",
        "gray_brightness-0.4",
        "hue+0.4",
        "hue+0.8",
    ),
    "a4": _A1 + ("gray", "blur10", "blur20"),
}

CROP_FRACTION = 0.7
BLUR_SIGMA = 5.0


def _rot90(x: tf.Tensor, k: int) -> tf.Tensor:
    """Exact counter-clockwise rotation by k*90 degrees (what tfa.image.rotate gave on squares)."""
    out = tf.image.rot90(x, k)
    if k % 2 == 0:
        return out
    h, w = x.shape[1], x.shape[2]
    if h is not None and w is not None and h == w:
        return out
    # Non-square (or unknown) size: bring the (W, H) result back to (H, W). For a square frame
    # of unknown static size this same-size bilinear resize is an exact copy.
    return tf.ensure_shape(tf.image.resize(out, tf.shape(x)[1:3]), x.shape)


def _rotate(x: tf.Tensor, angle: float) -> tf.Tensor:
    """tfa.image.rotate: counter-clockwise about the centre, nearest neighbour, zeros outside."""
    size = tf.shape(x)[1:3]
    h = tf.cast(size[0], tf.float32)
    w = tf.cast(size[1], tf.float32)
    cos, sin = math.cos(angle), math.sin(angle)
    x_offset = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2.0
    y_offset = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2.0
    # The matrix maps output pixel coordinates to input coordinates, one row for all frames.
    matrix = tf.stack(
        [
            tf.constant(cos),
            tf.constant(-sin),
            x_offset,
            tf.constant(sin),
            tf.constant(cos),
            y_offset,
            tf.constant(0.0),
            tf.constant(0.0),
        ]
    )
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=matrix[tf.newaxis],
        output_shape=size,
        fill_value=tf.constant(0.0),
        interpolation="NEAREST",
        fill_mode="CONSTANT",
    )
    return tf.ensure_shape(out, x.shape)


def _rotate_crop(x: tf.Tensor, degrees: int) -> tf.Tensor:
    """Rotate by a 45-degree multiple, keep the central 70% (no black corners), resize back."""
    rotated = _rotate(x, math.radians(degrees))
    cropped = tf.image.central_crop(rotated, CROP_FRACTION)
    return tf.ensure_shape(tf.image.resize(cropped, tf.shape(x)[1:3]), x.shape)


def _gray(x: tf.Tensor) -> tf.Tensor:
    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(x))


def _gray_brightness(x: tf.Tensor, delta: float) -> tf.Tensor:
    return tf.image.adjust_brightness(_gray(x), delta)


def _hue(x: tf.Tensor, delta: float) -> tf.Tensor:
    return tf.image.adjust_hue(x, delta)


def tfa_gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """1-D kernel of tfa.image.gaussian_filter2d: offsets -(size-1)//2 .. size//2, normalised."""
    offsets = np.arange(-size // 2 + 1, size // 2 + 1, dtype=np.float64)
    weights = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return (weights / weights.sum()).astype(np.float32)


def _blur(x: tf.Tensor, size: int, sigma: float = BLUR_SIGMA) -> tf.Tensor:
    """tfa.image.gaussian_filter2d(x, filter_shape=size, sigma=sigma) with its REFLECT padding."""
    channels = x.shape[-1] or 3
    kernel = tfa_gaussian_kernel(size, sigma)
    before = (size - 1) // 2
    after = size - 1 - before
    padded = tf.pad(x, [[0, 0], [before, after], [before, after], [0, 0]], mode="REFLECT")
    k_rows = tf.constant(np.tile(kernel.reshape(size, 1, 1, 1), (1, 1, channels, 1)))
    k_cols = tf.constant(np.tile(kernel.reshape(1, size, 1, 1), (1, 1, channels, 1)))
    out = tf.nn.depthwise_conv2d(padded, k_rows, strides=[1, 1, 1, 1], padding="VALID")
    out = tf.nn.depthwise_conv2d(out, k_cols, strides=[1, 1, 1, 1], padding="VALID")
    return tf.ensure_shape(out, x.shape)


TRANSFORMS: dict[str, Transform] = {
    "flip_lr": lambda x: tf.reverse(x, axis=[2]),
    "flip_ud": lambda x: tf.reverse(x, axis=[1]),
    "rotate90": partial(_rot90, k=1),
    "rotate180": partial(_rot90, k=2),
    "rotate270": partial(_rot90, k=3),
    "rotate45_crop": partial(_rotate_crop, degrees=45),
    "rotate135_crop": partial(_rotate_crop, degrees=135),
    "rotate225_crop": partial(_rotate_crop, degrees=225),
    "rotate315_crop": partial(_rotate_crop, degrees=315),
    "gray": _gray,
    "gray_brightness+0.4": partial(_gray_brightness, delta=0.4),
    "gray_brightness+0.8": partial(_gray_brightness, delta=0.8),
    "gray_brightness-0.4": partial(_gray_brightness, delta=-0.4),
    "hue+0.4": partial(_hue, delta=0.4),
    "hue+0.8": partial(_hue, delta=0.8),
    "blur10": partial(_blur, size=10),
    "blur20": partial(_blur, size=20),
}


def _check_frames(frames: Any) -> tf.Tensor:
    x = tf.convert_to_tensor(frames)
    if x.dtype != tf.float32:
        raise ValueError(
            f"frames must be float32 in [0, 1], got {x.dtype.name}; convert with "
            "tf.image.convert_image_dtype(frames, tf.float32)"
        )
    if x.shape.rank is not None and (x.shape.rank != 4 or x.shape[-1] not in (None, 3)):
        raise ValueError(f"frames must have shape (T, H, W, 3), got {x.shape}")
    return x


def _check_policy(policy: str, prob: float) -> None:
    if policy not in POLICIES:
        raise ValueError(
            f"unknown augmentation policy {policy!r}; expected one of {list(POLICIES)}"
        )
    if not isinstance(prob, Real) or not 0.0 <= prob <= 1.0:
        raise ValueError(f"augmentation probability must be a number in [0, 1], got {prob!r}")


def apply(frames: Any, name: str) -> tf.Tensor:
    """Apply one named transform to every frame of a (T, H, W, 3) float32 sequence."""
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; expected one of {list(TRANSFORMS)}")
    x = _check_frames(frames)
    return tf.clip_by_value(TRANSFORMS[name](x), 0.0, 1.0)


def augment(frames: Any, policy: str, prob: float, seed: Any = None) -> tf.Tensor:
    """With probability `prob` apply one uniformly drawn transform of `policy` to all frames.

    `seed` is None (stateful random op: fine for training) or a shape-[2] integer tensor for
    stateless, reproducible draws, e.g. `ds.enumerate().map(lambda i, x: augment(x, "a4", 0.5,
    seed=tf.stack([tf.constant(7, tf.int64), i])))`. One uniform draw u decides both: u >= prob
    means no augmentation, else transform floor(u / prob * n).
    """
    _check_policy(policy, prob)
    x = _check_frames(frames)
    names = POLICIES[policy]
    n = len(names)
    if prob == 0:
        return x
    if seed is None:
        u = tf.random.uniform([], dtype=tf.float32)
    else:
        u = tf.random.stateless_uniform([], seed=seed, dtype=tf.float32)
    pick = tf.minimum(tf.cast(tf.floor(u / prob * n), tf.int32), n - 1)
    index = tf.where(u < prob, pick, n)
    branches = [partial(apply, x, name) for name in names] + [lambda: x]
    return tf.ensure_shape(tf.switch_case(index, branches), x.shape)


def make_augmenter(policy: str, prob: float) -> Callable[..., Any]:
    """A function for `dataset.map`: augments the first element, passes the rest (labels) on.

    Unseeded; for a reproducible pipeline call `augment` with a per-example seed (see there), or
    set `tf.random.set_seed` before building the dataset.
    """
    _check_policy(policy, prob)

    def augmenter(frames: Any, *rest: Any) -> Any:
        out = augment(frames, policy, prob)
        return (out, *rest) if rest else out

    return augmenter
