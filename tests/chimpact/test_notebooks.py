"""Papermill smoke run of the chimpact notebooks 01-07 on a tiny demo, quick profile, and the
exported bundle predicting the same test rows from the command line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import report_checks


@pytest.mark.slow
def test_quick_profile_runs_every_chimpact_notebook(tiny_chimpact, tmp_path, notebook_runner):
    nb = notebook_runner("chimpact", tiny_chimpact)
    env, execute = nb.env, nb.execute

    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("01_eda.ipynb", "02_extract.ipynb", "03_tfrecords.ipynb"):
        execute(name, reports / name)
    from lib import runs

    run_ids = runs.planned("chimpact", "quick")
    assert len(run_ids) == 2 and {r.split("-")[3] for r in run_ids} == {"down", "full"}
    # run_all.sh trains both runs side by side, two TensorFlow threads each
    train = subprocess.run(
        ["./run_all.sh", "--track", "chimpact", "--profile", "quick", "--data", str(tiny_chimpact),
         "--only", "04", "--train-jobs", "2"],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "CAMTRAP_REPORTS": str(tmp_path / "run_all")},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-4000:]
    assert "2 runs, 2 at a time" in train.stdout and "all 2 runs done" in train.stdout
    for run_id in run_ids:
        out = tmp_path / "runs" / "chimpact" / run_id
        assert "Epoch 2/2" in (out / "04_train.ipynb").read_text()
        log = (out / "04_train.log").read_text()  # papermill's own output, kept per run
        assert f"-p run_id {run_id} ->" in log and "done in" in log
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["run_id"] == run_id and metrics["cv_mae"] > 0
        assert len(metrics["fold_mae"]) == 3
        oof = pd.read_csv(out / "oof.csv")
        assert not oof.duplicated(["video_id", "time"]).any() and oof["pred"].notna().all()
        config = json.loads((out / "config.json").read_text())
        assert config["profile"] == "quick" and config["git_commit"] and config["threads"] == 2
    execute("05_infer.ipynb", reports / "05_infer.ipynb")
    execute("06_ensemble.ipynb", reports / "06_ensemble.ipynb")

    summary = json.loads((tmp_path / "runs" / "chimpact" / "summary.json").read_text())
    required = [
        "baseline_mae", "best_single_cv_mae", "ensemble_cv_mae", "ensemble_rounded_cv_mae",
        "overexposed_mae_full", "overexposed_mae_down", "demo_test_mae", "submission",
    ]  # fmt: skip
    for key in required:
        assert summary[key] is not None, key
    assert summary["ensemble_cv_mae"] <= summary["best_single_cv_mae"] + 1e-9
    fmt = pd.read_csv(tiny_chimpact / "submission_format.csv")
    sub = pd.read_csv(summary["submission"])
    assert list(sub.columns) == ["video_id", "time", "distance"]
    assert sub[["video_id", "time"]].equals(fmt[["video_id", "time"]])
    assert sub["distance"].notna().all()
    board = pd.read_csv(tmp_path / "runs" / "chimpact" / "leaderboard.csv")
    runs_board = board[board["source"] != "boxes"]
    assert set(runs_board["run_id"]) == set(run_ids) and runs_board["writeup_cv_mae"].notna().all()
    # the detector-box member is in the board and the final blend; the write-up's blend is not
    # worse than its best run, and the final blend not worse than the write-up's
    assert list(board.loc[board["source"] == "boxes", "run_id"]) == ["boxes-lgbm"]
    assert "boxes-lgbm" in summary["ensemble_members"]
    assert "boxes-lgbm" not in summary["writeup_ensemble_weights"]
    assert summary["writeup_ensemble_cv_mae"] <= runs_board["cv_mae"].min() + 1e-9
    assert summary["ensemble_cv_mae"] <= summary["writeup_ensemble_cv_mae"] + 1e-9
    # the exported bundle, copied away from runs/, predicts what 05_infer + 06 did
    bundle = shutil.copytree(tmp_path / "runs" / "chimpact" / "bundle", tmp_path / "moved")
    out = tmp_path / "cli.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "lib.predict", "chimpact", "--bundle", str(bundle), "--videos",
         str(tiny_chimpact / "test_videos"), "--times", str(tiny_chimpact / "test_metadata.csv"),
         "--downsampled", str(tiny_chimpact / "test_videos_downsampled"), "--no-snap",
         "--out", str(out), "--quiet"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    cli = pd.read_csv(out).assign(video_id=lambda f: f["filepath"].map(lambda p: Path(p).name))
    expected = 0.0
    for run_id, weight in summary["writeup_ensemble_weights"].items():  # the bundle's blend
        pred = pd.read_csv(tmp_path / "runs" / "chimpact" / run_id / "test_pred.csv")
        expected = expected + weight * fmt[["video_id", "time"]].merge(pred)["pred"].to_numpy()
    assert cli[["video_id", "time"]].equals(fmt[["video_id", "time"]])
    np.testing.assert_allclose(cli["distance"], expected, atol=1e-4)
    execute("07_predict.ipynb", reports / "07_predict.ipynb", "-p", "fresh_videos", "4")
    assert (tmp_path / "runs" / "chimpact" / "predictions" / "07_predict.csv").is_file()
    # the prediction demo's scores: per animal (with detections) beside per second
    text = (reports / "07_predict.ipynb").read_text()
    assert "per animal (with detections)" in text and "per second (labelled seconds)" in text
    assert "seconds_with_two_animals" in text
    for report in reports.glob("*.ipynb"):
        assert "Traceback" not in report.read_text()
    # what run_all.sh makes of the run: HTML reports, reports/index.html, docs/results-chimpact.md
    report_checks.check_reports(tmp_path, "chimpact", reports, env)
    report_checks.check_results_page(tmp_path, "chimpact", env)


@pytest.mark.slow
def test_run_all_names_each_training_run_that_failed_and_fails(tmp_path, notebook_runner):
    """Side by side, a failing run is named with its log, and run_all.sh stops with 1."""
    from lib import runs

    data = tmp_path / "empty"
    data.mkdir()  # no CSVs: 04_train stops on its first cell, naming what is missing
    env = {**notebook_runner("chimpact", data).env, "CAMTRAP_REPORTS": str(tmp_path / "reports")}
    proc = subprocess.run(
        ["./run_all.sh", "--track", "chimpact", "--profile", "quick", "--data", str(data),
         "--only", "04", "--train-jobs", "2"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "all 2 runs done" not in proc.stdout
    for run_id in runs.planned("chimpact", "quick"):
        log = tmp_path / "runs" / "chimpact" / run_id / "04_train.log"
        assert f"{run_id} failed; see {log}" in proc.stderr
        assert "04_train.ipynb failed; the partly executed notebook is" in log.read_text()
