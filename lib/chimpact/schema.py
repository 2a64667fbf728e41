"""The competition's file layout and CSV schema, and loading them with clear errors.

Everything downstream joins on (`video_id`, `time`) keys, never on read order, so the loaders
check the keys once here: a duplicated or malformed row is reported with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib import tables

LABEL_COLUMNS = ["video_id", "time", "distance"]
METADATA_COLUMNS = ["video_id", "time", "x1", "y1", "x2", "y2", "probability", "park", "site_id"]
SUBMISSION_COLUMNS = LABEL_COLUMNS
KEY = ["video_id", "time"]

# The 35 distances present in the real train labels: 0-8 m in 0.5 m steps, 9-25 m in 1 m steps,
# and 13.5 m. Predictions are snapped to these in post-processing.
DISTANCE_GRID = np.array(
    sorted({*np.arange(0, 8.01, 0.5).round(1), *np.arange(9, 25.01, 1.0), 13.5}), dtype=np.float32
)

SPLITS = ("train", "test")
VIDEO_DIRS = {
    ("train", "full"): "train_videos",
    ("train", "down"): "train_videos_downsampled",
    ("test", "full"): "test_videos",
    ("test", "down"): "test_videos_downsampled",
}
SOURCES = ("down", "full")


DataError = tables.DataError  # one class for both tracks' table errors


@dataclass(frozen=True)
class Dataset:
    """One data folder in the competition layout, with its tables loaded and checked."""

    root: Path
    train: pd.DataFrame  # labels joined with metadata: KEY, distance, box, park, site_id
    test: pd.DataFrame  # test metadata (distance NaN unless an answers file exists)

    def video_path(self, split: str, source: str, video_id: str) -> Path:
        from lib.paths import inside

        return inside(self.root / VIDEO_DIRS[(split, source)], video_id)

    def rows(self, split: str) -> pd.DataFrame:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return self.train if split == "train" else self.test


# Per table: the numeric columns and their (minimum, maximum, required). Distances are metres
# from the camera; box corners and the detector's probability are fractions of the frame.
_BOX = {c: (0.0, 1.0, False) for c in ("x1", "y1", "x2", "y2", "probability")}
NUMBERS = {
    "labels": {"distance": (0.0, None, True)},
    "metadata": _BOX,
    "format": {},  # the submission format's distance is a placeholder the scorer ignores
}
ID_COLUMNS = ("video_id", "park", "site_id")


def read_table(path: Path, columns: list[str], kind: str | None = None) -> pd.DataFrame:
    """Read one competition CSV, insisting on its exact columns, whole-second times within a
    day, numbers in range (`kind`: a key of NUMBERS, guessed from the columns if None) and
    unique keys; spaces around headers and ids are removed with a DataWarning."""
    frame = tables.columns(tables.read_csv(path, _NEEDED), path, columns)
    kind = kind or ("metadata" if "x1" in columns else "labels")
    tables.strip_ids(frame, path, [c for c in ID_COLUMNS if c in frame.columns])
    tables.present(frame, path, "video_id")
    frame["time"] = tables.seconds(frame, path, "time")
    unsafe = frame["video_id"].map(_unsafe_name).to_numpy()
    if unsafe.any():
        line = int(frame.index[unsafe][0])
        raise DataError(
            f"{path}: line {line} has video_id {frame.at[line, 'video_id']!r}; a video_id "
            "must be a plain file name inside the videos folder (no folders, no '..')"
        )
    for name, (low, high, required) in NUMBERS[kind].items():
        frame[name] = tables.numbers(frame, path, name, low, high, required)
    if kind == "labels":
        tables.off_grid(frame, path, "distance", frame["distance"], DISTANCE_GRID)
    tables.unique(frame, path, KEY)
    return tables.done(frame)


_NEEDED = (
    "A chimpact data folder needs train_labels.csv, train_metadata.csv, test_metadata.csv and "
    "submission_format.csv (run `python -m lib.demo --track chimpact --out DIR` to make a demo "
    "one)."
)


def load(root: str | Path) -> Dataset:
    """Load and cross-check a data folder (labels vs metadata keys, the submission format vs
    the test metadata, answers if present)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    if not any(root.iterdir()):
        raise DataError(
            f"{root}: data folder is empty; put the competition files there (train_labels.csv, "
            "train_metadata.csv, test_metadata.csv, submission_format.csv and the video folders) "
            "or run `python -m lib.demo --track chimpact --out DIR` for a demo one"
        )
    labels = read_table(root / "train_labels.csv", LABEL_COLUMNS)
    meta = read_table(root / "train_metadata.csv", METADATA_COLUMNS)
    _same_keys(labels, meta, root / "train_labels.csv", root / "train_metadata.csv")
    train = meta.merge(labels, on=KEY, how="left", validate="one_to_one")
    if train["distance"].isna().any():
        raise DataError(f"{root / 'train_labels.csv'}: empty distance values")
    test = read_table(root / "test_metadata.csv", METADATA_COLUMNS)
    answers = root / "test_answers.csv"
    if answers.is_file():
        truth = read_table(answers, LABEL_COLUMNS)
        _same_keys(test, truth, root / "test_metadata.csv", answers)
        test = test.merge(truth, on=KEY, how="left", validate="one_to_one")
    else:
        test["distance"] = np.nan
    fmt = read_table(root / "submission_format.csv", SUBMISSION_COLUMNS, "format")
    if not fmt[KEY].reset_index(drop=True).equals(test[KEY].reset_index(drop=True)):
        _same_keys(test, fmt, root / "test_metadata.csv", root / "submission_format.csv")
        raise DataError(
            f"{root / 'submission_format.csv'}: same (video_id, time) rows as test_metadata.csv "
            "but in another order; the competition lists them in the same order"
        )
    return Dataset(root=root, train=train, test=test)


def _unsafe_name(name: str) -> bool:
    """True for names that are not a plain file name (e.g. '../../etc/passwd', 'a/b.mp4')."""
    return name in ("", ".", "..") or any(sep in name for sep in ("/", "\\")) or "\0" in name


def _same_keys(a: pd.DataFrame, b: pd.DataFrame, path_a: Path, path_b: Path) -> None:
    ka = set(map(tuple, a[KEY].itertuples(index=False)))
    kb = set(map(tuple, b[KEY].itertuples(index=False)))
    if ka != kb:
        only_a, only_b = sorted(ka - kb)[:3], sorted(kb - ka)[:3]
        raise DataError(
            f"{path_a.name} and {path_b.name} disagree on (video_id, time) rows: "
            f"{len(ka - kb)} only in {path_a.name} (e.g. {only_a}), "
            f"{len(kb - ka)} only in {path_b.name} (e.g. {only_b})"
        )


def snap_to_grid(values: np.ndarray, grid: np.ndarray = DISTANCE_GRID) -> np.ndarray:
    """Nearest grid value for each prediction (the write-up's post-processing)."""
    values = np.asarray(values, dtype=np.float32)
    idx = np.clip(np.searchsorted(grid, values), 1, len(grid) - 1)
    left, right = grid[idx - 1], grid[idx]
    return np.where(values - left <= right - values, left, right)
