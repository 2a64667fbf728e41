"""Inference of a run: one model reused across folds gives the per-fold models' predictions,
and `--shard i/N` runs whose union is the single-process `test_pred.csv`.

The run is a finished quick-profile run with fixed (seeded, untrained) fold weights: inference
does not care how weights were obtained, and this keeps the test to seconds.
"""

import shutil
from dataclasses import asdict

import keras
import numpy as np
import pandas as pd
import pytest

from lib import fileio, paths, profiles, training
from lib.chimpact import infer, records, runid
from lib.chimpact.model import ModelConfig, build_model
from lib.chimpact.train import load_fold_model, run_dir, weights_path
from lib.stages import Shard, parse_shard
from lib.tfrecord_io import record_count

RUN = "run-20211104-1815-down-a4p50-f7s1"
FOLDS = 3


@pytest.fixture(scope="module")
def finished_run(tiny_chimpact, tiny_extracted, tmp_path_factory):
    """CAMTRAP_WORK/RUNS under a temp folder; records of the tiny demo; 3 seeded fold models."""
    data, extracted_work, _ = tiny_extracted
    root = tmp_path_factory.mktemp("infer")
    mp = pytest.MonkeyPatch()
    mp.setenv("CAMTRAP_WORK", str(root / "work"))
    mp.setenv("CAMTRAP_RUNS", str(root / "runs"))
    work = paths.work_dir("chimpact", tiny_chimpact)  # where the CLI will look for it
    shutil.copytree(extracted_work / "frames", work / "frames")
    shutil.copytree(extracted_work / "extract", work / "extract")
    records.build(data, work, n_splits=FOLDS, seed=5, shard_size=8, progress=False)
    prof = profiles.get("quick")
    mcfg = ModelConfig(
        frames=7,
        image_size=prof.model.image_size,
        backbone=prof.model.backbone,
        backbone_weights=None,
        lstm_units=prof.model.lstm_units,
        dense_units=prof.model.dense_units,
    )
    config = {"model": asdict(mcfg), "batch_size": prof.batch_size, "n_splits": FOLDS}
    fileio.write_json(run_dir(RUN) / "config.json", config)
    fileio.write_json(run_dir(RUN) / "metrics.json", {"run_id": RUN})
    for k in range(FOLDS):
        keras.utils.set_random_seed(100 + k)
        build_model(mcfg).save_weights(weights_path(RUN, k))
    yield tiny_chimpact, work, mcfg, prof.batch_size
    mp.undo()


def test_one_reused_model_predicts_what_one_model_per_fold_predicts(finished_run):
    from lib.chimpact import input_pipeline

    _, work, mcfg, batch = finished_run
    got = infer.predict_run(RUN, work, strategy_kind="default")
    strategy = training.select_strategy("default")
    ds = input_pipeline.dataset(
        records.files(work, runid.parse(RUN).dataset, ["test"]), 7, mcfg.image_size, batch
    )
    n_test = sum(record_count(f) for f in records.files(work, "down-s1", ["test"]))
    assert len(got) == n_test > 8
    for k in range(FOLDS):
        ref = training.predict_keyed(load_fold_model(RUN, k, mcfg, strategy), ds, batch)
        ref = ref.rename(columns={"pred": "ref"})
        both = got.merge(ref, on=["video_id", "time"], validate="one_to_one")
        assert len(both) == n_test
        np.testing.assert_allclose(both[f"pred_fold{k}"], both["ref"], rtol=0, atol=1e-6)
    folds = got[[f"pred_fold{k}" for k in range(FOLDS)]]
    assert folds.std().min() > 0  # the rows really differ, so a mix-up would show
    assert (folds.T.std() > 0).all()  # and so do the folds
    np.testing.assert_allclose(got["pred"], folds.mean(axis=1), atol=1e-6)


def test_the_union_of_shards_is_the_single_process_output(finished_run):
    data_dir, work, _, _ = finished_run
    cli = ["--run", RUN, "--profile", "quick", "--data", str(data_dir), "--strategy", "default"]
    assert infer.main(cli) == 0
    single = pd.read_csv(run_dir(RUN) / "test_pred.csv")
    (run_dir(RUN) / "test_pred.csv").unlink()

    assert infer.main([*cli, "--shard", "0/2"]) == 0
    assert not (run_dir(RUN) / "test_pred.csv").exists()  # not before every shard is done
    with pytest.raises(FileNotFoundError, match="shard 1/2"):
        infer.merge_shards(RUN, 2, work)
    assert infer.main([*cli, "--shard", "1/2"]) == 0
    parts = [pd.read_csv(infer.shard_path(RUN, Shard(i, 2))) for i in range(2)]
    assert all(len(p) >= len(single) // 2 for p in parts)
    keys = [set(zip(p["video_id"], p["time"], strict=True)) for p in parts]
    assert not keys[0] & keys[1]
    merged = pd.read_csv(run_dir(RUN) / "test_pred.csv")
    pd.testing.assert_frame_equal(merged, single, check_exact=False, atol=1e-6, rtol=0)

    (run_dir(RUN) / "test_pred.csv").unlink()  # the explicit merge step gives the same file
    assert infer.main([*cli, "--merge", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(run_dir(RUN) / "test_pred.csv"), merged)


def test_shard_specs():
    assert parse_shard("1/4") == Shard(1, 4) and parse_shard(" 0 / 1 ") == Shard(0, 1)
    assert parse_shard("") == parse_shard(None) == Shard(0, 1)
    for bad in ("4/4", "-1/2", "1/0", "1", "a/b", "1/2/3"):
        with pytest.raises(ValueError):
            parse_shard(bad)
