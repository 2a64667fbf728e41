"""The competition metric: mean over the 54 classes of the binary log loss of each class.

Each class is scored as its own yes/no question over all sequences, then the 54 losses are
averaged with equal weight - so a rare class counts as much as `empty`, and a confident miss on
a rare class is expensive. Two clips, for two different reasons:

- `EPS` (1e-15) inside the metric keeps log(0) finite, as the scorer's (and sklearn's former
  default) did. sklearn 1.9 clips at machine epsilon (2.2e-16) instead; the two agree for every
  prediction in [1e-15, 1 - 1e-15] (tested).
- `SUBMISSION_CLIP` ([1e-5, 1 - 1e-5]) is applied to predictions we write: it costs at most
  -log(1 - 1e-5) = 1e-5 per correct entry and caps a confident miss at -log(1e-5) = 11.5
  instead of 34.5 - a cheap insurance for 54 classes, most of them rare.

Tables are joined on `seq_id`, never aligned by row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.serengeti.schema import CLASSES, KEY

EPS = 1e-15
SUBMISSION_CLIP = (1e-5, 1.0 - 1e-5)


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if y.ndim == 1:  # one class: a column
        y = y[:, None]
        p = p.reshape(-1, 1) if p.ndim == 1 else p
    if y.shape != p.shape:
        raise ValueError(f"labels have shape {y.shape} but predictions {p.shape}")
    if y.shape[0] == 0:
        raise ValueError("no rows to score")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(p).all():
        raise ValueError(f"{int((~np.isfinite(p)).sum())} predictions are NaN or infinite")
    return y, p


def per_class_log_loss(y_true, y_pred, eps: float = EPS) -> np.ndarray:
    """Binary log loss of each column: (n, k) labels and probabilities -> (k,) losses."""
    y, p = _arrays(y_true, y_pred)
    p = np.clip(p, eps, 1.0 - eps)
    return -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).mean(axis=0)


def mean_log_loss(y_true, y_pred, eps: float = EPS) -> float:
    """The competition metric: mean over columns of the per-class binary log loss."""
    return float(per_class_log_loss(y_true, y_pred, eps).mean())


def clip_predictions(pred, low: float = SUBMISSION_CLIP[0], high: float = SUBMISSION_CLIP[1]):
    """Predictions clipped to [low, high] (same type as given: array or DataFrame of classes)."""
    if isinstance(pred, pd.DataFrame):
        out = pred.copy()
        cols = [c for c in CLASSES if c in out.columns]
        out[cols] = out[cols].clip(low, high)
        return out
    return np.clip(np.asarray(pred, dtype=np.float64), low, high)


def align(truth: pd.DataFrame, pred: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(labels, predictions) as (n, 54) arrays, predictions joined to the labels by seq_id.

    Every labelled sequence needs exactly one prediction row; extra prediction rows are ignored.
    """
    for name, frame in (("labels", truth), ("predictions", pred)):
        missing = [c for c in (KEY, *CLASSES) if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lack column(s) {missing[:5]} ({len(missing)} in all)")
    dup = pred[KEY].duplicated()
    if dup.any():
        raise ValueError(f"predictions repeat seq_id(s), e.g. {pred.loc[dup, KEY].iloc[0]!r}")
    joined = truth[[KEY, *CLASSES]].merge(
        pred[[KEY, *CLASSES]], on=KEY, how="left", suffixes=("", "_pred"), validate="one_to_one"
    )
    p = joined[[f"{c}_pred" for c in CLASSES]].to_numpy(np.float64)
    absent = np.isnan(p).all(axis=1)
    if absent.any():
        raise ValueError(
            f"{int(absent.sum())} labelled sequence(s) have no prediction, e.g. "
            f"{joined.loc[absent, KEY].iloc[0]!r}"
        )
    return joined[list(CLASSES)].to_numpy(np.float64), p


def score(truth: pd.DataFrame, pred: pd.DataFrame, eps: float = EPS) -> float:
    """Competition metric of a prediction table against a labels table (joined by seq_id)."""
    return mean_log_loss(*align(truth, pred), eps=eps)


def per_class_table(truth: pd.DataFrame, pred: pd.DataFrame, eps: float = EPS) -> pd.DataFrame:
    """One row per class: positives, prevalence, log_loss and its share of the mean - where the
    score is lost (the write-up's reason to work on `empty`). Sorted by log loss, largest first."""
    y, p = align(truth, pred)
    losses = per_class_log_loss(y, p, eps)
    table = pd.DataFrame(
        {
            "class": list(CLASSES),
            "positives": y.sum(axis=0).astype(np.int64),
            "prevalence": y.mean(axis=0),
            "log_loss": losses,
            "contribution": losses / len(CLASSES),  # its part of the mean over classes
        }
    )
    total = losses.sum()
    table["share"] = losses / total if total > 0 else 0.0
    return table.sort_values("log_loss", ascending=False, kind="stable").reset_index(drop=True)


def class_priors(labels: pd.DataFrame, clip: tuple[float, float] = SUBMISSION_CLIP) -> pd.Series:
    """Share of sequences with each class (index CLASSES), clipped so that a class never seen
    in training does not get probability 0."""
    missing = [c for c in CLASSES if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lack class column(s) {missing[:5]}")
    if len(labels) == 0:
        raise ValueError("no labelled sequences to take class frequencies from")
    freq = labels[list(CLASSES)].astype(np.float64).mean(axis=0)
    return freq.clip(*clip).rename("prior")


def prior_predictions(seq_ids, priors: pd.Series) -> pd.DataFrame:
    """A prediction table giving every sequence the class priors (the baseline)."""
    seq_ids = list(seq_ids)
    values = np.tile(priors.reindex(list(CLASSES)).to_numpy(np.float64), (len(seq_ids), 1))
    frame = pd.DataFrame(values, columns=list(CLASSES))
    frame.insert(0, KEY, seq_ids)
    return frame


def baseline_log_loss(train_labels: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Metric of the prior-only model: class frequencies of `train_labels` scored on `truth`."""
    return score(truth, prior_predictions(truth[KEY], class_priors(train_labels)))
