"""Shared pieces of the model-side benchmarks: robust timing, synthetic records, machine info.

The machines we develop on are shared 2-core boxes, so a single timing means little: every
measurement here warms up first (graph tracing, allocator, caches), repeats, and reports the
median with the spread. Synthetic data is deterministic (seeded), so two runs of the benchmark
time the same bytes.
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The demo videos' native frame sizes are 480x270, 512x384 and 400x224 (lib/demo); 480x270 is
# the most common, and 02_extract stores demo frames at native size.
SOURCE_SIZE = (480, 270)  # (width, height)


def median_spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements (the spread shows how noisy the box was)."""
    return {
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
        "n": len(values),
    }


def repeat(fn: Callable[[], float], reps: int, warmup: int = 1) -> list[float]:
    """Call `fn` (which returns one measured value) `warmup` times unrecorded, then `reps`."""
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(reps)]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
    from lib import records
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
    written = records.write_shards(items, folder, prefix, SPEC, shard_size)
    return [folder / w["file"] for w in written]


def cpu_seconds() -> float:
    """CPU time of this process (all threads): steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class TrainStep:
    """A compiled training step of a chimpact model on one in-memory batch.

    Compiled as lib/training.fit compiles (Adam, MAE, RMSE metric); `train_on_batch` runs the
    same traced train function `fit` uses. `first_step_s` is build + compile + trace + one step.
    """

    def __init__(self, model_cfg: Any, batch_size: int, seed: int = 0) -> None:
        import keras

        from lib.chimpact.model import build_model

        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(seed)
        t, s = model_cfg.frames, model_cfg.image_size
        self.x = rng.random((batch_size, t, s, s, 3), dtype=np.float32)
        self.y = rng.uniform(0, 25, (batch_size, 1)).astype(np.float32)
        self.batch_size = batch_size
        start = time.perf_counter()
        self.model = build_model(model_cfg)
        self.model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="mae",
            metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
        )
        self.model.train_on_batch(self.x, self.y)
        self.first_step_s = time.perf_counter() - start
        for _ in range(2):  # warm-up beyond the first step
            self.model.train_on_batch(self.x, self.y)

    def block(self, steps: int) -> tuple[float, float]:
        """(sequences/s, CPU-ms per sequence) over `steps` steps."""
        cpu0, start = cpu_seconds(), time.perf_counter()
        for _ in range(steps):
            self.model.train_on_batch(self.x, self.y)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
        n = self.batch_size * steps
        return n / wall, 1000 * cpu / n


def train_step_rate(
    model_cfg: Any, batch_size: int, steps: int, reps: int, seed: int = 0
) -> dict[str, Any]:
    """Sequences/s one compiled training step consumes: first step and median steady rate."""
    step = TrainStep(model_cfg, batch_size, seed)
    blocks = [step.block(steps) for _ in range(reps)]
    rates = [b[0] for b in blocks]
    return {
        "first_step_s": step.first_step_s,
        "seq_per_s": median_spread(rates),
        "cpu_ms_per_seq": statistics.median(b[1] for b in blocks),
        "step_s": batch_size / statistics.median(rates),
        "batch_size": batch_size,
        "params": int(step.model.count_params()),
    }


def demo_model(**changes: Any):
    """The demo profile's chimpact model config (as 04_train builds it), with `changes`."""
    import dataclasses

    from lib import profiles
    from lib.chimpact import runid
    from lib.chimpact.train import model_config

    base = model_config(runid.parse("run-20211101-1526-down-a1p50-f7s1"), profiles.get("demo"))
    return dataclasses.replace(base, backbone_weights=None, **changes)


# the CPU features that decide which kernels TensorFlow and oneDNN pick
VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def host_info() -> dict[str, Any]:
    """CPU model, usable cores, memory, Python, platform, date and load: what every benchmark's
    numbers were measured on (no TensorFlow import: extraction workers must not pay for it)."""
    cpu = platform.processor() or platform.machine()
    flags: list[str] = []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in VECTOR_FLAGS if f in have]
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem_gib = float("nan")
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "cores": cores,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "load_avg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def machine_info() -> dict[str, Any]:
    """The host plus the TensorFlow/Keras versions and GPUs (they mean nothing without it)."""
    import tensorflow as tf

    return {
        **host_info(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__,
        "keras": __import__("keras").__version__,
    }


def main_for(prog: str, doc: str | None, run: Callable[[bool], dict], table) -> Callable:
    """The `main` of a benchmark module: --quick, run, print its table."""
    import argparse

    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=prog, description=doc)
        parser.add_argument("--quick", action="store_true")
        args = parser.parse_args(argv)
        for name, value in table(run(args.quick)):
            print(f"{name:55s} {value}")
        return 0

    return main
