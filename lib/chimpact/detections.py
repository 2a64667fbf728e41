"""MegaDetector batch output as the seconds and animals to predict a distance for.

Camera-trap teams run MegaDetector first; its batch-output JSON
(https://lila.science/megadetector-output-format) says where the animals are. Two layouts are
read:

- video results: an entry per video with `frame_rate` and detections carrying `frame_number`;
  the second of a detection is `floor(frame_number / frame_rate)`;
- image results for frames extracted at 1 fps (MegaDetector's own frame folders,
  `<video>/frame000012.jpg`): the second is the frame's number.

Only detections of the category named "animal" with `conf` at or above the threshold are kept.
MegaDetector usually samples several frames per second, which see the same animals again, so
each second takes the animals of one frame: the one with the most kept detections (then the
highest summed confidence, then the earliest). Boxes become `x1,y1,x2,y2` normalised to [0, 1],
the competition metadata's convention. Entries whose file is missing on disk, failed entries
and videos without a kept detection are counted, never fatal.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

BOX_COLUMNS = ["x1", "y1", "x2", "y2", "conf"]
FRAME_NAME = re.compile(r"(\d+)$")


class DetectionsError(ValueError):
    """A detections file that cannot be used; the message names the file and the fix."""


@dataclass
class Detections:
    rows: pd.DataFrame  # filepath (Path), time, x1, y1, x2, y2, conf: one row per animal
    missing: list[str] = field(default_factory=list)  # files of the JSON not found on disk
    without: list[str] = field(default_factory=list)  # videos with no kept animal detection
    failed: list[tuple[str, str]] = field(default_factory=list)  # MegaDetector's failures

    def counts(self) -> dict[str, int]:
        return {
            "missing on disk": len(self.missing),
            "no animal detection": len(self.without),
            "failed in MegaDetector": len(self.failed),
        }


def _load(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetectionsError(f"--detections {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DetectionsError(
            f"{path}: not a readable MegaDetector JSON ({exc}); copy it again or rerun MegaDetector"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise DetectionsError(f"{path}: no 'images' list; is it a MegaDetector batch output?")
    return doc


def _animal_ids(doc: dict, path: Path) -> set[str]:
    cats = doc.get("detection_categories") or {}
    ids = {str(k) for k, v in cats.items() if str(v).strip().lower() == "animal"}
    if not ids:
        raise DetectionsError(f"{path}: detection_categories has no 'animal' ({cats})")
    return ids


def _video_and_second(entry: dict) -> tuple[str, int | None]:
    """(the video's file name as written in the JSON, the second of a frame image or None)."""
    name = str(entry["file"]).replace("\\", "/")
    if entry.get("frame_rate") is not None:
        return name, None
    parent, _, stem = name.rpartition("/")
    match = FRAME_NAME.search(Path(stem).stem)
    if parent and match:
        return parent, int(match.group(1))
    return name, None


def _kept(entry: dict, animal: set[str], conf: float, second: int | None) -> list[dict]:
    """The entry's animal detections >= conf, each with its second and frame."""
    rate = entry.get("frame_rate")
    out = []
    for det in entry.get("detections") or []:
        if str(det.get("category")) not in animal or float(det.get("conf", 0)) < conf:
            continue
        x, y, w, h = (float(v) for v in det["bbox"])
        if second is None:
            frame = int(det.get("frame_number", 0))
            when = math.floor(frame / float(rate)) if rate and rate > 0 else 0
        else:
            frame, when = second, second
        out.append({"time": when, "frame": frame, "x1": x, "y1": y, "x2": x + w, "y2": y + h,
                    "conf": float(det["conf"])})  # fmt: skip
    return out


def _one_frame_per_second(found: pd.DataFrame) -> pd.DataFrame:
    """Each second's animals from its frame with the most (then most confident) detections."""
    per_frame = found.groupby(["time", "frame"]).agg(n=("conf", "size"), total=("conf", "sum"))
    per_frame = per_frame.reset_index().sort_values(
        ["time", "n", "total", "frame"], ascending=[True, False, False, True]
    )
    best = per_frame.drop_duplicates("time")[["time", "frame"]]
    return found.merge(best, on=["time", "frame"]).sort_values(["time", "x1", "y1"])


def _resolve(name: str, bases: list[Path], json_dir: Path) -> Path:
    path = Path(name).expanduser()
    if path.is_absolute():
        return path
    for base in [*bases, json_dir]:
        if (base / path).exists():
            return base / path
    return (bases[0] if bases else json_dir) / path


def read(path: str | Path, bases: list[Path], conf: float = 0.2) -> Detections:
    """The animals to predict, one row per detected animal per second (module docstring);
    relative names are looked up in `bases` (the --videos folders), then beside the JSON."""
    path = Path(path).expanduser()
    doc = _load(path)
    animal = _animal_ids(doc, path)
    found: dict[str, list[dict]] = {}
    out = Detections(rows=pd.DataFrame())
    for i, entry in enumerate(doc["images"]):
        if not isinstance(entry, dict) or "file" not in entry:
            raise DetectionsError(f"{path}: images[{i}] has no 'file'; is the JSON complete?")
        video, second = _video_and_second(entry)
        if entry.get("failure"):
            out.failed.append((video, str(entry["failure"])))
            continue
        found.setdefault(video, []).extend(_kept(entry, animal, conf, second))
    rows = []
    for video, dets in found.items():
        file = _resolve(video, bases, path.parent)
        if not file.is_file():
            out.missing.append(str(file))
        elif not dets:
            out.without.append(str(file))
        else:
            rows.append(_one_frame_per_second(pd.DataFrame(dets)).assign(filepath=file))
    columns = ["filepath", "time", *BOX_COLUMNS]
    out.rows = pd.DataFrame(columns=columns)
    if rows:
        out.rows = pd.concat(rows, ignore_index=True)[columns]
    return out
