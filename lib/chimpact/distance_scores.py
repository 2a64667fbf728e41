"""Chimpact predictions scored against a demo's hidden answers, for 07_predict and the tests.

Per second: the competition's MAE at the labelled seconds (one animal per label). Per animal:
each row of a `--detections` prediction is matched to the generator's true animal at the same
second whose box overlaps its box most (intersection over union at least `MIN_IOU`); rows that
match none (false boxes) are counted apart, and the MAE is over the matched rows.
`examples` picks predicted seconds to show on their frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MIN_IOU = 0.3


def _video_ids(filepaths: pd.Series) -> pd.Series:
    return filepaths.map(lambda p: Path(p).name)


def score_seconds(rows: pd.DataFrame, truth: pd.DataFrame, fallback: float | None) -> dict:
    """MAE of `rows` (filepath, time, distance) at the labelled seconds of `truth`
    (video_id, time, distance), beside a constant `fallback` distance's."""
    pred = rows.assign(video_id=_video_ids(rows["filepath"]))
    scored = truth.merge(pred, on=["video_id", "time"], suffixes=("_true", ""))
    scored = scored[scored["distance"].notna()]
    error = np.abs(scored["distance"] - scored["distance_true"])
    out = {"rows": int(len(scored)), "mae": float(error.mean())}
    if fallback is not None:
        out["constant_mae"] = float(np.abs(scored["distance_true"] - fallback).mean())
    return out


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes (n, 4) against (m, 4), x1 y1 x2 y2: (n, m)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / (_area(a)[:, None] + _area(b)[None, :] - inter + 1e-12)


def _area(z: np.ndarray) -> np.ndarray:
    return (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])


def match_animals(rows: pd.DataFrame, animal_truth: pd.DataFrame) -> pd.DataFrame:
    """`rows` of a detections prediction with the matched true animal and its distance
    (`animal`, `distance_true`; NaN when no true box overlaps enough)."""
    pred = rows.assign(video_id=_video_ids(rows["filepath"])).reset_index(drop=True)
    pred["animal"], pred["distance_true"] = np.nan, np.nan
    boxes = ["x1", "y1", "x2", "y2"]
    truth = animal_truth.groupby(["video_id", "time"])
    for (vid, t), group in pred.groupby(["video_id", "time"]):
        if (vid, t) not in truth.groups:
            continue
        true = truth.get_group((vid, t))
        overlap = iou(group[boxes].to_numpy(float), true[boxes].to_numpy(float))
        best = overlap.argmax(axis=1)
        good = overlap[np.arange(len(group)), best] >= MIN_IOU
        idx = group.index[good]
        pred.loc[idx, "animal"] = true["animal"].to_numpy()[best[good]]
        pred.loc[idx, "distance_true"] = true["distance"].to_numpy()[best[good]]
    return pred


def score_animals(rows: pd.DataFrame, animal_truth: pd.DataFrame) -> dict:
    """Per-animal MAE of a detections prediction, and how its rows matched the truth."""
    matched = match_animals(rows, animal_truth)
    ok = matched["distance_true"].notna() & matched["distance"].notna()
    per_second = matched[ok].groupby(["video_id", "time"]).size()
    return {
        "rows": int(len(matched)),
        "matched_rows": int(ok.sum()),
        "unmatched_rows (false boxes)": int((~matched["distance_true"].notna()).sum()),
        "seconds_with_two_animals": int((per_second >= 2).sum()),
        "mae": float(np.abs(matched.loc[ok, "distance"] - matched.loc[ok, "distance_true"]).mean()),
    }


def examples(rows: pd.DataFrame, truth: pd.DataFrame | None, count: int, seed: int):
    """(frame, title, caption) of `count` predicted seconds drawn with `seed`: the frame the
    models saw for that second, the prediction and, for a demo, its answer."""
    from lib.video import decode_jpeg, frames_at_1fps

    rows = rows.assign(video_id=_video_ids(rows["filepath"])).dropna()
    chosen = rows.sample(min(count, len(rows)), random_state=seed)
    out = []
    for row in chosen.itertuples():
        frames = frames_at_1fps(row.filepath, row.time + 1)
        answer = ""
        if truth is not None:
            t = truth[(truth["video_id"] == row.video_id) & (truth["time"] == row.time)]
            answer = f" (answer {t['distance'].iloc[0]:.1f} m)" if len(t) else ""
        frame = decode_jpeg(frames[min(row.time, len(frames) - 1)])
        out.append((frame, f"{row.video_id} @ {row.time} s", f"{row.distance:.1f} m{answer}"))
    return out
