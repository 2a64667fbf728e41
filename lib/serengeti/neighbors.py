"""Neighbour-camera features: what the *other* cameras saw within a few seconds.

The write-up's unbuilt idea (docs item 10): herds pass several cameras, so if the cameras
around fired on zebra a few seconds ago, this sequence is likelier to hold zebra too. We do not
know which cameras are near each other, and it does not matter much: every other camera of the
same season counts, and the booster learns how far to trust the average. On S10 the author
measured 0.00265 -> 0.00242.

For each sequence i (time t_i = its `datetime`, the first image's):

- neighbours = sequences of the same season at a *different* site with |t_j - t_i| <= window
  (both edges inclusive: a neighbour exactly `window_s` seconds away counts, one at
  `window_s + 1` does not). The sequence itself and other sequences of its own camera never
  count - a camera re-triggering on the same animal says nothing new. Seasons are never mixed
  (their clocks are separate deployments, and a season is one split of the data).
- features: `nb_count` (how many neighbours) and, for each class, `nb_mean_<class>` and
  `nb_max_<class>` of the neighbours' scores. No neighbour -> count 0 and NaN scores (LightGBM
  treats NaN as missing; a numeric sentinel would read as a score). A sequence with no
  datetime gets NaN features and is nobody's neighbour.

Vectorised: rows sorted by (season, time), window bounds by `searchsorted`, then the
(i, neighbour) pairs expanded and reduced with `np.add.reduceat` / `np.maximum.reduceat`. Cost is
linear in the number of pairs, which stays small for windows of seconds to minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lib.serengeti.schema import CLASSES, KEY

REQUIRED = (KEY, "season", "site", "datetime")


def _seconds(when: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(whole seconds since the epoch as int64, mask of known times)."""
    dt = pd.to_datetime(when)
    known = dt.notna().to_numpy()
    secs = np.zeros(len(dt), dtype=np.int64)
    secs[known] = (dt[known] - pd.Timestamp(0)).dt.total_seconds().round().astype(np.int64)
    return secs, known


def neighbor_features(
    table: pd.DataFrame,
    window_s: float,
    classes: Sequence[str] = CLASSES,
    prefix: str = "nb",
) -> pd.DataFrame:
    """Features of other cameras' scores within ±`window_s` seconds, one row per input row.

    `table` has seq_id, season, site, datetime and one score column per class in `classes`
    (e.g. the single-image model's per-sequence scores). Returns seq_id, `{prefix}_count`,
    `{prefix}_mean_<class>`, `{prefix}_max_<class>`, in the input's row order.
    """
    missing = [c for c in (*REQUIRED, *classes) if c not in table.columns]
    if missing:
        raise ValueError(f"neighbour table lacks column(s) {missing[:5]}")
    if not np.isfinite(window_s) or window_s < 0:
        raise ValueError(f"window_s must be a number of seconds >= 0, got {window_s!r}")
    classes = list(classes)
    n, k = len(table), len(classes)
    scores = table[classes].to_numpy(np.float64)
    if not np.isfinite(scores).all():
        raise ValueError("neighbour scores must be finite (fill sequences without scores first)")
    secs, known = _seconds(table["datetime"])
    season = table["season"].to_numpy(np.int64)
    site = pd.factorize(table["site"].astype(str))[0]

    count = np.zeros(n, dtype=np.int64)
    sums = np.zeros((n, k))
    maxs = np.full((n, k), np.nan)
    rows = np.flatnonzero(known)
    if rows.size:
        # One sorted key: seasons far apart so that no window reaches from one to the next.
        t = secs[rows] - secs[rows].min()
        gap = int(t.max()) + 2 * int(np.ceil(window_s)) + 1
        key = (season[rows] - season[rows].min()) * gap + t
        order = np.argsort(key, kind="stable")
        rows, key = rows[order], key[order]
        lo = np.searchsorted(key, key - window_s, side="left")
        hi = np.searchsorted(key, key + window_s, side="right")
        spans = hi - lo
        owner = np.repeat(np.arange(rows.size), spans)  # position (in sorted order) of i
        offset = np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
        other = lo[owner] + offset  # position of the candidate neighbour j
        keep = site[rows[owner]] != site[rows[other]]  # other cameras only (excludes self)
        owner, other = owner[keep], other[keep]
        per_owner = np.bincount(owner, minlength=rows.size)
        has = per_owner > 0
        if has.any():
            starts = (np.cumsum(per_owner) - per_owner)[has]
            values = scores[rows[other]]
            target = rows[has]
            sums[target] = np.add.reduceat(values, starts, axis=0)
            maxs[target] = np.maximum.reduceat(values, starts, axis=0)
        count[rows] = per_owner
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], np.nan)
    means[~known] = np.nan
    out = pd.DataFrame(
        np.hstack([means, maxs]),
        columns=[f"{prefix}_mean_{c}" for c in classes] + [f"{prefix}_max_{c}" for c in classes],
    )
    counts = pd.Series(count.astype(np.float64), name=f"{prefix}_count")
    counts[~known] = np.nan
    out.insert(0, f"{prefix}_count", counts.to_numpy())
    out.insert(0, KEY, table[KEY].to_numpy())
    return out
