"""The benchmark runner in quick mode: every section runs and the JSON has the promised keys.

Benchmarks, not tests: no timing is asserted, only that the numbers exist, are finite and
positive, and land in one atomically written file that keeps other sections' results. The
benchmarks are run as a user runs them, through `python -m bench.run`.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import bench_runs

from lib.chimpact.model_config import DOWNSAMPLING

ROOT = Path(__file__).resolve().parents[2]
OURS = ["pipeline", "train_step", "infer"]  # bench/extract.py belongs to the extraction work


def _positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    out.write_text(json.dumps({"earlier": {"kept": True}}))  # an earlier run's section
    data, stdout = bench_runs.quick(out, OURS)
    return data, out, stdout


def test_every_section_ran_and_the_file_says_on_what(results):
    data, out, _ = results
    assert data["earlier"] == {"kept": True}  # merged, not overwritten
    for name in OURS:
        assert "error" not in data[name], data[name].get("error")
        assert data[name]["quick"] is True
        assert data["runs"][name]["quick"] is True and data["runs"][name]["seconds"] >= 0
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["tensorflow"] and machine["date"]
    assert not list(out.parent.glob(".*.tmp"))  # atomic write left nothing behind


def test_pipeline_section_shape(results):
    p = results[0]["pipeline"]
    for key in (
        "supply_over_demand",
        "supply_over_demand_cold",
        "supply_over_demand_cached",
        "before_supply_over_demand",
        "demand_cpu_over_supply_cpu_cold",
    ):
        assert _positive(p[key]), key
    assert set(p["sizes"]) == {str(p["demo_image_size"]), "224"}
    for size in p["sizes"].values():
        assert {"ours", "before"} <= set(size["supply"])
        for s in size["supply"].values():
            assert _positive(s["cold_seq_per_s"]["median"]) and _positive(s["cold_cpu_ms_per_seq"])
            assert _positive(s["run_seq_per_s"]["median"])
        for m in size["demand"].values():
            assert _positive(m["seq_per_s"]["median"]) and _positive(m["first_step_s"])


def test_train_step_and_infer_sections_shape(results):
    t = results[0]["train_step"]
    assert t["default_form"] in ("folded", "time_distributed") and t["cases"]
    for case in t["cases"].values():
        for form in ("folded", "time_distributed"):
            assert _positive(case[form]["seq_per_s"]) and _positive(case[form]["first_step_s"])
    kernels = t["kernels"]
    names = [
        "tf_kernels_avx2.pool",
        *(f"{k}.{lay}" for k in ("native", "avx2") for lay in DOWNSAMPLING),
    ]
    for name in names:
        assert _positive(kernels[name]["step_s"]) and _positive(kernels[name]["cpu_ms_per_seq"])
    if "avx2" in results[0]["machine"]["cpu_flags"]:
        assert kernels["avx2.pool_first"]["isa"].startswith("Intel AVX2;")  # the cap took
        assert "convolution" in kernels["avx2.pool_first"]["isa"]
        assert "gemm" in kernels["tf_kernels_avx2.pool"]["isa"]  # TensorFlow's im2col + GEMM
    assert set(kernels["speedup_over_baseline"]) == set(names[1:])
    assert all(_positive(g["step"]) for g in kernels["speedup_over_baseline"].values())
    i = results[0]["infer"]
    assert _positive(i["run_total_s"]) and _positive(i["model_seq_per_s"]["median"])
    assert set(i["variants_total_s"]) == {"ours", "per_fold_models", "before"}
    assert i["max_abs_diff_reuse_vs_per_fold"] < 1e-5  # reuse gives the same predictions
    assert _positive(i["training_fold_overhead"]["fresh_s"]["median"])


def test_the_table_prints_every_section(results):
    text = results[2]
    assert "pipeline.supply_over_demand" in text and "infer.run_total_s" in text
    assert "train_step." in text and "machine:" in text


def test_run_bench_script_rejects_unknown_sections():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
