"""The two constants of the span planner's cost model (lib/video_index.py), measured here.

    python -m bench.seek_cost [--seconds 20]

For each benchmark codec (bench/extract.py's generated 1280x720 30 fps videos): the CPU
nanoseconds PyAV needs per pixel of one decoded frame (a whole decode on one thread), and the
CPU seconds of one seek (the seek, the decoder flush and the first frame after it, less one
frame's decode), over seeks to every keyframe in a shuffled order. CPU time, not wall: the
numbers hold on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av

from bench.extract import FULL, make_video


def _decode_all(path: Path) -> tuple[float, int, int]:
    """(CPU seconds, frames, pixels per frame) of one single-threaded decode of the video."""
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        stream.thread_type, stream.thread_count = "SLICE", 1
        started = time.process_time()
        frames = sum(1 for _ in box.decode(stream))
        cpu = time.process_time() - started
        return cpu, frames, stream.codec_context.width * stream.codec_context.height


def _keyframes(path: Path) -> list[int]:
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        return [p.pts for p in box.demux(stream) if p.is_keyframe and p.pts is not None]


def _seek_cpu(path: Path, frame_cpu: float, seed: int = 3) -> float:
    """Median CPU seconds of one seek + first frame, less one frame's decode."""
    keys = _keyframes(path)[1:]
    random.Random(seed).shuffle(keys)
    costs = []
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        stream.thread_type, stream.thread_count = "SLICE", 1
        for pts in keys:
            started = time.process_time()
            box.seek(pts, stream=stream, backward=True, any_frame=False)
            next(box.decode(stream))
            costs.append(time.process_time() - started - frame_cpu)
    costs.sort()
    return costs[len(costs) // 2]


def measure(seconds: int) -> dict:
    settings = replace(FULL, seconds=seconds)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for codec in ("mp4", "avi"):
            path = make_video(Path(tmp), codec, 0, settings)
            cpu, frames, pixels = _decode_all(path)
            frame_cpu = cpu / frames
            out[codec] = {
                "decode_ns_per_pixel": round(frame_cpu / pixels * 1e9, 3),
                "seek_cpu_s": round(_seek_cpu(path, frame_cpu), 5),
                "frames": frames,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of the generated videos")
    print(json.dumps(measure(parser.parse_args().seconds), indent=2))


if __name__ == "__main__":
    main()
