"""Distances for new videos from a model bundle: one row per requested second.

Without a times table every second of every video is predicted (like `zamba depth`); with one,
exactly its rows. Each video goes through the same steps as training data did: frames at 1 fps
as JPEG at the bundle's size and quality, the write-up's overexposure rule on the requested
seconds, `eq=gamma=0.1` for the `full` source of an overexposed video, the 11-frame window with
edge repetition, the model's input size, then the fold mean per run and the ensemble weights.

The competition shipped a separately downsampled copy of each video (the `down` source). New
videos have none: unless `downsampled` names a folder of such copies, the `down` runs see the
original's frames without gamma. Videos that cannot be read are reported in the errors table and
their requested rows get an empty distance - never a made-up one, never a dropped row.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import fileio
from lib.chimpact.bundle import Bundle
from lib.chimpact.windows import middle, needed_seconds, window
from lib.paths import inside
from lib.video import VideoError, decode_jpeg, frames_at_1fps, white_share

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".asf", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".mts")
ALL_SECONDS = 10**6  # "decode to the end": ffmpeg stops at the last frame
OUTPUT_COLUMNS = ["filepath", "time", "distance"]


class InputError(ValueError):
    """Arguments or a times table that cannot be used; the message says what to fix."""


def find_videos(inputs: list[str | Path]) -> list[Path]:
    """Video files among `inputs`: files as given, folders searched recursively (sorted)."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError(
            f"no video files ({', '.join(VIDEO_SUFFIXES)}) in {', '.join(map(str, inputs))}"
        )
    return found


def read_times(path: str | Path, videos: list[str | Path]) -> pd.DataFrame:
    """Requested rows as columns `filepath` (Path), `time` (int).

    The table has `time` and either `filepath` (absolute or relative to the working folder) or
    `video_id` (a file name inside the single folder given as videos, as in the competition's
    metadata CSVs, which can be passed as they are).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"--times {path}: no such file")
    table = pd.read_csv(path, dtype={"video_id": str, "filepath": str})
    if "time" not in table.columns or not {"filepath", "video_id"} & set(table.columns):
        raise InputError(
            f"{path}: needs columns time and filepath (or video_id); found {list(table.columns)}"
        )
    times = pd.to_numeric(table["time"], errors="coerce")
    bad = times.isna() | (times < 0) | (times != np.floor(times))
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(
            f"{path}: line {line} has time {table['time'].iloc[line - 2]!r}; "
            "times must be whole seconds >= 0"
        )
    if "filepath" in table.columns:
        files = [Path(p).expanduser() for p in table["filepath"]]
    else:
        folders = [Path(v).expanduser() for v in videos]
        if len(folders) != 1 or not folders[0].is_dir():
            raise InputError(
                f"{path} names videos by video_id; pass exactly one folder with --videos "
                "that holds them (or use a filepath column)"
            )
        try:
            files = [inside(folders[0], v) for v in table["video_id"]]
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
    out = pd.DataFrame({"filepath": files, "time": times.astype(np.int64)})
    dup = out.duplicated(keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise InputError(f"{path}: {int(dup.sum())} repeated rows, e.g. {first.filepath} at "
                         f"{first.time} s; remove the duplicates")  # fmt: skip
    return out


@dataclass
class VideoFrames:
    """The JPEG frames one video needs, per source, and what the overexposure rule decided."""

    path: Path
    times: list[int]
    frames: dict[str, list[bytes]] = field(default_factory=dict)  # source -> frames 0..last
    overexposed: bool = False
    white_share_max: float = 0.0
    error: str = ""


def read_video(
    path: Path,
    times: list[int] | None,
    bundle: Bundle,
    downsampled: Path | None = None,
    threads: int = 1,
) -> VideoFrames:
    """Decode what `bundle` needs from one video; a failure becomes `error`, not an exception."""
    pre = bundle.preprocessing
    size = tuple(pre["frame_size"]) if pre.get("frame_size") else None
    decode = {"size": size, "quality": int(pre["jpeg_quality"]), "threads": threads}
    out = VideoFrames(path=path, times=list(times or []))
    try:
        count = ALL_SECONDS if times is None else max(needed_seconds(times, bundle.steps())) + 1
        down_path = inside(downsampled, path.name) if downsampled else path
        down = frames_at_1fps(down_path, count, gamma=False, **decode)
        if times is None:
            out.times = list(range(len(down)))
        last = len(down) - 1
        targets = sorted({min(t, last) for t in out.times})
        shares = [white_share(decode_jpeg(down[t]), int(pre["white_value"])) for t in targets]
        out.white_share_max = float(max(shares))
        out.overexposed = out.white_share_max > float(pre["white_share"])
        out.frames["down"] = down
        if "full" in bundle.sources():
            if downsampled is None and not out.overexposed:
                out.frames["full"] = down  # same file, same settings: the same frames
            else:
                out.frames["full"] = frames_at_1fps(path, count, gamma=out.overexposed, **decode)
    except (VideoError, OSError, ValueError) as exc:
        out.error = str(exc)
        out.frames = {}
    return out


def _inputs(
    video: VideoFrames, source: str, step: int, frames: int, size: int, rows: list[int]
) -> np.ndarray:
    """(len(rows), frames, size, size, 3) float32 in [0, 1], decoded as in training."""
    import tensorflow as tf

    from lib.chimpact.data import decode_frames

    jpegs = video.frames[source]
    sel = middle(frames)
    seqs = [window(t, step, len(jpegs) - 1)[sel] for t in rows]
    unique = sorted({i for seq in seqs for i in seq})
    pixels = decode_frames(tf.constant([jpegs[i] for i in unique]), size, len(unique)).numpy()
    where = {i: k for k, i in enumerate(unique)}
    batch = np.stack([pixels[[where[i] for i in seq]] for seq in seqs])
    return batch.astype(np.float32) / np.float32(255.0)


def _pad(x: np.ndarray) -> np.ndarray:
    """Repeat the last row up to the next power of two: each model then traces its predict
    function for a handful of batch shapes instead of once per video length."""
    n = len(x)
    size = 1 << (n - 1).bit_length()
    return x if size == n else np.concatenate([x, np.repeat(x[-1:], size - n, axis=0)])


def predict_frames(bundle: Bundle, video: VideoFrames, batch_size: int = 32) -> np.ndarray:
    """Blended distance (not snapped) for each of `video.times`."""
    total = np.zeros(len(video.times), dtype=np.float64)
    for run in bundle.runs:
        pred = np.zeros(len(video.times), dtype=np.float64)
        for start in range(0, len(video.times), batch_size):
            rows = video.times[start : start + batch_size]
            x = _pad(_inputs(video, run.source, run.step, run.frames, run.image_size, rows))
            fold_mean = run.predict_folds(x).mean(axis=0)
            pred[start : start + len(rows)] = fold_mean[: len(rows)]
        total += run.weight * pred
    return total


def _read_ahead(
    jobs: list[tuple[Path, list[int] | None]],
    bundle: Bundle,
    downsampled: Path | None,
    workers: int,
) -> Iterator[VideoFrames]:
    """Videos decoded by a few threads ahead of the model (ffmpeg runs outside the GIL), with
    at most 2 x workers videos held in memory."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        queue = iter(jobs)
        for path, times in queue:
            pending.append(pool.submit(read_video, path, times, bundle, downsampled))
            if len(pending) >= 2 * workers:
                break
        while pending:
            yield pending.popleft().result()
            for path, times in queue:
                pending.append(pool.submit(read_video, path, times, bundle, downsampled))
                break


@dataclass
class Result:
    rows: pd.DataFrame  # filepath, time, distance (NaN for unreadable videos' requested rows)
    errors: pd.DataFrame  # filepath, error
    overexposed: list[str]
    videos: int

    def summary(self) -> dict:
        return {
            "videos": self.videos,
            "rows": int(len(self.rows)),
            "rows_without_distance": int(self.rows["distance"].isna().sum()),
            "unreadable_videos": int(len(self.errors)),
            "overexposed_videos": len(self.overexposed),
        }


def predict(
    bundle: Bundle,
    videos: list[str | Path],
    times: str | Path | None = None,
    downsampled: str | Path | None = None,
    batch_size: int = 32,
    workers: int = 2,
    snap: bool = True,
    progress: bool = True,
) -> Result:
    """Predict every second of `videos` (files or folders), or the rows of the `times` CSV."""
    down_dir = Path(downsampled).expanduser() if downsampled else None
    if down_dir is not None and not down_dir.is_dir():
        raise InputError(f"--downsampled {down_dir}: no such folder")
    if times is not None:
        table = read_times(times, videos)
        order = list(dict.fromkeys(table["filepath"]))
        grouped = table.groupby("filepath", sort=False)["time"]
        jobs = [(p, sorted(grouped.get_group(p).tolist())) for p in order]
    else:
        jobs = [(p, None) for p in find_videos(videos)]
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    # each fold model traces its predict step once; TF warns about "retracing" past 5 models
    tf_log.setLevel(logging.ERROR)
    try:
        parts, errors, overexposed = _predict_jobs(jobs, bundle, down_dir, batch_size, workers,
                                                   snap, progress)  # fmt: skip
    finally:
        tf_log.setLevel(level)
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OUTPUT_COLUMNS)
    if times is not None:  # back to the requested order, one row per requested row
        want = table.assign(filepath=table["filepath"].map(str))
        rows = want.merge(rows, on=["filepath", "time"], how="left", validate="one_to_one")
    return Result(
        rows=rows[OUTPUT_COLUMNS].reset_index(drop=True),
        errors=pd.DataFrame(errors, columns=["filepath", "error"]),
        overexposed=overexposed,
        videos=len(jobs),
    )


def _predict_jobs(
    jobs: list[tuple[Path, list[int] | None]],
    bundle: Bundle,
    down_dir: Path | None,
    batch_size: int,
    workers: int,
    snap: bool,
    progress: bool,
) -> tuple[list[pd.DataFrame], list[dict], list[str]]:
    """Per video: its rows (NaN distances if unreadable), errors, overexposed paths."""
    parts: list[pd.DataFrame] = []
    errors: list[dict] = []
    overexposed: list[str] = []
    for video in tqdm(
        _read_ahead(jobs, bundle, down_dir, max(1, workers)),
        total=len(jobs), desc="videos", unit="video", disable=not progress,
    ):  # fmt: skip
        if video.error:
            log.warning("%s: %s", video.path, video.error)
            errors.append({"filepath": str(video.path), "error": video.error})
            distance = np.full(len(video.times), np.nan)
        else:
            distance = predict_frames(bundle, video, batch_size)
            if snap:
                distance = bundle.snap(distance).astype(np.float64)
            if video.overexposed:
                overexposed.append(str(video.path))
        parts.append(
            pd.DataFrame(
                {"filepath": str(video.path), "time": np.asarray(video.times, np.int64),
                 "distance": distance}
            )
        )  # fmt: skip
    return parts, errors, overexposed


def errors_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.errors.csv")


def write(result: Result, out: str | Path) -> dict:
    """The predictions CSV and, beside it, `<name>.errors.csv` (header only when none failed)."""
    fileio.write_csv(out, result.rows)
    fileio.write_csv(errors_path(out), result.errors)
    return {**result.summary(), "out": str(out), "errors": str(errors_path(out))}
