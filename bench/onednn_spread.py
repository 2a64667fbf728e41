"""How much oneDNN settings move a small chimpact training run's OOF predictions and CV.

A quick-profile run is trained on a tiny demo (seeded: same data, folds and records each time)
in a fresh process per setting, since the settings are read when TensorFlow starts:

- `default`: the project's default (oneDNN on, which `lib` asks for where TensorFlow would
  not, every instruction set the CPU has);
- `isa_avx2`: `ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN capped to AVX2 kernels);
- `onednn_off`: `TF_ENABLE_ONEDNN_OPTS=0` (TensorFlow's own CPU kernels);
- `op_determinism`: `tf.config.experimental.enable_op_determinism()` before training.

Each setting is trained `--repeats` times, the settings alternated within each repetition so
the machine's load falls on all alike. Reported: per setting the CV MAE, whether its repeats
were identical, the largest OOF difference from `default`, and the median wall time as a ratio
of `default`'s. On an AVX2-only CPU `default` and `isa_avx2` run the same kernels; on an
AVX-512 machine they need not.

    python -m bench.onednn_spread [--repeats 2] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from bench import common
from lib.chimpact.repeat_run import RUN_ID, prepare, train_in_child

SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "isa_avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "op_determinism": {"CAMTRAP_OP_DETERMINISM": "1"},
}


def _preds(oof_csv: str) -> list[float]:
    rows = oof_csv.strip().splitlines()[1:]
    return [float(r.split(",")[3]) for r in rows]  # video_id,time,fold,pred,distance


def measure(repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="onednn-") as tmp:
        data_dir, work = prepare(Path(tmp))
        got: dict[str, list[dict]] = {name: [] for name in SETTINGS}
        for r in range(repeats):
            order = list(SETTINGS) if r % 2 == 0 else list(reversed(SETTINGS))
            for name in order:
                runs = Path(tmp) / f"runs-{name}-{r}"
                got[name].append(train_in_child(data_dir, work, runs, SETTINGS[name]))
    base = _preds(got["default"][0]["oof"])
    base_time = statistics.median(g["seconds"] for g in got["default"])
    table = {}
    for name, results in got.items():
        preds = _preds(results[0]["oof"])
        table[name] = {
            "env": SETTINGS[name],
            "cv_mae": [round(g["cv_mae"], 6) for g in results],
            "repeats_identical": len({g["oof"] for g in results}) == 1,
            "max_oof_diff_vs_default": max(abs(a - b) for a, b in zip(preds, base, strict=True)),
            "seconds_median": round(statistics.median(g["seconds"] for g in results), 1),
            "time_ratio_vs_default": round(
                statistics.median(g["seconds"] for g in results) / base_time, 3
            ),
        }
    return {"machine": common.machine_info(), "run_id": RUN_ID, "repeats": repeats, **table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.onednn_spread", description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default="", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    result = measure(args.repeats)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
