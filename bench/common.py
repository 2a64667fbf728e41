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
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
