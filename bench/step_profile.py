"""Where the demo model's training step spends its time, op by op, from TensorFlow's profiler.

The demo model (`common.demo_model`, batch 32) is stepped on an in-memory batch, warmed up,
then `steps` steps are traced with `tf.profiler`. Every op the executor ran is read back from
the trace (its time on the thread that ran it, which includes the other threads it waited on)
and put in one of a few groups: convolutions, batch norm, max-pooling, ReLU, LSTM, the motion
and standardization channels in front of the CNN, the optimizer, and the rest. The step's wall
and CPU time beside the ops' sum show how much the ops overlap: a sum near the wall time means
they ran one after another, whatever the thread count.

Run it under the AVX2 cap to see what an AVX2-only CPU runs:

    ONEDNN_MAX_CPU_ISA=AVX2 python -m bench.step_profile [--layout pool_first] [--steps 10]
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
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


def profile(layout: str, steps: int, batch_size: int = 32, **changes: Any) -> dict[str, Any]:
    """ms per step of each group, the ops' sum, and the step's wall and CPU ms."""
    import tensorflow as tf

    step = common.TrainStep(common.demo_model(small_downsample=layout, **changes), batch_size)
    for _ in range(3):
        step.model.train_on_batch(step.x, step.y)
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
    return {
        "layout": layout,
        "ms_per_step": groups,
        "ops_ms_per_step": sum(groups.values()),
        "wall_ms_per_step": 1000 * wall / steps,
        "cpu_ms_per_step": 1000 * cpu / steps,
        "host": common.host_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", default="pool_first", choices=DOWNSAMPLING)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    result = profile(args.layout, args.steps)
    ops = result["ops_ms_per_step"]
    for name, ms in sorted(result["ms_per_step"].items(), key=lambda kv: -kv[1]):
        print(f"{name:>15}  {ms:7.1f} ms/step  {100 * ms / ops:5.1f} %")
    print(json.dumps({k: v for k, v in result.items() if k != "ms_per_step"}, indent=1))


if __name__ == "__main__":
    main()
