"""Camera-like synthetic JPEG frames and chimpact records, for the benchmarks and the tests:
data the project makes itself, sized like the demo's frames, written with stage 03's own
writer and SPEC."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np

# The demo videos' native frame sizes are 480x270, 512x384 and 400x224 (lib/demo); 480x270 is
# the most common, and 02_extract stores demo frames at native size.
SOURCE_SIZE = (480, 270)  # (width, height)


def synthetic_frames(
    count: int,
    size: tuple[int, int] = SOURCE_SIZE,
    seed: int = 0,
    quality: int = 92,
    noise: float = 3.0,
    grid: int = 32,
) -> list[bytes]:
    """`count` camera-like JPEG frames: smooth background, a moving blob, sensor noise.

    Decoding cost follows the JPEG's size (entropy decoding dominates), so the size matters:
    with the default sensor noise these are ~29 KB at 480x270. Real camera-trap clips extracted
    the way 02_extract does it (ffmpeg `-q:v 2`) gave 5-53 KB per 480x270 frame; the demo's
    rendered frames only 2-7 KB (`noise=0` gives frames of that kind).
    """
    from PIL import Image

    width, height = size
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // grid + 2, width // grid + 2, 3), dtype=np.float32)
    background = np.asarray(
        Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BICUBIC),
        dtype=np.float32,
    )
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = []
    for i in range(count):
        cx = width * (0.2 + 0.6 * (i % 11) / 10)
        cy = height * 0.6
        blob = np.exp(-(((xx - cx) / (width * 0.06)) ** 2 + ((yy - cy) / (height * 0.12)) ** 2))
        img = background * (1 - 0.7 * blob[..., None]) + 40 * blob[..., None]
        img = img + rng.normal(0, noise, img.shape).astype(np.float32)
        buf = BytesIO()
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            buf, format="JPEG", quality=quality
        )
        out.append(buf.getvalue())
    return out


def write_records(
    folder: str | Path,
    sequences: int,
    size: tuple[int, int] = SOURCE_SIZE,
    shard_size: int = 128,
    seed: int = 0,
    prefix: str = "bench",
    noise: float = 3.0,
    grid: int = 32,
) -> list[Path]:
    """Chimpact records (11 JPEG frames each, the real SPEC) written with lib.chimpact.records'
    own writer, sharded like stage 03 does; returns the shard paths."""
    from lib import tfrecord_io
    from lib.chimpact.records import SPEC

    frames = synthetic_frames(
        33, size, seed, noise=noise
    )  # 3 "videos" of 11 frames, reused across rows
    items = [
        {
            "frames": frames[(i % 3) * 11 : (i % 3) * 11 + 11],
            "distance": float(1 + i % 20),
            "video_id": f"v{i // 4:04d}.mp4",  # unique (video_id, time) keys
            "time": int(i % 4) * 2,
            "site_id": f"s{i % 7}",
        }
        for i in range(sequences)
    ]
    folder = Path(folder)
    written = tfrecord_io.write_shards(items, folder, prefix, SPEC, shard_size)
    return [folder / w["file"] for w in written]
