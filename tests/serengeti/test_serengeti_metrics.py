"""The metric equals sklearn's log loss averaged per class; priors, tables and clipping."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

from lib.serengeti import metrics
from lib.serengeti.schema import CLASSES


def _random(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 54)) < 0.1).astype(float)
    y[:, 0] = 0  # a class with no positive at all
    y[:, 1] = 1  # and one that is always there
    p = np.clip(rng.random((n, 54)) * 0.6 + 0.2 * y, 1e-6, 1 - 1e-6)
    return y, p


def test_mean_log_loss_equals_sklearn_per_class():
    y, p = _random()
    expected = np.mean([log_loss(y[:, j], p[:, j], labels=[0, 1]) for j in range(54)])
    assert metrics.mean_log_loss(y, p) == pytest.approx(expected, rel=1e-12)
    per_class = metrics.per_class_log_loss(y, p)
    assert per_class[0] == pytest.approx(log_loss(y[:, 0], p[:, 0], labels=[0, 1]), rel=1e-12)


def test_extreme_predictions_are_clipped_not_infinite():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.0], [1.0]])
    loss = metrics.mean_log_loss(y, p)
    assert np.isfinite(loss) and loss == pytest.approx(-np.log(metrics.EPS), rel=1e-4)
    assert metrics.mean_log_loss([1, 0], [1.0, 0.0]) == pytest.approx(0.0, abs=1e-12)


def test_input_errors():
    with pytest.raises(ValueError, match="shape"):
        metrics.mean_log_loss(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.mean_log_loss([0.5], [0.5])
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.mean_log_loss([1, 0], [np.nan, 0.5])


def _frame(values: np.ndarray, seq_ids) -> pd.DataFrame:
    frame = pd.DataFrame(values, columns=list(CLASSES))
    frame.insert(0, "seq_id", list(seq_ids))
    return frame


def test_score_joins_by_seq_id_not_row_order():
    y, p = _random(6)
    ids = [f"SER_S9#A{i:02d}#1#1" for i in range(6)]
    truth, pred = _frame(y, ids), _frame(p, ids)
    shuffled = pred.iloc[[3, 1, 5, 0, 2, 4]]
    extra = _frame(np.full((1, 54), 0.5), ["SER_S9#Z99#1#1"])
    assert metrics.score(truth, pd.concat([shuffled, extra])) == pytest.approx(
        metrics.mean_log_loss(y, p), rel=1e-12
    )
    with pytest.raises(ValueError, match="no prediction"):
        metrics.score(truth, pred.iloc[1:])
    with pytest.raises(ValueError, match="repeat"):
        metrics.score(truth, pd.concat([pred, pred.iloc[[0]]]))
    with pytest.raises(ValueError, match="lack column"):
        metrics.score(truth, pred.drop(columns="zebra"))


def test_priors_baseline_and_per_class_table():
    ids = [f"SER_S1#A01#1#{i}" for i in range(1, 5)]
    y = np.zeros((4, 54))
    y[:, CLASSES.index("empty")] = [1, 1, 1, 0]
    y[3, CLASSES.index("zebra")] = 1
    train = _frame(y, ids)
    priors = metrics.class_priors(train)
    assert priors["empty"] == 0.75 and priors["zebra"] == 0.25
    assert priors["aardvark"] == metrics.SUBMISSION_CLIP[0]  # unseen, but never 0
    base = metrics.baseline_log_loss(train, train)
    expected = metrics.mean_log_loss(y, np.tile(priors.to_numpy(), (4, 1)))
    assert base == pytest.approx(expected)
    table = metrics.per_class_table(train, metrics.prior_predictions(ids, priors))
    assert list(table.columns) == [
        "class", "positives", "prevalence", "log_loss", "contribution", "share"
    ]  # fmt: skip
    assert table.iloc[0]["class"] == "empty"  # the largest loss comes first
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["contribution"].sum() == pytest.approx(base)


def test_clip_predictions_keeps_type():
    arr = metrics.clip_predictions(np.array([0.0, 0.5, 1.0]))
    low, high = metrics.SUBMISSION_CLIP
    assert arr.tolist() == [low, 0.5, high]
    frame = _frame(np.ones((1, 54)), ["SER_S1#A01#1#1"])
    out = metrics.clip_predictions(frame)
    assert out["zebra"].iloc[0] == high and out["seq_id"].iloc[0] == "SER_S1#A01#1#1"
    assert frame["zebra"].iloc[0] == 1.0  # the input is not changed
