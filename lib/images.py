"""Robust still-image decoding: every readable file comes back upright, 8-bit RGB.

Camera-trap folders are messy: night shots saved as grayscale, files re-saved as CMYK by photo
tools, phones' EXIF rotation flags, and cards pulled out mid-write that leave truncated JPEGs.
One decoder for all of them means training, inference and EDA see the same pixels:

- EXIF orientation is applied (`PIL.ImageOps.exif_transpose`), so a portrait-flagged file is
  not fed to the model on its side. A broken EXIF block is ignored (the pixels are still good).
- Every mode becomes 3-channel RGB: L/LA/1 (grayscale, night IR) are replicated, CMYK and YCbCr
  go through Pillow's conversion (it handles Adobe's inverted CMYK), palettes are expanded,
  alpha is dropped, 16-bit/32-bit/float images are scaled to 0-255.
- A file that cannot be decoded raises `ImageError` naming the file and a short `reason`
  (one of `REASONS`), so callers count failures per reason and carry on with the next file.

Truncated files are rejected by default. A truncated JPEG decodes to its first rows with the
rest filled flat gray (the real `african_elephants_truncated_file.jpg`: 1328 of 1536 rows);
the animal may be in the lost rows, and the flat patch lights up in a sequence's background
image as if something moved. A sequence usually has other images, and a sequence with none
falls back to class priors. `accept_truncated=True` keeps the decodable part instead (EDA, or a
user who would rather have something); the result says it was truncated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# "outside_folder" is never raised here: it is the reason a caller records for a listed name
# that resolves outside the data folder (e.g. a symlink to /etc), which it refuses to open.
REASONS = (
    "missing",
    "unreadable",
    "not_an_image",
    "truncated",
    "corrupt",
    "too_large",
    "outside_folder",
)
_JPEG_END = b"\xff\xd9"


class ImageError(ValueError):
    """A file that could not be decoded; `path` and `reason` (one of REASONS) say which and why."""

    def __init__(self, path: str | Path, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown image error reason {reason!r}; expected one of {REASONS}")
        self.path = Path(path)
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.path}: {reason}" + (f" ({detail})" if detail else ""))

    def __reduce__(self):  # keeps the fields when a worker process sends the error back
        return (type(self), (self.path, self.reason, self.detail))


@dataclass(frozen=True)
class Decoded:
    """One decoded file: the upright RGB image and what had to be done to get it."""

    path: Path
    image: Image.Image  # mode "RGB", EXIF orientation applied
    source_mode: str  # Pillow mode in the file ("RGB", "L", "CMYK", ...)
    orientation: int  # EXIF orientation tag that was applied (1 = none)
    truncated: bool  # only ever True with accept_truncated=True


def to_rgb(image: Image.Image) -> Image.Image:
    """3-channel 8-bit RGB from any Pillow mode (alpha dropped, high bit depths scaled)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        if top > 255:  # 16-bit and float data: scale the full range of the format into 0-255
            scale = 65535.0 if image.mode.startswith("I;16") or top <= 65535 else top
            values = values * (255.0 / scale)
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[..., None], 3, axis=2), "RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # Pillow warns when a transparent palette goes to RGB
    return image.convert("RGB")


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
        return int(value) if value in range(1, 9) else 1
    except Exception:  # noqa: BLE001 - malformed EXIF must not cost the pixels
        return 1


def _upright(image: Image.Image) -> tuple[Image.Image, int]:
    orientation = _orientation(image)
    if orientation == 1:
        return image, 1
    try:
        return ImageOps.exif_transpose(image), orientation
    except Exception:  # noqa: BLE001 - keep the unrotated pixels rather than lose the file
        return image, 1


def _open_loaded(data: bytes, path: Path) -> Image.Image:
    """Decode all pixels now (Pillow is lazy), turning Pillow's errors into ImageError.

    Pillow's process-wide LOAD_TRUNCATED_IMAGES switch is turned off first: other libraries in
    the same process turn it on at import (MegaDetector's visualization utilities do), which
    would pass a truncated file as whole and hide it from the counts."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except UnidentifiedImageError:
        raise ImageError(path, "not_an_image", "Pillow does not recognise the format") from None
    except Image.DecompressionBombError as err:  # over twice Image.MAX_IMAGE_PIXELS
        raise ImageError(path, "too_large", str(err)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        text = str(err)
        reason = "truncated" if "truncated" in text.lower() else "corrupt"
        raise ImageError(path, reason, text) from None


def decode(path: str | Path, accept_truncated: bool = False) -> Decoded:
    """Read one image file upright as RGB, or raise ImageError (see the module docstring)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(path, "missing", "no such file") from None
    except OSError as err:
        raise ImageError(path, "unreadable", err.strerror or str(err)) from None
    if not data:
        raise ImageError(path, "truncated", "empty file")
    truncated = False
    try:
        image = _open_loaded(data, path)
    except ImageError as err:
        if err.reason != "truncated" or not accept_truncated:
            raise
        # An end-of-image marker lets libjpeg finish: decoded rows kept, the rest flat gray.
        image = _open_loaded(data + _JPEG_END, path)
        truncated = True
    source_mode = image.mode
    image, orientation = _upright(image)
    return Decoded(
        path=path,
        image=to_rgb(image),
        source_mode=source_mode,
        orientation=orientation,
        truncated=truncated,
    )


def read_rgb(path: str | Path, accept_truncated: bool = False) -> Image.Image:
    """The upright RGB image of a file (ImageError if it cannot be decoded)."""
    return decode(path, accept_truncated).image


def read_array(path: str | Path, accept_truncated: bool = False) -> np.ndarray:
    """(H, W, 3) uint8 array of the upright RGB image (ImageError if it cannot be decoded)."""
    return np.asarray(read_rgb(path, accept_truncated), dtype=np.uint8)
