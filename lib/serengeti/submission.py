"""Building and checking a Serengeti submission against `submission_format.csv`.

The scorer matches rows to the format, so a submission must have exactly its columns (seq_id +
the 54 classes in order), its seq_ids in its order, and a probability in [0, 1] in every cell.
Predictions are joined onto the format by seq_id, never by read order, and clipped
(lib.serengeti.metrics.SUBMISSION_CLIP) before they are written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lib.fileio import write_csv
from lib.serengeti.metrics import clip_predictions
from lib.serengeti.schema import CLASSES, KEY, SUBMISSION_COLUMNS


class SubmissionError(ValueError):
    """A submission the scorer would reject or mis-score; the message says what to fix."""


def validate(sub: pd.DataFrame, fmt: pd.DataFrame) -> None:
    """Raise SubmissionError unless `sub` has the format's columns, rows and order, and every
    class value is a number in [0, 1]."""
    if list(sub.columns) != SUBMISSION_COLUMNS:
        extra = [c for c in sub.columns if c not in SUBMISSION_COLUMNS]
        missing = [c for c in SUBMISSION_COLUMNS if c not in sub.columns]
        what = (
            f"missing {missing[:5]}, unexpected {extra[:5]}"
            if missing or extra
            else "the right names in the wrong order"
        )
        raise SubmissionError(
            "submission columns must be exactly seq_id + the 54 classes in submission order; "
            + what
        )
    if len(sub) != len(fmt):
        raise SubmissionError(
            f"submission has {len(sub)} rows but the format has {len(fmt)}; build it with "
            "submission.make() so every format row gets exactly one prediction"
        )
    got = sub[KEY].astype(str).to_numpy()
    want = fmt[KEY].astype(str).to_numpy()
    diff = got != want
    if diff.any():
        row = int(np.flatnonzero(diff)[0])
        problem = (
            "has the format's seq_ids in a different order"
            if set(got) == set(want)
            else f"has {len(set(got) - set(want))} seq_id(s) not in the format"
        )
        raise SubmissionError(
            f"submission {problem}: first difference at row {row} (CSV line {row + 2}), "
            f"{got[row]!r} where the format has {want[row]!r}"
        )
    values = sub[list(CLASSES)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = (int(v[0]) for v in np.nonzero(bad))
        raise SubmissionError(
            f"{int(bad.sum())} value(s) are missing, non-numeric or infinite, e.g. "
            f"{got[r]!r} / {CLASSES[c]!r}"
        )
    out = (values < 0) | (values > 1)
    if out.any():
        raise SubmissionError(
            f"{int(out.sum())} value(s) are outside [0, 1] (min {values.min():.4g}, "
            f"max {values.max():.4g}); probabilities only"
        )


def make(pred: pd.DataFrame, fmt: pd.DataFrame, clip: bool = True) -> pd.DataFrame:
    """Submission rows in the format's order with predictions joined by seq_id (clipped)."""
    missing = [c for c in SUBMISSION_COLUMNS if c not in pred.columns]
    if missing:
        raise SubmissionError(f"predictions lack column(s) {missing[:5]} ({len(missing)} in all)")
    dup = pred[KEY].duplicated()
    if dup.any():
        raise SubmissionError(f"predictions repeat seq_id {pred.loc[dup, KEY].iloc[0]!r}")
    joined = fmt[[KEY]].merge(pred[SUBMISSION_COLUMNS], on=KEY, how="left", validate="one_to_one")
    absent = joined[list(CLASSES)].isna().all(axis=1)
    if absent.any():
        raise SubmissionError(
            f"{int(absent.sum())} of {len(fmt)} format row(s) have no prediction, e.g. "
            f"{joined.loc[absent, KEY].iloc[0]!r}"
        )
    sub = clip_predictions(joined) if clip else joined
    validate(sub, fmt)
    return sub


def write(sub: pd.DataFrame, fmt: pd.DataFrame, path: str | Path) -> None:
    """Validate, then write atomically."""
    validate(sub, fmt)
    write_csv(path, sub)
