"""Where the demo model's training step spends its time, op by op, from TensorFlow's profiler.

The demo model (`common.demo_model`, batch 32) is stepped on an in-memory batch, warmed up,
then `steps` steps are traced with `tf.profiler`. Every op the executor ran is read back from
the trace (its time on the thread that ran it, which includes the other threads it waited on)
and put in one of a few groups: convolutions, batch norm, max-pooling, ReLU, LSTM, the motion
and standardization channels in front of the CNN, the optimizer, and the rest. The step's wall
and CPU time beside the ops' sum show how much the ops overlap: a sum near the wall time means
they ran one after another, whatever the thread count.

Run it under the AVX2 cap to see what an AVX2-only CPU runs:

    ONEDNN_MAX_CPU_ISA=AVX2 python -m bench.step_profile [--layout pool_stem --layout pool_first]

Several layouts are profiled in one process, alternated, `--reps` traced blocks each (median).
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from lib import profiles
from lib.chimpact.model_config import DOWNSAMPLING

GROUPS = ("conv", "batchnorm", "maxpool", "relu", "lstm", "input channels", "optimizer", "other")


def group(op: str) -> str:
    """The group of one traced op, named `scope/.../name:Type` by TensorFlow."""
    path, kind = op.rsplit(":", 1)
    if "Conv2D" in kind:
        return "conv"
    for name, marks in (
        ("batchnorm", ("batch_normalization",)),
        ("maxpool", ("MaxPool",)),
        ("relu", ("Relu",)),
        ("lstm", ("/lstm",)),
        ("optimizer", ("adam", "Adam", "ResourceApply", "AssignVariable")),
    ):
        if any(mark in path or mark in kind for mark in marks):
            return name
    if "gradient_tape" not in path and "small_cnn" not in path and "cnn_lstm" in path:
        return "input channels"  # the motion and standardization ops before the CNN
    return "other"


def op_times(trace: Path) -> collections.Counter:
    """Seconds per op name in the profiler's trace of the host's compute threads."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(next(trace.rglob("*.xplane.pb")).read_bytes())
    times: collections.Counter = collections.Counter()
    for plane in space.planes:
        for line in plane.lines if plane.name == "/host:CPU" else ():
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" in name and not name.startswith("ExecutorState"):
                    times[name] += event.duration_ps * 1e-12
    return times


def _traced(step: Any, steps: int) -> dict[str, Any]:
    """One traced block of `steps` steps: ms per step of each group, wall and CPU ms."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as logdir:
        cpu0, start = common.cpu_seconds(), time.perf_counter()
        tf.profiler.experimental.start(logdir)
        for _ in range(steps):
            step.model.train_on_batch(step.x, step.y)
        tf.profiler.experimental.stop()
        wall, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu0
        times = op_times(Path(logdir))
    groups = dict.fromkeys(GROUPS, 0.0)
    for name, seconds in times.items():
        groups[group(name)] += 1000 * seconds / steps
    return {"groups": groups, "wall": 1000 * wall / steps, "cpu": 1000 * cpu / steps}


def profile(
    layouts: list[str], steps: int, reps: int = 1, batch_size: int = 32, **changes: Any
) -> dict[str, Any]:
    """Per layout: ms per step of each group, the ops' sum, and the step's wall and CPU ms,
    each the median over `reps` traced blocks; the layouts alternate within a repetition, so
    a slow spell of a shared machine hits them all."""
    models = {
        lay: common.TrainStep(common.demo_model(small_downsample=lay, **changes), batch_size)
        for lay in layouts
    }
    for step in models.values():
        for _ in range(3):
            step.model.train_on_batch(step.x, step.y)
    blocks: dict[str, list[dict[str, Any]]] = {lay: [] for lay in layouts}
    for rep in range(reps):
        for lay in layouts if rep % 2 == 0 else layouts[::-1]:
            blocks[lay].append(_traced(models[lay], steps))
    out: dict[str, Any] = {"host": common.host_info(), "reps": reps, "layouts": {}}
    for lay, got in blocks.items():
        groups = {g: statistics.median(b["groups"][g] for b in got) for g in GROUPS}
        out["layouts"][lay] = {
            "ms_per_step": groups,
            "ops_ms_per_step": sum(groups.values()),
            "wall_ms_per_step": statistics.median(b["wall"] for b in got),
            "cpu_ms_per_step": statistics.median(b["cpu"] for b in got),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    demo_layout = profiles.get("demo").model.small_downsample
    parser.add_argument(
        "--layout", action="append", choices=DOWNSAMPLING,
        help=f"a layout to profile; repeat to compare (default: the demo's, {demo_layout})",
    )  # fmt: skip
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3, help="traced blocks per layout (median)")
    args = parser.parse_args()
    layouts = args.layout or [demo_layout]
    result = profile(layouts, args.steps, args.reps)
    print(f"{'ms/step (share)':>15}  " + "  ".join(f"{lay:>16}" for lay in layouts))
    for name in GROUPS:
        cells = []
        for lay in layouts:
            r = result["layouts"][lay]
            ms = r["ms_per_step"][name]
            cells.append(f"{ms:7.1f} ({100 * ms / r['ops_ms_per_step']:4.1f} %)")
        print(f"{name:>15}  " + "  ".join(f"{c:>16}" for c in cells))
    for key in ("ops_ms_per_step", "wall_ms_per_step", "cpu_ms_per_step"):
        cells = "  ".join(f"{result['layouts'][lay][key]:16.1f}" for lay in layouts)
        print(f"{key.replace('_ms_per_step', ''):>15}  {cells}")
    print(json.dumps(result["host"]))


if __name__ == "__main__":
    main()
