"""The full profiles' models at full size: what one accelerator trains and infers per second.

Per track, the `full` model exactly as its profile builds it (chimpact: 512 px EfficientNet-B0
per frame -> LSTM(1024), 7 frames, batch 96; serengeti: InceptionResNetV2, single-image and
two-stream, 384x512, batch 32), fed from a random batch already on the device, compiled as
training compiles it. Each case (model, batch, precision, compile mode) runs in its own process
(`bench/full_size_case.py`): training sequences/s (images/s for serengeti) at the profile's
batch and at the largest batch that fits (doubling until one does not), time to the first step,
inference rate, peak device memory, mixed precision on and off, XLA / `jit_compile` on and off.

Cases run in order of importance under a time budget (`--budget-s`): one that would not finish
in what is left is skipped and says so; the JSON is rewritten after every case, so a run killed
from outside keeps what it measured. `--tiny` shrinks the images (and batches) so that a CPU
runs every case in seconds: its numbers only show that the cases run. Where TensorFlow is
installed, the tf.data pipeline's supply at full size is measured too (sequences/s and
CPU-ms per sequence, so the CPU cores needed to feed a given training rate follow).

    python -m bench.full_size [--tiny] [--budget-s 420] [--only NAME ...] [--out PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.full_size_case import RESULT
from lib.demo import synthetic_records

# the write-up: 120 TPUv3-8 hours for 12 runs x 5 folds x 40 epochs of ~12,000 sequences
WRITEUP_TPU_SEQ_PER_S = 12 * 5 * 40 * 12_000 / (120 * 3600)
TARGET_SEQ_PER_S = 100.0  # 1.5x the write-up's TPUv3-8, chimpact at 512 px, 7 frames, mixed
ROOT = Path(__file__).resolve().parents[1]
TINY_NOTE = (
    "tiny sizes (chimpact 32 px, serengeti 75 px, batch 2): shows the cases run, "
    "says nothing about full-size speed"
)


def _case(name: str, track: str, batch: int, tiny: bool, **kw: Any) -> dict[str, Any]:
    base = {"frames": 7, "model": "single", "backbone": "irv2"}
    case = {"name": name, "track": track, "batch": batch, "tiny": tiny, **base}
    case.update({"precision": "mixed_float16", "jit": True, "infer": False}, **kw)
    case.setdefault("steps", 2 if tiny else 10)
    return case


def plan(tiny: bool) -> list[dict[str, Any]]:
    """The cases in order of importance: the chimpact target first, search and eager last."""
    from lib import profiles

    cb = 2 if tiny else profiles.get("full", "chimpact").batch_size
    sb = 2 if tiny else profiles.get("full", "serengeti").batch_size
    eager = {"jit": False, "steps": 1 if tiny else 2}
    return [
        _case("chimpact_f7_mixed_jit", "chimpact", cb, tiny, infer=True, search=True),
        _case("chimpact_f7_fp32_jit", "chimpact", cb, tiny, precision="float32"),
        _case("serengeti_single_mixed_jit", "serengeti", sb, tiny, infer=True, search=True),
        _case("serengeti_twostream_mixed_jit", "serengeti", sb, tiny, model="twostream",
              infer=True),
        _case("serengeti_single_fp32_jit", "serengeti", sb, tiny, precision="float32"),
        _case("chimpact_f7_mixed_eager", "chimpact", cb, tiny, **eager),
        _case("serengeti_single_mixed_eager", "serengeti", sb, tiny, **eager),
        _case("chimpact_f9_mixed_jit", "chimpact", cb, tiny, frames=9),
        _case("serengeti_twostream_fp32_jit", "serengeti", sb, tiny, model="twostream",
              precision="float32"),
    ]  # fmt: skip


def _estimate(case: dict[str, Any], done: dict[str, Any]) -> float:
    """Seconds a case should take, from an earlier case of the same track (else a floor)."""
    floor = 15.0 if case["tiny"] else 60.0
    same = [r for r in done.values() if r.get("track") == case["track"] and r.get("status") == "ok"]
    if not same:
        return floor
    r = same[0]
    scale = case["batch"] / r["batch"]
    return max(floor, 1.2 * (r["first_step_s"] + (case["steps"] + 1) * r["step_s"] * scale))


def run_one(case: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One case in a child process; a crash, a kill or a timeout is recorded, not raised."""
    spec = {k: v for k, v in case.items() if k not in ("name", "search")}
    cmd = [sys.executable, "-m", "bench.full_size_case", json.dumps(spec)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=_child_env()
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout:.0f} s (time budget)"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT)]
    if lines:
        result = json.loads(lines[-1][len(RESULT) :])
    else:  # killed (host out of memory is SIGKILL) or crashed before printing
        tail = (proc.stderr or proc.stdout)[-1500:]
        status = "oom" if proc.returncode in (-9, 137) else "error"
        result = {"status": status, "error": f"exit {proc.returncode}: {tail}"}
    return {**result, "wall_s": round(time.perf_counter() - start, 1)}


def _child_env() -> dict[str, str]:
    """This environment with the project root importable (the child imports lib and bench)."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


class Budget:
    """Seconds left of the benchmark's budget, and whether a case should start at all."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def allows(self, estimate: float) -> bool:
        return self.left() >= estimate


def _record(case: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    keys = ("track", "batch", "precision", "jit", "frames", "model", "backbone", "steps")
    return {**{k: case[k] for k in keys}, **result}


def _measure(case: dict[str, Any], budget: Budget, done: dict[str, Any]) -> dict[str, Any]:
    estimate = _estimate(case, done)
    if not budget.allows(estimate):
        left = budget.left()
        return _record(
            case, {"status": "skipped", "error": f"needs ~{estimate:.0f} s, {left:.0f} s left"}
        )
    print(f"[full_size] {case['name']} batch {case['batch']} ...", file=sys.stderr, flush=True)
    return _record(case, run_one(case, max(budget.left(), 1.0)))


def largest_batch(
    case: dict[str, Any], first: dict[str, Any], budget: Budget, done: dict[str, Any]
) -> dict[str, Any]:
    """Double the batch until a step fails for memory (or the cap, or the budget, is reached).

    The answer is the largest power-of-two multiple of the profile's batch that fits, with the
    training rate there; `stopped_by` says what ended the search.
    """
    cap = case["batch"] * (4 if case["tiny"] else 16)
    best, tries, stopped = first, [], "cap"
    batch = case["batch"] * 2
    while batch <= cap:
        trial = {**case, "batch": batch, "infer": False, "steps": max(2, case["steps"] // 2)}
        result = _measure(trial, budget, done)
        tries.append({k: result.get(k) for k in ("batch", "status", "train_per_s", "error")})
        if result["status"] != "ok":
            stopped = result["status"]
            break
        best, batch = result, batch * 2
    return {
        "largest_fitting_batch": best["batch"],
        "train_per_s": best.get("train_per_s"),
        "peak_device_gib": best.get("peak_device_gib"),
        "stopped_by": stopped,
        "tries": tries,
    }


def pipeline_supply(tiny: bool) -> dict[str, Any]:
    """Chimpact's tf.data training pipeline at the full profile's size, without the cache.

    At full size a fold's decoded frames do not fit in memory, so every epoch decodes every
    JPEG: that cold rate is what feeds the accelerator. Frames are stored at 512x512 (the
    full profile's `frame_size`) from deterministic synthetic JPEGs, augmented a4 p=0.5 (the
    best write-up run's policy). CPU-ms per sequence gives the cores a training rate needs.
    """
    from bench import common
    from bench.pipeline import POLICY, PROB
    from lib import profiles
    from lib.chimpact import input_pipeline

    prof = profiles.get("full", "chimpact")
    size = 32 if tiny else prof.model.image_size
    batch, sequences = (2, 8) if tiny else (prof.batch_size, 2 * prof.batch_size)
    source = (size, size) if tiny else prof.frame_size
    with tempfile.TemporaryDirectory(prefix="bench-full-size-") as tmp:
        files = synthetic_records.write_records(Path(tmp), sequences, size=source)
        kw = {"frames": 7, "image_size": size, "batch_size": batch, "cache": False}
        ds = input_pipeline.dataset(files, training=True, augment=POLICY, prob=PROB, seed=1, **kw)
        n, cpu0, start = 0, common.cpu_seconds(), time.perf_counter()
        for x, _y, _k in ds:
            n += int(x.shape[0])
        wall, cpu = time.perf_counter() - start, common.cpu_seconds() - cpu0
    cpu_ms = 1000 * cpu / n
    return {
        "image_size": size,
        "source_frame": list(source),
        "sequences": n,
        "batch_size": batch,
        "augment": f"{POLICY}p{int(PROB * 100)}",
        "seq_per_s": round(n / wall, 2),
        "cpu_ms_per_seq": round(cpu_ms, 1),
        "cores_for_target": round(TARGET_SEQ_PER_S * cpu_ms / 1000, 1),
        "cores_here": len(os.sched_getaffinity(0)),
    }


def environment(tiny: bool) -> dict[str, Any]:
    """Backend, versions and devices the numbers were measured with."""
    from bench import common

    info: dict[str, Any] = {
        **common.host_info(),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }
    for name in ("keras", "jax", "torch", "tensorflow"):
        if importlib.util.find_spec(name) is not None:
            info[name] = _version(name)
    info["mode"] = TINY_NOTE if tiny else "full size"
    return info


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Written to a temporary file and renamed: a kill never leaves half a JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def headline(cases: dict[str, Any]) -> dict[str, Any]:
    """The chimpact target case against the write-up's TPUv3-8 and the 100 seq/s target."""
    r = cases.get("chimpact_f7_mixed_jit", {})
    rate = r.get("train_per_s") if r.get("status") == "ok" else None
    return {
        "chimpact_train_seq_per_s": rate,
        "target_seq_per_s": TARGET_SEQ_PER_S,
        "writeup_tpuv3_8_seq_per_s": round(WRITEUP_TPU_SEQ_PER_S, 1),
        "meets_target": None if rate is None else rate >= TARGET_SEQ_PER_S,
    }


def run(
    quick: bool = False,
    tiny: bool | None = None,
    budget_s: float | None = None,
    only: list[str] | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """Every case under the budget; `quick` (run_bench --quick) means tiny.

    Without an accelerator the model cases run tiny whatever is asked (a full-size chimpact
    step needs ~37 GB of host memory and minutes on a CPU), and the output says so.
    """
    tiny = quick or bool(tiny) or not _has_accelerator()
    budget = Budget(budget_s if budget_s is not None else (900 if tiny else 420))
    result: dict[str, Any] = {"environment": environment(tiny), "tiny": tiny, "cases": {}}
    for case in plan(tiny):
        if only and case["name"] not in only:
            continue
        rec = _measure(case, budget, result["cases"])
        result["cases"][case["name"]] = rec
        if case.get("search") and rec["status"] == "ok":
            result.setdefault("largest_batch", {})[case["name"]] = largest_batch(
                case, rec, budget, result["cases"]
            )
        result["headline"] = headline(result["cases"])
        if out is not None:
            write_json(out, result)
    if importlib.util.find_spec("tensorflow") is not None and (not only or "pipeline" in only):
        result["pipeline"] = pipeline_supply(quick)
    result["headline"] = headline(result["cases"])
    result["budget_left_s"] = round(budget.left(), 1)
    if out is not None:
        write_json(out, result)
    return result


def _has_accelerator() -> bool:
    """A GPU (or TPU) that the configured Keras backend can see, asked in a child process."""
    probe = (
        "import keras, sys\n"
        "b = keras.backend.backend()\n"
        "if b == 'jax':\n import jax; ok = jax.default_backend() != 'cpu'\n"
        "elif b == 'torch':\n import torch; ok = torch.cuda.is_available()\n"
        "else:\n import tensorflow as tf; ok = bool(tf.config.list_logical_devices('GPU'))\n"
        "sys.exit(0 if ok else 1)\n"
    )
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable rows for run_bench's table."""
    rows = [("full_size.mode", result["environment"]["mode"])]
    for name, r in result["cases"].items():
        if r["status"] != "ok":
            rows.append((f"full_size.{name}", f"{r['status']}: {r.get('error', '')[-120:]}"))
            continue
        infer = f", infer {r['infer_per_s']:.1f}/s" if "infer_per_s" in r else ""
        rows.append((
            f"full_size.{name}",
            f"{r['train_per_s']:.2f}/s train (batch {r['batch']}){infer}, first step "
            f"{r['first_step_s']:.1f} s, peak {r['peak_device_gib']:.2f} GiB "
            f"({r['memory_source']})",
        ))  # fmt: skip
    for name, s in result.get("largest_batch", {}).items():
        rows.append((
            f"full_size.{name}.largest_batch",
            f"{s['largest_fitting_batch']} ({s['train_per_s']}/s; stopped by {s['stopped_by']})",
        ))  # fmt: skip
    if "pipeline" in result:
        p = result["pipeline"]
        rows.append((
            f"full_size.pipeline_{p['image_size']}px",
            f"{p['seq_per_s']:.1f} seq/s on {p['cores_here']} cores, {p['cpu_ms_per_seq']:.0f} "
            f"CPU-ms/seq: ~{p['cores_for_target']} cores for {TARGET_SEQ_PER_S:.0f} seq/s",
        ))  # fmt: skip
    h = result["headline"]
    rows.append(
        (
            "full_size.chimpact_target",
            f"{h['chimpact_train_seq_per_s']} seq/s vs "
            f"{h['target_seq_per_s']:.0f} (TPUv3-8: {h['writeup_tpuv3_8_seq_per_s']})",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.full_size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks the cases run")
    parser.add_argument("--budget-s", type=float, help="seconds for all cases (420; tiny 900)")
    parser.add_argument("--only", action="append", help="a case name, or 'pipeline'")
    parser.add_argument("--out", type=Path, help="JSON written after every case")
    args = parser.parse_args(argv)
    result = run(tiny=args.tiny, budget_s=args.budget_s, only=args.only, out=args.out)
    for name, value in table(result):
        print(f"{name:45s} {value}")
    bad = [n for n, r in result["cases"].items() if r["status"] == "error"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
