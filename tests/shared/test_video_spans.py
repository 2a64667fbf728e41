"""Span seeking returns exactly the frames of the one-pass method, and plans sensibly.

The videos are made here with the bundled ffmpeg: H.264 in MP4 and MPEG-4 part 2 in AVI, both
with B-frames, at 30 fps and 1 fps, with GOP lengths that put keyframes between whole seconds,
and durations that end between seconds, so seeks land in the middle of GOPs and the last frame
is decided by the fps filter's end-of-stream rounding. The reference is the ffmpeg binary's own
one-pass `fps=1` output (tests/video_cli.py).
"""

import random
import subprocess
from dataclasses import replace

import numpy as np
import pytest
from helpers.video_cli import cli_frames

from lib.video import (
    decode_jpeg,
    ffmpeg_exe,
    frames_at_1fps,
    frames_at_seconds,
    index_video,
    plan_spans,
    runs,
)
from lib.video_index import VideoIndex

NO_SCENECUT = ["-sc_threshold", "1000000000"]  # keyframes only where the GOP says
X264_NO_SCENECUT = ["-x264-params", "scenecut=0"]
# name: (container, codec options, fps, seconds)
VIDEOS = {
    "h264-30fps": (
        "mp4",
        ["-c:v", "libx264", "-g", "37", "-keyint_min", "37", "-bf", "3", *X264_NO_SCENECUT],
        30,
        24.4,
    ),
    "mpeg4-30fps": (
        "avi",
        ["-c:v", "mpeg4", "-g", "23", "-bf", "2", "-q:v", "5", *NO_SCENECUT, "-vtag", "XVID"],
        30,
        19.55,
    ),
    "h264-1fps": ("mp4", ["-c:v", "libx264", "-g", "4", "-bf", "2"], 1, 30),
    "mpeg4-1fps": ("avi", ["-c:v", "mpeg4", "-g", "5", "-q:v", "5", *NO_SCENECUT], 1, 27),
}


def _frames(fps: int, seconds: float, seed: int) -> np.ndarray:
    """Distinct frames: a noise texture sliding one pixel per frame, plus a moving bar."""
    rng = np.random.default_rng(seed)
    n = int(round(fps * seconds))
    h, w = 72, 128
    texture = rng.integers(0, 256, (h, 2 * w, 3), dtype=np.uint8)
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        x = i % w
        out[i] = texture[:, x : x + w]
        out[i, :, (3 * i) % w] = 255
    return out


@pytest.fixture(scope="module", params=sorted(VIDEOS))
def video(request, tmp_path_factory):
    """(path, one-pass reference frames) for each kind of video."""
    name = request.param
    container, options, fps, seconds = VIDEOS[name]
    frames = _frames(fps, seconds, seed=len(name))
    path = tmp_path_factory.mktemp("spans") / f"{name}.{container}"
    h, w = frames.shape[1:3]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", *options, "-pix_fmt", "yuv420p",
         "-threads", "1", str(path)],
        input=frames.tobytes(), check=True,
    )  # fmt: skip
    reference = cli_frames(path)
    assert frames_at_1fps(path, 10_000) == reference  # the in-process one pass is the binary's
    return path, reference


def _needed_sets(outputs: int, seed: int, count: int = 6) -> list[list[int]]:
    """Random label-like second sets: a few runs of seconds, some past the end of the video."""
    rng = random.Random(seed)
    sets = []
    for _ in range(count):
        seconds: set[int] = set()
        for _ in range(rng.randint(1, 4)):
            start = rng.randrange(0, outputs + 3)
            seconds.update(range(start, start + rng.randint(1, 6), rng.choice([1, 2])))
        sets.append(sorted(seconds))
    return sets


def _check(result, needed, reference):
    last = min(max(needed), len(reference) - 1)
    assert result.fallback == ""  # the span decode itself delivered, no rescue by one pass
    assert result.last == last
    assert set(result.frames) == {min(k, last) for k in needed}
    for k in needed:
        assert result.frames[min(k, last)] == reference[min(k, last)], f"second {k}"


def test_spans_give_the_one_pass_frames(video):
    path, reference = video
    index = index_video(path)
    assert index.outputs == len(reference)
    seeks = 0
    for needed in _needed_sets(index.outputs, seed=len(path.name)):
        # seek_cost 0 and a share above 1 force seeking wherever it can save anything
        forced = frames_at_seconds(path, needed, index=index, seek_cost=0, one_pass_share=9)
        _check(forced, needed, reference)
        seeks += forced.plan.seeks
        _check(frames_at_seconds(path, needed, index=index), needed, reference)
    assert seeks >= 3  # the sets really exercised seeking, not only decodes from the start


def test_frames_nothing_refers_to_are_not_decoded(video):
    """At 30 fps the decoder drops the B-frames fps=1 cannot keep; at 1 fps every frame is kept."""
    path, reference = video
    needed = [*range(0, 9), 14, 15, 200]
    dropping = frames_at_seconds(path, needed, seek_cost=0, one_pass_share=9)
    decoding_all = frames_at_seconds(path, needed, seek_cost=0, one_pass_share=9, drop_unkept=False)
    _check(dropping, needed, reference)
    _check(decoding_all, needed, reference)
    if "30fps" in path.name:
        assert dropping.frames_decoded < 0.9 * decoding_all.frames_decoded
    else:
        assert dropping.frames_decoded == decoding_all.frames_decoded


def test_one_pass_mode_gives_the_one_pass_frames(video):
    path, reference = video
    needed = [0, 2, 3, 7, 11, 500]
    result = frames_at_seconds(path, needed, one_pass_share=0)
    assert result.plan.one_pass and result.plan.seeks == 0
    _check(result, needed, reference)


def test_gamma_and_scaling_match_too(video):
    path, _ = video
    needed = [1, 5, 6, 7, 15, 16]
    reference = frames_at_1fps(path, max(needed) + 1, gamma=True, size=(64, 36))
    binary = cli_frames(path, gamma=True, size=(64, 36))[: len(reference)]
    for ours, theirs in zip(reference, binary, strict=True):  # swscale's bicubic either way
        assert np.abs(decode_jpeg(ours).astype(int) - decode_jpeg(theirs)).max() <= 2
    result = frames_at_seconds(
        path, needed, gamma=True, size=(64, 36), seek_cost=0, one_pass_share=9
    )
    assert result.plan.seeks >= 1
    _check(result, needed, reference)
    assert decode_jpeg(result.frames[5]).shape == (36, 64, 3)


def test_index_finds_keyframes_and_the_end(video):
    path, reference = video
    index = index_video(path)
    container, options, fps, seconds = VIDEOS[path.stem]
    gop = int(options[options.index("-g") + 1])
    assert index.frames == int(round(fps * seconds))
    keys = np.array(index.keyframes)
    # the first frame is a keyframe (MPEG-4 in AVI with B-frames shows it one tick late)
    assert keys[0] == index.start <= 1 / fps + 1e-9 and len(keys) >= index.frames / gop
    assert np.diff(keys).max() <= (gop + 1) / fps + 1e-6  # (+1: that late first frame)
    assert np.diff(keys).min() > 1 / fps  # mid-GOP frames are not taken for keyframes
    assert index.end == pytest.approx(index.start + index.frames / fps, abs=1e-6)


# ---------------------------------------------------------------- planning (no ffmpeg)


def _index(seconds: float = 60, gop: float = 1.0, start: float = 0.0, fps: float = 30):
    keys = tuple(float(t) for t in np.arange(start, seconds, gop))
    stamps = tuple(int(t * 90000) for t in keys)
    return VideoIndex(
        "x.mp4", 1280, 720, fps, start, seconds, keys, stamps, 1 / fps, int(seconds * fps)
    )


def test_runs_merge_consecutive_seconds():
    assert runs([5, 3, 4, 9, 11, 10, 20]) == [(3, 5), (9, 11), (20, 20)]
    assert runs([]) == []


def test_close_runs_are_decoded_through_and_distant_ones_seeked():
    index = _index()
    plan = plan_spans([10, 12, 14, 40, 41], index, seek_cost=1.0, one_pass_share=1.0)
    assert [(s.first, s.last) for s in plan.segments] == [(10, 14), (40, 41)]
    first, second = plan.segments
    assert first.key == 10  # enters at the keyframe at 10 s
    assert first.start == 10 and first.stop == 15 and not first.open_end
    assert second.start == 40 and second.stop == 42
    assert plan.decoded_seconds == pytest.approx(7)
    assert plan.one_pass_seconds == pytest.approx(42)
    assert not plan.one_pass


def test_a_gap_shorter_than_a_seek_is_decoded_through():
    index = _index()
    # the 1 s gap before 12 costs no more than a seek there; the 5 s gap before 18 does
    plan = plan_spans([10, 12, 18], index, seek_cost=1.0, one_pass_share=1.0)
    assert [(s.first, s.last) for s in plan.segments] == [(10, 12), (18, 18)]
    # free seeks split every gap; dear ones split none
    plan = plan_spans([10, 12, 18], index, seek_cost=0.0, one_pass_share=1.0)
    assert [(s.first, s.last) for s in plan.segments] == [(10, 10), (12, 12), (18, 18)]
    plan = plan_spans([10, 12, 18], index, seek_cost=9.0, one_pass_share=1.0)
    assert [(s.first, s.last) for s in plan.segments] == [(10, 18)]


def test_long_gops_make_seeking_dearer():
    short = plan_spans([20, 50], _index(gop=1.0), one_pass_share=1.0)
    long = plan_spans([20, 50], _index(gop=25.0), one_pass_share=1.0)
    assert short.seeks == 2 and short.decoded_seconds == pytest.approx(2)
    # keyframes at 0, 25, 50: second 20 is reached from 0 without a seek, 50 by one
    assert long.seeks == 1 and long.segments[0].key is None and long.segments[1].start == 50
    assert long.decoded_seconds == pytest.approx(22)


def test_near_the_start_no_seek_is_made():
    plan = plan_spans([0, 1, 2], _index(), one_pass_share=1.0)
    assert plan.segments[0].key is None and plan.seeks == 0


def test_plans_covering_most_of_the_video_fall_back_to_one_pass():
    index = _index()
    # seeking past 50..51 would save 2 s for a cheap seek: 3% of the pass, under the threshold
    needed = list(range(0, 50)) + [52]
    assert not plan_spans(needed, index, one_pass_share=1.0).one_pass
    plan = plan_spans(needed, index)
    assert plan.one_pass and "cost" in plan.reason
    assert len(plan.segments) == 1 and plan.segments[0].key is None
    assert plan.one_pass_seconds == pytest.approx(53)
    # the threshold is a parameter: 0 always takes one pass, a large one never on cost grounds
    assert plan_spans([30], index, one_pass_share=0).one_pass
    assert not plan_spans(needed, index, seek_cost=0, one_pass_share=5).one_pass


def test_seconds_past_the_end_are_planned_as_the_last_and_read_to_the_end():
    index = _index(seconds=20.4)  # fps=1 gives seconds 0..19 (20.4 rounds to 20)
    assert index.outputs == 20
    plan = plan_spans([5, 30, 31], index, one_pass_share=1.0)
    assert plan.wanted == (5, 19)
    assert plan.segments[-1].open_end and plan.segments[-1].stop == pytest.approx(20.4)


def test_a_late_first_frame_is_decoded_in_one_pass():
    plan = plan_spans([30], _index(start=0.6), one_pass_share=1.0)
    assert plan.one_pass and "second 0" in plan.reason


def test_bad_needed_seconds_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        plan_spans([], _index())
    with pytest.raises(ValueError, match="non-negative"):
        plan_spans([-1, 3], _index())


def test_a_run_is_entered_at_the_last_keyframe_rounding_to_its_first_second():
    index = _index(gop=0.75)  # keyframes at ... 9.75, 10.5, 11.25 ... 30.0
    plan = plan_spans([10, 30], index, seek_cost=0, one_pass_share=9)
    # 10.5 rounds (halves away from zero) to second 11, so second 10 is entered at 9.75
    assert [index.keyframes[s.key] for s in plan.segments] == [9.75, 30.0]


def test_seek_cost_follows_the_codecs_decoding_price():
    h264, mpeg4 = _index(), _index()
    object.__setattr__(mpeg4, "codec", "mpeg4")
    object.__setattr__(h264, "codec", "h264")
    # measured (bench.seek_cost): an H.264 seek and its keyframe cost ~0.23 s of its video,
    # an MPEG-4 part 2 one ~0.1 s
    assert h264.seek_cost > mpeg4.seek_cost
    assert 0.15 < h264.seek_cost < 0.4 and mpeg4.seek_cost == pytest.approx(0.1, abs=0.02)
    small = replace(h264, width=320, height=180)  # 16x fewer pixels: the seek weighs 16x more
    assert small.seek_cost == pytest.approx(16 * h264.seek_cost)
