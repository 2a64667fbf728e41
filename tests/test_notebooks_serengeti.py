"""Papermill smoke run of the serengeti notebooks 01-06 on a tiny demo, quick profile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "serengeti"


@pytest.mark.slow
def test_quick_profile_runs_every_serengeti_notebook(tiny_serengeti, tmp_path):
    env = {
        **os.environ,
        "CAMTRAP_WORK": str(tmp_path / "work"),
        "CAMTRAP_RUNS": str(tmp_path / "runs"),
        "CAMTRAP_SUBMISSIONS": str(tmp_path / "submissions"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    params = ["-p", "profile", "quick", "-p", "data_dir", str(tiny_serengeti), "-p", "workers", "2"]

    def execute(name: str, out: Path, *extra: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "papermill", str(NB / name), str(out), "--cwd", str(NB),
             "--kernel", "python3", "--no-progress-bar", *params, *extra],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-4000:]}"

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
    fmt = pd.read_csv(tiny_serengeti / "submission_format.csv")
    sub = pd.read_csv(summary["submission"])
    assert list(sub.columns) == list(fmt.columns)
    assert sub["seq_id"].tolist() == fmt["seq_id"].tolist()
    values = sub.drop(columns="seq_id").to_numpy()
    assert not pd.isna(values).any() and values.min() >= 1e-5 and values.max() <= 1 - 1e-5
    board = pd.read_csv(tmp_path / "runs" / "serengeti" / "leaderboard.csv")
    assert set(board["run_id"]) == set(run_ids) and board["cv_logloss"].notna().all()
    assert board["writeup_empty_logloss"].notna().any()  # the resize-fix row mirrors the write-up
    for report in reports.glob("*.ipynb"):
        assert "Traceback" not in report.read_text()
