"""One seed fixes the demo data (test_demo_*), the folds, the records and, on CPU, the
out-of-fold predictions of a training run."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from lib import folds, profiles
from lib.chimpact import records, train


def _shards(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.tfrec"))}


def test_same_seed_same_folds_other_seed_other_folds(tiny_extracted):
    data = tiny_extracted[0]
    a = folds.assign(data.train, n_splits=3, group_by="video", seed=5)
    b = folds.assign(data.train, n_splits=3, group_by="video", seed=5)
    c = folds.assign(data.train, n_splits=3, group_by="video", seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.slow
def test_same_seed_same_records_and_oof_predictions(tiny_extracted, tmp_path, monkeypatch):
    data, work, _ = tiny_extracted
    results = []
    for name in ("first", "second"):
        copy = tmp_path / name / "work"
        shutil.copytree(work / "extract", copy / "extract")
        shutil.copytree(work / "frames", copy / "frames")
        records.build(data, copy, n_splits=3, seed=11, shard_size=32, progress=False,
                      datasets=("down-s1",))  # fmt: skip
        monkeypatch.setenv("CAMTRAP_RUNS", str(tmp_path / name / "runs"))
        ctx = profiles.Context(
            track="chimpact", profile=profiles.get("quick"), data_dir=data.root, work=copy,
            seed=11, workers=1, is_demo=False,
        )  # fmt: skip
        run_id = "run-20211101-1526-down-a1p50-f7s1"  # a1 at p=0.5: augmentation draws matter
        train.train_run(run_id, ctx, strategy_kind="default", verbose=0)
        oof = pd.read_csv(train.run_dir(run_id) / "oof.csv")
        results.append((_shards(records.records_dir(copy)), oof))
    (shards_a, oof_a), (shards_b, oof_b) = results
    assert shards_a and shards_a == shards_b
    assert oof_a[["video_id", "time", "fold"]].equals(oof_b[["video_id", "time", "fold"]])
    np.testing.assert_allclose(oof_a["pred"], oof_b["pred"], atol=1e-3)
