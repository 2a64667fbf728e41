"""The container index (no ffmpeg) agrees with ffmpeg's own, and steps aside when unsure."""

import subprocess

import pytest

from lib.chimpact import schema
from lib.video import (
    ffmpeg_exe,
    frames_at_1fps,
    frames_at_seconds,
    index_video,
    plan_spans,
    video_index,
)
from lib.video_index import read_index


def _ffmpeg(*args):
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def _same(a, b):
    assert a is not None and b is not None
    assert (a.width, a.height, a.codec, a.frames) == (b.width, b.height, b.codec, b.frames)
    assert a.keyframes == pytest.approx(b.keyframes, abs=1e-6)
    assert (a.start, a.end, a.max_gap) == pytest.approx((b.start, b.end, b.max_gap), abs=1e-6)
    assert a.fps == pytest.approx(b.fps, rel=1e-3)


def test_demo_videos_index_alike(tiny_chimpact):
    """H.264 MP4 with AAC audio (edit lists on both tracks) and MPEG-4 AVI with PCM audio."""
    data = schema.load(tiny_chimpact)
    seen = set()
    for split in schema.SPLITS:
        for video_id in data.rows(split)["video_id"].unique():
            for source in schema.SOURCES:
                path = data.video_path(split, source, video_id)
                _same(read_index(path), index_video(path))
                seen.add(path.suffix)
    assert ".mp4" in seen


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    src = ["-f", "lavfi", "-i", "testsrc2=s=96x64:r=25:d=9"]
    tone = ["-f", "lavfi", "-i", "sine=d=9"]
    h264 = ["-c:v", "libx264", "-g", "20", "-pix_fmt", "yuv420p"]
    made = {
        "faststart": [*src, *tone, *h264, "-movflags", "+faststart"],
        "fragmented": [*src, *h264, "-movflags", "frag_keyframe+empty_moov"],
        # the video starts 1.2 s after the audio: one-pass numbering starts at second 1
        "late": ["-itsoffset", "1.2", *src, *tone, "-map", "0:v", "-map", "1:a", *h264],
        "avi-dropped": [
            *src,
            "-vf",
            "select='not(between(n,30,31))'",
            "-fps_mode",
            "passthrough",
            "-c:v",
            "mpeg4",
            "-g",
            "12",
        ],  # fmt: skip
    }
    out = {}
    for name, args in made.items():
        out[name] = folder / f"{name}.{'avi' if 'avi' in name else 'mp4'}"
        _ffmpeg(*args, out[name])
    return out


def test_mpeg4_avi_with_audio_indexes_alike(tmp_path):
    path = tmp_path / "a.avi"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=15:d=7", "-f", "lavfi", "-i", "sine=d=7",
            "-c:v", "mpeg4", "-vtag", "XVID", "-c:a", "pcm_s16le", path)  # fmt: skip
    _same(read_index(path), index_video(path))


def test_moov_at_the_front_is_read(clips):
    _same(read_index(clips["faststart"]), index_video(clips["faststart"]))


def test_a_fragmented_mp4_is_left_to_ffmpeg(clips):
    assert read_index(clips["fragmented"]) is None
    index = video_index(clips["fragmented"])
    assert index.frames == 225 and index.keyframes[0] == 0


def test_a_late_first_frame_is_left_to_ffmpeg_and_decoded_in_one_pass(clips):
    path = clips["late"]
    assert read_index(path) is None  # cannot vouch that one-pass numbering starts at 0
    index = video_index(path)
    assert index.start == pytest.approx(1.2, abs=0.05)
    needed = [2, 5, 6]
    assert plan_spans(needed, index).one_pass
    reference = frames_at_1fps(path, max(needed) + 1)
    got = frames_at_seconds(path, needed)
    assert got.last == len(reference) - 1
    assert all(got.frames[min(k, got.last)] == reference[min(k, got.last)] for k in needed)


def test_avi_dropped_frames_keep_their_time(clips):
    """Frames missing from a stream become empty AVI chunks (cameras drop frames that way):
    time moves on but there is no frame, as ffmpeg sees it."""
    path = clips["avi-dropped"]
    ours, theirs = read_index(path), index_video(path)
    _same(ours, theirs)
    assert ours.frames == 225 - 2 and ours.max_gap == pytest.approx(3 / 25)
    needed = [0, 1, 2, 5]
    reference = frames_at_1fps(path, 6)
    got = frames_at_seconds(path, needed, seek_cost=0, one_pass_share=9)
    assert got.plan.seeks and not got.fallback
    assert all(got.frames[k] == reference[k] for k in needed)


def test_not_a_video_gives_none(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_bytes(b"\x00\x00\x00\x08ftyp" + b"junk" * 10)
    assert read_index(path) is None
    path.write_bytes(b"RIFF\x04\x00\x00\x00AVI ")
    assert read_index(path) is None
