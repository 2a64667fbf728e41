"""Video probing and frame extraction with the ffmpeg binary from the imageio-ffmpeg wheel.

Frame k of a video is the frame at second k (ffmpeg's `fps=1` filter), as in the write-up.
One ffmpeg process per video and source decodes up to the last second any window needs, and
writes those frames as JPEG to a pipe: ffmpeg does the decoding and JPEG encoding in C, and no
frame touches the disk before we know it is needed.
"""

from __future__ import annotations

import re
import subprocess
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
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
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


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message from ffmpeg"
