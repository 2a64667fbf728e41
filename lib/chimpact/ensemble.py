"""Stage 06: leaderboard, greedy ensemble of runs, snapping, submission and summary.json.

Every table is aligned by (video_id, time) keys: OOF predictions to the train labels, test
predictions to the submission format. A test row with no prediction (its video could not be
read) gets the train median distance and is counted in the summary - never a NaN, never a
missing row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, paths, profiles
from lib.chimpact import extract, greedy_blend, runid, schema, submission
from lib.chimpact.train import run_dir

KEY = schema.KEY


def track_dir() -> Path:
    return paths.runs_root() / "chimpact"


def finished_runs(run_ids: list[str], ctx: profiles.Context) -> list[str]:
    """Runs among `run_ids` that finished on this data folder with this profile."""
    from lib import runs

    return runs.finished("chimpact", run_ids, ctx)


def leaderboard(run_ids: list[str], extra: list[str] = ()) -> pd.DataFrame:
    """run_id, cv_mae, and the write-up's CV MAE where the run mirrors one of its rows;
    `extra` members (the box model) are listed with source "boxes"."""
    reg = runid.registry().set_index("run_id")["writeup_cv_mae"]
    rows = []
    for name in extra:
        m = fileio.read_json(run_dir(name) / "metrics.json")
        rows.append({"run_id": name, "cv_mae": m["cv_mae"], "cv_rmse": m.get("cv_rmse"),
                     "writeup_cv_mae": np.nan, "source": "boxes"})  # fmt: skip
    for run in run_ids:
        m = fileio.read_json(run_dir(run) / "metrics.json")
        spec = runid.parse(run)
        rows.append(
            {
                "run_id": run,
                "cv_mae": m["cv_mae"],
                "cv_rmse": m.get("cv_rmse"),
                "writeup_cv_mae": reg.get(run, np.nan),
                "source": spec.source,
                "policy": f"{spec.policy}p{int(spec.prob * 100)}",
                "frames": spec.frames,
                "step": spec.step,
            }
        )
    board = pd.DataFrame(rows).sort_values("cv_mae").reset_index(drop=True)
    fileio.write_csv(track_dir() / "leaderboard.csv", board)
    return board


def _oof(run: str, labels: pd.DataFrame) -> np.ndarray:
    oof = pd.read_csv(run_dir(run) / "oof.csv", dtype={"video_id": str})
    joined = labels[KEY].merge(oof[[*KEY, "pred"]], on=KEY, how="left", validate="one_to_one")
    if joined["pred"].isna().any():
        raise ValueError(
            f"{run}: {int(joined['pred'].isna().sum())} labelled rows lack an OOF prediction"
        )
    return joined["pred"].to_numpy()


def _test(run: str, fmt: pd.DataFrame) -> np.ndarray:
    path = run_dir(run) / "test_pred.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no test predictions; run 05_infer first")
    pred = pd.read_csv(path, dtype={"video_id": str})
    return (
        fmt[KEY]
        .merge(pred[[*KEY, "pred"]], on=KEY, how="left", validate="one_to_one")["pred"]
        .to_numpy()
    )


@dataclass
class _Predictions:
    """Every blend member's predictions, aligned row for row with the labels (OOF) and with
    the submission format (test), test rows of unreadable videos already at the fallback."""

    labels: pd.DataFrame  # (video_id, time, distance) of every labelled row that had frames
    y: np.ndarray
    oof: dict[str, np.ndarray]
    fmt: pd.DataFrame
    test: dict[str, np.ndarray]
    missing: np.ndarray  # test rows that fell back: a run had no prediction for them
    fallback: float


def _finished_or_fail(run_ids: list[str], ctx: profiles.Context) -> list[str]:
    """The finished runs; with none there is nothing to blend, and the message names the
    stages that produce them."""
    runs = finished_runs(run_ids, ctx)
    if not runs:
        raise FileNotFoundError(
            f"no finished runs among {run_ids} for {ctx.data_dir} (profile {ctx.profile.name}); "
            "run 04_train and 05_infer first"
        )
    return runs


def _box_members(data: schema.Dataset, ctx: profiles.Context, box_member: bool) -> list[str]:
    """Train the detector-box model when it joins the blend; it must exist before the
    leaderboard, which reads its metrics."""
    from lib.chimpact import boxes, records

    if not box_member:
        return []
    boxes.train(data.train, records.fold_table(ctx.work), data.test, seed=ctx.seed)
    return [boxes.NAME]


def _predictions(
    runs: list[str], members: list[str], data: schema.Dataset, ctx: profiles.Context
) -> _Predictions:
    """Load and align the members' predictions.

    OOF rows are those of the first run's oof.csv: rows of unreadable train videos have no
    OOF. A test row whose video could not be read has no frame prediction from the runs; it
    falls back as a whole (every member) to the train median, so no NaN reaches the blend.
    """
    labels = pd.read_csv(run_dir(runs[0]) / "oof.csv", dtype={"video_id": str})[[*KEY, "distance"]]
    oof = {r: _oof(r, labels) for r in members}
    fmt = pd.read_csv(ctx.data_dir / "submission_format.csv", dtype={"video_id": str})
    test = {r: _test(r, fmt) for r in members}
    missing = np.isnan(np.column_stack([test[r] for r in runs])).any(axis=1)
    fallback = float(data.train["distance"].median())
    test = {r: np.where(missing, fallback, p) for r, p in test.items()}
    return _Predictions(labels, labels["distance"].to_numpy(), oof, fmt, test, missing, fallback)


def _write_submission(
    blend: greedy_blend.Blend, fmt: pd.DataFrame, ctx: profiles.Context, name: str | None
) -> tuple[pd.DataFrame, Path]:
    """The blend's test predictions snapped to the distance grid, written under the given
    name or one that says which profile produced it."""
    pred = fmt[KEY].assign(distance=blend.test)
    sub = submission.make(pred, fmt, snap=True)
    sub_dir = paths.submissions_root() / "chimpact"
    sub_path = sub_dir / f"{name or f'ensemble-{ctx.profile.name}'}.csv"
    submission.write(sub, fmt, sub_path)
    return sub, sub_path


def _overexposed(board: pd.DataFrame, preds: _Predictions, ctx: profiles.Context) -> dict:
    """How the best full-size and the best downsampled run do on overexposed train videos:
    the rows where the choice of source matters most (summary.json reports it)."""
    manifest = extract.load_manifest(ctx.work)
    over_videos = set(
        manifest.loc[(manifest["split"] == "train") & manifest["overexposed"], "video_id"]
    )
    over_rows = preds.labels["video_id"].isin(over_videos).to_numpy()

    def best(source: str) -> str | None:
        cands = board[board["source"] == source]
        return None if cands.empty else str(cands.iloc[0]["run_id"])

    def over_mae(run: str | None) -> float | None:
        if run is None or not over_rows.any():
            return None
        return greedy_blend.mae(preds.y[over_rows], preds.oof[run][over_rows])

    return {
        "overexposed_rows": int(over_rows.sum()),
        "overexposed_best_full_run": best("full"),
        "overexposed_best_down_run": best("down"),
        "overexposed_mae_full": over_mae(best("full")),
        "overexposed_mae_down": over_mae(best("down")),
    }


def _demo_test_scores(
    data: schema.Dataset, fmt: pd.DataFrame, sub: pd.DataFrame, blend: greedy_blend.Blend
) -> dict:
    """Test MAE of the submission and of the unsnapped blend; only a generated demo folder
    has test labels, so elsewhere there is nothing to score."""
    if not data.test["distance"].notna().all():
        return {}
    truth = fmt[KEY].merge(data.test[[*KEY, "distance"]], on=KEY, how="left")["distance"]
    return {
        "demo_test_mae": greedy_blend.mae(truth.to_numpy(), sub["distance"].to_numpy()),
        "demo_test_mae_unrounded": greedy_blend.mae(truth.to_numpy(), blend.test),
    }


def run(
    run_ids: list[str], ctx: profiles.Context, name: str | None = None, box_member: bool = True
) -> dict:
    """Blend the finished runs, write the submission, leaderboard and summary.json.

    Two greedy searches: the write-up's runs alone (its ensemble; the bundle carries it, since
    new videos have no detector boxes) and, with `box_member`, the same runs plus the
    detector-box model (`lib.chimpact.boxes`); the submission uses the second.
    """
    data = schema.load(ctx.data_dir)
    runs = _finished_or_fail(run_ids, ctx)
    extra = _box_members(data, ctx, box_member)
    board = leaderboard(runs, extra)
    members = runs + extra
    preds = _predictions(runs, members, data, ctx)
    y = preds.y
    writeup = greedy_blend.greedy_search(
        {r: preds.oof[r] for r in runs}, y, {r: preds.test[r] for r in runs}
    )
    blend = greedy_blend.greedy_search(preds.oof, y, preds.test) if extra else writeup
    blend_rounded = schema.snap_to_grid(blend.oof)
    sub, sub_path = _write_submission(blend, preds.fmt, ctx, name)
    overexposed = _overexposed(board, preds, ctx)
    summary = {
        "runs": runs,
        "rows_oof": int(len(y)),
        "baseline_mae": greedy_blend.mae(y, np.full_like(y, np.median(y))),
        "best_single_run": str(board.iloc[0]["run_id"]),
        "best_single_cv_mae": float(board.iloc[0]["cv_mae"]),
        "ensemble_cv_mae": blend.oof_mae,
        "ensemble_rounded_cv_mae": greedy_blend.mae(y, blend_rounded),
        "ensemble_order": blend.order,
        "ensemble_coefs": blend.coefs,
        "ensemble_weights": blend.weights,
        "ensemble_members": members,
        "writeup_ensemble_cv_mae": writeup.oof_mae,
        "writeup_ensemble_weights": writeup.weights,
        "box_model_cv_mae": float(board.set_index("run_id").loc[extra[0], "cv_mae"])
        if extra
        else None,
        **overexposed,
        "test_rows": int(len(sub)),
        "test_rows_fallback": int(preds.missing.sum()),
        "test_fallback_videos": sorted(set(preds.fmt.loc[preds.missing, "video_id"])),
        "test_fallback_distance": preds.fallback,
        "submission": str(sub_path),
        "profile": ctx.profile.name,
        "data_dir": str(ctx.data_dir),
        **_demo_test_scores(data, preds.fmt, sub, blend),
    }
    fileio.write_json(track_dir() / "summary.json", summary)
    return summary
