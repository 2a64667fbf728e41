"""One seed fixes the Serengeti demo data (test_demo_serengeti), the extracted arrays and
records, the training input stream, and - on CPU - the validation predictions of a short
training run in two separate processes, and of a run killed after its first epoch and resumed.

Why separate processes: a second run in the same process would share TensorFlow's global state
(op caches, the seed counter), which can hide or fake a difference; two fresh interpreters are
what two runs of `run_all.sh` are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.procs import kill_when

from lib import profiles, runs
from lib.serengeti import extract, input_pipeline, records, schema
from lib.serengeti.schema import KEY

PROFILE = "quick"


def _files(root: Path, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in suffixes
    }


@pytest.fixture(scope="module")
def quick_work(tiny_serengeti, tmp_path_factory):
    """The tiny demo extracted at the quick profile's model size, with records: (data, work)."""
    size = tuple(profiles.get(PROFILE, "serengeti").image_size)
    data = schema.load(tiny_serengeti)
    work = tmp_path_factory.mktemp("serengeti-det")
    extract.run(data, work, extract.ExtractConfig(image_size=size), workers=1, progress=False)
    records.build(data, work, shard_size=32)
    return data, work


def test_same_inputs_same_arrays_and_records(quick_work, tmp_path):
    data, work = quick_work
    size = tuple(profiles.get(PROFILE, "serengeti").image_size)
    other = tmp_path / "again"
    extract.run(data, other, extract.ExtractConfig(image_size=size), workers=2, progress=False)
    records.build(data, other, shard_size=32)
    assert _files(work / "extract" / "arrays", (".npz",)) == _files(
        other / "extract" / "arrays", (".npz",)
    )
    shards = _files(records.records_dir(work), (".tfrec",))
    assert shards and shards == _files(records.records_dir(other), (".tfrec",))


def _epochs(files, seed: int, n: int = 2) -> list[list[tuple[str, bool]]]:
    """(seq_id, flipped?) in training order for `n` epochs of one iterator (as fit reads it)."""
    plain = {
        k[KEY].decode(): x
        for x, _, k in input_pipeline.dataset(files, "background", (48, 64), 8)
        .unbatch()
        .as_numpy_iterator()
    }
    ds = input_pipeline.dataset(files, "background", (48, 64), 8, training=True, seed=seed)
    out = []
    for _ in range(n):  # a dataset iterated again reshuffles and redraws, like Keras' epochs
        epoch = []
        for x, _, k in ds.unbatch().as_numpy_iterator():
            seq = k[KEY].decode()
            epoch.append((seq, not np.array_equal(x, plain[seq])))
        out.append(epoch)
    return out


def test_training_stream_is_a_function_of_the_seed(quick_work):
    _, work = quick_work
    files = records.files(work, "sequences", "fit")
    a, b, c = _epochs(files, 5), _epochs(files, 5), _epochs(files, 6)
    assert a == b  # order and flips, epoch by epoch
    assert a != c
    assert a[0] != a[1]  # each epoch has its own order and flips
    flips = [f for epoch in a for _, f in epoch]
    assert 0 < sum(flips) < len(flips)


CHILD = """
import sys
from pathlib import Path
from lib import profiles
from lib.serengeti import train
data_dir, work, run_id = sys.argv[1:4]
ctx = profiles.Context(
    track="serengeti", profile=profiles.get("quick", "serengeti"), data_dir=Path(data_dir),
    work=Path(work), seed=11, workers=1, is_demo=False,
)
train.train_run(run_id, ctx, strategy_kind="default", verbose=0)
"""


def _child(data_dir: Path, work: Path, runs_root: Path, run_id: str) -> tuple[list, dict]:
    env = {**os.environ, "CAMTRAP_RUNS": str(runs_root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [sys.executable, "-c", textwrap.dedent(CHILD), str(data_dir), str(work), run_id]
    return args, env


def train_in_child(
    data_dir: Path, work: Path, runs_root: Path, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train `run_id` in a fresh interpreter; returns its val_pred.csv and history.csv."""
    args, env = _child(data_dir, work, runs_root, run_id)
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = runs_root / "serengeti" / run_id
    return pd.read_csv(out / "val_pred.csv", dtype={KEY: str}), pd.read_csv(
        out / "train" / "history.csv"
    )


KEYS = [KEY, "image_index", "view", "part"]


def assert_same_training(a: tuple, b: tuple) -> None:
    """Same per-epoch losses (each epoch's batches and flips matter) and same predictions of
    the best weights, within 1e-5."""
    (pred_a, hist_a), (pred_b, hist_b) = a, b
    assert list(hist_a["epoch"]) == list(hist_b["epoch"])
    for col in ("loss", "val_loss"):
        np.testing.assert_allclose(hist_a[col], hist_b[col], rtol=0, atol=1e-5, err_msg=col)
    assert len(pred_a) > 0 and pred_a[KEYS].equals(pred_b[KEYS])
    np.testing.assert_allclose(
        pred_a.drop(columns=KEYS).to_numpy(),
        pred_b.drop(columns=KEYS).to_numpy(),
        rtol=0,
        atol=1e-5,
    )


RUN_ID = runs.planned("serengeti", PROFILE)[0]  # the single-image model, trained from scratch


@pytest.fixture(scope="module")
def uninterrupted(quick_work, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    data, work = quick_work
    return train_in_child(data.root, work, tmp_path_factory.mktemp("runs-a"), RUN_ID)


@pytest.mark.slow
def test_same_seed_same_validation_predictions_in_two_processes(
    quick_work, uninterrupted, tmp_path
):
    data, work = quick_work
    assert_same_training(uninterrupted, train_in_child(data.root, work, tmp_path, RUN_ID))


def _epochs_backed_up(backup) -> int:
    """Read-only look at the child's backup (tidying it would race with the child)."""
    try:
        return int(json.loads((backup / "state" / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_training_killed_after_an_epoch_resumes_to_the_same_predictions(
    quick_work, uninterrupted, tmp_path
):
    """SIGKILL once the first epoch's backup is in place; the rerun trains only the remaining
    epochs, on the batches an uninterrupted run would see, and predicts the same."""
    assert profiles.get(PROFILE, "serengeti").epochs >= 2
    data, work = quick_work
    fold = tmp_path / "serengeti" / RUN_ID / "train"
    args, env = _child(data.root, work, tmp_path, RUN_ID)
    kill_when(args, lambda: _epochs_backed_up(fold / "backup") >= 1, timeout=300, env=env)
    assert not (fold / "done.json").exists()
    resumed = train_in_child(data.root, work, tmp_path, RUN_ID)
    assert list(resumed[1]["epoch"]) == list(range(profiles.get(PROFILE, "serengeti").epochs))
    assert_same_training(uninterrupted, resumed)
