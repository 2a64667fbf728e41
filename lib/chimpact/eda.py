"""Exploration of a chimpact data folder: label distributions, detector boxes, overexposure.

The notebook 01_eda only calls these and shows what they return, so the same analysis runs on
the demo data and on the real competition folder.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import plots
from lib.chimpact import schema
from lib.video import WHITE_SHARE, VideoError, decode_jpeg, frames_at_1fps, white_share


def overview(data: schema.Dataset) -> pd.DataFrame:
    """One row per split: videos, rows, sites, parks, distance stats, share of missing boxes."""
    out = []
    for split in schema.SPLITS:
        rows = data.rows(split)
        per_video = rows.groupby("video_id").size()
        out.append(
            {
                "split": split,
                "videos": rows["video_id"].nunique(),
                "rows": len(rows),
                "rows/video (median)": float(per_video.median()),
                "rows/video (max)": int(per_video.max()),
                "sites": rows["site_id"].nunique(),
                "parks": ", ".join(sorted(rows["park"].unique())),
                "distance mean": rows["distance"].mean(),
                "distance median": rows["distance"].median(),
                "missing boxes": rows["x1"].isna().mean(),
                "time even": (rows["time"] % 2 == 0).mean(),
                "time multiple of 10": (rows["time"] % 10 == 0).mean(),
            }
        )
    return pd.DataFrame(out).set_index("split").T


def baseline_mae(data: schema.Dataset) -> float:
    """MAE of predicting the train median for every train row (the number to beat)."""
    d = data.train["distance"]
    return float((d - d.median()).abs().mean())


def plot_labels(data: schema.Dataset):
    train = data.train
    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    ax = axes[0][0]
    grid = schema.DISTANCE_GRID
    counts = train["distance"].value_counts().reindex(grid, fill_value=0)
    ax.bar(np.arange(len(grid)), counts.to_numpy(), color="tab:blue", label="train")
    if data.test["distance"].notna().any():
        tc = data.test["distance"].value_counts().reindex(grid, fill_value=0)
        ax.bar(
            np.arange(len(grid)), -tc.to_numpy(), color="tab:orange", label="demo test (answers)"
        )
    ax.set_xticks(np.arange(len(grid))[::2], [f"{g:g}" for g in grid[::2]], fontsize=7)
    ax.set_title("distance (m) on the 35-value grid")
    ax.legend()
    ax = axes[0][1]
    ax.hist(train["time"], bins=np.arange(0, 62) - 0.5, color="tab:green")
    ax.set_title("label time (s): mostly even, peaks at multiples of 10")
    ax = axes[1][0]
    per_video = train.groupby("video_id").size()
    ax.hist(per_video, bins=np.arange(0.5, per_video.max() + 1.5), color="tab:purple")
    ax.set_title(f"labelled rows per video (median {per_video.median():g})")
    ax = axes[1][1]
    sites = train.drop_duplicates("video_id").groupby(["park", "site_id"]).size()
    sites = sites.sort_values(ascending=False).reset_index(name="videos")
    colors = sites["park"].map({"moyen_bafing": "tab:blue", "tai": "tab:orange"}).fillna("tab:gray")
    ax.bar(np.arange(len(sites)), sites["videos"], color=colors)
    ax.set_xticks([])
    for park, color in (("moyen_bafing", "tab:blue"), ("tai", "tab:orange")):
        ax.bar([], [], color=color, label=park)
    ax.set_title(f"train videos per site ({len(sites)} sites), coloured by park")
    ax.legend()
    fig.tight_layout()
    return fig


def box_geometry(data: schema.Dataset) -> pd.DataFrame:
    """Detector box height and bottom edge per train row, with distance."""
    t = data.train.dropna(subset=["x1", "y1", "x2", "y2"]).copy()
    t["box_height"] = t["y2"] - t["y1"]
    t["box_bottom"] = t["y2"]
    t["box_area"] = (t["x2"] - t["x1"]) * (t["y2"] - t["y1"])
    return t[
        ["video_id", "time", "distance", "box_height", "box_bottom", "box_area", "probability"]
    ]


def plot_box_geometry(boxes: pd.DataFrame):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, col in zip(axes, ["box_height", "box_bottom", "probability"], strict=True):
        rho = boxes[[col, "distance"]].corr(method="spearman").iloc[0, 1]
        ax.scatter(boxes["distance"], boxes[col], s=6, alpha=0.4)
        ax.set_xlabel("distance (m)")
        ax.set_title(f"{col} vs distance (Spearman {rho:+.2f})")
    fig.tight_layout()
    return fig


def _target_shares(args: tuple[str, str, list[int]]) -> list[dict]:
    video_id, path, times = args
    try:
        frames = frames_at_1fps(path, max(times) + 1)
    except VideoError as exc:
        return [
            {"video_id": video_id, "time": t, "white_share": np.nan, "error": str(exc)}
            for t in times
        ]
    last = len(frames) - 1
    return [
        {
            "video_id": video_id,
            "time": t,
            "white_share": white_share(decode_jpeg(frames[min(t, last)])),
            "error": "",
        }
        for t in times
    ]


def target_white_shares(
    data: schema.Dataset, split: str = "train", sample: int | None = None, seed: int = 42,
    workers: int | None = None, progress: bool = True,
) -> pd.DataFrame:  # fmt: skip
    """White share of every labelled (target) frame of the downsampled videos (or a sample)."""
    rows = data.rows(split)
    videos = sorted(rows["video_id"].unique())
    if sample and sample < len(videos):
        videos = sorted(np.random.default_rng(seed).choice(videos, sample, replace=False))
    jobs = [
        (v, str(data.video_path(split, "down", v)), sorted(rows.loc[rows["video_id"] == v, "time"]))
        for v in videos
    ]
    workers = workers or os.cpu_count() or 1
    out: list[dict] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for res in tqdm(
            pool.map(_target_shares, jobs),
            total=len(jobs),
            desc="white share",
            disable=not progress,
        ):
            out += res
    df = pd.DataFrame(out)
    df["white"] = df["white_share"] > WHITE_SHARE
    return df


def plot_white_shares(shares: pd.DataFrame):
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    ax = axes[0]
    ax.hist(shares["white_share"].dropna(), bins=50, color="tab:gray")
    ax.axvline(WHITE_SHARE, color="red", ls="--", label=f"threshold {WHITE_SHARE}")
    ax.set_yscale("log")
    ax.set_xlabel("share of values > 250 in a downsampled target frame")
    ax.legend()
    ax.set_title(f"{shares['white'].mean():.1%} of target frames are 'white'")
    ax = axes[1]
    per_video = shares.groupby("video_id")["white"].any()
    ax.bar(
        ["normal", "overexposed"],
        [int((~per_video).sum()), int(per_video.sum())],
        color=["tab:blue", "tab:red"],
    )
    ax.set_title(f"videos flagged by the rule: {int(per_video.sum())} of {len(per_video)}")
    fig.tight_layout()
    return fig


def gamma_examples(data: schema.Dataset, shares: pd.DataFrame, n: int = 3, split: str = "train"):
    """Whitest target frames: downsampled, original, original with gamma correction."""
    top = shares.dropna(subset=["white_share"]).sort_values("white_share", ascending=False)
    top = top.drop_duplicates("video_id").head(n)
    rows, titles = [], []
    for r in top.itertuples(index=False):
        imgs = []
        for source, gamma in [("down", False), ("full", False), ("full", True)]:
            frames = frames_at_1fps(
                data.video_path(split, source, r.video_id), r.time + 1, gamma=gamma
            )
            img = decode_jpeg(frames[min(r.time, len(frames) - 1)])
            imgs.append(img)
        rows.append(imgs)
        titles.append(f"{r.video_id} t={r.time}")
    if not rows:
        return None
    cols = ["downsampled", "original", "original + eq=gamma=0.1"]
    return plots.frame_grid(rows, row_titles=titles, col_titles=cols, width=3.2)
