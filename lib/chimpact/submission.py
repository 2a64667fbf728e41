"""Building and checking a competition submission.

The scorer matches rows to the format file, so a submission must have exactly the format's
columns, its (video_id, time) rows in its order, and a usable distance on every row. Predictions
are joined onto the format by keys, never by read order: a shuffled or filtered prediction table
would otherwise be scored against the wrong rows without any error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lib.chimpact.schema import KEY, SUBMISSION_COLUMNS, snap_to_grid
from lib.fileio import write_csv


class SubmissionError(ValueError):
    """A submission the scorer would reject or mis-score; the message says what to fix."""


def _keys(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """(video_id as str, time as int) so that 12 and 12.0 or '12' compare equal."""
    missing = [c for c in KEY if c not in frame.columns]
    if missing:
        raise SubmissionError(f"{what} lacks key column(s) {missing}; found {list(frame.columns)}")
    times = pd.to_numeric(frame["time"], errors="coerce")
    bad = times.isna() | (times != np.floor(times))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SubmissionError(
            f"{what} row {row}: time {frame['time'].iloc[row]!r} is not a whole number of seconds"
        )
    return pd.DataFrame(
        {
            "video_id": frame["video_id"].astype(str).to_numpy(),
            "time": times.astype(np.int64).to_numpy(),
        }
    )


def _examples(keys: pd.DataFrame, n: int = 5) -> str:
    return ", ".join(f"{v}@{t}s" for v, t in keys.head(n).itertuples(index=False))


def validate(sub: pd.DataFrame, fmt: pd.DataFrame) -> None:
    """Raise SubmissionError unless `sub` has the format's columns, rows and order, and distances
    that are finite and >= 0."""
    if list(sub.columns) != SUBMISSION_COLUMNS:
        raise SubmissionError(
            f"submission columns must be exactly {SUBMISSION_COLUMNS}, found {list(sub.columns)}"
        )
    if len(sub) != len(fmt):
        raise SubmissionError(
            f"submission has {len(sub)} rows but the format has {len(fmt)}; build it with "
            "submission.make() so that every format row gets exactly one prediction"
        )
    got, want = _keys(sub, "submission"), _keys(fmt, "submission format")
    same = (got["video_id"] == want["video_id"]) & (got["time"] == want["time"])
    if not same.all():
        row = int(np.flatnonzero(~same.to_numpy())[0])
        got_set = set(got.itertuples(index=False))
        want_set = set(want.itertuples(index=False))
        if got_set == want_set:
            problem = "has the format's rows in a different order"
        else:
            only_sub = got[[k not in want_set for k in got.itertuples(index=False)]]
            only_fmt = want[[k not in got_set for k in want.itertuples(index=False)]]
            problem = (
                f"has {len(only_sub)} (video_id, time) key(s) not in the format "
                f"(e.g. {_examples(only_sub)}) and lacks {len(only_fmt)} "
                f"(e.g. {_examples(only_fmt)})"
            )
        raise SubmissionError(
            f"submission {problem}: first difference at row {row} (CSV line {row + 2}), "
            f"{got['video_id'].iloc[row]}@{got['time'].iloc[row]}s where the format has "
            f"{want['video_id'].iloc[row]}@{want['time'].iloc[row]}s; rows must follow the format"
        )
    distance = pd.to_numeric(sub["distance"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(distance)
    if bad.any():
        raise SubmissionError(
            f"{int(bad.sum())} distance value(s) are missing, non-numeric or infinite, e.g. "
            f"{_examples(got[bad])}"
        )
    negative = distance < 0
    if negative.any():
        raise SubmissionError(
            f"{int(negative.sum())} distance value(s) are negative (min {distance.min():.4g}), "
            f"e.g. {_examples(got[negative])}; clip at 0 or snap to the distance grid"
        )


def make(pred: pd.DataFrame, fmt: pd.DataFrame, snap: bool = True) -> pd.DataFrame:
    """Submission rows in the format's order with predicted distances joined by (video_id, time).

    Extra prediction rows (keys not in the format) are ignored; a format row with no prediction is
    an error. With `snap`, distances are moved to the nearest value of schema.DISTANCE_GRID (the
    write-up's post-processing; it also maps small negative outputs to 0).
    """
    missing_cols = [c for c in SUBMISSION_COLUMNS if c not in pred.columns]
    if missing_cols:
        raise SubmissionError(
            f"predictions lack column(s) {missing_cols}; expected {SUBMISSION_COLUMNS}"
        )
    pkeys = _keys(pred, "predictions")
    pkeys["distance"] = pd.to_numeric(pred["distance"], errors="coerce").to_numpy(np.float64)
    dup = pkeys.duplicated(KEY, keep=False)
    if dup.any():
        raise SubmissionError(
            f"predictions repeat {int(dup.sum())} (video_id, time) key(s), e.g. "
            f"{_examples(pkeys.loc[dup, KEY])}; keep one prediction per key"
        )
    fkeys = _keys(fmt, "submission format")
    fdup = fkeys.duplicated(KEY, keep=False)
    if fdup.any():
        raise SubmissionError(
            f"the submission format repeats {int(fdup.sum())} (video_id, time) key(s), e.g. "
            f"{_examples(fkeys.loc[fdup, KEY])}; is it the right file?"
        )
    joined = fkeys.merge(pkeys, on=KEY, how="left", indicator=True, validate="one_to_one")
    absent = (joined["_merge"] == "left_only").to_numpy()
    if absent.any():
        raise SubmissionError(
            f"{int(absent.sum())} of {len(fmt)} format row(s) have no prediction, e.g. "
            f"{_examples(joined.loc[absent, KEY])}"
        )
    distance = joined["distance"].to_numpy(np.float64, copy=True)
    if snap:
        finite = np.isfinite(distance)
        distance[finite] = snap_to_grid(distance[finite]).astype(np.float64)
    sub = pd.DataFrame(
        {
            "video_id": fmt["video_id"].to_numpy(),
            "time": fmt["time"].to_numpy(),
            "distance": distance,
        }
    )
    validate(sub, fmt)
    return sub


def write(sub: pd.DataFrame, fmt: pd.DataFrame, path: str | Path) -> None:
    """Validate, then write atomically (a killed run never leaves a half-written submission)."""
    validate(sub, fmt)
    write_csv(path, sub)
