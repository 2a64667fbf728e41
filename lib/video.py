"""Video probing and frame extraction in-process with PyAV (FFmpeg's libraries).

Frame k of a video is the frame at second k of ffmpeg's `fps=1` filter, as in the write-up: the
last decoded frame whose time, rounded to the nearest second (halves away from zero), is <= k;
the video's last frame serves the seconds up to the end of its display time. `frames_at_1fps`
decodes from the start up to a given second: the reference. `frames_at_seconds` returns the same
frames for a set of needed seconds but decodes only the runs of the video that hold them (one
seek to the keyframe before each run; `lib.video_index` plans them). Only the kept frames are
converted and JPEG-encoded, by FFmpeg's mjpeg encoder at the command line's `-q:v` scale, so the
files match the ffmpeg binary's `-f image2pipe -c:v mjpeg` output byte for byte except for the
encoder's version comment, which is left out (bitexact): a library upgrade does not change them.
Everything runs on the calling thread (one decoding thread unless `threads` says otherwise), so
N worker processes keep N cores busy.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from io import BytesIO
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange
from PIL import Image

from lib.video_index import (
    ONE_PASS_SHARE,
    Clock,
    SpanPlan,
    VideoIndex,
    plan_spans,
    read_index,
    round_half_away,
    runs,
)

__all__ = ["ONE_PASS_SHARE", "SpanPlan", "VideoIndex", "plan_spans", "round_half_away", "runs"]

# The write-up's overexposure fix, ffmpeg's `eq=gamma=0.1`: a table on the luma plane, chroma
# untouched. It darkens, pulling the detail an overexposed original keeps in its top range back.
GAMMA_FILTER = "eq=gamma=0.1"
WHITE_VALUE = 250
WHITE_SHARE = 0.2
TO_END = 2**40  # a run's last second when it is decoded to the end of the video
QP2LAMBDA = 118  # FF_QP2LAMBDA: ffmpeg's -q:v N is global_quality N * this
_JPEG_FORMATS = {
    "yuv422p": "yuvj422p",
    "yuvj422p": "yuvj422p",
    "yuv444p": "yuvj444p",
    "yuvj444p": "yuvj444p",
}  # fmt: skip  (anything else: yuvj420p)
_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}


class VideoError(RuntimeError):
    """A video that cannot be probed or decoded; the message names the file and the cause."""


@cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary of the imageio-ffmpeg wheel: the demo generator encodes with it and the
    benchmark runs the write-up's way with it; decoding here does not need it."""
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
    rotation: int = 0  # degrees the display matrix turns the picture (counter-clockwise)


def _checked(path: str | Path) -> Path:
    """The path, if it names a non-empty file; otherwise a VideoError that says which."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
    return path


def _open(path: Path, threads: int = 1):
    """(container, first video stream), decoding on `threads` threads; VideoError if neither."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: cannot open: {exc.strerror or exc}") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: no video stream found ({container.format.name})")
    stream = container.streams.video[0]
    stream.codec_context.thread_count = max(1, int(threads))
    stream.codec_context.thread_type = "AUTO" if threads > 1 else "SLICE"
    return container, stream


def probe(path: str | Path, timeout: float = 60) -> VideoInfo:
    """Size, frame rate, duration, codec and rotation from the container's headers."""
    path = _checked(path)
    container, stream = _open(path)
    with container:
        rate = stream.average_rate or stream.base_rate
        return VideoInfo(
            path=str(path), width=stream.codec_context.width,
            height=stream.codec_context.height, fps=float(rate) if rate else float("nan"),
            duration=(container.duration or 0) / 1e6, codec=_codec_name(stream),
            container=container.format.name, rotation=_first_rotation(container, stream),
        )  # fmt: skip


def _codec_name(stream) -> str:
    """ffmpeg's name of the stream's codec ("h264", "mpeg4", "msmpeg4v3"), not the decoder's."""
    return stream.codec_context.codec.canonical_name


def _first_rotation(container, stream) -> int:
    """Counter-clockwise degrees the display matrix turns the first frame (0 if it has none)."""
    for frame in container.decode(stream):
        return int(round((frame.rotation or 0) / 90)) * 90 % 360
    return 0


def index_video(path: str | Path, timeout: float = 120) -> VideoIndex:
    """The keyframe index of the first video stream, from its demuxed packets (no decoding)."""
    path = _checked(path)
    container, stream = _open(path)
    with container:
        try:
            return read_index(container, stream, str(path))
        except (av.FFmpegError, ValueError) as exc:
            raise VideoError(f"{path}: cannot index the video stream: {exc}") from None


video_index = index_video  # the index is always read from packets now; the old name still works


# ---------------------------------------------------------------- decoding


@dataclass
class _Run:
    """One decoding run: enter at `seek` (a stream timestamp; None: from the start), keep the
    frames of seconds first..last (output numbering: second base + k is output k)."""

    seek: int | None
    first: int
    last: int


@dataclass
class _Picked:
    frames: dict[int, av.VideoFrame]  # output second -> its frame
    end: int | None  # last output second, when the decode reached the end of the video
    base: int  # the fps filter's first output second
    sar: Fraction | None = None  # the stream's sample aspect ratio (the JFIF header's)
    kept: frozenset[int] = frozenset()  # timestamps the decoder must not drop (empty: drop none)
    decoded: int = 0  # frames the decoder gave

    def keep(self, frame: av.VideoFrame, seconds: range) -> None:
        """`frame` for these output seconds; _Missed if the decoder could have dropped it."""
        if seconds and self.kept and frame.pts not in self.kept:
            raise _Missed
        for k in seconds:
            self.frames[k] = frame


class _Missed(Exception):
    """A seek landed after the frame a run needs, or the decoder gave a frame the index did not
    promise: the one-pass decode decides instead."""


def _frames(container, stream, deadline: float, path: Path, kept: frozenset[int] = frozenset()):
    """Decoded frames in display order from the current position; stops at the end or at a
    read error (as ffmpeg does), raises VideoError past the deadline. With `kept`, the decoder
    drops the frames no other frame refers to unless their timestamp is in it (H.264 and HEVC
    non-reference pictures, MPEG-4 B-frames): up to half the frames of a camera's H.264."""
    packets = container.demux(stream)
    ctx, dropping = stream.codec_context, False
    while True:
        try:
            packet = next(packets)
        except (StopIteration, av.EOFError):
            return
        except av.FFmpegError:
            packet = None  # a damaged tail: decode what was read, as ffmpeg does
        if time.monotonic() > deadline:
            raise VideoError(f"{path}: decoding did not finish within the time limit")
        if kept:
            drop = packet is not None and packet.pts is not None and packet.pts not in kept
            if drop != dropping:
                ctx.skip_frame, dropping = ("NONREF" if drop else "DEFAULT"), drop
        try:
            yield from ctx.decode(packet)
        except av.FFmpegError:
            continue  # a damaged packet: ffmpeg conceals and goes on
        if packet is None or packet.size == 0 and packet.pts is None:
            return


def _decode(path: Path, threads: int, runs_: list[_Run], timeout: float, base: int | None,
            kept: frozenset[int] = frozenset()):  # fmt: skip
    """Decode the runs in order and keep, for each needed output second, the frame fps=1 keeps.
    With `kept` (the index's `kept_stamps`) the decoder drops frames that cannot be kept, and
    a kept frame whose timestamp is not in it raises _Missed: the index and decoder disagree."""
    container, stream = _open(path, threads)
    deadline = time.monotonic() + timeout
    picked = _Picked({}, None, 0 if base is None else base, kept=kept)
    with container:
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        picked.sar = Fraction(sar) if sar else None
        clock = Clock.of(container, stream)
        for run in runs_:
            if run.seek is not None:
                container.seek(run.seek, stream=stream, backward=True, any_frame=False)
            if _decode_run(container, stream, clock, run, picked, base, deadline, path):
                break  # reached the end of the video
    return picked


def _decode_run(container, stream, clock, run, picked, base, deadline, path) -> bool:
    """One run; True when it reached the end of the video."""
    prev, prev_r = None, 0
    for frame in _frames(container, stream, deadline, path, picked.kept):
        picked.decoded += 1
        if frame.pts is None or (prev is None and run.seek is not None and not frame.key_frame):
            continue  # before the first keyframe after a seek: not decoded from a clean start
        r = clock.second(frame.pts)
        if prev is None:
            if base is None:
                base = picked.base = r  # one pass from the start: numbering starts here
            elif run.seek is None and r != base or r - base > run.first:
                raise _Missed  # not numbered as one pass would, or entered too late
            prev, prev_r = frame, r
            continue
        if r <= prev_r:
            prev = frame
            continue
        picked.keep(
            prev, range(max(prev_r - picked.base, run.first), min(r - picked.base, run.last + 1))
        )
        prev, prev_r = frame, r
        if r - picked.base > run.last:
            return False
    if prev is None:
        if run.seek is not None:
            raise _Missed
        raise VideoError(f"{path}: no frames could be decoded")
    step = Fraction(1, 1) / Fraction(stream.average_rate or stream.guessed_rate or 30)
    duration = prev.duration * clock.time_base if prev.duration else step
    picked.end = round_half_away(clock.seconds(prev.pts) + duration) - 1 - picked.base
    picked.keep(prev, range(max(prev_r - picked.base, run.first), picked.end + 1))
    return True


# ---------------------------------------------------------------- frames to JPEG


@cache
def gamma_table(gamma: float = 0.1) -> np.ndarray:
    """ffmpeg's eq filter luma table (vf_eq.c create_lut with contrast 1, brightness 0, gamma
    weight 1): trunc(256 * (i/255)^(1/gamma)), 255 from 1.0 on; same float operations."""
    v = np.arange(256, dtype=np.float64) / 255.0
    v = 1.0 * (v - 0.5) + 0.5 + 0.0
    v = v * 0.0 + np.power(v, 1.0 / gamma) * 1.0
    table = np.where(v >= 1.0, 255, np.trunc(256.0 * v))
    return np.where(v <= 0.0, 0, table).astype(np.uint8)


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The pixel planes of an 8-bit planar frame as height x width arrays (padding cut)."""
    return [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]


def _frame(planes: list[np.ndarray], like: av.VideoFrame) -> av.VideoFrame:
    """A frame of `like`'s format and colour range holding these planes."""
    h, w = planes[0].shape
    out = av.VideoFrame(w, h, like.format.name)
    for plane, data in zip(out.planes, planes, strict=True):
        padded = np.zeros((plane.height, plane.line_size), np.uint8)
        padded[:, : plane.width] = data
        plane.update(padded.tobytes())
    out.color_range = like.color_range
    return out


def _planar(frame: av.VideoFrame) -> av.VideoFrame:
    """8-bit planar YUV as ffmpeg's eq and transpose filters take it (others to yuv420p)."""
    return frame if frame.format.name in _PLANAR_8BIT else frame.reformat("yuv420p", threads=1)


def apply_gamma(frame: av.VideoFrame) -> av.VideoFrame:
    """The frame with the eq=gamma=0.1 table applied to its luma plane, chroma untouched."""
    frame = _planar(frame)
    y, *chroma = _planes(frame)
    return _frame([gamma_table()[y], *chroma], frame)


def upright(frame: av.VideoFrame) -> av.VideoFrame:
    """The frame turned as its display matrix says, as the ffmpeg command line autorotates."""
    turns = int(round((frame.rotation or 0) / 90)) % 4
    if not turns:
        return frame
    frame = _planar(frame)
    return _frame([np.ascontiguousarray(np.rot90(p, turns)) for p in _planes(frame)], frame)


class JpegEncoder:
    """FFmpeg's mjpeg encoder at `-q:v quality`, one context per picture shape, one thread."""

    def __init__(self, quality: int = 2, sample_aspect_ratio: Fraction | None = None) -> None:
        self.quality = int(quality)
        self.sar = sample_aspect_ratio
        self._contexts: dict[tuple, av.CodecContext] = {}
        self._count = 0

    def _context(self, width: int, height: int, fmt: str) -> av.CodecContext:
        key = (width, height, fmt)
        if key not in self._contexts:
            ctx = av.CodecContext.create("mjpeg", "w")
            ctx.width, ctx.height, ctx.pix_fmt = width, height, fmt
            ctx.time_base = Fraction(1, 1)
            ctx.thread_count = 1
            ctx.qscale = True
            ctx.global_quality = self.quality * QP2LAMBDA
            ctx.flags |= av.codec.context.Flags.bitexact
            if self.sar:
                ctx.sample_aspect_ratio = self.sar
            self._contexts[key] = ctx
        return self._contexts[key]

    def encode(self, frame: av.VideoFrame, size: tuple[int, int] | None = None) -> bytes:
        """JPEG bytes of a decoded frame: to full-range YUV (and `size`), then mjpeg."""
        fmt = _JPEG_FORMATS.get(frame.format.name, "yuvj420p")
        full = frame.format.name.startswith("yuvj") or frame.color_range == ColorRange.JPEG
        width, height = size or (frame.width, frame.height)
        pic = frame.reformat(
            width=width, height=height, format=fmt, interpolation="BICUBIC" if size else None,
            src_color_range=ColorRange.JPEG if full else ColorRange.MPEG,
            dst_color_range=ColorRange.JPEG, threads=1,
        )  # fmt: skip
        pic.time_base, pic.pts = Fraction(1, 1), self._count
        self._count += 1
        return b"".join(bytes(p) for p in self._context(width, height, fmt).encode(pic))


def _sar(picked: _Picked, size: tuple[int, int] | None, frame: av.VideoFrame) -> Fraction | None:
    """The aspect ratio ffmpeg writes into the JFIF header: the stream's, turned with the
    picture and scaled as its scale filter scales it."""
    sar = picked.sar
    if not sar:
        return None
    if int(round((frame.rotation or 0) / 90)) % 2:
        sar, frame_size = 1 / sar, (frame.height, frame.width)
    else:
        frame_size = (frame.width, frame.height)
    if not size:
        return sar
    return sar * Fraction(size[1] * frame_size[0], size[0] * frame_size[1])


def _encode_all(path, picked: _Picked, gamma, size, quality) -> dict[int, bytes]:
    """{second: JPEG} for the picked frames; a frame kept for several seconds is encoded once."""
    if not picked.frames:
        return {}
    encoder = JpegEncoder(quality, _sar(picked, size, next(iter(picked.frames.values()))))
    done: dict[int, bytes] = {}
    out = {}
    for k, frame in sorted(picked.frames.items()):
        if id(frame) not in done:
            pic = upright(frame)
            done[id(frame)] = encoder.encode(apply_gamma(pic) if gamma else pic, size)
        out[k] = done[id(frame)]
    return out


# ---------------------------------------------------------------- public API


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

    Decoding stops after frame `count - 1` is decided, so a video whose labels end early is not
    decoded to its end. `size` is (width, height); `gamma` applies the overexposure fix.
    """
    if count <= 0:
        return []
    path = _checked(path)
    picked = _decode(path, threads, [_Run(None, 0, count - 1)], timeout, base=None)
    frames = _encode_all(path, picked, gamma, size, quality)
    last = min(count - 1, picked.end if picked.end is not None else count - 1)
    return [frames[k] for k in range(last + 1)]


@dataclass(frozen=True)
class SpanFrames:
    """Frames of the needed seconds; `frames[k]` is byte-identical to `frames_at_1fps(...)[k]`."""

    frames: dict[int, bytes]  # second -> JPEG, for every needed second clamped to `last`
    last: int  # last frame index: len(frames_at_1fps(path, max(needed) + 1)) - 1
    plan: SpanPlan
    fallback: str = ""  # why the one-pass reference method ran instead, if it did
    frames_decoded: int = 0  # frames the decoder gave in the pass that delivered `frames`

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
    drop_unkept: bool = True,
) -> SpanFrames:
    """JPEG frames (1 fps numbering) of the needed seconds, decoding only the runs holding them.

    Seconds past the end of the video give its last frame, as in the one-pass method. `timeout`
    bounds the whole decode of the file (a damaged file becomes a VideoError, never a hang).
    `drop_unkept` lets the decoder skip the frames nothing refers to and fps=1 cannot keep; if
    the decoder then gives anything the index did not promise, one pass without it decides.
    """
    path = _checked(path)
    index = index or index_video(path, timeout=timeout)
    plan = plan_spans(needed, index, seek_cost=seek_cost, one_pass_share=one_pass_share)
    stamps = index.key_stamps
    todo = [
        _Run(None if s.key is None else stamps[s.key], s.first, TO_END if s.open_end else s.last)
        for s in plan.segments
    ]
    try:
        kept = index.kept_stamps if drop_unkept else frozenset()
        picked = _decode(path, threads, todo, timeout, 0 if not plan.one_pass else None, kept)
        result = _assemble(path, plan, picked, gamma, size, quality)
    except _Missed:
        result = None
    if result is not None:
        return result
    # The decode did not deliver what the index promised: one pass from the start decides.
    whole = [_Run(None, 0, plan.needed[-1])]
    picked = _decode(path, threads, whole, timeout, base=None)
    result = _assemble(path, plan, picked, gamma, size, quality)
    if result is None:
        raise VideoError(f"{path}: frames of seconds {list(plan.needed)[:5]} could not be decoded")
    missed = "the span decode missed promised seconds"
    return SpanFrames(result.frames, result.last, plan, missed, result.frames_decoded)


def _assemble(path, plan: SpanPlan, picked: _Picked, gamma, size, quality) -> SpanFrames | None:
    """The frames of every needed second, or None when any is missing."""
    last = plan.needed[-1] if picked.end is None else min(plan.needed[-1], picked.end)
    keep = {min(k, last) for k in plan.needed}
    if picked.base != 0 and not plan.one_pass or not keep <= picked.frames.keys():
        return None
    chosen = _Picked({k: picked.frames[k] for k in keep}, picked.end, picked.base, picked.sar)
    frames = _encode_all(path, chosen, gamma, size, quality)
    return SpanFrames(frames, last, plan, frames_decoded=picked.decoded)


# ---------------------------------------------------------------- JPEG helpers


def decode_jpeg(data: bytes) -> np.ndarray:
    """HxWx3 uint8 RGB from JPEG bytes (grayscale and CMYK are converted to RGB)."""
    with Image.open(BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def white_share(frame: np.ndarray, value: int = WHITE_VALUE) -> float:
    """Share of the H*W*3 values above `value`: the write-up's overexposure measure."""
    return float(np.count_nonzero(frame > value)) / float(frame.size)


def is_white(frame: np.ndarray, value: int = WHITE_VALUE, share: float = WHITE_SHARE) -> bool:
    return white_share(frame, value) > share
