"""Video probing and frame extraction with the ffmpeg binary from the imageio-ffmpeg wheel.

Frame k of a video is the frame at second k (ffmpeg's `fps=1` filter), as in the write-up.
`frames_at_1fps` decodes from the start up to a given second: the reference. `frames_at_seconds`
returns the same frames (byte for byte) for a set of needed seconds but decodes only the spans
of the video that hold them (see "span seeking" below). Both run one ffmpeg per file that
decodes and JPEG-encodes in C and writes to a pipe: no frame touches the disk before we know it
is needed.
"""

from __future__ import annotations

import bisect
import math
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

# ffmpeg's eq filter with gamma 0.1 maps luma Y to 256*(Y/255)**10: it darkens, pulling the
# detail an overexposed original keeps in its top range back into view (the write-up's fix).
GAMMA_FILTER = "eq=gamma=0.1"
WHITE_VALUE = 250
WHITE_SHARE = 0.2


class VideoError(RuntimeError):
    """A video that cannot be probed or decoded; the message names the file and the cause."""


@cache
def ffmpeg_exe() -> str:
    """Path of the static ffmpeg shipped in the imageio-ffmpeg wheel (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int
    height: int
    fps: float
    duration: float
    codec: str
    container: str


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_INPUT = re.compile(r"Input #0, ([\w,]+), from")


def probe(path: str | Path, timeout: float = 60) -> VideoInfo:
    """Read size, frame rate, duration and codec from ffmpeg's header dump (no ffprobe here)."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    text = proc.stderr.decode("utf-8", "replace")
    stream = _STREAM.search(text)
    if not stream:
        raise VideoError(f"{path}: no video stream found ({_last_line(text)})")
    line = text[stream.start() : text.find("\n", stream.start())]
    fps = _FPS.search(line)
    duration = _DURATION.search(text)
    container = _INPUT.search(text)
    seconds = 0.0
    if duration:
        h, m, s = duration.groups()
        seconds = int(h) * 3600 + int(m) * 60 + float(s)
    return VideoInfo(
        path=str(path),
        width=int(stream.group(2)),
        height=int(stream.group(3)),
        fps=float(fps.group(1)) if fps else float("nan"),
        duration=seconds,
        codec=stream.group(1),
        container=container.group(1) if container else "",
    )


def frames_at_1fps(
    path: str | Path,
    count: int,
    *,
    gamma: bool = False,
    size: tuple[int, int] | None = None,
    quality: int = 2,
    threads: int = 1,
    timeout: float = 600,
) -> list[bytes]:
    """JPEG bytes of frames 0..count-1 at one frame per second (fewer if the video is shorter).

    Decoding stops after `count` output frames, so a video whose labels end early is not
    decoded to its end. `size` is (width, height); `gamma` applies the overexposure fix.
    """
    path = Path(path)
    if count <= 0:
        return []
    path = _checked(path)
    filters = ["fps=1"]
    if gamma:
        filters.append(GAMMA_FILTER)
    if size:
        filters.append(f"scale={int(size[0])}:{int(size[1])}")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error",
        "-threads", str(threads), "-i", str(path),
        "-map", "0:v:0", "-an", "-vf", ",".join(filters), "-frames:v", str(count),
        "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", str(quality), "-threads", str(threads),
        "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise VideoError(f"{path}: ffmpeg did not finish within {timeout:.0f} s") from exc
    frames = split_jpegs(proc.stdout)
    if proc.returncode != 0 and not frames:
        raise VideoError(
            f"{path}: ffmpeg failed: {_last_line(proc.stderr.decode('utf-8', 'replace'))}"
        )
    if not frames:
        raise VideoError(f"{path}: no frames could be decoded")
    return frames


def split_jpegs(stream: bytes) -> list[bytes]:
    """Cut a concatenation of baseline JPEGs (ffmpeg's image2pipe/mjpeg output) into images.

    Walks the marker segments instead of searching for FFD9, which can legally occur inside
    segment payloads; entropy-coded data is scanned for the first real marker after it.
    """
    images: list[bytes] = []
    pos, end = 0, len(stream)
    while pos + 4 <= end:
        if stream[pos : pos + 2] != b"\xff\xd8":
            break  # trailing garbage after the last image (a truncated write): stop cleanly
        start, pos = pos, pos + 2
        while pos + 2 <= end:
            if stream[pos] != 0xFF:
                return images  # corrupt: no marker where one must be
            marker = stream[pos + 1]
            if marker == 0xD9:
                pos += 2
                images.append(stream[start:pos])
                break
            if marker == 0xFF:
                pos += 1  # fill byte
                continue
            if marker == 0x01 or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            if pos + 4 > end:
                return images
            length = int.from_bytes(stream[pos + 2 : pos + 4], "big")
            pos += 2 + length
            if marker == 0xDA:  # start of scan: skip entropy-coded data to the next marker
                while True:
                    pos = stream.find(b"\xff", pos)
                    if pos < 0 or pos + 1 >= end:
                        return images
                    nxt = stream[pos + 1]
                    if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                        pos += 2
                        continue
                    break
        else:
            break
    return images


def decode_jpeg(data: bytes) -> np.ndarray:
    """HxWx3 uint8 RGB from JPEG bytes (grayscale and CMYK are converted to RGB)."""
    with Image.open(BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def white_share(frame: np.ndarray, value: int = WHITE_VALUE) -> float:
    """Share of the H*W*3 values above `value`: the write-up's overexposure measure."""
    return float(np.count_nonzero(frame > value)) / float(frame.size)


def is_white(frame: np.ndarray, value: int = WHITE_VALUE, share: float = WHITE_SHARE) -> bool:
    return white_share(frame, value) > share


def _checked(path: str | Path) -> Path:
    """The path, if it names a non-empty file; otherwise a VideoError that says which."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
    return path


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message from ffmpeg"


# ---------------------------------------------------------------- span seeking
#
# `frames_at_1fps` decodes every frame from the start of the video up to the last needed
# second. Labels leave much of a video unused (their windows cover about half of a typical
# competition video), so most of that decoding feeds frames nobody wants. Span seeking decodes
# only runs ("spans") of needed seconds: for each run ffmpeg seeks to the keyframe before it and
# decodes to its end. All runs of one video share one ffmpeg process (one input per run, joined
# by the concat filter), so a run costs a seek, not a process start.
#
# Identity with the one-pass method. Frame k of `frames_at_1fps` is the fps=1 filter's output
# with timestamp k: the last decoded frame whose time, rounded to the nearest second (halves away
# from zero), is <= k. A seeked run reproduces exactly that frame because
#  * `-copyts -start_at_zero` keep every frame's time as in the one-pass run (seconds since the
#    file's start), so the fps filter rounds the same times and numbers its outputs the same;
#  * decoding starts at a keyframe, which gives the same pixels as decoding through it, and the
#    seek target `-ss` (accurate seek drops the frames before it) is at most
#    first + 0.5 - max_gap - slack: some frame then lies in [-ss, first + 0.5), so the filter's
#    first output is at or before `first` and every frame it may pick for a later second is there;
#    `-ss` aims 0.2 s past the keyframe wanted because ffmpeg backs off 3/23 s when frames are
#    reordered (B-frames), which would otherwise land on the keyframe before;
#  * `-t` ends a run at `last + 1` s: frames before last + 0.5 s decide second `last` and the end
#    of the stream flushes it; a run that reaches the last seconds of the video is not cut, so the
#    filter ends exactly where the one-pass run ends;
#  * `select` keeps only the needed timestamps (plus the video's last two seconds in the final
#    run, to learn where it ends) before JPEG encoding, and `showinfo` logs each kept timestamp:
#    every JPEG in the pipe is matched to its second, never inferred from its position.
# A video whose first frame is half a second or more after the file's start (the one-pass
# numbering then starts later) is decoded in one pass, and any result that lacks a second the
# index promised is redone by `frames_at_1fps` itself: a mismatch costs time, never a wrong frame.
#
# Cost model (`plan_spans`): decoding costs in proportion to the seconds of video decoded, and a
# seek adds `seek_cost` seconds' worth (one more input: open, seek, decoder and filter set-up,
# SEEK_CPU_S of CPU, expressed in seconds of this video by its size, rate and codec); the
# frames from the keyframe to the run are counted as decoded. Going left to right over the
# runs of needed seconds, the gap to the next run is decoded through when that costs no more
# than seeking past it. If the plan still costs `one_pass_share` or more of one pass, one pass
# (from 0, no seek) is used: the saving would not pay for the extra moving parts.

NOPTS = -(2**63)  # AV_NOPTS_VALUE as framecrc prints it
SEEK_CPU_S = 0.03  # CPU seconds one more input costs (open, seek, decoder and filters)
# CPU nanoseconds to decode one pixel of one frame, single-threaded; measured on 1280x720 at 30 fps
# and ~2 Mbit/s (bench/extract.py): H.264 about 0.05 s per second of video, MPEG-4 part 2 0.0125.
DECODE_NS_PER_PIXEL = {"h264": 1.8, "hevc": 2.5, "mpeg4": 0.45, "msmpeg4v3": 0.45, "mjpeg": 3.0}
ONE_PASS_SHARE = 0.95  # plans costing at least this share of one pass use one pass
SEEK_AIM_S = 0.2  # -ss this far past the keyframe wanted (ffmpeg backs off 3/23 s)
SEEK_SLACK_S = 0.1  # safety on the latest -ss that still decodes a run's first second


@dataclass(frozen=True)
class VideoIndex:
    """The video stream's timeline: frame times and keyframes, without decoding - read from the
    container (lib/video_index.py, ~1 ms) or from one ffmpeg demuxing pass (`index_video`).

    Times are seconds since the file's start, as ffmpeg's filters see them.
    """

    path: str
    width: int
    height: int
    fps: float
    start: float  # first frame
    end: float  # end of the last frame (its time plus its duration)
    keyframes: tuple[float, ...]
    max_gap: float  # longest step between consecutive frames in display order
    frames: int
    codec: str = ""

    @property
    def decode_cpu_per_second(self) -> float:
        """Estimated CPU seconds to decode one second of this video (one thread)."""
        per_pixel = DECODE_NS_PER_PIXEL.get(self.codec, DECODE_NS_PER_PIXEL["h264"]) * 1e-9
        fps = self.fps if math.isfinite(self.fps) and self.fps > 0 else 30.0
        return per_pixel * self.width * self.height * fps

    @property
    def seek_cost(self) -> float:
        """What one extra seek costs, in seconds of decoding this video (see SEEK_CPU_S)."""
        return min(max(SEEK_CPU_S / max(self.decode_cpu_per_second, 1e-9), 0.25), 60.0)

    @property
    def outputs(self) -> int:
        """Frames the fps=1 filter makes of the whole video (seconds 0..outputs-1)."""
        return max(0, round_half_away(self.end) - round_half_away(self.start))

    def keyframe_before(self, t: float) -> float:
        """Time of the last keyframe at or before t (where decoding starts after `-ss t`)."""
        i = bisect.bisect_right(self.keyframes, t + 1e-9)
        return self.keyframes[i - 1] if i else min(self.start, 0.0)


def round_half_away(x: float) -> int:
    """ffmpeg's AV_ROUND_NEAR_INF, with which the fps filter puts frames on whole seconds."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


_TB = re.compile(r"^#tb 0: (\d+)/(\d+)", re.M)


def video_index(path: str | Path, timeout: float = 120) -> VideoIndex:
    """The index read from the container when it is a simple MP4 or AVI (no process, about a
    millisecond; lib/video_index.py), else from ffmpeg (`index_video`)."""
    from lib.video_index import read_index

    return read_index(path) or index_video(path, timeout=timeout)


def index_video(path: str | Path, timeout: float = 120) -> VideoIndex:
    """Packet times and keyframe flags of the first video stream (ffmpeg's framecrc muxer over a
    stream copy) and size and rate from the header: what `plan_spans` needs, without decoding."""
    path = _checked(path)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
        "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise VideoError(f"{path}: ffmpeg did not index it within {timeout:.0f} s") from exc
    header = proc.stderr.decode("utf-8", "replace")
    text = proc.stdout.decode("ascii", "replace")
    stream = _STREAM.search(header)
    tb = _TB.search(text)
    if proc.returncode != 0 or not stream or not tb:
        raise VideoError(f"{path}: cannot index the video stream ({_last_line(header)})")
    scale = int(tb.group(1)) / int(tb.group(2))
    times: list[float] = []
    keys: list[float] = []
    end = -math.inf
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if line.startswith("#") or len(parts) < 6:
            continue
        dts, pts, duration = int(parts[1]), int(parts[2]), int(parts[3])
        stamp = pts if pts != NOPTS else dts  # AVI with B-frames: only decode times
        if stamp == NOPTS:
            continue
        t = stamp * scale
        times.append(t)
        end = max(end, t + max(duration, 0) * scale)
        flags = parts[6] if len(parts) > 6 and parts[6].startswith("F=") else "F=0x1"
        if int(flags[2:], 16) & 1:  # framecrc omits F= for plain keyframes
            keys.append(t)
    if not times:
        raise VideoError(f"{path}: the video stream has no timed packets")
    times.sort()
    line = header[stream.start() : header.find("\n", stream.start())]
    fps = _FPS.search(line)
    return VideoIndex(
        path=str(path),
        width=int(stream.group(2)),
        height=int(stream.group(3)),
        fps=float(fps.group(1)) if fps else float("nan"),
        start=times[0],
        end=float(end),
        keyframes=tuple(sorted(keys)),
        max_gap=float(np.diff(times).max()) if len(times) > 1 else 0.0,
        frames=len(times),
        codec=stream.group(1),
    )


@dataclass(frozen=True)
class Segment:
    """One decoding run of a span plan: seek to `seek`, decode to `stop`, keep needed seconds."""

    seek: float  # input -ss in seconds; 0 decodes from the start without seeking
    first: int  # first needed second in this run
    last: int  # last needed second in this run
    start: float  # where decoding really starts: the keyframe at or before `seek`
    stop: float  # where decoding stops: last + 1, or the end of the video
    open_end: bool  # decode to the end of the video (no -t), so the fps filter ends as one pass

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
        return sum(1 for s in self.segments if s.seek > 0)


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
    """Decide which runs of needed seconds to decode, by the cost model described above.

    `seek_cost` is the price of one extra seek in seconds of decoding this video (None: the
    index's estimate, SEEK_CPU_S over the CPU one second of it takes to decode - a seek is
    worth more seconds of a small, cheap video than of a large one); `one_pass_share` is the
    share of the one-pass cost at or above which one pass is used anyway (above 1.0: only when
    seeking saves nothing; 0.0: always one pass). Seconds past the end of the video are planned
    as its last second, which is what the one-pass method gives for them.
    """
    if seek_cost is None:
        seek_cost = index.seek_cost
    needed_t = tuple(sorted({int(s) for s in needed}))
    if not needed_t or needed_t[0] < 0:
        raise ValueError(f"needed seconds must be non-negative and not empty, got {needed_t[:5]}")
    last_out = max(index.outputs - 1, 0)
    wanted = tuple(sorted({min(s, last_out) for s in needed_t}))
    origin = min(index.start, 0.0)

    def entry(first: int) -> tuple[float, float]:
        """(keyframe, -ss) for a run starting at `first`; (origin, 0) means no seek."""
        latest = first + 0.5 - index.max_gap - SEEK_SLACK_S
        key = index.keyframe_before(latest)
        if key <= origin or latest <= 0:
            return origin, 0.0
        return key, min(key + SEEK_AIM_S, latest)

    def segment(seek: float, start: float, first: int, last: int) -> Segment:
        open_end = last >= last_out - 1
        stop = index.end if open_end else min(last + 1.0, index.end)
        return Segment(seek, first, last, start, stop, open_end)

    whole = segment(0.0, origin, wanted[0], wanted[-1])
    one_pass_seconds = whole.decoded

    def one_pass(reason: str) -> SpanPlan:
        return SpanPlan(needed_t, wanted, (whole,), True, whole.decoded, whole.decoded, reason)

    if round_half_away(index.start) != 0:
        return one_pass("the first frame is not at second 0")
    if not index.keyframes:
        return one_pass("no keyframes in the index")
    chosen: list[list] = []  # [seek, start, first, last]
    for first, last in runs(wanted):
        start, seek = entry(first)
        reached = chosen[-1][3] + 1.0 if chosen else origin  # decoding gets this far anyway
        if seek > 0 and first - reached > seek_cost + (first - start):
            chosen.append([seek, start, first, last])
        elif chosen:
            chosen[-1][3] = last
        else:
            chosen.append([0.0, origin, first, last])
    plan = tuple(segment(*c) for c in chosen)
    decoded = sum(s.decoded for s in plan)
    cost = decoded + seek_cost * sum(1 for s in plan if s.seek > 0)
    if cost >= one_pass_share * one_pass_seconds:
        return one_pass(f"spans would cost {cost:.1f} of {one_pass_seconds:.1f} s")
    return SpanPlan(needed_t, wanted, plan, False, decoded, one_pass_seconds)


@dataclass(frozen=True)
class SpanFrames:
    """Frames of the needed seconds; `frames[k]` is byte-identical to `frames_at_1fps(...)[k]`."""

    frames: dict[int, bytes]  # second -> JPEG, for every needed second clamped to `last`
    last: int  # last frame index: len(frames_at_1fps(path, max(needed) + 1)) - 1
    plan: SpanPlan
    fallback: str = ""  # why the one-pass reference method ran instead, if it did

    @property
    def decoded_seconds(self) -> float:
        """Seconds of video decoded (estimated from the index), the rescue pass included."""
        extra = self.plan.one_pass_seconds if self.fallback else 0.0
        return self.plan.decoded_seconds + extra


def frames_at_seconds(
    path: str | Path,
    needed: Iterable[int],
    *,
    gamma: bool = False,
    size: tuple[int, int] | None = None,
    quality: int = 2,
    threads: int = 1,
    timeout: float = 600,
    index: VideoIndex | None = None,
    seek_cost: float | None = None,
    one_pass_share: float = ONE_PASS_SHARE,
) -> SpanFrames:
    """JPEG frames (1 fps numbering) of the needed seconds, decoding only the spans holding them.

    Seconds past the end of the video give its last frame, as in the one-pass method. `threads`
    applies to each ffmpeg stage (decoder, filters, encoder): keep 1 when several workers run.
    """
    path = _checked(path)
    index = index or video_index(path, timeout=timeout)
    plan = plan_spans(needed, index, seek_cost=seek_cost, one_pass_share=one_pass_share)
    got = _decode_segments(path, plan, index, gamma, size, quality, threads, timeout)
    result = _assemble(plan, index, got)
    if result is not None:
        return result
    # The decode did not deliver what the index promised: the reference method decides.
    frames = frames_at_1fps(
        path, plan.needed[-1] + 1, gamma=gamma, size=size, quality=quality, threads=threads,
        timeout=timeout,
    )  # fmt: skip
    last = len(frames) - 1
    kept = {min(k, last): frames[min(k, last)] for k in plan.needed}
    return SpanFrames(kept, last, plan, fallback="the span decode missed promised seconds")


def _select_expression(seconds: Iterable[int], tail: int | None) -> str:
    """A select filter expression that keeps these output seconds (and all from `tail` on)."""
    terms = [f"eq(t,{a})" if a == b else f"between(t,{a},{b})" for a, b in runs(seconds)]
    if tail is not None:
        terms.append(f"gte(t,{tail})")
    return "+".join(terms) or "0"


_SHOWINFO = re.compile(r"\[showinfo@s(\d+) @ [^\]]*\] n:\s*\d+ pts:\s*(-?\d+)")


def _decode_segments(
    path: Path, plan: SpanPlan, index: VideoIndex, gamma: bool, size: tuple[int, int] | None,
    quality: int, threads: int, timeout: float,
) -> list[list[tuple[int, bytes]]]:  # fmt: skip
    """One ffmpeg for all segments of the plan; per segment, its (second, JPEG) pairs in order."""
    tail = index.outputs - 2  # an open-ended run keeps the last seconds: they show the end
    post = (f",{GAMMA_FILTER}" if gamma else "") + (
        f",scale={int(size[0])}:{int(size[1])}" if size else ""
    )
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "repeat+info",
           "-copyts", "-start_at_zero"]  # fmt: skip
    chains = []
    for j, seg in enumerate(plan.segments):
        cmd += ["-threads", str(threads)]
        if seg.seek > 0:
            cmd += ["-ss", f"{seg.seek:.6f}"]
        if not seg.open_end:
            cmd += ["-t", f"{seg.last + 1 - seg.seek:.6f}"]
        cmd += ["-i", str(path)]
        mine = [s for s in plan.wanted if seg.first <= s <= seg.last]
        expr = _select_expression(mine, tail if seg.open_end else None)
        chains.append(f"[{j}:v:0]fps=1,select='{expr}',showinfo@s{j}=checksum=0{post}[v{j}]")
    n = len(chains)
    if n > 1:
        chains.append("".join(f"[v{j}]" for j in range(n)) + f"concat=n={n}:v=1:a=0[out]")
    cmd += [
        "-filter_complex_threads", str(threads), "-filter_complex", ";".join(chains),
        "-map", "[out]" if n > 1 else "[v0]", "-fps_mode", "passthrough",
        "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", str(quality), "-threads", str(threads),
        "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise VideoError(f"{path}: ffmpeg did not finish within {timeout:.0f} s") from exc
    log = proc.stderr.decode("utf-8", "replace")
    jpegs = split_jpegs(proc.stdout)
    stamps = [(int(m.group(1)), int(m.group(2))) for m in _SHOWINFO.finditer(log)]
    if proc.returncode != 0 and not jpegs:
        raise VideoError(f"{path}: ffmpeg failed: {_last_line(log)}")
    out: list[list[tuple[int, bytes]]] = [[] for _ in range(n)]
    order = sorted(range(len(stamps)), key=lambda i: (stamps[i][0], i))  # concat order
    if len(stamps) != len(jpegs):
        return out  # cannot match images to seconds; the caller falls back
    for image, i in zip(jpegs, order, strict=True):
        out[stamps[i][0]].append((stamps[i][1], image))
    return out


def _assemble(
    plan: SpanPlan, index: VideoIndex, got: list[list[tuple[int, bytes]]]
) -> SpanFrames | None:
    """The frames of every needed second, or None when any is missing (fall back)."""
    received: dict[int, bytes] = {}
    end_seen: int | None = None
    for seg, items in zip(plan.segments, got, strict=True):
        received.update(items)
        if seg.open_end:
            end_seen = max((s for s, _ in items), default=None)
            if end_seen is None or end_seen < index.outputs - 2:
                return None  # the video ended before the seconds that show where it ends
    last = plan.needed[-1] if end_seen is None else min(plan.needed[-1], end_seen)
    frames: dict[int, bytes] = {}
    for k in plan.needed:
        k = min(k, last)
        if k not in received:
            return None
        frames[k] = received[k]
    return SpanFrames(frames, last, plan)
