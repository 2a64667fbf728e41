"""The ffmpeg binary's one-pass `fps=1` frames: the reference the in-process decoder must match.

Its JPEGs carry the encoder's version in a comment segment; ours leave it out (bitexact), so the
comparison drops that segment and nothing else.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from lib.video import ffmpeg_exe


def strip_comment(jpeg: bytes) -> bytes:
    """The JPEG without its COM segment (ffmpeg writes "Lavc<version>" there)."""
    at = jpeg.find(b"\xff\xfe", 2)
    if at < 0:
        return jpeg
    length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return jpeg[:at] + jpeg[at + 2 + length :]


def cli_frames(
    path: Path, gamma: bool = False, size: tuple[int, int] | None = None, count: int = 10**6
) -> list[bytes]:
    """Seconds 0..count-1 of the video as the ffmpeg binary writes them (fps=1, mjpeg -q:v 2)."""
    filters = ["fps=1"] + (["eq=gamma=0.1"] if gamma else [])
    filters += [f"scale={size[0]}:{size[1]}"] if size else []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-nostdin", "-threads", "1", "-i", str(path),
             "-map", "0:v:0", "-vf", ",".join(filters), "-frames:v", str(count),
             "-c:v", "mjpeg", "-q:v", "2",
             "-start_number", "0", f"{tmp}/%05d.jpg"],
            check=True, timeout=300,
        )  # fmt: skip
        return [strip_comment(p.read_bytes()) for p in sorted(Path(tmp).glob("*.jpg"))]


def encode(path: Path, *args: str) -> Path:
    """Run the ffmpeg binary to make a test video (`args` between -y and the output path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args, str(path)],
                   check=True, timeout=300)  # fmt: skip
    return path
