"""The write-up's resize flow, and the naive resize it replaced (the ladder's "resize fix" rung).

The 3rd-place model was trained on a community copy of the data shrunk to 512x384 with an
antialiasing filter. Feeding it full-size 2048x1536 frames resized straight to the model size
cost 0.0038 -> 0.0045 on the leaderboard: without antialiasing, a 4x downscale aliases grass
and fur into textures the model never saw. The fix was to run every image, in training and at
inference, through the same chain:

1. `shrink`: full image -> a quarter of its size with Lanczos (Pillow's ANTIALIAS); if a quarter
   would be smaller than 480x360, straight to 512x384 instead (small images are not shrunk
   below the size the model was trained from);
2. `mask_strip`: black out the bottom information strip (camera brand, date, time, temperature):
   it is the same on every image of a camera, and the clock text would let a model learn
   day/night or the site instead of the animal;
3. `to_model_size`: resize to the model input, e.g. 360x480 or 384x512 (height x width).

Steps 1-2 give the *intermediate* image that stage 02 stores on disk (the write-up saved it and
read it back, so pass `jpeg_quality` to `flow` to include that JPEG round trip). `naive` is the
mismatch the write-up hit: the full image straight to model size with nearest-neighbour sampling
(Keras' `load_img` default); its strip is masked the same way so the two chains differ only in
how they resize.

Sizes are (height, width) like model inputs; Pillow's own sizes are (width, height). The aspect
ratio is not kept (the camera frames are all 4:3 and the model inputs too).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from lib import images

INTERMEDIATE_HW = (384, 512)  # the community copy the write-up trained on
MIN_QUARTER_HW = (360, 480)  # below this a quarter is too small; go to INTERMEDIATE_HW instead
MODEL_SIZES_HW = ((240, 320), (360, 480), (384, 512))  # the write-up's progressive resizing
# Bottom strip height as a fraction of the image height. Measured on the real Snapshot
# Serengeti frame african_elephants.jpg (2048x1536): the white strip starts at row 1435, i.e.
# 101 rows = 0.0658 of the height; 0.066 covers it (rows are rounded up, so the JPEG-blurred
# edge row goes too).
STRIP_FRACTION = 0.066
SHRINK_FILTER = Image.Resampling.LANCZOS
FINAL_FILTER = Image.Resampling.BILINEAR
NAIVE_FILTER = Image.Resampling.NEAREST
FLOWS = ("flow", "naive")


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    h, w = (int(v) for v in size)
    if h < 1 or w < 1:
        raise ValueError(f"size must be (height, width) with positive values, got {size!r}")
    return h, w


def strip_rows(height: int, fraction: float = STRIP_FRACTION) -> int:
    """How many bottom rows the strip covers in an image `height` rows tall (rounded up)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"strip fraction must be in [0, 1), got {fraction!r}")
    return min(height, math.ceil(height * fraction - 1e-9))


def shrink(image: Image.Image) -> Image.Image:
    """Step 1: a quarter of the size with Lanczos, or straight to 512x384 if that is smaller
    than 480x360 (either side)."""
    w, h = image.size
    qw, qh = w // 4, h // 4
    if qh < MIN_QUARTER_HW[0] or qw < MIN_QUARTER_HW[1]:
        qh, qw = INTERMEDIATE_HW
    return image.resize((qw, qh), SHRINK_FILTER)


def mask_strip(image: Image.Image, fraction: float = STRIP_FRACTION) -> Image.Image:
    """Step 2: a copy with the bottom `fraction` of the rows set to black."""
    arr = np.array(image.convert("RGB"), dtype=np.uint8)
    rows = strip_rows(arr.shape[0], fraction)
    if rows:
        arr[arr.shape[0] - rows :] = 0
    return Image.fromarray(arr, "RGB")


def intermediate(image: Image.Image, strip_fraction: float = STRIP_FRACTION) -> Image.Image:
    """Steps 1-2: what stage 02 stores (about 512x384, strip black)."""
    return mask_strip(shrink(image.convert("RGB")), strip_fraction)


def to_model_size(
    image: Image.Image, size: tuple[int, int], resample: int = FINAL_FILTER
) -> np.ndarray:
    """Step 3: (H, W, 3) uint8 at the model's input size."""
    h, w = _check_size(size)
    out = image.convert("RGB")
    if out.size != (w, h):
        out = out.resize((w, h), resample)
    return np.asarray(out, dtype=np.uint8)


def jpeg_round_trip(image: Image.Image, quality: int = 95) -> Image.Image:
    """Encode and decode as JPEG, as saving the intermediate to disk and reading it back does."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as decoded:
        return decoded.convert("RGB")


def flow(
    image: Image.Image,
    size: tuple[int, int],
    strip_fraction: float = STRIP_FRACTION,
    jpeg_quality: int | None = None,
) -> np.ndarray:
    """The full chain: shrink -> mask strip -> (JPEG round trip) -> model size; (H, W, 3) uint8."""
    mid = intermediate(image, strip_fraction)
    if jpeg_quality is not None:
        mid = jpeg_round_trip(mid, jpeg_quality)
    return to_model_size(mid, size)


def naive(
    image: Image.Image,
    size: tuple[int, int],
    strip_fraction: float = STRIP_FRACTION,
    resample: int = NAIVE_FILTER,
) -> np.ndarray:
    """Full image straight to model size (no antialiasing), then the strip masked; (H, W, 3)."""
    h, w = _check_size(size)
    out = image.convert("RGB").resize((w, h), resample)
    return np.asarray(mask_strip(out, strip_fraction), dtype=np.uint8)


def load(
    path: str | Path,
    size: tuple[int, int],
    how: str = "flow",
    strip_fraction: float = STRIP_FRACTION,
    accept_truncated: bool = False,
) -> np.ndarray:
    """Read a file robustly (lib.images: upright, RGB) and resize it by `how` ("flow"/"naive").

    Raises lib.images.ImageError for a file that cannot be decoded.
    """
    if how not in FLOWS:
        raise ValueError(f"unknown resize {how!r}; expected one of {FLOWS}")
    image = images.read_rgb(path, accept_truncated=accept_truncated)
    if how == "flow":
        return flow(image, size, strip_fraction)
    return naive(image, size, strip_fraction)
