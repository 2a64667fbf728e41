"""Pair-wise greedy blending of runs, as the Deep Chimpact 3rd-place solution did it.

Runs are sorted by out-of-fold (OOF) MAE; the blend starts as the best run and each next run is
mixed in as c*blend + (1 - c)*run with c on a 0.00..1.10 grid (c > 1 weighs that run
negatively). A c is kept only if its MAE beats the best score so far, which is global and never
reset; otherwise c = 1 and the run is skipped. The same chain of c's is then applied to test
predictions.

Why keep this literal, quirks included: it is what produced the published ensemble, so our numbers
can be compared with the write-up's. Notes on the literal reading:

- best_score starts at +inf (the original used 100), so the first pair is always accepted;
- among equal MAEs the smallest c wins (the original scanned c upwards with a strict `<`);
- runs with equal OOF MAE are ordered by run_id so the result does not depend on dict order.

Predictions must already be aligned to the same labels (by keys, upstream); this module only
checks lengths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

COEF_GRID = np.round(np.arange(0, 1.1001, 0.01), 2)

# The write-up's published chain (its ensemble.py, precomputed weights): c's for its 12 runs taken
# in ascending CV MAE order, i.e. lib.chimpact.runid.registry() sorted by writeup_cv_mae.
WRITEUP_COEFS = (0.58, 0.72, 0.83, 0.81, 0.89, 0.87, 0.98, 0.88, 1.03, 1.07, 1.1)


@dataclass
class Blend:
    """Result of the greedy search."""

    order: list[str]  # run IDs by ascending OOF MAE; order[0] seeds the blend
    coefs: list[float]  # one c per run after the first; c == 1.0 means the run was skipped
    oof: np.ndarray  # blended OOF predictions
    test: np.ndarray | None  # blended test predictions (None if no test predictions were given)
    oof_mae: float
    weights: dict[str, float]  # each run's effective linear weight; they sum to 1


def mae(y: np.ndarray, p: np.ndarray) -> float:
    """Mean absolute error, the competition metric."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"labels have shape {y.shape} but predictions {p.shape}")
    return float(np.mean(np.abs(y - p)))


def _as_1d(name: str, values: np.ndarray, length: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name}: {arr.shape[0]} predictions, expected {length}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: {int((~np.isfinite(arr)).sum())} non-finite predictions")
    return arr


def greedy_search(
    oof: Mapping[str, np.ndarray],
    y: np.ndarray,
    test: Mapping[str, np.ndarray] | None = None,
    grid: np.ndarray = COEF_GRID,
) -> Blend:
    """Pair-wise greedy search over `oof` (run_id -> OOF predictions aligned to `y`)."""
    if not oof:
        raise ValueError("no runs to blend")
    y = _as_1d("labels", y, None)
    preds = {run: _as_1d(f"OOF of {run}", p, len(y)) for run, p in oof.items()}
    if test is not None:
        missing = sorted(set(preds) - set(test))
        if missing:
            raise ValueError(f"test predictions missing for run(s) {missing}")
    scores = {run: mae(y, p) for run, p in preds.items()}
    order = sorted(preds, key=lambda run: (scores[run], run))

    blend = preds[order[0]]
    best_score = np.inf
    coefs: list[float] = []
    weights = {run: 0.0 for run in order}
    weights[order[0]] = 1.0
    for run in order[1:]:
        candidate = preds[run]
        maes = np.array([mae(y, c * blend + (1 - c) * candidate) for c in grid])
        i = int(np.argmin(maes))  # first (smallest) c among ties
        if maes[i] < best_score:
            best_score = float(maes[i])
            c = float(grid[i])
        else:
            c = 1.0
        coefs.append(c)
        blend = c * blend + (1 - c) * candidate
        for name in weights:
            weights[name] *= c
        weights[run] = 1 - c

    test_blend = None if test is None else apply(coefs, order, test)
    return Blend(
        order=order,
        coefs=coefs,
        oof=blend,
        test=test_blend,
        oof_mae=mae(y, blend),
        weights=weights,
    )


def apply(
    blend_coefs: Sequence[float], order: Sequence[str], preds: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Apply a chain of c's (one per run after the first, in `order`) to other predictions."""
    order = list(order)
    if not order:
        raise ValueError("empty run order")
    if len(blend_coefs) != len(order) - 1:
        raise ValueError(
            f"{len(blend_coefs)} coefficients for {len(order)} runs; expected {len(order) - 1}"
        )
    missing = [run for run in order if run not in preds]
    if missing:
        raise ValueError(f"predictions missing for run(s) {missing}")
    length = np.asarray(preds[order[0]]).size
    blend = _as_1d(order[0], preds[order[0]], length)
    for c, run in zip(blend_coefs, order[1:], strict=True):
        blend = c * blend + (1 - c) * _as_1d(run, preds[run], length)
    return blend
