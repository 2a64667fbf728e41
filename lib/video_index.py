"""A video's timeline from its demuxed packets, and the plan of which stretches of it to decode.

The timeline (`VideoIndex`) is read from the packets PyAV demuxes - any container FFmpeg reads,
no decoding: frame times, keyframes, size and rate. `plan_spans` uses it to decode only the runs
of seconds a caller needs. A run starting at second `first` is entered at the last keyframe K
that the one-pass `fps=1` rule puts at or before `first` (K rounded to the nearest second, halves
away from zero, is <= first): every frame from K on is decoded, so the frame the rule keeps for
`first` - the last one whose rounded time is <= first - is among them. `lib.video` checks every
decoded second and decodes in one pass when anything differs from what the index promised, so
the index guides speed and never decides a frame.

Cost model: decoding costs in proportion to the seconds of video decoded (the lead-in from K
included); a seek adds `seek_cost` seconds' worth (SEEK_CPU_S of CPU for the seek, the decoder
flush and the first packets, expressed in seconds of this video by its size, rate and codec).
Left to right over the runs, the gap to the next run is decoded through when that costs no more
than seeking past it; a plan costing `one_pass_share` of one pass or more is done in one pass.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

# Measured with `python -m bench.seek_cost` (PyAV, one thread, CPU time, bench/extract.py's
# 1280x720 30 fps videos; docs/benchmarks.md). Codecs not measured take the nearest measured one.
# CPU seconds of a seek, the decoder flush and the first frame after it (a keyframe):
SEEK_CPU_S = {"h264": 0.031, "hevc": 0.031, "mpeg4": 0.0035, "msmpeg4v3": 0.0035, "mjpeg": 0.0}
# CPU nanoseconds to decode one pixel of one frame:
DECODE_NS_PER_PIXEL = {"h264": 4.8, "hevc": 4.8, "mpeg4": 1.3, "msmpeg4v3": 1.3, "mjpeg": 3.0}
ONE_PASS_SHARE = 0.95  # plans costing at least this share of one pass use one pass


def round_half_away(x: float | Fraction) -> int:
    """ffmpeg's AV_ROUND_NEAR_INF, with which the fps filter puts frames on whole seconds."""
    return int(math.floor(abs(x) + Fraction(1, 2))) * (1 if x >= 0 else -1)


@dataclass(frozen=True)
class Clock:
    """Stream timestamps to seconds since the file's start, exactly as the ffmpeg command line
    shifts them (by the container's start time, rescaled to the stream's time base)."""

    time_base: Fraction
    offset: int  # in time_base units

    @classmethod
    def of(cls, container, stream) -> Clock:
        tb = Fraction(stream.time_base or Fraction(1, 90000))
        start = Fraction(container.start_time or 0, 1_000_000)
        return cls(tb, round_half_away(start / tb))

    def seconds(self, ts: int) -> Fraction:
        return (ts - self.offset) * self.time_base

    def second(self, ts: int) -> int:
        """The whole second the fps=1 filter files a frame with this timestamp under."""
        return round_half_away(self.seconds(ts))


@dataclass(frozen=True)
class VideoIndex:
    """The video stream's timeline; times are seconds since the file's start."""

    path: str
    width: int
    height: int
    fps: float
    start: float  # first frame
    end: float  # end of the last frame (its time plus its duration)
    keyframes: tuple[float, ...]
    key_stamps: tuple[int, ...]  # the same keyframes as stream timestamps (seek targets)
    max_gap: float  # longest step between consecutive frames in display order
    frames: int
    codec: str = ""
    # Stream timestamps of the frames the fps=1 rule can keep - the last of each second - and
    # of the first: the decoder may drop every other frame that no frame refers to. Empty for
    # streams without reordered (B-) frames.
    kept_stamps: frozenset[int] = frozenset()

    @property
    def decode_cpu_per_second(self) -> float:
        """Estimated CPU seconds to decode one second of this video (one thread)."""
        per_pixel = DECODE_NS_PER_PIXEL.get(self.codec, DECODE_NS_PER_PIXEL["h264"]) * 1e-9
        fps = self.fps if math.isfinite(self.fps) and self.fps > 0 else 30.0
        return per_pixel * self.width * self.height * fps

    @property
    def seek_cost(self) -> float:
        """What one extra seek costs, in seconds of decoding this video (see SEEK_CPU_S)."""
        seek = SEEK_CPU_S.get(self.codec, SEEK_CPU_S["h264"])
        return min(max(seek / max(self.decode_cpu_per_second, 1e-9), 0.1), 60.0)

    @property
    def outputs(self) -> int:
        """Frames the fps=1 filter makes of the whole video (seconds 0..outputs-1)."""
        return max(0, round_half_away(self.end) - round_half_away(self.start))

    def entry(self, first: int) -> int | None:
        """Position of the keyframe a run starting at second `first` is entered at, if any."""
        i = bisect.bisect_left(self.keyframes, first + 0.5)
        while i > 0 and round_half_away(self.keyframes[i - 1]) > first:
            i -= 1
        return i - 1 if i else None


def read_index(container, stream, path: str) -> VideoIndex:
    """The index of `stream` from its packets (demuxing only); ValueError if it has none."""
    clock = Clock.of(container, stream)
    times: list[float] = []
    stamps: list[int] = []
    keys: list[tuple[float, int]] = []
    end = -math.inf
    step = 1 / float(stream.average_rate or stream.guessed_rate or 30)
    for packet in container.demux(stream):
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or packet.is_discard:
            continue
        t = float(clock.seconds(ts))
        times.append(t)
        stamps.append(ts)
        end = max(end, t + (float(packet.duration * clock.time_base) if packet.duration else step))
        if packet.is_keyframe:
            keys.append((t, ts))
    if not times:
        raise ValueError("the video stream has no timed packets")
    times.sort()
    keys.sort()
    ctx = stream.codec_context
    return VideoIndex(
        path=str(path), width=ctx.width, height=ctx.height, fps=1 / step,
        start=times[0], end=end, keyframes=tuple(t for t, _ in keys),
        key_stamps=tuple(ts for _, ts in keys),
        max_gap=max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0),
        frames=len(times), codec=stream.codec_context.codec.canonical_name,
        kept_stamps=_last_of_each_second(stamps, clock),
    )  # fmt: skip


def _last_of_each_second(stamps: list[int], clock: Clock) -> frozenset[int]:
    """The first stamp, the last, and each one whose successor is filed under a later second;
    empty when frames are stored in display order (no B-frames: nothing to drop)."""
    if all(a < b for a, b in zip(stamps, stamps[1:], strict=False)):
        return frozenset()
    stamps = sorted(stamps)
    seconds = [clock.second(ts) for ts in stamps]
    last = {ts for ts, s, after in zip(stamps, seconds, seconds[1:], strict=False) if after > s}
    return frozenset(last | {stamps[0], stamps[-1]})


@dataclass(frozen=True)
class Segment:
    """One decoding run: enter at keyframe `key` (None: from the start), keep first..last."""

    key: int | None  # position in VideoIndex.keyframes
    first: int  # first needed second in this run
    last: int  # last needed second in this run
    start: float  # where decoding starts
    stop: float  # where it ends: last + 1, or the end of the video
    open_end: bool = False  # decode to the end (seconds past it are the last second's frame)

    @property
    def decoded(self) -> float:
        return max(0.0, self.stop - self.start)


@dataclass(frozen=True)
class SpanPlan:
    """Which runs of a video to decode, and what that is estimated to cost."""

    needed: tuple[int, ...]  # seconds asked for (some may lie past the end of the video)
    wanted: tuple[int, ...]  # the same, clamped to the last second the index promises
    segments: tuple[Segment, ...]
    one_pass: bool  # a single run from the start, no seek
    decoded_seconds: float  # seconds of video the plan decodes (estimated from the index)
    one_pass_seconds: float  # seconds one pass (from 0 up to the last needed second) decodes
    reason: str = ""  # why one pass was chosen, if it was

    @property
    def seeks(self) -> int:
        return sum(1 for s in self.segments if s.key is not None)


def runs(seconds: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive seconds, as inclusive (first, last) pairs."""
    out: list[tuple[int, int]] = []
    for s in sorted({int(x) for x in seconds}):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def plan_spans(
    needed: Iterable[int],
    index: VideoIndex,
    *,
    seek_cost: float | None = None,
    one_pass_share: float = ONE_PASS_SHARE,
) -> SpanPlan:
    """Decide which runs of needed seconds to decode, by the cost model above.

    `seek_cost` is one seek's price in seconds of decoding this video (None: the index's
    estimate); `one_pass_share` the share of one pass at or above which one pass is used anyway
    (above 1.0: only when seeking saves nothing; 0.0: always). Seconds past the end of the video
    are planned as its last second, which is what the one-pass method gives for them.
    """
    seek_cost = index.seek_cost if seek_cost is None else seek_cost
    needed_t = tuple(sorted({int(s) for s in needed}))
    if not needed_t or needed_t[0] < 0:
        raise ValueError(f"needed seconds must be non-negative and not empty, got {needed_t[:5]}")
    last_out = max(index.outputs - 1, 0)
    wanted = tuple(sorted({min(s, last_out) for s in needed_t}))
    origin = min(index.start, 0.0)

    def segment(key: int | None, first: int, last: int) -> Segment:
        start = origin if key is None else index.keyframes[key]
        open_end = last >= last_out
        stop = index.end if open_end else min(last + 1.0, index.end)
        return Segment(key, first, last, start, stop, open_end)

    whole = segment(None, wanted[0], wanted[-1])

    def one_pass(reason: str) -> SpanPlan:
        return SpanPlan(needed_t, wanted, (whole,), True, whole.decoded, whole.decoded, reason)

    if round_half_away(index.start) != 0:
        return one_pass("the first frame is not at second 0")
    chosen: list[list] = []  # [key, first, last]
    for first, last in runs(wanted):
        key = index.entry(first)
        lead = first - (index.keyframes[key] if key is not None else origin)
        reached = chosen[-1][2] + 1.0 if chosen else origin  # decoding gets this far anyway
        if (
            key is not None
            and index.keyframes[key] > origin
            and (first - reached > seek_cost + lead)
        ):
            chosen.append([key, first, last])
        elif chosen:
            chosen[-1][2] = last
        else:
            chosen.append([None, first, last])
    plan = tuple(segment(*c) for c in chosen)
    decoded = sum(s.decoded for s in plan)
    cost = decoded + seek_cost * sum(1 for s in plan if s.key is not None)
    if cost >= one_pass_share * whole.decoded:
        return one_pass(f"spans would cost {cost:.1f} of {whole.decoded:.1f} s")
    return SpanPlan(needed_t, wanted, plan, False, decoded, whole.decoded)
