"""Stage 02: frames at 1 fps for every labelled second and its windows, with gamma correction.

Per video: decode the spans of the downsampled copy that its windows need (`lib.video`'s span
seeking: the frames are byte-identical to a decode from the start, which is used instead when
the spans cover most of it), keep the needed frames, apply the write-up's overexposure rule to
its target frames, then decode the same spans of the original - through `eq=gamma=0.1` if any
target frame was white. The frames of both sources serve all four datasets ({down, full} x
{s1, s2}); records are assembled from them in stage 03.

Each video's frames are written to a temporary folder renamed into place, and its entry
(`extract/videos/<split>/<id>.json`) is written last, so a rerun after a crash skips exactly the
finished videos. Those per-video entries are the source of truth: `extract/manifest.csv` and
`extract/summary.json` are assembled from them. With `--shard i/N` (see `lib.shard`) each shard
extracts its own videos and writes `extract/shards/<i>-of-<N>/`; whichever run finds every video
of the dataset finished (the last shard to end, or `--merge`) assembles the global manifest.
Command line: `python -m lib.chimpact.extract --help`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import fileio
from lib.chimpact import schema
from lib.chimpact.windows import STEPS, needed_seconds
from lib.shard import WHOLE, Shard
from lib.video import (
    ONE_PASS_SHARE,
    WHITE_SHARE,
    WHITE_VALUE,
    VideoError,
    decode_jpeg,
    frames_at_seconds,
    white_share,
)

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


@dataclass(frozen=True)
class DecodeConfig:
    """How frames are decoded; never changes which frames land on disk, so not part of the key."""

    threads: int = 1  # ffmpeg threads per stage; 1 when several workers share the cores
    seek_cost: float | None = None  # see lib.video.plan_spans (None: from the video's size)
    one_pass_share: float = ONE_PASS_SHARE


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
    frames_down: int = 0  # 1-fps frames up to the last needed second (what one pass decodes)
    frames_full: int = 0
    last_down: int = -1  # last usable frame index per source
    last_full: int = -1
    stored_down: int = 0  # distinct frames kept on disk per source
    stored_full: int = 0
    # Seconds of video decoded (the span plan, estimated from the keyframe index) and what one
    # pass up to the last needed second would decode; stored_* above is the seconds needed.
    decoded_s_down: float = 0.0
    decoded_s_full: float = 0.0
    one_pass_s_down: float = 0.0
    one_pass_s_full: float = 0.0
    seeks_down: int = 0
    seeks_full: int = 0
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
    cfg: ExtractConfig, dec: DecodeConfig, gamma: bool, res: VideoResult,
) -> dict[int, bytes]:  # fmt: skip
    """Decode the spans of one file that hold needed seconds, store those frames, and fill in
    the source's columns of `res`; returns {second: JPEG} of the stored frames."""
    got = frames_at_seconds(
        path, needed, gamma=gamma, size=cfg.size, quality=cfg.quality, threads=dec.threads,
        seek_cost=dec.seek_cost, one_pass_share=dec.one_pass_share,
    )  # fmt: skip
    if got.fallback:
        log.info("%s: %s; decoded in one pass", path, got.fallback)
    with fileio.atomic_dir(frame_dir(work, source, split, video_id)) as tmp:
        for i, data in sorted(got.frames.items()):
            (tmp / f"{i:03d}.jpg").write_bytes(data)
    plan = got.plan
    setattr(res, f"frames_{source}", got.last + 1)
    setattr(res, f"last_{source}", got.last)
    setattr(res, f"stored_{source}", len(got.frames))
    setattr(res, f"decoded_s_{source}", round(got.decoded_seconds, 3))
    setattr(res, f"one_pass_s_{source}", round(plan.one_pass_seconds, 3))
    setattr(res, f"seeks_{source}", plan.seeks)
    return got.frames


def extract_video(
    job: VideoJob, work: str | Path, cfg: ExtractConfig, dec: DecodeConfig | None = None
) -> VideoResult:
    """Extract one video's frames from both sources; errors become a result, not an exception."""
    work = Path(work)
    dec = dec or DecodeConfig()
    started = time.perf_counter()
    res = VideoResult(split=job.split, video_id=job.video_id, status="ok", config=cfg.key())
    res.n_targets = len(job.times)
    try:
        needed = needed_seconds(job.times, cfg.steps)
        down = _extract_source(
            job.down_path, needed, work, "down", job.split, job.video_id, cfg, dec, False, res
        )
        targets = [min(int(t), res.last_down) for t in job.times]
        res.clamped_targets = sum(int(t) > res.last_down for t in job.times)
        shares = [white_share(decode_jpeg(down[t]), cfg.white_value) for t in sorted(set(targets))]
        res.white_share_max = float(max(shares))
        res.white_targets = sum(s > cfg.white_share for s in shares)
        res.overexposed = res.white_targets > 0
        res.gamma_applied = res.overexposed
        full = _extract_source(
            job.full_path, needed, work, "full", job.split, job.video_id, cfg, dec,
            res.gamma_applied, res,
        )  # fmt: skip
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


def _entry(work: Path, job: VideoJob, cfg: ExtractConfig) -> VideoResult | None:
    """The video's stored entry if it was written for this configuration and label list."""
    path = _record_path(work, job.split, job.video_id)
    if not path.is_file():
        return None
    try:
        rec = fileio.read_json(path)
    except (OSError, ValueError):
        return None
    if rec.get("config") != cfg.key() or rec.get("n_targets") != len(job.times):
        return None
    known = {f.name for f in fields(VideoResult)}
    return VideoResult(**{k: v for k, v in rec.items() if k in known})


def _finished(work: Path, job: VideoJob, cfg: ExtractConfig) -> VideoResult | None:
    """A successful entry: the video is skipped. Error entries are retried."""
    rec = _entry(work, job, cfg)
    return rec if rec is not None and rec.status == "ok" else None


def run(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig | None = None,
    workers: int | None = None,
    splits: Iterable[str] = schema.SPLITS,
    retry_errors: bool = True,
    progress: bool = True,
    shard: Shard = WHOLE,
    decode: DecodeConfig | None = None,
) -> pd.DataFrame:
    """Extract every video of the splits (of this shard) in parallel, skipping finished ones;
    returns the manifest of the videos this run is responsible for.

    The whole dataset (one shard) writes `extract/manifest.csv` and `extract/summary.json`. A
    shard writes its own pair under `extract/shards/<i>-of-<N>/`, then assembles the global pair
    if every video of the dataset is finished (see `assemble`). Each worker's ffmpeg runs
    `decode.threads` threads (default 1), so N workers use about N cores.
    """
    work = Path(work)
    cfg = cfg or ExtractConfig()
    decode = decode or DecodeConfig()
    splits = tuple(splits)
    fileio.remove_stale_temps(work / "frames")
    jobs = shard.select(plan(data, splits), key=job_key)
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
            results.append(extract_video(job, work, cfg, decode))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(extract_video, job, work, cfg, decode) for job in todo]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update()
    bar.close()
    manifest = _manifest(results)
    summary = summarize(manifest, cfg, skipped=len(jobs) - len(todo))
    if shard.whole:
        _write(work / "extract", manifest, summary)
        return manifest
    _write(work / "extract" / "shards" / f"{shard.index}-of-{shard.count}", manifest, summary)
    try:
        assemble(data, work, cfg, splits)
    except MissingVideos as exc:
        log.info("shard %s done; global manifest not assembled yet: %s", shard, exc)
    return manifest


def job_key(job: VideoJob) -> str:
    """What `--shard` hashes: split and video id (the same id in two splits is two videos)."""
    return f"{job.split}/{job.video_id}"


class MissingVideos(RuntimeError):
    """`assemble` found videos without a finished entry (a shard has not run or not ended)."""


def assemble(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig | None = None,
    splits: Iterable[str] = schema.SPLITS,
) -> pd.DataFrame:
    """Build `extract/manifest.csv` and `summary.json` from the per-video entries of every video
    of the dataset, whichever run or shard wrote them; MissingVideos lists absent ones.

    Entries with an error count (they are rows of the manifest, as in a single run); entries
    written under another configuration, or for another label list, count as missing.
    """
    work = Path(work)
    cfg = cfg or ExtractConfig()
    results, missing = [], []
    for job in plan(data, tuple(splits)):
        rec = _entry(work, job, cfg)
        if rec is None:
            missing.append(job_key(job))
        else:
            results.append(rec)
    if missing:
        raise MissingVideos(
            f"{len(missing)} of {len(missing) + len(results)} videos have no finished entry "
            f"under {work / 'extract' / 'videos'} (first: {sorted(missing)[:3]}); run the "
            "shards that own them"
        )
    manifest = _manifest(results)
    _write(work / "extract", manifest, summarize(manifest, cfg, skipped=len(manifest)))
    return manifest


def _manifest(results: Iterable[VideoResult]) -> pd.DataFrame:
    rows = [asdict(r) for r in results]
    columns = [f.name for f in fields(VideoResult) if f.name != "config"]
    manifest = pd.DataFrame(rows, columns=[*columns, "config"]).drop(columns=["config"])
    return manifest.sort_values(["split", "video_id"]).reset_index(drop=True)


def _write(folder: Path, manifest: pd.DataFrame, summary: dict) -> None:
    fileio.write_csv(folder / "manifest.csv", manifest)
    fileio.write_json(folder / "summary.json", summary)


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
        # seconds of video: needed (kept frames), decoded by the span plans, decoded by one pass
        "seconds_needed": int(ok["stored_down"].sum() + ok["stored_full"].sum()),
        "seconds_decoded": round(float(ok["decoded_s_down"].sum() + ok["decoded_s_full"].sum()), 1),
        "seconds_one_pass": round(
            float(ok["one_pass_s_down"].sum() + ok["one_pass_s_full"].sum()), 1
        ),
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


if __name__ == "__main__":  # `python -m lib.chimpact.extract`: see lib/chimpact/extract_cli.py
    from lib.chimpact.extract_cli import main

    raise SystemExit(main())
