"""Mean and background images, checked on a tiny hand-computed example."""

import numpy as np
import pytest
from PIL import Image

from lib import images
from lib.serengeti import background


def test_hand_checked_three_image_example():
    # 1x2 pixel, single-channel-like values repeated over 3 channels
    a = np.array([[10, 100]], np.uint8)
    b = np.array([[10, 200]], np.uint8)
    c = np.array([[10, 255]], np.uint8)
    frames = [np.repeat(f[..., None], 3, axis=2) for f in (a, b, c)]
    mean, bg = background.mean_and_background(frames)
    # pixel 0: no change -> mean 10, background 0
    # pixel 1: mean (100+200+255)/3 = 185; |100-185|+|200-185|+|255-185| = 85+15+70 = 170
    assert mean.dtype == np.uint8 and bg.dtype == np.uint8 and mean.shape == (1, 2, 3)
    assert mean[0, :, 0].tolist() == [10, 185]
    assert bg[0, :, 0].tolist() == [0, 170]


def test_background_is_clipped_not_wrapped():
    # mean 127.5 -> 128; sum |x - 127.5| = 127.5 * 2 = 255; with three frames it exceeds 255
    frames = [np.zeros((1, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8)]
    mean, bg = background.mean_and_background(frames)
    assert mean[0, 0, 0] == 128 and bg[0, 0, 0] == 255
    frames.append(np.zeros((1, 1, 3), np.uint8))  # mean 85: 85 + 170 + 85 = 340 -> 255
    _, bg = background.mean_and_background(frames)
    assert bg[0, 0, 0] == 255  # uint8 arithmetic would have wrapped to 84


def test_single_image_sequence_gives_the_image_and_a_black_background():
    frame = np.random.default_rng(0).integers(0, 255, (4, 5, 3), dtype=np.uint8)
    mean, bg = background.mean_and_background([frame])
    assert np.array_equal(mean, frame)
    assert not bg.any()


def test_errors():
    with pytest.raises(ValueError, match="at least one image"):
        background.mean_and_background([])
    with pytest.raises(ValueError, match="share a shape"):
        background.mean_and_background([np.zeros((2, 2, 3)), np.zeros((2, 3, 3))])


def test_first_images_are_the_first_three_by_file_name():
    names = ["PICT0004.JPG", "PICT0002.JPG", "PICT0001.JPG", "PICT0003.JPG"]
    assert background.first_images(names) == ["PICT0001.JPG", "PICT0002.JPG", "PICT0003.JPG"]
    assert background.first_images(names, 1) == ["PICT0001.JPG"]


def test_sequence_images_skips_broken_files_and_reports_them(tmp_path):
    still = np.full((6, 8, 3), 40, np.uint8)
    moved = still.copy()
    moved[2:4, 2:4] = 240  # an "animal" in the second shot
    Image.fromarray(still).save(tmp_path / "a1.png")
    (tmp_path / "a2.png").write_bytes(b"broken")
    Image.fromarray(moved).save(tmp_path / "a3.png")
    Image.fromarray(moved).save(tmp_path / "a4.png")  # fourth image: never used

    def load(name):
        return images.read_array(tmp_path / name)

    out = background.sequence_images(["a4.png", "a3.png", "a2.png", "a1.png"], load)
    assert out.used == ["a1.png", "a3.png"]
    assert out.failed == {"a2.png": "not_an_image"}
    assert out.background is not None and out.mean is not None
    assert out.background[2:4, 2:4].min() == 200  # |40-140| + |240-140|
    assert out.background[0, 0].max() == 0  # unchanged pixels stay black

    none = background.sequence_images(["a2.png"], load)
    assert (
        none.mean is None and none.background is None and none.failed == {"a2.png": "not_an_image"}
    )


def test_loader_reads_through_the_resize_flow(tmp_path):
    (tmp_path / "S1").mkdir()
    Image.new("RGB", (2048, 1536), (90, 90, 90)).save(tmp_path / "S1" / "x.JPG")
    frame = background.loader(tmp_path, (96, 128))("S1/x.JPG")
    assert frame.shape == (96, 128, 3) and frame[0, 0, 0] in range(85, 96)
    assert frame[-1].max() == 0  # the strip is black
    with pytest.raises(ValueError, match="outside"):
        background.loader(tmp_path, (96, 128))("../x.JPG")
