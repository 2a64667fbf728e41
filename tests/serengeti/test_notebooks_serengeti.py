"""Papermill smoke run of the serengeti notebooks 01-07 on a tiny demo, quick profile, and the
exported bundle predicting the same test sequences from the command line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import report_checks

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_profile_runs_every_serengeti_notebook(tiny_serengeti, tmp_path, notebook_runner):
    nb = notebook_runner("serengeti", tiny_serengeti)
    env, execute = nb.env, nb.execute

    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("01_eda.ipynb", "02_extract.ipynb", "03_tfrecords.ipynb"):
        execute(name, reports / name)
    from lib import runs

    run_ids = runs.planned("serengeti", "quick")
    assert [r.split("-")[3] for r in run_ids] == ["single", "background", "twostream"]
    for run_id in run_ids:
        out = tmp_path / "runs" / "serengeti" / run_id
        out.mkdir(parents=True)
        execute("04_train.ipynb", out / "04_train.ipynb", "-p", "run_id", run_id)
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["run_id"] == run_id and metrics["cv_logloss"] > 0
        config = json.loads((out / "config.json").read_text())
        assert config["profile"] == "quick" and config["git_commit"]
        assert set(config["parents"]) == set(
            {"single": [], "background": ["single"], "twostream": ["single", "background"]}[
                run_id.split("-")[3]
            ]
        )
        assert (out / f"{run_id}-best.weights.h5").is_file()
        assert (out / "train" / "history.csv").is_file()
        val = pd.read_csv(out / "val_pred.csv")
        assert set(val["view"]) == {"orig", "flip"} and set(val["part"]) == {"s9", "s10"}
    execute("05_infer.ipynb", reports / "05_infer.ipynb")
    execute("06_ensemble.ipynb", reports / "06_ensemble.ipynb")

    summary = json.loads((tmp_path / "runs" / "serengeti" / "summary.json").read_text())
    required = [
        "baseline_logloss", "ladder", "empty_logloss_single", "empty_logloss_background",
        "stacked_logloss", "stacked_neighbor_logloss", "demo_test_logloss", "submission",
    ]  # fmt: skip
    for key in required:
        assert summary[key] is not None, key
    steps = [r["step"] for r in summary["ladder"]]
    assert steps[:9] == [
        "softmax control", "MobileNetV2 + sigmoid", "InceptionResNetV2", "resize fix",
        "background", "boosting", "two-stream", "second booster", "flip TTA",
    ]  # fmt: skip
    assert steps[9:] == ["neighbour cameras", "calibrated rare classes"]
    assert summary["stacked_logloss_writeup"] is not None
    assert set(summary["fallback_calibration"]) == {"a", "b"}
    fmt = pd.read_csv(tiny_serengeti / "submission_format.csv")
    sub = pd.read_csv(summary["submission"])
    assert list(sub.columns) == list(fmt.columns)
    assert sub["seq_id"].tolist() == fmt["seq_id"].tolist()
    values = sub.drop(columns="seq_id").to_numpy()
    assert not pd.isna(values).any() and values.min() >= 1e-5 and values.max() <= 1 - 1e-5
    board = pd.read_csv(tmp_path / "runs" / "serengeti" / "leaderboard.csv")
    assert set(board["run_id"]) == set(run_ids) and board["cv_logloss"].notna().all()
    assert board["writeup_empty_logloss"].notna().any()  # the resize-fix row mirrors the write-up
    # the exported bundle, copied away from runs/ and work/, predicts what 05_infer + 06 did
    from lib.serengeti.schema import CLASSES

    bundle = shutil.copytree(tmp_path / "runs" / "serengeti" / "bundle", tmp_path / "moved")
    assert summary["stack_dir"] and (bundle / "stack" / "stack.json").is_file()
    elsewhere = {k: str(tmp_path / "nowhere") for k in ("CAMTRAP_RUNS", "CAMTRAP_WORK")}
    out = tmp_path / "cli.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "lib.predict", "serengeti", "--bundle", str(bundle), "--images",
         str(tiny_serengeti), "--metadata", str(tiny_serengeti / "test_metadata.csv"),
         "--out", str(out), "--json", str(tmp_path / "cli.json"), "--quiet"],
        env={**env, **elsewhere}, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    cli = pd.read_csv(out)
    assert sorted(cli["seq_id"]) == sorted(fmt["seq_id"])
    joined = sub.merge(cli, on="seq_id", suffixes=("_sub", ""), validate="one_to_one")
    np.testing.assert_allclose(
        joined[list(CLASSES)].to_numpy(),
        joined[[f"{c}_sub" for c in CLASSES]].to_numpy(),
        rtol=0,
        atol=1e-4,
    )
    # the same test images were unreadable for stage 02 and for the CLI
    (manifest,) = (tmp_path / "work" / "serengeti").glob("*/extract/manifest.csv")
    manifest = pd.read_csv(manifest)
    bad = manifest[(manifest["split"] == "test") & ~manifest["status"].isin(["ok", "not_used"])]
    errors = pd.read_csv(tmp_path / "cli.errors.csv")
    assert sorted(errors["file"]) == sorted(bad["file_name"]) and len(errors) > 0
    assert json.loads((tmp_path / "cli.json").read_text())["images"]
    execute("07_predict.ipynb", reports / "07_predict.ipynb", "-p", "fresh_sequences", "24")
    predictions = tmp_path / "runs" / "serengeti" / "predictions"
    assert pd.read_csv(predictions / "07_predict.csv")["top_class"].isin(CLASSES).all()
    assert (predictions / "07_predict.json").is_file()
    for report in reports.glob("*.ipynb"):
        assert "Traceback" not in report.read_text()
    # what run_all.sh makes of the run: HTML reports, reports/index.html, docs/results-serengeti.md
    report_checks.check_reports(tmp_path, "serengeti", reports, env)
    report_checks.check_results_page(tmp_path, "serengeti", env)
