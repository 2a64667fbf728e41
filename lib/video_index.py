"""A video's keyframe index read from the container itself (MP4/MOV, AVI), without ffmpeg.

`lib.video.index_video` asks ffmpeg for the same facts (a stream copy into its framecrc muxer);
that costs a process start, 15-40 ms of CPU per file, which on small, cheap-to-decode videos is
more than span seeking saves. The sample tables of an MP4 (stts, ctts, stss, elst) and the idx1
index of an AVI hold the frame times and keyframe flags directly; reading them takes about a
millisecond.

This index only guides planning: `lib.video` checks every decoded second against what it asked
for and falls back to the one-pass decode if anything differs, so an approximate time costs a
little speed, never a wrong frame. The one fact that could shift frames silently - the video's
first frame lying half a second or more after the file's start, which renumbers the one-pass
seconds - is only vouched for when it is clearly below that (< 0.3 s, every track starting at
or after 0); anything unusual (fragmented MP4, several edits, OpenDML AVI, a stream with a start
offset, no index) returns None and `lib.video` asks ffmpeg instead.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from lib.video import VideoIndex

P0_LIMIT_S = 0.3  # vouch for "first frame at second 0" only below this (ffmpeg rounds at 0.5)


def read_index(path: str | Path) -> VideoIndex | None:
    """The index from the container, or None when it is not a simple MP4/MOV or AVI."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if len(head) < 12:
                return None
            if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
                return _avi(path, f)
            if head[4:8] in (b"ftyp", b"moov", b"free", b"wide", b"mdat", b"skip"):
                return _mp4(path, f)
    except (OSError, ValueError, struct.error, IndexError, ZeroDivisionError):
        return None
    return None


def _finish(
    path: Path, width: int, height: int, fps: float, pts: np.ndarray, dur: np.ndarray,
    keys: np.ndarray, codec: str,
) -> VideoIndex | None:  # fmt: skip
    """VideoIndex from per-frame times (s), durations (s) and keyframe flags."""
    if len(pts) == 0 or not keys.any():
        return None
    times = np.sort(pts)
    return VideoIndex(
        path=str(path),
        width=int(width),
        height=int(height),
        fps=float(fps),
        start=float(times[0]),
        end=float(np.max(pts + dur)),
        keyframes=tuple(float(t) for t in np.sort(pts[keys])),
        max_gap=float(np.diff(times).max()) if len(times) > 1 else 0.0,
        frames=len(times),
        codec=codec,
    )


# ---------------------------------------------------------------- MP4 / MOV


def _boxes(buf: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in buf[start:end]."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError("box overruns its parent")
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _child(buf: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in _boxes(buf, start, end):
        if k == kind:
            return s, e
    return None


def _path(buf: bytes, start: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    span: tuple[int, int] | None = (start, end)
    for kind in kinds:
        if span is None:
            return None
        span = _child(buf, span[0], span[1], kind)
    return span


def _read_moov(f) -> bytes | None:
    """The moov box's payload, wherever it lies (cameras often write it after mdat)."""
    f.seek(0, 2)
    size_file = f.tell()
    pos = 0
    while pos + 8 <= size_file:
        f.seek(pos)
        header = f.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        skip = 8
        if size == 1:
            size, skip = struct.unpack(">Q", header[8:16])[0], 16
        elif size == 0:
            size = size_file - pos
        if size < skip:
            return None
        if kind == b"moov":
            f.seek(pos + skip)
            return f.read(size - skip)
        pos += size
    return None


def _table(buf: bytes, span: tuple[int, int] | None, fmt: str, width: int) -> list[tuple]:
    """Entries of a full box (version/flags, count, entries) such as stts or stss."""
    if span is None:
        return []
    s, _ = span
    (count,) = struct.unpack(">I", buf[s + 4 : s + 8])
    data = buf[s + 8 : s + 8 + count * width]
    return list(struct.iter_unpack(fmt, data))


def _track(buf: bytes, s: int, e: int, movie_scale: int) -> dict | None:
    """One trak: handler, timescale, per-sample presentation times, keyframes, start."""
    mdia = _child(buf, s, e, b"mdia")
    if mdia is None:
        return None
    hdlr = _child(buf, *mdia, b"hdlr")
    mdhd = _child(buf, *mdia, b"mdhd")
    stbl = _path(buf, *mdia, b"minf", b"stbl")
    if hdlr is None or mdhd is None or stbl is None:
        return None
    handler = buf[hdlr[0] + 8 : hdlr[0] + 12]
    version = buf[mdhd[0]]
    offset = mdhd[0] + (20 if version == 1 else 12)
    (scale,) = struct.unpack(">I", buf[offset : offset + 4])
    deltas = np.array(
        [d for n, d in _table(buf, _child(buf, *stbl, b"stts"), ">II", 8) for d in [d] * n],
        dtype=np.int64,
    )
    dts = np.concatenate([[0], np.cumsum(deltas)[:-1]]) if len(deltas) else deltas
    ctts_box = _child(buf, *stbl, b"ctts")
    cts = dts.copy()
    if ctts_box is not None:
        offsets = [o for n, o in _table(buf, ctts_box, ">Ii", 8) for o in [o] * n]
        cts[: len(offsets)] += np.array(offsets[: len(cts)], dtype=np.int64)
    # Edit list: empty edits delay the track; one edit with media time M presents media time M
    # at the start. Anything else (several edits, other rates) is left to ffmpeg.
    delay = 0.0
    media_time = 0
    elst = _path(buf, s, e, b"edts", b"elst")
    if elst is not None:
        ver = buf[elst[0]]
        fmt, width = (">Qqhh", 20) if ver == 1 else (">Iihh", 12)
        real = 0
        for duration, mtime, rate, _frac in _table(buf, elst, fmt, width):
            if mtime == -1:
                delay += duration / movie_scale
            else:
                real += 1
                media_time = mtime
                if rate != 1:
                    return None
        if real > 1:
            return None
    pts = (cts - media_time) / scale + delay
    track = {"handler": handler, "pts": pts, "dur": deltas / scale, "start": delay}
    if len(pts):
        first = float(pts.min())
        # an edit presents its media from `delay` on (earlier samples are not shown); without
        # one, the track starts at its first sample, which may be negative (then ffmpeg decides)
        track["start"] = max(delay, first) if elst is not None else first
    stss = _child(buf, *stbl, b"stss")
    keys = np.ones(len(pts), dtype=bool)
    if stss is not None:
        keys[:] = False
        numbers = np.array([n for (n,) in _table(buf, stss, ">I", 4)], dtype=np.int64) - 1
        keys[numbers[(numbers >= 0) & (numbers < len(keys))]] = True
    track["keys"] = keys
    stsd = _child(buf, *stbl, b"stsd")
    if stsd is not None and stsd[1] - stsd[0] >= 44:
        entry = stsd[0] + 8
        track["codec"] = buf[entry + 4 : entry + 8].decode("latin1")
        track["size"] = struct.unpack(">HH", buf[entry + 32 : entry + 36])
    return track


def _mp4(path: Path, f) -> VideoIndex | None:
    moov = _read_moov(f)
    if moov is None or _child(moov, 0, len(moov), b"mvex") is not None:
        return None  # no index here, or a fragmented MP4 (samples live in moof boxes)
    mvhd = _child(moov, 0, len(moov), b"mvhd")
    if mvhd is None:
        return None
    offset = mvhd[0] + (20 if moov[mvhd[0]] == 1 else 12)
    (movie_scale,) = struct.unpack(">I", moov[offset : offset + 4])
    tracks = []
    for kind, s, e in _boxes(moov, 0, len(moov)):
        if kind == b"trak":
            track = _track(moov, s, e, movie_scale)
            if track is None:
                return None
            tracks.append(track)
    video = next((t for t in tracks if t["handler"] == b"vide"), None)
    if video is None or "size" not in video:
        return None
    zero = min(t["start"] for t in tracks)  # ffmpeg's start time: the earliest stream
    if zero < 0 or video["start"] - zero >= P0_LIMIT_S:
        return None
    pts = video["pts"] - zero
    keep = pts >= -1e-9  # samples before the edit are not presented
    n = int(keep.sum())
    fps = n / max(float(np.max(pts[keep] + video["dur"][keep]) - pts[keep].min()), 1e-9)
    codec = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "mp4v": "mpeg4"}
    return _finish(
        path, *video["size"], fps, pts[keep], video["dur"][keep], video["keys"][keep],
        codec.get(video.get("codec", ""), video.get("codec", "")),
    )  # fmt: skip


# ---------------------------------------------------------------- AVI


def _chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, bytes]]:
    """(id, payload start, payload end, list type) of RIFF chunks in data[start:end]."""
    out = []
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack("<4sI", data[pos : pos + 8])
        body = pos + 8
        kind = data[body : body + 4] if cid in (b"LIST", b"RIFF") else b""
        out.append((cid, body, min(body + size, end), kind))
        pos = body + size + (size & 1)
    return out


def _avi(path: Path, f) -> VideoIndex | None:
    f.seek(0, 2)
    size_file = f.tell()
    f.seek(4)
    (riff,) = struct.unpack("<I", f.read(4))
    if riff + 8 + 8 < size_file:
        return None  # an OpenDML AVI: more RIFF parts (AVIX) than idx1 covers
    f.seek(0)
    # The headers are small; the movi list (the frames) is skipped by seeking over it.
    top = []
    pos = 12
    while pos + 12 <= size_file:
        f.seek(pos)
        cid, size = struct.unpack("<4sI", f.read(8))
        kind = f.read(4)
        top.append((cid, pos + 8, size, kind))
        pos += 8 + size + (size & 1)
    hdrl = next(((s, n) for c, s, n, k in top if c == b"LIST" and k == b"hdrl"), None)
    idx1 = next(((s, n) for c, s, n, k in top if c == b"idx1"), None)
    if hdrl is None or idx1 is None:
        return None
    f.seek(hdrl[0])
    header = f.read(hdrl[1])
    streams = []
    for cid, s, e, kind in _chunks(header, 4, len(header)):
        if cid == b"LIST" and kind == b"strl":
            parts = {c: (ps, pe) for c, ps, pe, _ in _chunks(header, s + 4, e)}
            if b"strh" not in parts:
                return None
            hs = parts[b"strh"][0]
            fcc, handler = header[hs : hs + 4], header[hs + 4 : hs + 8]
            scale, rate, start = struct.unpack("<III", header[hs + 20 : hs + 32])
            size = (0, 0)
            if b"strf" in parts and fcc == b"vids":
                fs = parts[b"strf"][0]
                w, h = struct.unpack("<ii", header[fs + 4 : fs + 12])
                size = (w, abs(h))
                handler = header[fs + 16 : fs + 20] or handler
            streams.append((fcc, handler, scale, rate, start, size))
    video = next((i for i, s in enumerate(streams) if s[0] == b"vids"), None)
    if video is None or any(s[4] != 0 for s in streams):
        return None  # no video, or a stream with a start offset: let ffmpeg decide
    _, handler, scale, rate, _, size = streams[video]
    f.seek(idx1[0])
    entries = np.frombuffer(f.read(idx1[1] // 16 * 16), dtype="<u4").reshape(-1, 4)
    ids = [int.from_bytes(f"{video:02d}{t}".encode(), "little") for t in ("dc", "db")]
    mine = np.isin(entries[:, 0], ids)
    frame_s = scale / rate
    video_entries = entries[mine]
    # an empty chunk is a dropped frame: time moves on, but ffmpeg makes no packet of it
    shown = video_entries[:, 3] > 0
    pts = (np.arange(len(video_entries), dtype=np.float64) * frame_s)[shown]
    keys = (video_entries[shown, 1] & 0x10) != 0
    n = len(pts)
    fourcc = handler.decode("latin1").lower()
    codec = "mpeg4" if fourcc in ("xvid", "divx", "dx50", "fmp4", "mp4v") else fourcc
    return _finish(path, *size, rate / scale, pts, np.full(n, frame_s), keys, codec)
