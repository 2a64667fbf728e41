"""Probing, one-pass frames, gamma and JPEG encoding against the ffmpeg binary itself."""

import numpy as np
import pytest
from helpers.video_cli import cli_frames, encode

from lib.video import (
    VideoError,
    decode_jpeg,
    frames_at_1fps,
    gamma_table,
    is_white,
    probe,
    white_share,
)


def _raw(path, frames, fps, *options):
    """Encode RGB frames through a raw pipe file (kept beside the video)."""
    h, w = frames.shape[1:3]
    raw = path.with_suffix(".rgb")
    raw.write_bytes(frames.tobytes())
    return encode(path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
                  "-i", str(raw), *options, "-pix_fmt", "yuv420p")  # fmt: skip


@pytest.fixture(scope="module")
def counting_video(tmp_path_factory):
    """7 s at 5 fps; second k is painted with gray level 30*k so frames are identifiable."""
    fps, secs = 5, 7
    frames = np.zeros((fps * secs, 64, 96, 3), np.uint8)
    for i in range(fps * secs):
        frames[i] = 30 * (i // fps)
    return _raw(tmp_path_factory.mktemp("vid") / "count.mp4", frames, fps, "-c:v", "libx264")


@pytest.fixture(scope="module")
def overexposed(tmp_path_factory):
    """Bright noisy scenes (most values near white) in H.264 (MP4) and MPEG-4 part 2 (AVI)."""
    rng = np.random.default_rng(7)
    frames = np.clip(rng.normal(250, 10, (30, 72, 128, 3)), 0, 255).astype(np.uint8)
    frames[:, 20:40, 30:90] = rng.integers(0, 256, (30, 20, 60, 3), dtype=np.uint8)
    folder = tmp_path_factory.mktemp("bright")
    return [
        _raw(folder / "bright.mp4", frames, 10, "-c:v", "libx264"),
        _raw(folder / "bright.avi", frames, 10, "-c:v", "mpeg4", "-q:v", "3"),
    ]


def test_probe_reads_size_rate_duration_and_codec(counting_video):
    info = probe(counting_video)
    assert (info.width, info.height, info.codec, info.rotation) == (96, 64, "h264", 0)
    assert info.fps == pytest.approx(5)
    assert info.duration == pytest.approx(7, abs=0.1)
    assert "mp4" in info.container


def test_frame_k_is_second_k(counting_video):
    frames = frames_at_1fps(counting_video, 100)
    assert len(frames) == 7
    levels = [decode_jpeg(f).mean() for f in frames]
    assert levels == pytest.approx([30 * k for k in range(7)], abs=3)


def test_decoding_stops_at_the_requested_count(counting_video):
    assert len(frames_at_1fps(counting_video, 3)) == 3
    assert frames_at_1fps(counting_video, 0) == []


def test_jpegs_equal_the_ffmpeg_binarys(counting_video):
    """Same frames, same mjpeg encoder and quality: the same bytes but the version comment."""
    assert frames_at_1fps(counting_video, 100) == cli_frames(counting_video)


def test_gamma_table_is_ffmpegs_eq_formula():
    table = gamma_table().astype(int)
    expected = [min(255, int(256 * (i / 255) ** 10)) for i in range(256)]
    assert np.abs(table - expected).max() <= 1  # the float formula; the binary decides below
    assert table[0] == 0 and table[255] == 255 and table[128] == 0  # 256 * 0.5**10 < 1


def test_gamma_frames_equal_ffmpegs_eq_filter_pixel_for_pixel(overexposed):
    for path in overexposed:
        ours = frames_at_1fps(path, 100, gamma=True)
        theirs = cli_frames(path, gamma=True)
        assert len(ours) == len(theirs) == 3
        for a, b in zip(ours, theirs, strict=True):
            assert np.array_equal(decode_jpeg(a), decode_jpeg(b)), path.name
            assert a == b
        plain = decode_jpeg(frames_at_1fps(path, 1)[0])
        assert white_share(plain) > 0.2 > white_share(decode_jpeg(ours[0]))


def test_rotated_video_is_turned_upright_as_ffmpeg_does(counting_video, tmp_path):
    rotated = encode(tmp_path / "rot.mp4", "-display_rotation", "90", "-i", str(counting_video),
                     "-c", "copy")  # fmt: skip
    assert probe(rotated).rotation == 90
    frames = frames_at_1fps(rotated, 100)
    assert decode_jpeg(frames[0]).shape == (96, 64, 3)
    assert frames == cli_frames(rotated)


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
    [(None, "no such file"), (b"", "empty"), (b"this is not a video\n" * 10, "Invalid data")],
)
def test_bad_files_raise_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad video.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as err:
        probe(path)
    assert str(path) in str(err.value)
    with pytest.raises(VideoError, match=message):
        frames_at_1fps(path, 5)


def test_a_truncated_file_keeps_the_seconds_before_the_cut(tmp_path):
    """Cut inside the frame data (the index survives: moov first), as a camera's dying card."""
    whole = encode(tmp_path / "fast.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=7",
                   "-c:v", "libx264", "-movflags", "+faststart")  # fmt: skip
    raw = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    frames = frames_at_1fps(cut, 100)
    assert 2 <= len(frames) < 7
    assert frames == frames_at_1fps(whole, 100)[: len(frames)]


def test_a_decode_past_its_time_limit_is_an_error(counting_video):
    with pytest.raises(VideoError, match="time limit"):
        frames_at_1fps(counting_video, 100, timeout=0)
