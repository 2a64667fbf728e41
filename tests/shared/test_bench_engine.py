"""Smoke test of the stage-engine benchmark: it runs (quick mode) as a section of `bench.run`
and reports every key. No timing is judged: the ratios only have to exist and be positive."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_engine_benchmark_reports_both_backends(tmp_path):
    out = tmp_path / "latest.json"
    env = {**os.environ, "CAMTRAP_WORK": str(tmp_path / "work")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--only", "engine", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())["engine"]
    assert "error" not in result, result.get("error")
    assert result["videos"] == 4 and result["reps"] == 1
    assert set(result["median_s"]) == {"pool2", "dask1", "dask2"}
    for key in ("dask_scaling_2_over_1", "machine_scaling_2_over_1", "dask_scaling_vs_machine"):
        assert math.isfinite(result[key]) and result[key] > 0, key
    assert math.isfinite(result["dask_overhead_vs_pool"])
    assert "engine.dask overhead vs local pool" in proc.stdout
    # the generated videos are named for what they were made from, under the work root
    made = sorted(p.name for p in (tmp_path / "work" / "bench" / "engine").iterdir())
    assert made == ["scratch", "seed3-n4-d8-o0.5"]
