"""Distances for new videos from a model bundle: one row per requested second.

Without a times table every second of every video is predicted (like `zamba depth`); with one,
exactly its rows. Each video goes through the same steps as training data did: frames at 1 fps
as JPEG at the bundle's size and quality, the write-up's overexposure rule on the requested
seconds, `eq=gamma=0.1` for the `full` source of an overexposed video, the 11-frame window with
edge repetition, the model's input size, then the fold mean per run and the ensemble weights.

The competition shipped a separately downsampled copy of each video (the `down` source). New
videos have none: unless `downsampled` names a folder of such copies, the `down` runs see the
original's frames without gamma. Videos that cannot be read are reported in the errors table and
their requested rows get an empty distance - never a made-up one, never a dropped row; so do
requested seconds past a video's end, with the reason in the errors table.

Each finished video's rows go into a checkpoint (lib.predict.resume) when one is given, and
a rerun takes them from there instead of decoding the video again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, stages
from lib.chimpact import detections, video_frames
from lib.chimpact.bundle import Bundle
from lib.chimpact.video_frames import VideoFrames
from lib.chimpact.windows import middle, window
from lib.paths import inside
from lib.predict import card_files, decode_step
from lib.predict.resume import Checkpoint, file_identity

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".asf", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".mts")
MAX_TIME = 86_400  # a requested second beyond a day is a typo or a spreadsheet's 1E+19
OUTPUT_COLUMNS = ["filepath", "time", "distance"]
DETECTION_COLUMNS = [*OUTPUT_COLUMNS, *detections.BOX_COLUMNS]
ERROR_COLUMNS = ["filepath", "time", "error"]
PAST_END = "past the video's end"


class InputError(ValueError):
    """Arguments or a times table that cannot be used; the message says what to fix."""


def find_videos(paths: list[str | Path]) -> card_files.Found:
    """Video files among `paths` (files as given, folders searched recursively, each file
    once) and the entries skipped with their reason (links to nothing, loops, folders)."""
    try:
        return card_files.find(paths, VIDEO_SUFFIXES, "a video", require="video")
    except card_files.InputError as exc:
        raise InputError(str(exc)) from None


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
    bad = times.isna() | (times < 0) | (times != np.floor(times)) | (times > MAX_TIME)
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(
            f"{path}: line {line} has time {table['time'].iloc[line - 2]!r}; "
            f"times must be whole seconds >= 0 and at most {MAX_TIME} (a day)"
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


def _inputs(
    video: VideoFrames, source: str, step: int, frames: int, size: int, rows: list[int]
) -> np.ndarray:
    """(len(rows), frames, size, size, 3) float32 in [0, 1], decoded as in training."""
    import tensorflow as tf

    from lib.chimpact.input_pipeline import decode_frames

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


def predict_runs(bundle: Bundle, video: VideoFrames, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Each run's fold-mean distance (not snapped) for each of `video.times`."""
    return {run.run_id: _run_predict(run, video, batch_size) for run in bundle.runs}


def predict_frames(bundle: Bundle, video: VideoFrames, batch_size: int = 32) -> np.ndarray:
    """Blended distance (not snapped) for each of `video.times`, with the write-up's weights."""
    total = np.zeros(len(video.times), dtype=np.float64)
    if not video.times:
        return total
    for run in bundle.runs:
        if run.weight:
            total += run.weight * _run_predict(run, video, batch_size)
    return total


def _run_predict(run, video: VideoFrames, batch_size: int) -> np.ndarray:
    """One run's fold-mean distance for each of `video.times`."""
    pred = np.zeros(len(video.times), dtype=np.float64)
    for start in range(0, len(video.times), batch_size):
        rows = video.times[start : start + batch_size]
        x = _pad(_inputs(video, run.source, run.step, run.frames, run.image_size, rows))
        pred[start : start + len(rows)] = run.predict_folds(x).mean(axis=0)[: len(rows)]
    return pred


@dataclass
class Result:
    rows: pd.DataFrame  # OUTPUT_COLUMNS (+ box columns with detections); NaN = no distance
    errors: pd.DataFrame  # ERROR_COLUMNS: unreadable videos, skipped inputs, rows past the end
    overexposed: list[str]
    videos: int
    skipped_finished: int = 0  # videos taken from the checkpoint
    counts: dict[str, int] = field(default_factory=dict)  # detections: files not predicted

    def failed_by_reason(self) -> dict[str, int]:
        """Videos (or rows, for rows past the end) that got no distance, by reason."""
        reasons: dict[str, int] = dict(self.counts)
        for row in self.errors.itertuples(index=False):
            reason = row.error.split(": ")[0] if row.error.startswith("skipped") else (
                PAST_END if row.error.startswith(PAST_END) else "unreadable video"
            )  # fmt: skip
            reasons[reason] = reasons.get(reason, 0) + 1
        return reasons

    def summary(self) -> dict:
        whole_file = self.errors["time"].isna()
        unreadable = self.errors[whole_file & ~self.errors["error"].str.startswith("skipped")]
        return {
            "videos": self.videos,
            "files_read": self.videos - int(len(unreadable)),
            "finished_videos_skipped": self.skipped_finished,
            "rows": int(len(self.rows)),
            "rows_written": int(len(self.rows)),
            "rows_without_distance": int(self.rows["distance"].isna().sum()),
            "unreadable_videos": int(len(unreadable)),
            "failed_by_reason": self.failed_by_reason(),
            "overexposed_videos": len(self.overexposed),
        }


@dataclass
class Options:
    """How to predict: the settings a checkpoint's results depend on travel together."""

    batch_size: int = 32
    workers: int = 2
    snap: bool = True
    progress: bool = True
    scheduler: str | None = None  # where videos are decoded (lib.executors); None: threads here


def predict(
    bundle: Bundle,
    videos: list[str | Path],
    times: str | Path | None = None,
    downsampled: str | Path | None = None,
    batch_size: int = 32,
    workers: int = 2,
    snap: bool = True,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
    scheduler: str | None = None,
) -> Result:
    """Predict every second of `videos` (files or folders), or the rows of the `times` CSV."""
    down_dir = Path(downsampled).expanduser() if downsampled else None
    if down_dir is not None and not down_dir.is_dir():
        raise InputError(f"--downsampled {down_dir}: no such folder")
    skipped: list[tuple[str, str]] = []
    if times is not None:
        table = read_times(times, videos)
        order = list(dict.fromkeys(table["filepath"]))
        grouped = table.groupby("filepath", sort=False)["time"]
        jobs = [(p, sorted(grouped.get_group(p).tolist())) for p in order]
    else:
        found = find_videos(videos)
        jobs, skipped = [(p, None) for p in found.files], found.skipped
    opts = Options(batch_size, workers, snap, progress, scheduler)
    entries = _run_jobs(jobs, bundle, down_dir, opts, checkpoint, _video_entry)
    rows, errors, overexposed = _assemble(jobs, entries, OUTPUT_COLUMNS)
    if times is not None:  # back to the requested order, one row per requested row
        want = table.assign(filepath=table["filepath"].map(str))
        rows = want.merge(rows, on=["filepath", "time"], how="left", validate="one_to_one")
    skips = pd.DataFrame([(p, np.nan, f"skipped: {r}") for p, r in skipped], columns=ERROR_COLUMNS)
    return Result(
        rows=rows[OUTPUT_COLUMNS].reset_index(drop=True),
        errors=pd.concat([errors, skips], ignore_index=True) if skipped else errors,
        overexposed=overexposed,
        videos=len(jobs),
        skipped_finished=checkpoint.reused if checkpoint else 0,
    )


def _identity(path: Path, times: list[int] | None, down_dir: Path | None) -> dict:
    """What a video's checkpointed rows were made from: the file(s) and the requested seconds."""
    ident = {"video": file_identity(path), "times": times}
    if down_dir is not None:
        ident["downsampled"] = file_identity(down_dir / path.name)
    return ident


def _video_entry(bundle: Bundle, video: VideoFrames, opts: Options, extra=None) -> dict:
    """A decoded video's rows (time, distance) and errors, ready for the checkpoint."""
    if video.error:
        log.warning("%s: %s", video.path, video.error)
        n = len(video.times) + len(video.past_end)
        times = sorted(video.times + video.past_end)
        return {"rows": {"time": times, "distance": [np.nan] * n},
                "errors": [[None, video.error]], "overexposed": False}  # fmt: skip
    distance = predict_frames(bundle, video, opts.batch_size)
    if opts.snap and len(distance):
        distance = bundle.snap(distance).astype(np.float64)
    return {
        "rows": {"time": video.times + video.past_end,
                 "distance": [*distance.tolist(), *[np.nan] * len(video.past_end)]},
        "errors": _past_end_errors(video),
        "overexposed": video.overexposed,
    }  # fmt: skip


def _past_end_errors(video: VideoFrames) -> list[list]:
    return [[t, f"{PAST_END} (its last second is {video.last_second})"] for t in video.past_end]


def _run_jobs(
    jobs: list[tuple[Path, list[int] | None]],
    bundle: Bundle,
    down_dir: Path | None,
    opts: Options,
    checkpoint: Checkpoint | None,
    make_entry,
    extra: dict | None = None,
) -> list[dict]:
    """One entry per job, in job order: from the checkpoint when it holds the video's finished
    rows (same file, same seconds), else decoded on the stage engine and predicted here as each
    video's frames arrive (and then checkpointed)."""
    idents = [_identity(p, t, down_dir) for p, t in jobs]
    for (path, _), ident in zip(jobs, idents, strict=True):
        if extra is not None:  # the animals' boxes: a changed detections file redoes the video
            boxes = extra[str(path)][["time", *detections.BOX_COLUMNS]]
            ident["animals"] = boxes.to_numpy().tolist()
    entries = {
        str(p): e
        for (p, _), i in zip(jobs, idents, strict=True)
        if (e := checkpoint.get(str(p), i) if checkpoint else None) is not None
    }
    if checkpoint and checkpoint.reused:
        log.warning("resuming from %s: %d finished videos skipped", checkpoint.folder,
                    checkpoint.reused)  # fmt: skip
    todo = [(job, i) for job, i in zip(jobs, idents, strict=True) if str(job[0]) not in entries]
    idents_by_path = {str(p): i for (p, _), i in todo}
    with decode_step.folder(checkpoint) as where, _quiet_retracing():
        step = decode_step.DecodeStep(
            where,
            video_frames.settings(bundle.preprocessing, bundle.steps(), bundle.sources()),
            video_frames.VERSION,
            "video",
        )

        def predicted(item: stages.Item, record: dict) -> None:
            path, ident = item.job.path, idents_by_path[item.job.path]
            entry = make_entry(bundle, video_frames.load(record, item.job.out), opts, extra)
            Path(item.job.out).unlink(missing_ok=True)  # predicted: its frames are not needed
            entries[path] = entry
            if checkpoint:
                checkpoint.put(path, {**entry, "identity": ident})

        items = [_decode_item(step, bundle, p, t, down_dir) for (p, t), _ in todo]
        decode_step.run(step, video_frames.decode, items, video_frames.blank, predicted,
                        opts.workers, opts.scheduler, opts.progress)  # fmt: skip
    if checkpoint:
        checkpoint.save()
    return [entries[str(p)] for p, _ in jobs]


def _decode_item(
    step: decode_step.DecodeStep,
    bundle: Bundle,
    path: Path,
    times: list[int] | None,
    down_dir: Path | None,
) -> stages.Item:
    """The engine item that decodes one video for `bundle`."""
    name = decode_step.work_name(path)
    down = video_frames.down_path(path, down_dir)
    job = video_frames.DecodeJob(
        path=str(path), times=times, down_path=str(down), out=str(step.output(name)),
        preprocessing=bundle.preprocessing, steps=tuple(bundle.steps()),
        full="full" in bundle.sources(),
    )  # fmt: skip
    files = (str(path),) if down == path else (str(path), str(down))
    return stages.Item(name, job, rows={"times": times}, files=files, outputs=(job.out,))


@contextmanager
def _quiet_retracing() -> Iterator[None]:
    """Each fold model traces its predict step once; TF warns about "retracing" past 5."""
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        tf_log.setLevel(level)


def _assemble(
    jobs: list[tuple[Path, list[int] | None]], entries: list[dict], columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The rows, errors and overexposed videos of all entries, in job order."""
    parts, errors, overexposed = [], [], []
    for (path, _), entry in zip(jobs, entries, strict=True):
        part = pd.DataFrame(entry["rows"])
        part.insert(0, "filepath", str(path))
        parts.append(part.astype({"time": np.int64, "distance": np.float64}))
        errors += [[str(path), np.nan if t is None else t, e] for t, e in entry["errors"]]
        if entry["overexposed"]:
            overexposed.append(str(path))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return rows[columns], pd.DataFrame(errors, columns=ERROR_COLUMNS), overexposed


def predict_detections(
    bundle: Bundle,
    videos: list[str | Path],
    detections_file: str | Path,
    conf: float = 0.2,
    downsampled: str | Path | None = None,
    batch_size: int = 32,
    workers: int = 2,
    snap: bool = True,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
    scheduler: str | None = None,
) -> Result:
    """One row per animal that MegaDetector found (lib.chimpact.detections) in the seconds that
    hold one: the CNN-LSTM runs once per second, the box member on each animal's own box."""
    down_dir = Path(downsampled).expanduser() if downsampled else None
    if down_dir is not None and not down_dir.is_dir():
        raise InputError(f"--downsampled {down_dir}: no such folder")
    if bundle.boxes is None:
        log.warning("%s has no detector-box member: the animals of one second share its "
                    "distance; export a bundle whose blend used it", bundle.folder)  # fmt: skip
    bases = [Path(v).expanduser().absolute() for v in videos if Path(v).expanduser().is_dir()]
    try:
        found = detections.read(detections_file, bases, conf)
    except detections.DetectionsError as exc:
        raise InputError(str(exc)) from None
    animals = found.rows
    groups = {str(p): g.reset_index(drop=True) for p, g in animals.groupby("filepath", sort=False)}
    jobs = [(Path(p), sorted(set(g["time"].tolist()))) for p, g in groups.items()]
    opts = Options(batch_size, workers, snap, progress, scheduler)
    entries = _run_jobs(jobs, bundle, down_dir, opts, checkpoint, _animal_entry, groups)
    rows, errors, overexposed = _assemble(jobs, entries, DETECTION_COLUMNS)
    skips = [(f, np.nan, "skipped: missing on disk") for f in found.missing]
    skips += [(f, np.nan, "skipped: no animal detection") for f in found.without]
    skips += [(f, np.nan, f"skipped: failed in MegaDetector ({why})") for f, why in found.failed]
    return Result(
        rows=rows.reset_index(drop=True),
        errors=pd.concat([errors, pd.DataFrame(skips, columns=ERROR_COLUMNS)], ignore_index=True),
        overexposed=overexposed,
        videos=len(jobs),
        skipped_finished=checkpoint.reused if checkpoint else 0,
    )


def _animal_entry(bundle: Bundle, video: VideoFrames, opts: Options, groups: dict) -> dict:
    """One video's animal rows: the blend of the runs at the animal's second and, with a box
    member, the box model on the animal's own box, with the blend's weights with boxes."""
    animals = groups[str(video.path)]
    boxes = {c: animals[c].tolist() for c in detections.BOX_COLUMNS}
    distance = np.full(len(animals), np.nan)
    if video.error:
        log.warning("%s: %s", video.path, video.error)
        errors = [[None, video.error]]
    else:
        inside_video = animals["time"].to_numpy() <= video.last_second
        distance[inside_video] = _animal_distances(bundle, video, animals[inside_video], opts)
        if opts.snap and inside_video.any():
            distance[inside_video] = bundle.snap(distance[inside_video]).astype(np.float64)
        errors = _past_end_errors(video)
    return {"rows": {"time": animals["time"].tolist(), "distance": distance.tolist(), **boxes},
            "errors": errors, "overexposed": video.overexposed}  # fmt: skip


def _animal_distances(
    bundle: Bundle, video: VideoFrames, animals: pd.DataFrame, opts: Options
) -> np.ndarray:
    """Unsnapped distance per animal row (all inside the video)."""
    where = {t: i for i, t in enumerate(video.times)}
    at = animals["time"].map(where).to_numpy()
    if bundle.boxes is None:
        return predict_frames(bundle, video, opts.batch_size)[at]
    cnn = np.zeros(len(video.times), dtype=np.float64)
    for run in bundle.runs:
        if run.weight_with_boxes:
            cnn += run.weight_with_boxes * _run_predict(run, video, opts.batch_size)
    rows = animals.assign(video_id=str(video.path), probability=animals["conf"])
    return cnn[at] + bundle.boxes.weight * bundle.boxes.predict(rows)


def errors_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.errors.csv")


def write(result: Result, out: str | Path) -> dict:
    """The predictions CSV and, beside it, `<name>.errors.csv` (header only when none failed)."""
    fileio.write_csv(out, result.rows)
    fileio.write_csv(errors_path(out), result.errors)
    return {**result.summary(), "out": str(out), "errors": str(errors_path(out))}
