"""The write-up's resize flow (quarter with antialiasing -> strip black -> model size) and the
naive resize it replaced, on images made here."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lib.serengeti import resize

REAL = Path("/work/shared/data/real-images/african_elephants.jpg")


def _scene(w: int = 2048, h: int = 1536, strip: float = 0.066) -> Image.Image:
    """Fine stripes (aliasing bait) on a gradient, with a white information strip at the bottom."""
    x = np.arange(w)
    y = np.arange(h)[:, None]
    stripes = ((x // 2) % 2 * 120).astype(np.uint8)[None, :].repeat(h, 0)
    a = np.dstack([stripes, (y * 200 // h).repeat(w, 1).astype(np.uint8), np.full((h, w), 60)])
    a = a.astype(np.uint8)
    a[h - int(h * strip) :] = 255
    return Image.fromarray(a, "RGB")


def test_shrink_quarters_big_images_and_lifts_small_ones_to_512x384():
    assert resize.shrink(Image.new("RGB", (2048, 1536))).size == (512, 384)
    assert resize.shrink(Image.new("RGB", (2560, 1920))).size == (640, 480)
    # a quarter of 1920x1080 is 480x270, under 480x360: straight to 512x384
    assert resize.shrink(Image.new("RGB", (1920, 1080))).size == (512, 384)
    assert resize.shrink(Image.new("RGB", (640, 480))).size == (512, 384)


def test_strip_rows_and_mask():
    assert resize.strip_rows(384) == 26  # 0.066 * 384 = 25.3, rounded up
    assert resize.strip_rows(1536) == 102
    assert resize.strip_rows(100, 0.0) == 0
    with pytest.raises(ValueError, match="strip fraction"):
        resize.strip_rows(100, 1.0)
    img = Image.new("RGB", (8, 100), (200, 100, 50))
    arr = np.asarray(resize.mask_strip(img, 0.1))
    assert (arr[90:] == 0).all() and (arr[:90] == (200, 100, 50)).all()


@pytest.mark.parametrize("size", [(360, 480), (384, 512), (75, 100)])
def test_flow_output_shape_dtype_and_black_strip(size):
    out = resize.flow(_scene(), size)
    assert out.shape == (*size, 3) and out.dtype == np.uint8
    h = size[0]
    bottom = out[h - resize.strip_rows(h, resize.STRIP_FRACTION * 0.9) :]
    assert bottom.max() <= 20  # the white strip is gone (only interpolation at its top edge)
    assert out[: h // 2].max() > 50  # the scene is still there


def test_flow_differs_from_naive_and_naive_aliases():
    img = _scene()
    flow = resize.flow(img, (384, 512)).astype(float)
    naive = resize.naive(img, (384, 512)).astype(float)
    assert flow.shape == naive.shape
    # 2-pixel stripes of 0/120 average to 60 through the antialiased quarter; nearest
    # sampling lands on one phase of the stripes (aliasing) and gets 0 or 120 everywhere
    body = slice(0, 300)
    assert np.abs(flow[body] - naive[body]).mean() > 20
    assert abs(flow[body, :, 0].mean() - 60) < 5
    assert abs(naive[body, :, 0].mean() - 60) > 50
    assert naive[384 - resize.strip_rows(384) :].max() == 0  # naive masks the strip too


def test_jpeg_round_trip_changes_little():
    img = _scene(1024, 768)
    a = resize.flow(img, (240, 320)).astype(float)
    b = resize.flow(img, (240, 320), jpeg_quality=95).astype(float)
    assert a.shape == b.shape and 0 < np.abs(a - b).mean() < 3


def test_load_applies_orientation_and_gives_three_channels(tmp_path):
    scene = np.asarray(_scene(800, 600))
    # stored sideways with EXIF orientation 6, as a phone or card reader may leave it
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(scene).transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "side.jpg", quality=95, exif=exif.tobytes()
    )
    Image.fromarray(scene).convert("L").save(tmp_path / "gray.jpg", quality=95)
    upright = resize.flow(Image.fromarray(scene), (360, 480)).astype(float)
    side = resize.load(tmp_path / "side.jpg", (360, 480))
    assert side.shape == (360, 480, 3)
    assert np.abs(side.astype(float) - upright).mean() < 8  # upright, not on its side
    gray = resize.load(tmp_path / "gray.jpg", (360, 480), how="naive")
    assert gray.shape == (360, 480, 3) and (gray[..., 0] == gray[..., 2]).all()
    with pytest.raises(ValueError, match="unknown resize"):
        resize.load(tmp_path / "gray.jpg", (360, 480), how="bicubic")


@pytest.mark.skipif(not REAL.is_file(), reason="real example image not on this machine")
def test_default_strip_fraction_covers_the_real_strip():
    """The real frame's white strip ends up black, and the row above it is scene."""
    arr = resize.flow(Image.open(REAL), (384, 512))
    rows = resize.strip_rows(384)
    assert arr[384 - rows :].max() == 0
    full = np.asarray(Image.open(REAL).convert("RGB"))
    strip_top = 1536 - int(np.ceil(1536 * resize.STRIP_FRACTION))
    assert full[strip_top + 3 :].mean() > 180  # the strip is bright ...
    assert full[strip_top - 20 : strip_top - 2].mean() < 180  # ... the rows above are not
