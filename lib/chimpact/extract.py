"""Stage 02: frames at 1 fps for every labelled second and its windows, with gamma correction.

Per video: decode the downsampled copy once (up to the last second any window needs), keep the
needed frames, apply the write-up's overexposure rule to its target frames, then decode the
original once - through `eq=gamma=0.1` if any target frame was white. The frames of both sources
serve all four datasets ({down, full} x {s1, s2}); records are assembled from them in stage 03.

Each video's frames are written to a temporary folder renamed into place, and its manifest entry
is written last, so a rerun after a crash skips exactly the finished videos.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import fileio
from lib.chimpact import schema
from lib.chimpact.windows import STEPS, needed_seconds
from lib.video import WHITE_SHARE, WHITE_VALUE, VideoError, decode_jpeg, frames_at_1fps, white_share

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ExtractConfig:
    """Settings that change the frames on disk; a finished video is redone if they change."""

    size: tuple[int, int] | None = None  # (width, height) to scale frames to; None keeps native
    quality: int = 2  # ffmpeg mjpeg -q:v (2 = best)
    white_value: int = WHITE_VALUE
    white_share: float = WHITE_SHARE
    steps: tuple[int, ...] = STEPS

    def key(self) -> dict:
        """JSON-normal form (tuples become lists) so it compares equal to a stored copy."""
        return fileio.jsonable({"version": MANIFEST_VERSION, **asdict(self)})


@dataclass
class VideoJob:
    split: str
    video_id: str
    times: list[int]
    down_path: str
    full_path: str


@dataclass
class VideoResult:
    split: str
    video_id: str
    status: str  # "ok" or "error"
    error: str = ""
    n_targets: int = 0
    frames_down: int = 0  # frames decoded (the video may hold more than the windows needed)
    frames_full: int = 0
    last_down: int = -1  # last usable frame index per source
    last_full: int = -1
    stored_down: int = 0  # distinct frames kept on disk per source
    stored_full: int = 0
    clamped_targets: int = 0  # labels past the end of the video, mapped to its last frame
    white_targets: int = 0
    white_share_max: float = 0.0  # over downsampled target frames
    overexposed: bool = False
    gamma_applied: bool = False
    white_share_full_max: float = 0.0  # over original target frames, after gamma if applied
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def frame_dir(work: Path, source: str, split: str, video_id: str) -> Path:
    return work / "frames" / source / split / Path(video_id).stem


def frame_path(work: Path, source: str, split: str, video_id: str, second: int) -> Path:
    return frame_dir(work, source, split, video_id) / f"{int(second):03d}.jpg"


def _record_path(work: Path, split: str, video_id: str) -> Path:
    return work / "extract" / "videos" / split / f"{Path(video_id).stem}.json"


def _extract_source(
    path: str, needed: list[int], work: Path, source: str, split: str, video_id: str,
    cfg: ExtractConfig, gamma: bool,
) -> tuple[int, int, dict[int, bytes]]:  # fmt: skip
    """Decode one file up to the last needed second; store needed frames; return (decoded, last)."""
    frames = frames_at_1fps(path, max(needed) + 1, gamma=gamma, size=cfg.size, quality=cfg.quality)
    last = len(frames) - 1
    keep = sorted({min(i, last) for i in needed})
    with fileio.atomic_dir(frame_dir(work, source, split, video_id)) as tmp:
        for i in keep:
            (tmp / f"{i:03d}.jpg").write_bytes(frames[i])
    return len(frames), last, {i: frames[i] for i in keep}


def extract_video(job: VideoJob, work: str | Path, cfg: ExtractConfig) -> VideoResult:
    """Extract one video's frames from both sources; errors become a result, not an exception."""
    work = Path(work)
    started = time.perf_counter()
    res = VideoResult(split=job.split, video_id=job.video_id, status="ok", config=cfg.key())
    res.n_targets = len(job.times)
    try:
        needed = needed_seconds(job.times, cfg.steps)
        res.frames_down, res.last_down, down = _extract_source(
            job.down_path, needed, work, "down", job.split, job.video_id, cfg, gamma=False
        )
        res.stored_down = len(down)
        targets = [min(int(t), res.last_down) for t in job.times]
        res.clamped_targets = sum(int(t) > res.last_down for t in job.times)
        shares = [white_share(decode_jpeg(down[t]), cfg.white_value) for t in sorted(set(targets))]
        res.white_share_max = float(max(shares))
        res.white_targets = sum(s > cfg.white_share for s in shares)
        res.overexposed = res.white_targets > 0
        res.gamma_applied = res.overexposed
        res.frames_full, res.last_full, full = _extract_source(
            job.full_path,
            needed,
            work,
            "full",
            job.split,
            job.video_id,
            cfg,
            gamma=res.gamma_applied,
        )
        res.stored_full = len(full)
        full_targets = sorted({min(int(t), res.last_full) for t in job.times})
        res.white_share_full_max = float(
            max(white_share(decode_jpeg(full[t]), cfg.white_value) for t in full_targets)
        )
    except (VideoError, OSError, ValueError) as exc:
        res.status, res.error = "error", str(exc)
        log.warning("extract %s/%s failed: %s", job.split, job.video_id, exc)
    res.seconds = round(time.perf_counter() - started, 3)
    fileio.write_json(_record_path(work, job.split, job.video_id), asdict(res))
    return res


def plan(data: schema.Dataset, splits: Iterable[str] = schema.SPLITS) -> list[VideoJob]:
    """One job per video, longest label list first so the pool's tail is short."""
    jobs = []
    for split in splits:
        for video_id, rows in data.rows(split).groupby("video_id", sort=True):
            jobs.append(
                VideoJob(
                    split=split,
                    video_id=str(video_id),
                    times=sorted(int(t) for t in rows["time"]),
                    down_path=str(data.video_path(split, "down", str(video_id))),
                    full_path=str(data.video_path(split, "full", str(video_id))),
                )
            )
    return sorted(jobs, key=lambda j: -max(j.times))


def _finished(work: Path, job: VideoJob, cfg: ExtractConfig) -> VideoResult | None:
    path = _record_path(work, job.split, job.video_id)
    if not path.is_file():
        return None
    try:
        rec = fileio.read_json(path)
    except (OSError, ValueError):
        return None
    if (
        rec.get("config") != cfg.key()
        or rec.get("status") != "ok"
        or rec.get("n_targets") != len(job.times)
    ):
        return None
    return VideoResult(**rec)


def run(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig | None = None,
    workers: int | None = None,
    splits: Iterable[str] = schema.SPLITS,
    retry_errors: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Extract every video of the splits in parallel, skipping finished ones; returns the manifest.

    The manifest (`extract/manifest.csv`, one row per video) and `extract/summary.json` are
    rewritten at the end from the per-video entries.
    """
    work = Path(work)
    cfg = cfg or ExtractConfig()
    fileio.remove_stale_temps(work / "frames")
    jobs = plan(data, splits)
    results: list[VideoResult] = []
    todo = []
    for job in jobs:
        done = _finished(work, job, cfg)
        if done is not None:
            results.append(done)
        else:
            todo.append(job)
    workers = max(1, workers or os.cpu_count() or 1)
    bar = tqdm(
        total=len(jobs), initial=len(results), desc="extract", unit="video", disable=not progress
    )
    if workers == 1 or len(todo) <= 1:
        for job in todo:
            results.append(extract_video(job, work, cfg))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(extract_video, job, work, cfg) for job in todo]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update()
    bar.close()
    manifest = pd.DataFrame([asdict(r) for r in results]).drop(columns=["config"])
    manifest = manifest.sort_values(["split", "video_id"]).reset_index(drop=True)
    fileio.write_csv(work / "extract" / "manifest.csv", manifest)
    fileio.write_json(
        work / "extract" / "summary.json", summarize(manifest, cfg, skipped=len(jobs) - len(todo))
    )
    return manifest


def summarize(manifest: pd.DataFrame, cfg: ExtractConfig, skipped: int = 0) -> dict:
    ok = manifest[manifest["status"] == "ok"]
    return {
        "videos": int(len(manifest)),
        "ok": int(len(ok)),
        "errors": int((manifest["status"] != "ok").sum()),
        "resumed_from_previous_run": int(skipped),
        "overexposed": int(ok["overexposed"].sum()),
        "clamped_targets": int(ok["clamped_targets"].sum()),
        "frames_written": int(ok["stored_down"].sum() + ok["stored_full"].sum()),
        "median_seconds_per_video": float(ok["seconds"].median()) if len(ok) else 0.0,
        "config": cfg.key(),
    }


def load_manifest(work: str | Path) -> pd.DataFrame:
    path = Path(work) / "extract" / "manifest.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no extraction manifest; run notebook 02_extract first")
    return pd.read_csv(
        path, dtype={"video_id": str, "split": str, "error": str}, keep_default_na=False
    )


def white_share_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Per-video white shares, before (downsampled) and after (original, gamma) - for reports."""
    cols = ["split", "video_id", "white_share_max", "overexposed", "white_share_full_max"]
    return manifest.loc[manifest["status"] == "ok", cols].sort_values(
        "white_share_max", ascending=False
    )


def frames_for(
    work: Path, source: str, split: str, video_id: str, seconds: Iterable[int]
) -> list[np.ndarray]:
    """Decoded frames (for plots); raises FileNotFoundError naming the missing frame."""
    out = []
    for s in seconds:
        path = frame_path(work, source, split, video_id, s)
        out.append(decode_jpeg(path.read_bytes()))
    return out
