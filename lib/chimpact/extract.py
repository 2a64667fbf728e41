"""Stage 02: frames at 1 fps for every labelled second and its windows, with gamma correction.

Per video: decode the spans of the downsampled copy that its windows need (`lib.video`'s span
seeking: the frames are byte-identical to a decode from the start, which is used instead when
the spans cover most of it), keep the needed frames, apply the write-up's overexposure rule to
its target frames, then decode the same spans of the original - through `eq=gamma=0.1` if any
target frame was white. The frames of both sources serve all four datasets ({down, full} x
{s1, s2}); records are assembled from them in stage 03.

Each video's frames are written to a temporary folder renamed into place; resuming, workers
(a local pool or a Dask cluster), the per-video records (`extract/videos/<split>/<file>.json`),
`manifest.csv`, `errors.csv` and `summary.json` are the stage engine's (`lib.stages`). A video
is redone when its label times, either file's identity (size, mtime, hash of head and tail) or
the settings change. A video's work name is its full file name, so `PICT0001.AVI` and
`PICT0001.MP4` never share a frames folder. Files that cannot be videos (a link that loops, a
folder named like a video, an empty file) and decoder failures are failed items with a reason in
the user's words. Command line: `python -m lib.chimpact.extract_cli --help`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, inputs, stages
from lib.chimpact import schema
from lib.chimpact.windows import STEPS, needed_seconds
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

MANIFEST_VERSION = 2  # 2: work names are full file names; records keyed by content


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
    problem: str = ""  # why a file cannot be used, found when planning ("a link that loops")


@dataclass
class VideoResult:
    split: str
    video_id: str
    status: str  # "ok" or "error"
    error: str = ""
    reason: str = ""  # the error in the user's terms ("no video stream"); counted in the summary
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
    config: dict = field(default_factory=dict)


def frame_dir(work: Path, source: str, split: str, video_id: str) -> Path:
    """One folder per video file: the full file name, so two files with one stem stay apart."""
    return work / "frames" / source / split / video_id


def frame_path(work: Path, source: str, split: str, video_id: str, second: int) -> Path:
    return frame_dir(work, source, split, video_id) / f"{int(second):03d}.jpg"


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
    res = VideoResult(split=job.split, video_id=job.video_id, status="ok", config=cfg.key())
    res.n_targets = len(job.times)
    if job.problem:
        return failed(job, job.problem.rsplit(": ", 1)[-1], job.problem, cfg)
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
        res.status, res.error, res.reason = "error", str(exc), inputs.video_reason(str(exc))
        log.warning("extract %s/%s failed: %s", job.split, job.video_id, exc)
    return res


def failed(job: VideoJob, reason: str, error: str, cfg: ExtractConfig) -> VideoResult:
    """The result of a video that was not (or could not be) extracted."""
    res = VideoResult(job.split, job.video_id, "error", error=error, reason=reason)
    res.n_targets, res.config = len(job.times), cfg.key()
    return res


def _source_path(data: schema.Dataset, split: str, source: str, video_id: str) -> tuple[str, str]:
    """(path, problem): the file of one source, or the listed path and why it cannot be used
    (checked before ffmpeg sees it, so the reason is ours, not a decoder's)."""
    folder = data.root / schema.VIDEO_DIRS[(split, source)]
    problem = inputs.problem(folder / video_id, "video")
    path = folder / video_id
    if problem is None:
        path, problem = inputs.resolve_inside(folder, video_id)
    return str(path), (f"{path}: {problem}" if problem else "")


def plan(data: schema.Dataset, splits: Iterable[str] = schema.SPLITS) -> list[VideoJob]:
    """One job per video, longest label list first so the pool's tail is short."""
    jobs = []
    for split in splits:
        for video_id, rows in data.rows(split).groupby("video_id", sort=True):
            down, bad_down = _source_path(data, split, "down", str(video_id))
            full, bad_full = _source_path(data, split, "full", str(video_id))
            jobs.append(
                VideoJob(
                    split=split,
                    video_id=str(video_id),
                    times=sorted(int(t) for t in rows["time"]),
                    down_path=down,
                    full_path=full,
                    problem=bad_down or bad_full,
                )
            )
    return sorted(jobs, key=lambda j: -max(j.times))


def items(jobs: Iterable[VideoJob], work: Path) -> list[stages.Item]:
    """The engine's items: a video is made from its label times and its two files."""
    return [
        stages.Item(
            name=f"{job.split}/{job.video_id}",
            job=job,
            rows={"times": job.times},
            files=(job.down_path, job.full_path),
            outputs=tuple(str(frame_dir(work, s, job.split, job.video_id)) for s in schema.SOURCES),
        )
        for job in jobs
    ]


def stage(work: Path, cfg: ExtractConfig) -> stages.Stage:
    return stages.Stage(
        folder=work / "extract", settings=cfg.key(), version=MANIFEST_VERSION, records="videos",
        unit="video", scratch=(work / "frames",),
    )  # fmt: skip


def run(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig | None = None,
    workers: int | None = None,
    splits: Iterable[str] = schema.SPLITS,
    progress: bool = True,
    shard: stages.Shard | None = None,
    decode: DecodeConfig | None = None,
    scheduler: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Extract every video of the splits (of this shard) on the stage engine; returns the
    manifest of the videos with a record (all of them once the stage is complete).

    `workers` processes locally (default: all cores) or the Dask cluster of `scheduler` (see
    `lib.executors`); each ffmpeg runs `decode.threads` threads (default 1), so N workers use
    about N cores. The manifest and summary are written when every video has a record.
    """
    work = Path(work)
    cfg = cfg or ExtractConfig()
    st = stage(work, cfg)
    fn = functools.partial(extract_video, work=str(work), cfg=cfg, dec=decode or DecodeConfig())
    report = stages.run(
        st, fn, items(plan(data, tuple(splits)), work), functools.partial(_blank, cfg=cfg),
        workers=workers, scheduler=scheduler, shard=shard, limit=limit, progress=progress,
    )  # fmt: skip
    results = [VideoResult(**r) for r in report.results()]
    manifest = _manifest(results)
    stages.finish(st, report, manifest, summarize(manifest, cfg, skipped=report.skipped))
    return manifest


def _blank(job: VideoJob, reason: str, error: str, cfg: ExtractConfig) -> VideoResult:
    return failed(job, reason, error, cfg)


def _manifest(results: Iterable[VideoResult]) -> pd.DataFrame:
    rows = [asdict(r) for r in results]
    columns = [f.name for f in fields(VideoResult) if f.name != "config"]
    manifest = pd.DataFrame(rows, columns=[*columns, "config"]).drop(columns=["config"])
    return manifest.sort_values(["split", "video_id"]).reset_index(drop=True)


def summarize(manifest: pd.DataFrame, cfg: ExtractConfig, skipped: int = 0) -> dict:
    ok = manifest[manifest["status"] == "ok"]
    bad = manifest.loc[manifest["status"] != "ok", "reason"].value_counts()
    return {
        "videos": int(len(manifest)),
        "ok": int(len(ok)),
        "errors": int((manifest["status"] != "ok").sum()),
        "errors_by_reason": {str(k): int(v) for k, v in sorted(bad.items())},
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
        "config": cfg.key(),
    }


def load_manifest(work: str | Path) -> pd.DataFrame:
    path = Path(work) / "extract" / "manifest.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no extraction manifest; run notebook 02_extract first")
    return pd.read_csv(
        path,
        dtype={"video_id": str, "split": str, "error": str, "reason": str},
        keep_default_na=False,
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


if __name__ == "__main__":  # the command line is extract_cli.py, which imports this module
    raise SystemExit("stage 02's command line is `python -m lib.chimpact.extract_cli`")
