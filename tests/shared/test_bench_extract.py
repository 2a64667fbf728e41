"""Smoke test of the extraction benchmark: it runs (quick mode) and reports every key.

No timing is checked here: benchmarks measure, tests do not judge speed. It runs as a user runs
it, `python -m bench.run --quick --only extract`, into a results file that already holds another
section (kept) and with its generated videos under a temporary work folder.
"""

import json

import pytest
from helpers import bench_runs


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench-extract")
    out = tmp / "latest.json"
    out.write_text(json.dumps({"pipeline": {"supply_over_demand": 4.0}}))
    return bench_runs.quick(out, ["extract"], work=tmp / "work")


@pytest.mark.slow
def test_quick_benchmark_reports_every_key(quick):
    saved, _ = quick
    result = saved["extract"]
    settings = result["settings"]
    for codec in ("mp4", "avi"):
        section = result[codec]
        for key in ("ours_s", "writeup_s", "floor_s", "ours_cpu_s", "writeup_over_ours"):
            assert isinstance(section[key], float) and section[key] > 0, (codec, key)
        assert section["videos"] == len(section["items"]) == settings["items_per_codec"]
        for item in section["items"]:
            assert item["frames"] >= 1 and not item["fallback"]
            assert 0 < item["decoded_s"] <= item["one_pass_s"] + 1e-6
    assert result["batch"]["videos"] == settings["batch_items"]
    assert result["scaling_2_over_1"] == result["batch"]["scaling_2_over_1"] > 0
    assert result["batch"]["machine_scaling_2_over_1"] > 0
    assert result["batch"]["cores_per_worker"] > 0
    assert result["machine"]["cores"] >= 1 and result["machine"]["cpu"]
    assert result["quick"] is True and settings["labels"]


@pytest.mark.slow
def test_the_table_and_the_merge(quick):
    saved, stdout = quick
    assert "extract.mp4" in stdout and "extract.avi" in stdout
    assert saved["pipeline"] == {"supply_over_demand": 4.0}  # another section's result kept
