"""Smoke test of the extraction benchmark: it runs (quick mode) and reports every key.

No timing is checked here: benchmarks measure, tests do not judge speed.
"""

import json

import pytest

from bench import extract as bench


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return bench.run(quick=True, cache=tmp_path_factory.mktemp("bench-extract"))


@pytest.mark.slow
def test_quick_benchmark_reports_every_key(quick):
    for codec in ("mp4", "avi"):
        section = quick[codec]
        for key in ("ours_s", "writeup_s", "floor_s", "ours_cpu_s", "writeup_over_ours"):
            assert isinstance(section[key], float) and section[key] > 0, (codec, key)
        assert section["videos"] == len(section["items"]) == bench.QUICK.items_per_codec
        for item in section["items"]:
            assert item["frames"] >= 1 and not item["fallback"]
            assert 0 < item["decoded_s"] <= item["one_pass_s"] + 1e-6
    assert quick["batch"]["videos"] == bench.QUICK.batch_items
    assert quick["scaling_2_over_1"] == quick["batch"]["scaling_2_over_1"] > 0
    assert quick["batch"]["machine_scaling_2_over_1"] > 0
    assert quick["batch"]["cores_per_worker"] > 0
    assert quick["machine"]["cores"] >= 1 and quick["machine"]["cpu"]
    assert quick["quick"] is True
    json.dumps(quick)  # the section is plain JSON
    rows = bench.table(quick)
    assert any(name.startswith("extract.mp4") for name, _ in rows)


@pytest.mark.slow
def test_saving_merges_with_other_benchmarks(quick, tmp_path):
    path = tmp_path / "latest.json"
    path.write_text(json.dumps({"pipeline": {"supply_over_demand": 4.0}}))
    bench.save(quick, path)
    saved = json.loads(path.read_text())
    assert saved["pipeline"] == {"supply_over_demand": 4.0}
    assert saved["extract"]["mp4"]["ours_s"] == quick["mp4"]["ours_s"]


def test_label_patterns_are_real_time_sets_within_the_clip():
    patterns, source = bench.label_patterns(20, seed=3, seconds=60)
    assert len(patterns) == 20 and source
    for times in patterns:
        assert times == sorted(times) and 0 <= times[0] and times[-1] <= 60
    again, _ = bench.label_patterns(20, seed=3, seconds=60)
    assert again == patterns  # seeded: every run times the same items
