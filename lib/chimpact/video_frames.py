"""What the chimpact predict command decodes from one video, as a step of the stage engine.

The frames are the training data's: 1 fps JPEG at the bundle's size and quality, the write-up's
overexposure rule on the requested seconds, `eq=gamma=0.1` for the `full` source of an
overexposed video. `decode` runs where the engine puts it (a thread, a Dask worker) and leaves
its frames in one .npz; the model's process loads them with `load`. This module imports no
model code, so a worker that decodes never loads TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lib import fileio
from lib.chimpact.windows import needed_seconds
from lib.inputs import video_reason
from lib.paths import inside
from lib.video import VideoError, decode_jpeg, frames_at_1fps, white_share

ALL_SECONDS = 10**6  # "decode to the end": decoding stops at the last frame
VERSION = 1  # layout of the decoded files


@dataclass
class VideoFrames:
    """The JPEG frames one video needs, per source, and what the overexposure rule decided."""

    path: Path
    times: list[int]  # requested seconds inside the video
    frames: dict[str, list[bytes]] = field(default_factory=dict)  # source -> frames 0..last
    past_end: list[int] = field(default_factory=list)  # requested seconds after its last one
    last_second: int = -1
    overexposed: bool = False
    white_share_max: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class DecodeJob:
    """One video to decode: everything `decode` needs, small enough to send to a worker."""

    path: str
    times: list[int] | None  # requested seconds, None for every second
    down_path: str  # the downsampled copy (the video itself when there is none)
    out: str  # the .npz to write
    preprocessing: dict  # the bundle's: frame_size, jpeg_quality, white_value, white_share
    steps: tuple[int, ...]  # the runs' window steps: which seconds the windows touch
    full: bool  # whether any run reads the `full` source


def settings(preprocessing: dict, steps: tuple[int, ...], sources: set[str]) -> dict:
    """What a video's decoded frames depend on besides the file and its requested seconds."""
    return {"preprocessing": preprocessing, "steps": sorted(steps), "sources": sorted(sources)}


def decode(job: DecodeJob) -> dict:
    """Decode one video into `job.out`; a failure is a result with its reason, never raised."""
    video = read(job)
    if video.error:
        reason = video_reason(video.error)
        return {**_meta(video), "status": "failed", "reason": reason, "error": video.error}
    same = video.frames.get("full") is video.frames["down"]
    arrays: dict[str, np.ndarray] = {}
    for source, frames in video.frames.items():
        if source == "full" and same:
            continue
        arrays[f"{source}_data"] = np.frombuffer(b"".join(frames), dtype=np.uint8)
        arrays[f"{source}_ends"] = np.cumsum([len(f) for f in frames], dtype=np.int64)
    fileio.write_npz(job.out, arrays)
    return {**_meta(video), "status": "ok", "full_is_down": same}


def blank(job: DecodeJob, reason: str, error: str) -> dict:
    """The result of a video whose decode never returned (a lost worker, a crash)."""
    return {**_meta(VideoFrames(Path(job.path), list(job.times or []), error=error)),
            "status": "failed", "reason": reason, "error": error}  # fmt: skip


def read(job: DecodeJob) -> VideoFrames:
    """The frames `job` asks for, in memory; a failure becomes `error`, not an exception."""
    pre = job.preprocessing
    size = tuple(pre["frame_size"]) if pre.get("frame_size") else None
    opts = {"size": size, "quality": int(pre["jpeg_quality"]), "threads": 1}
    out = VideoFrames(path=Path(job.path), times=list(job.times or []))
    try:
        count = ALL_SECONDS
        if job.times is not None:
            count = min(ALL_SECONDS, max(needed_seconds(job.times, job.steps)) + 1)
        down = frames_at_1fps(job.down_path, count, gamma=False, **opts)
        if job.times is None:
            out.times = list(range(len(down)))
        last = out.last_second = len(down) - 1
        out.past_end = [t for t in out.times if t > last]
        out.times = [t for t in out.times if t <= last]
        targets = sorted(set(out.times)) or [last]
        shares = [white_share(decode_jpeg(down[t]), int(pre["white_value"])) for t in targets]
        out.white_share_max = float(max(shares))
        out.overexposed = out.white_share_max > float(pre["white_share"])
        out.frames["down"] = down
        if job.full:
            if job.down_path == job.path and not out.overexposed:
                out.frames["full"] = down  # same file, same settings: the same frames
            else:
                out.frames["full"] = frames_at_1fps(job.path, count, gamma=out.overexposed, **opts)
    except (VideoError, OSError, ValueError) as exc:
        out.error = str(exc)
        out.frames = {}
    return out


def load(record: dict, out: str | Path) -> VideoFrames:
    """A decoded video back from its engine record's result and its .npz."""
    res = record["result"]
    video = VideoFrames(
        path=Path(res["path"]), times=list(res["times"]), past_end=list(res["past_end"]),
        last_second=int(res["last_second"]), overexposed=bool(res["overexposed"]),
        white_share_max=float(res["white_share_max"]), error=res.get("error", ""),
    )  # fmt: skip
    if record["status"] != "ok":
        video.error = video.error or record["error"]
        return video
    arrays = fileio.read_npz(out)
    for key in arrays:
        if key.endswith("_data"):
            source = key[: -len("_data")]
            data, ends = arrays[key].tobytes(), arrays[f"{source}_ends"].tolist()
            video.frames[source] = [data[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    if res.get("full_is_down"):
        video.frames["full"] = video.frames["down"]
    return video


def down_path(path: Path, downsampled: Path | None) -> Path:
    """The video the `down` runs read: the copy of the same name in `downsampled`, if given."""
    return inside(downsampled, path.name) if downsampled else path


def _meta(video: VideoFrames) -> dict:
    return {
        "path": str(video.path),
        "times": video.times,
        "past_end": video.past_end,
        "last_second": video.last_second,
        "overexposed": video.overexposed,
        "white_share_max": video.white_share_max,
        "error": video.error,
    }
