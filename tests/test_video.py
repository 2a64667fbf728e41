import subprocess

import numpy as np
import pytest

from lib.video import (
    VideoError,
    decode_jpeg,
    ffmpeg_exe,
    frames_at_1fps,
    is_white,
    probe,
    split_jpegs,
    white_share,
)


def _encode(path, frames, fps, codec="libx264"):
    h, w = frames.shape[1:3]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
         "-r", str(fps), "-i", "-", "-c:v", codec, "-pix_fmt", "yuv420p", str(path)],
        input=frames.tobytes(), check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def counting_video(tmp_path_factory):
    """7 s at 5 fps; second k is painted with gray level 30*k so frames are identifiable."""
    fps, secs = 5, 7
    frames = np.zeros((fps * secs, 64, 96, 3), np.uint8)
    for i in range(fps * secs):
        frames[i] = 30 * (i // fps)
    path = tmp_path_factory.mktemp("vid") / "count.mp4"
    _encode(path, frames, fps)
    return path


def test_probe_reads_size_rate_and_duration(counting_video):
    info = probe(counting_video)
    assert (info.width, info.height, info.codec) == (96, 64, "h264")
    assert info.fps == pytest.approx(5)
    assert info.duration == pytest.approx(7, abs=0.1)


def test_frame_k_is_second_k(counting_video):
    frames = frames_at_1fps(counting_video, 100)
    assert len(frames) == 7
    levels = [decode_jpeg(f).mean() for f in frames]
    assert levels == pytest.approx([30 * k for k in range(7)], abs=3)


def test_decoding_stops_at_the_requested_count(counting_video):
    assert len(frames_at_1fps(counting_video, 3)) == 3


def test_gamma_darkens(counting_video):
    plain = decode_jpeg(frames_at_1fps(counting_video, 7)[6]).mean()
    dark = decode_jpeg(frames_at_1fps(counting_video, 7, gamma=True)[6]).mean()
    assert dark < plain / 4


def test_split_jpegs_keeps_complete_images_of_a_truncated_stream(counting_video):
    frames = frames_at_1fps(counting_video, 7)
    stream = b"".join(frames)
    assert split_jpegs(stream) == frames
    assert split_jpegs(stream[:-5]) == frames[:-1]
    assert split_jpegs(b"") == []


def test_white_rule_counts_values_over_250():
    frame = np.zeros((10, 10, 3), np.uint8)
    frame[:2] = 251  # 20 % of the values: not more than the threshold
    assert white_share(frame) == pytest.approx(0.2)
    assert not is_white(frame)
    frame[2, 0] = 255
    assert is_white(frame)
    frame[:] = 250  # 250 itself does not count
    assert white_share(frame) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"", "empty"), (b"this is not a video\n" * 10, "no video stream")],
)
def test_bad_files_raise_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad video.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as err:
        probe(path)
    assert str(path) in str(err.value)
    if content:
        with pytest.raises(VideoError, match=str(path)):
            frames_at_1fps(path, 5)
