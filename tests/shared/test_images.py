"""Robust decoding: every readable file comes back upright RGB; every broken one is an ImageError
naming the file and a reason. The images are made here with Pillow."""

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lib import images
from lib.images import ImageError

REAL = Path("/work/shared/data/real-images")  # optional real examples (never copied here)


def _jpeg(path: Path, image: Image.Image, **kwargs) -> Path:
    image.save(path, "JPEG", quality=95, **kwargs)
    return path


def _quadrants(w: int = 64, h: int = 32) -> np.ndarray:
    """Left half white, right half black; top-left quarter red - every rotation looks different."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 2] = 255
    a[: h // 2, : w // 2] = (255, 0, 0)
    return a


def test_rgb_jpeg_round_trips(tmp_path):
    a = _quadrants()
    d = images.decode(_jpeg(tmp_path / "a.jpg", Image.fromarray(a)))
    assert d.image.mode == "RGB" and d.image.size == (64, 32)
    assert (d.source_mode, d.orientation, d.truncated) == ("RGB", 1, False)
    got = images.read_array(tmp_path / "a.jpg")
    assert got.dtype == np.uint8 and got.shape == (32, 64, 3)
    assert np.abs(got.astype(int) - a).mean() < 4


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))
    d = images.decode(_jpeg(tmp_path / "night.jpg", Image.fromarray(gray, "L")))
    arr = np.asarray(d.image)
    assert d.source_mode == "L" and arr.shape == (16, 64, 3)
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    assert np.abs(arr[..., 0].astype(int) - gray).mean() < 3


def test_cmyk_is_converted_to_rgb_colours(tmp_path):
    red = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # no cyan, full magenta + yellow
    d = images.decode(_jpeg(tmp_path / "cmyk.jpg", red))
    assert d.source_mode == "CMYK"
    r, g, b = np.asarray(d.image).reshape(-1, 3).mean(axis=0)
    assert r > 230 and g < 30 and b < 30


def test_truncated_file_is_still_found_when_another_library_turned_pillows_switch_on(
    tmp_path, noisy_jpeg_bytes, monkeypatch
):
    """MegaDetector's utilities set Pillow's process-wide LOAD_TRUNCATED_IMAGES at import; a
    truncated file must still be reported as truncated in the same process."""
    from PIL import ImageFile

    path = tmp_path / "cut.jpg"
    path.write_bytes(noisy_jpeg_bytes[: len(noisy_jpeg_bytes) * 6 // 10])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageError) as err:
        images.decode(path)
    assert err.value.reason == "truncated"


@pytest.mark.parametrize(
    ("orientation", "transpose"),
    [
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_270),
        (8, Image.Transpose.ROTATE_90),
    ],
)
def test_exif_orientation_is_applied(tmp_path, orientation, transpose):
    """Orientation 6 = stored sideways, shown rotated 90 degrees clockwise."""
    a = _quadrants()
    stored = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = orientation
    d = images.decode(_jpeg(tmp_path / "rot.jpg", stored, exif=exif.tobytes()))
    expected = np.asarray(stored.transpose(transpose)).astype(int)
    got = np.asarray(d.image).astype(int)
    assert d.orientation == orientation
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 4


def test_palette_alpha_and_16_bit_images_become_rgb(tmp_path):
    pal = Image.fromarray(_quadrants()).convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "pal.png")
    rgba = Image.fromarray(np.dstack([_quadrants(), np.full((32, 64), 7, np.uint8)]), "RGBA")
    rgba.save(tmp_path / "rgba.png")
    deep = Image.fromarray(np.full((8, 8), 65535, np.uint16))  # 16-bit grayscale PNG
    deep.save(tmp_path / "deep.png")
    for name in ("pal.png", "rgba.png"):
        arr = images.read_array(tmp_path / name)
        assert arr.shape == (32, 64, 3)
        assert np.array_equal(arr, _quadrants()), name
    arr = images.read_array(tmp_path / "deep.png")
    assert arr.shape == (8, 8, 3) and (arr == 255).all()


@pytest.fixture
def noisy_jpeg_bytes() -> bytes:
    a = np.random.default_rng(0).integers(0, 255, (128, 96, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_truncated_file_is_rejected_by_default_and_partly_kept_on_request(
    tmp_path, noisy_jpeg_bytes
):
    path = tmp_path / "cut.jpg"
    path.write_bytes(noisy_jpeg_bytes[: len(noisy_jpeg_bytes) * 6 // 10])
    with pytest.raises(ImageError) as err:
        images.decode(path)
    assert err.value.reason == "truncated" and err.value.path == path
    assert str(path) in str(err.value)
    d = images.decode(path, accept_truncated=True)
    arr = np.asarray(d.image)
    assert d.truncated and arr.shape == (128, 96, 3)
    assert arr[-8:].std() < 1.0  # the lost rows come back flat
    assert arr[:8].std() > 20  # the decoded rows keep their noise


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "truncated"),
        (b"not an image at all", "not_an_image"),
        (None, "missing"),
    ],
)
def test_broken_files_raise_image_error_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageError) as err:
        images.read_rgb(path)
    assert err.value.reason == reason and err.value.reason in images.REASONS
    assert str(path) in str(err.value)


def test_header_only_and_damaged_jpegs(tmp_path, noisy_jpeg_bytes):
    (tmp_path / "hdr.jpg").write_bytes(noisy_jpeg_bytes[:400])
    damaged = bytearray(noisy_jpeg_bytes)
    damaged[600:800] = bytes(200)
    (tmp_path / "mid.jpg").write_bytes(bytes(damaged))
    with pytest.raises(ImageError, match="hdr.jpg") as err:
        images.decode(tmp_path / "hdr.jpg", accept_truncated=True)  # nothing decodable
    assert err.value.reason == "truncated"
    with pytest.raises(ImageError) as err:
        images.decode(tmp_path / "mid.jpg")
    assert err.value.reason == "corrupt"
    with pytest.raises(ImageError) as err:
        images.decode(tmp_path)  # a folder
    assert err.value.reason == "unreadable"


def test_oversized_image_is_refused(tmp_path, monkeypatch):
    Image.new("RGB", (64, 64)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 pixels > 2 * 1000
    with pytest.raises(ImageError) as err:
        images.decode(tmp_path / "big.png")
    assert err.value.reason == "too_large"


def test_unknown_reason_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown image error reason"):
        ImageError("x.jpg", "sad")


def test_image_error_survives_pickling_for_worker_processes():
    err = pickle.loads(pickle.dumps(ImageError("a/b.jpg", "corrupt", "bad huffman code")))
    assert (err.path, err.reason, err.detail) == (Path("a/b.jpg"), "corrupt", "bad huffman code")
    assert str(err) == "a/b.jpg: corrupt (bad huffman code)"


@pytest.mark.skipif(not REAL.is_dir(), reason="real example images not on this machine")
def test_real_examples():
    base = images.read_array(REAL / "african_elephants.jpg").astype(int)
    assert base.shape == (1536, 2048, 3)
    for name, mode in (("african_elephants_bw.jpg", "L"), ("african_elephants_cmyk.jpg", "CMYK")):
        d = images.decode(REAL / name)
        assert d.source_mode == mode and np.asarray(d.image).shape == base.shape
    d = images.decode(REAL / "african_elephants_with_exif_orientation.jpg")
    assert d.orientation == 6
    assert np.abs(np.asarray(d.image).astype(int) - base).mean() < 5  # upright like the original
    with pytest.raises(ImageError) as err:
        images.decode(REAL / "african_elephants_truncated_file.jpg")
    assert err.value.reason == "truncated"
