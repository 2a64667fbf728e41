"""Per-frame CNN applied with `TimeDistributed` vs with the time axis folded into the batch.

For each backbone, both forms of `lib.chimpact.model.build_model` (`time_distributed=True`
or False) are built, compiled as training compiles them and stepped on an in-memory batch:
time to the first step (model build + compile + graph trace + one step: what every fold pays
before training starts) and steady sequences/s (median of repeated blocks). The two forms are
alternated within each repetition so that a slow spell on a shared machine hits both.

Then the demo model's step per kernel setting, each in a fresh process (TensorFlow reads them
at start): `native` (oneDNN on, every instruction set the CPU has), `avx2` (oneDNN capped with
`ONEDNN_MAX_CPU_ISA=AVX2`, what an AVX2-only CPU runs; oneDNN's verbose log is read back to
show the cap took) for each downsampling layout of the small CNN (`pool_stem`, the demo's:
max-pool then conv, the stem's map normalized after its max-pool; `pool_first`, max-pool then
conv; `pool`, conv then max-pool, the first demo model; `stride`), and
`tf_kernels_avx2` (`TF_ENABLE_ONEDNN_OPTS=0` under the same cap: TensorFlow's own convolutions,
im2col and oneDNN's plain GEMM, which TensorFlow picks by itself on CPUs without AVX512_VNNI,
BF16 or AMX) for the first demo model: what an AVX2-only CPU ran before, the baseline of the
ratios.

    python -m bench.train_step [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from bench import common
from lib.chimpact.model_config import DOWNSAMPLING


def _cases(quick: bool) -> dict[str, tuple[Any, int]]:
    from lib import profiles
    from lib.chimpact.model import ModelConfig

    demo = profiles.get("demo")
    if quick:  # just enough to run both code paths
        small = common.demo_model(image_size=32, lstm_units=16, dense_units=8)
        return {"small_cnn_32px": (small, 4)}
    small = common.demo_model()
    effnet = ModelConfig(
        frames=7,
        image_size=96,
        backbone="efficientnet_b0",
        backbone_weights=None,
        lstm_units=256,
        dense_units=64,
    )
    return {
        f"small_cnn_{demo.model.image_size}px": (small, demo.batch_size),
        "efficientnet_b0_96px": (effnet, 8),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Both forms per backbone; `faster_default` says whether the default is the faster form."""
    import dataclasses

    import keras

    from lib.chimpact.model import ModelConfig

    reps, steps, blocks = (1, 1, 1) if quick else (2, 5, 3)
    common.train_step_rate(  # warm-up: imports, kernels, allocator (not recorded)
        ModelConfig(
            frames=3,
            image_size=16,
            backbone="small",
            backbone_weights=None,
            lstm_units=4,
            dense_units=4,
        ),
        2,
        1,
        1,
    )
    result: dict[str, Any] = {"cases": {}, "default_form": _default_form()}
    for name, (cfg, batch) in _cases(quick).items():
        forms: dict[str, list[dict]] = {"folded": [], "time_distributed": []}
        for rep in range(reps):
            order = list(forms) if rep % 2 == 0 else list(reversed(forms))
            for form in order:
                keras.backend.clear_session()
                c = dataclasses.replace(cfg, time_distributed=form == "time_distributed")
                forms[form].append(common.train_step_rate(c, batch, steps, blocks, seed=rep))
        case: dict[str, Any] = {
            "image_size": cfg.image_size,
            "backbone": cfg.backbone,
            "batch_size": batch,
            "frames": cfg.frames,
        }
        for form, runs in forms.items():
            case[form] = {
                "first_step_s": statistics.median(r["first_step_s"] for r in runs),
                "seq_per_s": statistics.median(r["seq_per_s"]["median"] for r in runs),
                "cpu_ms_per_seq": statistics.median(r["cpu_ms_per_seq"] for r in runs),
                "params": runs[0]["params"],
            }
        f, t = case["folded"], case["time_distributed"]
        case["td_over_folded_first_step"] = t["first_step_s"] / f["first_step_s"]
        case["folded_over_td_seq_per_s"] = f["seq_per_s"] / t["seq_per_s"]
        case["td_over_folded_cpu_ms"] = t["cpu_ms_per_seq"] / f["cpu_ms_per_seq"]
        case["faster_steady"] = "folded" if f["seq_per_s"] >= t["seq_per_s"] else "time_distributed"
        case["faster_first_step"] = (
            "folded" if f["first_step_s"] <= t["first_step_s"] else "time_distributed"
        )
        result["cases"][name] = case
    cases = result["cases"].values()
    folded_wins = all(c["folded_over_td_seq_per_s"] >= 1 for c in cases) and all(
        c["td_over_folded_first_step"] >= 1 for c in cases
    )
    result["faster_form"] = "folded" if folded_wins else "mixed"
    result["faster_default"] = folded_wins and result["default_form"] == "folded"
    result["kernels"] = kernels(quick)
    result["parts"] = parts(quick)
    result["quick"] = quick
    return result


def parts(quick: bool) -> dict[str, Any]:
    """Where the demo model's step goes: CPU-ms per sequence of a train step of the per-frame
    CNN alone (on the batch's B*T frames, against a target of its feature size), of the LSTM
    and dense head alone (on B sequences of features), and of the whole model, per layout."""
    import keras
    import numpy as np

    from lib.chimpact import model as m

    out: dict[str, Any] = {}
    for layout in LAYOUTS:
        size = {"image_size": 32, "lstm_units": 16, "dense_units": 8} if quick else {}
        cfg = common.demo_model(small_downsample=layout, **size)
        b, t, s = 4 if quick else 32, cfg.frames, cfg.image_size
        rng = np.random.default_rng(0)
        cnn = m.backbone(cfg)
        feat = int(cnn.output.shape[-1])
        frames = rng.random((b * t, s, s, int(cnn.input.shape[-1])), dtype=np.float32)
        head_in = keras.Input((t, feat))
        h = keras.layers.LSTM(cfg.lstm_units)(head_in)
        h = keras.layers.Dense(cfg.dense_units, activation="relu")(h)
        head = keras.Model(head_in, keras.layers.Dense(1)(h))
        whole = m.build_model(cfg)
        x = rng.random((b, t, s, s, 3), dtype=np.float32)
        y = rng.random((b, 1), dtype=np.float32)
        out[layout] = {
            "cnn_cpu_ms_per_seq": _step_cpu_ms(cnn, frames, rng.random((b * t, feat)), b, quick),
            "head_cpu_ms_per_seq": _step_cpu_ms(head, rng.random((b, t, feat)), y, b, quick),
            "model_cpu_ms_per_seq": _step_cpu_ms(whole, x, y, b, quick),
        }
        out[layout]["cnn_share"] = (
            out[layout]["cnn_cpu_ms_per_seq"] / out[layout]["model_cpu_ms_per_seq"]
        )
    return out


def _step_cpu_ms(model, x, y, sequences: int, quick: bool) -> float:
    """Median CPU-ms per sequence of `model`'s compiled train step on one in-memory batch."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    for _ in range(2):
        model.train_on_batch(x, y)
    blocks = []
    for _ in range(1 if quick else 3):
        cpu0 = common.cpu_seconds()
        for _ in range(1 if quick else 6):
            model.train_on_batch(x, y)
        blocks.append(1000 * (common.cpu_seconds() - cpu0) / (sequences * (1 if quick else 6)))
    return statistics.median(blocks)


KERNELS: dict[str, dict[str, str]] = {
    "native": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "tf_kernels_avx2": {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}
LAYOUTS = DOWNSAMPLING
BASELINE = "tf_kernels_avx2.pool"  # the demo's step on an AVX2-only CPU before any of this
SETTINGS = (BASELINE, *(f"{k}.{lay}" for k in ("avx2", "native") for lay in LAYOUTS))


def kernels(quick: bool) -> dict[str, Any]:
    """The demo model's step per kernel setting and layout, settings alternated per repetition;
    `speedup_over_baseline` is the baseline's step time over each setting's (the demo's step on
    an AVX2-only CPU before oneDNN was turned on there and the layout changed)."""
    runs, isa = _quick_runs() if quick else _timed_runs(reps=2)
    out: dict[str, Any] = {}
    for name, got in runs.items():
        out[name] = {
            "cpu_ms_per_seq": statistics.median(r["cpu_ms_per_seq"] for r in got),
            "step_s": statistics.median(r["step_s"] for r in got),
            "first_step_s": statistics.median(r["first_step_s"] for r in got),
            "isa": isa[name.split(".")[0]],
        }
    base = out[BASELINE]
    out["speedup_over_baseline"] = {
        name: {
            "step": base["step_s"] / out[name]["step_s"],
            "cpu": base["cpu_ms_per_seq"] / out[name]["cpu_ms_per_seq"],
        }
        for name in SETTINGS
        if name != BASELINE
    }
    return out


Runs = dict[str, list[dict[str, Any]]]


def _timed_runs(reps: int) -> tuple[Runs, dict[str, str]]:
    """Each setting and layout timed in its own process with oneDNN's verbose log off (it costs
    time per op), and the instruction set probed in separate processes."""
    runs: Runs = {name: [] for name in SETTINGS}
    for rep in range(reps):
        order = list(runs) if rep % 2 == 0 else list(reversed(runs))
        for name in order:
            kernel, layout = name.split(".")
            code = f"from bench.train_step import child; child({layout!r}, False)"
            runs[name].append(_json_lines(_run_child(kernel, code))[-1])
    return runs, {k: _isa(_run_child(k, PROBE, verbose=True)) for k in KERNELS}


def _quick_runs() -> tuple[Runs, dict[str, str]]:
    """One process per setting, verbose log on: the probe convolution first (so the log's first
    primitive is it), then its layouts' tiny steps. The numbers only show the code runs."""
    runs: Runs = {}
    isa: dict[str, str] = {}
    for kernel in KERNELS:
        names = [n for n in SETTINGS if n.split(".")[0] == kernel]
        calls = "; ".join(f"child({n.split('.')[1]!r}, True)" for n in names)
        lines = _run_child(kernel, f"{PROBE}; from bench.train_step import child; {calls}", True)
        for name, got in zip(names, _json_lines(lines), strict=True):
            runs[name] = [got]
        isa[kernel] = _isa(lines)
    return runs, isa


def _run_child(kernel: str, code: str, verbose: bool = False) -> list[str]:
    """stdout lines of `code` run in a fresh process with the setting's environment."""
    env = {**os.environ, **KERNELS[kernel], "TF_CPP_MIN_LOG_LEVEL": "2"}
    env["ONEDNN_VERBOSE"] = "1" if verbose else "0"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode:
        raise RuntimeError(f"train step child ({kernel}) failed:\n{proc.stderr[-2000:]}")
    return proc.stdout.splitlines()


def _json_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in lines if ln.startswith("{")]


# one convolution: what oneDNN's verbose log says it ran on shows whether a cap took
PROBE = (
    "import numpy as np, tensorflow as tf; "
    "tf.nn.conv2d(np.ones((1, 8, 8, 4), 'float32'), np.ones((3, 3, 4, 4), 'float32'), 1, 'SAME')"
)


def _isa(lines: list[str]) -> str:
    """The instruction set oneDNN's verbose log names and its first primitive (a oneDNN
    convolution, or the plain GEMM under TensorFlow's own im2col convolution)."""
    isa, primitive = "", ""
    for line in lines:
        if line.startswith("onednn_verbose") and ",isa:" in line:
            isa = line.split(",isa:", 1)[1].strip()
        elif ",primitive,exec,cpu," in line and not primitive:
            fields = line.split(",primitive,exec,cpu,", 1)[1].split(",")
            primitive = ":".join(f for f in fields[:2] if f)
    return f"{isa}; {primitive}" if primitive else isa


def child(layout: str, quick: bool) -> None:
    """Print one JSON line: the demo model's train-step rate with `layout` downsampling."""
    size = {"image_size": 32, "lstm_units": 16, "dense_units": 8} if quick else {}
    cfg = common.demo_model(small_downsample=layout, **size)
    r = common.train_step_rate(cfg, 4 if quick else 32, 1 if quick else 5, 1 if quick else 3)
    print(json.dumps({k: r[k] for k in ("cpu_ms_per_seq", "step_s", "first_step_s")}), flush=True)


def _default_form() -> str:
    from lib.chimpact.model import ModelConfig

    return "time_distributed" if ModelConfig().time_distributed else "folded"


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name, c in result["cases"].items():
        for form in ("folded", "time_distributed"):
            rows.append(
                (
                    f"train_step.{name}.{form}",
                    f"{c[form]['seq_per_s']:.1f} seq/s "
                    f"({c[form]['cpu_ms_per_seq']:.1f} CPU-ms/seq),"
                    f" first step {c[form]['first_step_s']:.1f} s"
                    f" (batch {c['batch_size']})",
                )
            )
        rows.append(
            (
                f"train_step.{name}.folded_advantage",
                f"{c['folded_over_td_seq_per_s']:.2f}x seq/s, "
                f"{c['td_over_folded_cpu_ms']:.2f}x less CPU per seq, "
                f"{c['td_over_folded_first_step']:.2f}x faster first step",
            )
        )
    rows.append(
        ("train_step.default_form", f"{result['default_form']} ({result['faster_form']} is faster)")
    )
    k = result["kernels"]
    for name in SETTINGS:
        gain = k["speedup_over_baseline"].get(name)
        versus = f"; {gain['step']:.2f}x the baseline ({gain['cpu']:.2f}x by CPU)" if gain else ""
        rows.append((f"train_step.kernels.{name}",
                     f"{k[name]['step_s'] * 1000:.0f} ms/step, {k[name]['cpu_ms_per_seq']:.2f} "
                     f"CPU-ms/seq ({k[name]['isa']}){versus}"))  # fmt: skip
    for layout, p in result["parts"].items():
        text = (
            f"CNN {p['cnn_cpu_ms_per_seq']:.2f} + head {p['head_cpu_ms_per_seq']:.2f} of "
            f"{p['model_cpu_ms_per_seq']:.2f} CPU-ms/seq (CNN {p['cnn_share']:.0%})"
        )
        rows.append((f"train_step.parts.{layout}", text))
    return rows


main = common.main_for("python -m bench.train_step", __doc__, run, table)


if __name__ == "__main__":
    raise SystemExit(main())
