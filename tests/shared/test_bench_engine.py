"""Smoke test of the stage-engine benchmark: it runs (quick mode) as a section of `bench.run`
and reports every key. No timing is judged: the ratios only have to exist and be positive."""

import math

import pytest
from helpers import bench_runs


@pytest.mark.slow
def test_quick_engine_benchmark_reports_both_backends(tmp_path):
    out = tmp_path / "latest.json"
    saved, stdout = bench_runs.quick(out, ["engine"], work=tmp_path / "work")
    result = saved["engine"]
    assert "error" not in result, result.get("error")
    assert result["videos"] == 4 and result["reps"] == 1
    assert set(result["median_s"]) == {"pool2", "dask1", "dask2"}
    for key in ("dask_scaling_2_over_1", "machine_scaling_2_over_1", "dask_scaling_vs_machine"):
        assert math.isfinite(result[key]) and result[key] > 0, key
    assert math.isfinite(result["dask_overhead_vs_pool"])
    assert "engine.dask overhead vs local pool" in stdout
    # the generated videos are named for what they were made from, under the work root
    made = sorted(p.name for p in (tmp_path / "work" / "bench" / "engine").iterdir())
    assert made == ["scratch", "seed3-n4-d8-o0.5"]
