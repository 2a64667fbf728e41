"""One small chimpact training run, trained in a fresh Python process on a tiny seeded demo.

Settings TensorFlow reads when it starts (oneDNN's, op determinism) can only be compared across
processes, so the benchmark of those settings and the test that a run repeats exactly under load
both train through `train_in_child`: same data, folds, records and seed every time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

RUN_ID = "run-20211101-1526-down-a1p50-f7s1"  # a1 at p=0.5: augmentation draws matter
SEED = 11
TINY = {"seed": 7, "videos": 10, "max_duration": 14, "overexposed_share": 0.3}

_CHILD = """
import json, os, sys
from pathlib import Path
if os.environ.get("CAMTRAP_OP_DETERMINISM") == "1":
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
from lib import profiles
from lib.chimpact import train
data, work, run_id, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = profiles.Context(track="chimpact", profile=profiles.get("quick"), data_dir=Path(data),
                       work=Path(work), seed=seed, workers=1, is_demo=False)
metrics = train.train_run(run_id, ctx, strategy_kind="default", verbose=0)
print("METRICS " + json.dumps({"cv_mae": metrics["cv_mae"]}))
"""


def prepare(root: Path, n_splits: int = 3) -> tuple[Path, Path]:
    """Tiny demo data, its stage 02 and its down-s1 records under `root`: (data, work)."""
    from lib.chimpact import extract, records, schema
    from lib.demo import chimpact

    data_dir, work = root / "data", root / "work"
    chimpact.generate(data_dir, progress=False, workers=2, **TINY)
    data = schema.load(data_dir)
    extract.run(data, work, workers=2, progress=False)
    records.build(
        data, work, n_splits=n_splits, seed=SEED, shard_size=32, progress=False,
        datasets=("down-s1",),
    )  # fmt: skip
    return data_dir, work


def train_in_child(data_dir: Path, work: Path, runs: Path, env: dict[str, str]) -> dict:
    """Train RUN_ID in a fresh Python process with `env` added; cv_mae, OOF rows, seconds."""
    full = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CAMTRAP_RUNS": str(runs), **env}
    root = Path(__file__).resolve().parents[2]
    full["PYTHONPATH"] = f"{root}{os.pathsep}{full.get('PYTHONPATH', '')}"
    args = [sys.executable, "-c", textwrap.dedent(_CHILD), str(data_dir), str(work), RUN_ID]
    started = time.perf_counter()
    done = subprocess.run(
        [*args, str(SEED)], env=full, capture_output=True, text=True, check=False, cwd=root
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"training child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("METRICS "))
    oof_path = runs / "chimpact" / RUN_ID / "oof.csv"
    return {**json.loads(line[8:]), "oof": oof_path.read_text(), "seconds": seconds}
