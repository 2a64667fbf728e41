"""New image folders -> camera-trap sequences, the unit the serengeti models predict.

The competition shipped its sequences (`test_metadata.csv`: `seq_id,file_name,datetime`); a
folder straight off a camera does not. A camera fires a burst of 1-3 shots per trigger and
re-triggers while the animal stays, so we rebuild sequences from where and when each image was
taken:

- **camera** = the folder an image is in (`group_by="folder"`): camera-trap collections are
  stored one folder per camera (and roll); images of different folders never share a sequence.
  `group_by="image"` makes every image its own sequence.
- **capture time** = EXIF DateTimeOriginal (tag 0x9003; the camera's clock when the shutter
  fired), else IFD0 DateTime (0x0132), else the file's modification time in this machine's local
  time zone (what a camera's FAT card timestamps become after copying). `time_source` says which
  one each image got: a folder copied without preserving times groups by copy time, so check it.
- within a camera, images in (time, name) order; a new sequence starts when the gap to the
  previous image is more than `gap_s` seconds (60 by default; Snapshot Serengeti's bursts are
  about a second apart and its cameras wait a minute before firing again).
- the sequence's id is `<camera folder>#<n>` (n = 1, 2, ... in time order within the folder).

With a metadata CSV in the competition layout the given sequences are used as they are, so the
competition's `test_metadata.csv` predicts its own sequences. Within a sequence, images are
ordered by file name (the order the networks were trained with: the first three by file name).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lib.paths import inside
from lib.serengeti.schema import DATETIME_FORMAT, KEY, SEQ_ID

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")  # Pillow reads them
GROUP_BY = ("folder", "image")
DEFAULT_GAP_S = 60.0
EXIF_FORMAT = "%Y:%m:%d %H:%M:%S"
IMAGE_COLUMNS = [KEY, "file", "path", "datetime", "time_source", "season", "site"]
SEQUENCE_COLUMNS = [KEY, "season", "site", "datetime", "n_images", "first_file"]


class InputError(ValueError):
    """Arguments or a metadata table that cannot be used; the message says what to fix."""


def _exif_time(path: Path) -> tuple[pd.Timestamp, str] | None:
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            candidates = (
                (exif.get_ifd(0x8769).get(0x9003), "exif_original"),
                (exif.get(0x0132), "exif_datetime"),
            )
    except Exception:  # noqa: BLE001 - an unreadable header just means "no EXIF time"
        return None
    for value, source in candidates:
        if isinstance(value, bytes):
            value = value.decode("ascii", "ignore")
        if not isinstance(value, str):
            continue
        try:
            return pd.Timestamp(dt.datetime.strptime(value.strip("\x00 "), EXIF_FORMAT)), source
        except ValueError:
            continue  # "0000:00:00 00:00:00" and other placeholders
    return None


def capture_time(path: str | Path) -> tuple[pd.Timestamp, str]:
    """(capture time, source): EXIF DateTimeOriginal, IFD0 DateTime, or the modification time
    (local time); (NaT, "none") for a file that cannot even be stat'ed."""
    path = Path(path)
    exif = _exif_time(path)
    if exif is not None:
        return exif
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return pd.NaT, "none"
    return pd.Timestamp(dt.datetime.fromtimestamp(mtime)).floor("s"), "mtime"


def _folder_label(rel: str, base: Path) -> str:
    parent = posixpath.dirname(rel)
    return parent if parent else base.name or "."


def group(
    paths: Sequence[Path],
    base: Path,
    gap_s: float = DEFAULT_GAP_S,
    group_by: str = "folder",
) -> pd.DataFrame:
    """One row per image (IMAGE_COLUMNS), with the sequence it belongs to (module docstring)."""
    if group_by not in GROUP_BY:
        raise InputError(f"--group-by must be one of {GROUP_BY}, got {group_by!r}")
    if not np.isfinite(gap_s) or gap_s < 0:
        raise InputError(f"--gap-s must be a number of seconds >= 0, got {gap_s!r}")
    rows = []
    for path in paths:
        when, source = capture_time(path)
        rel = Path(os.path.relpath(path, base)).as_posix()
        rows.append({"file": rel, "path": path, "datetime": when, "time_source": source})
    table = pd.DataFrame(rows, columns=["file", "path", "datetime", "time_source"])
    table["datetime"] = pd.to_datetime(table["datetime"])
    table["site"] = [_folder_label(f, base) for f in table["file"]]
    table = table.sort_values(["site", "datetime", "file"], kind="stable", na_position="last")
    seq_ids = []
    last_site, last_time, n = None, None, 0
    for site, when in zip(table["site"], table["datetime"], strict=True):
        new = (
            group_by == "image"
            or site != last_site
            or pd.isna(when)
            or pd.isna(last_time)
            or (when - last_time).total_seconds() > gap_s
        )
        n = 1 if site != last_site else n + int(new)
        seq_ids.append(f"{site}#{n}")
        last_site, last_time = site, when
    table[KEY] = seq_ids
    table["season"] = 0  # one deployment: the neighbour feature compares all its cameras
    return table.reset_index(drop=True)[IMAGE_COLUMNS]


def read_metadata(csv: str | Path, inputs: Sequence[str | Path]) -> pd.DataFrame:
    """One row per image (IMAGE_COLUMNS) from a CSV in the competition layout
    (`seq_id,file_name,datetime`, file names relative to the single `--images` folder).

    Competition seq_ids (`SER_S11#B04#1#1`) give season and site (as in training, so the
    neighbour feature compares the same cameras); other ids get season 0 and the file's
    folder as the site. An empty datetime is allowed (unknown time).
    """
    csv = Path(csv).expanduser()
    if not csv.is_file():
        raise InputError(f"--metadata {csv}: no such file")
    folders = [Path(p).expanduser() for p in inputs]
    if len(folders) != 1 or not folders[0].is_dir():
        raise InputError(
            f"{csv} names images relative to a data folder; pass exactly that one folder with "
            "--images"
        )
    root = folders[0].absolute()
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"{csv}: not a readable CSV ({err})") from None
    missing = [c for c in (KEY, "file_name") if c not in table.columns]
    if missing:
        raise InputError(
            f"{csv}: needs columns seq_id,file_name[,datetime]; missing {missing}, found "
            f"{list(table.columns)}"
        )
    for col in (KEY, "file_name"):
        empty = table[col].str.strip() == ""
        if empty.any():
            line = int(np.flatnonzero(empty.to_numpy())[0]) + 2
            raise InputError(f"{csv}: line {line}: empty {col}")
    dup = table["file_name"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            f"{csv}: {int(dup.sum())} rows repeat a file_name, e.g. "
            f"{table.loc[dup, 'file_name'].iloc[0]!r}; list each image once"
        )
    paths = []
    for i, name in enumerate(table["file_name"]):
        try:
            paths.append(inside(root, name.replace("\\", "/")))
        except ValueError as exc:
            raise InputError(f"{csv}: line {i + 2}: {exc}") from None
    raw = table["datetime"] if "datetime" in table.columns else pd.Series("", index=table.index)
    when = pd.to_datetime(raw, format=DATETIME_FORMAT, errors="coerce")
    bad = when.isna() & (raw.str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{csv}: line {i + 2}: datetime {raw.iloc[i]!r} is not YYYY-MM-DD HH:MM:SS; leave it "
            "empty if the time is unknown"
        )
    parts = table[KEY].str.extract(f"^{SEQ_ID.pattern}$")
    known = parts["season"].notna()
    folder = [posixpath.dirname(n.replace("\\", "/")) or root.name for n in table["file_name"]]
    out = pd.DataFrame(
        {
            KEY: table[KEY].to_numpy(),
            "file": [n.replace("\\", "/") for n in table["file_name"]],
            "path": paths,
            "datetime": when.to_numpy(),
            "time_source": np.where(when.notna(), "metadata", "none"),
            "season": pd.to_numeric(parts["season"]).fillna(0).astype(np.int64).to_numpy(),
            "site": np.where(known, parts["site"], folder),
        }
    )
    return out[IMAGE_COLUMNS]


def sequences(image_table: pd.DataFrame) -> pd.DataFrame:
    """One row per sequence (SEQUENCE_COLUMNS) in order of first appearance, plus `files`: its
    (file, path) pairs in file-name order. `datetime` is that of the first image (by file name)
    that has one, as lib.serengeti.schema.sequences does for the competition's data."""
    ordered = image_table.sort_values([KEY, "file"], kind="stable")
    grouped = ordered.groupby(KEY, sort=False)
    out = grouped[["season", "site"]].first()
    out["datetime"] = grouped["datetime"].first()  # first non-missing, in file-name order
    out["n_images"] = grouped.size().astype(np.int64)
    out["first_file"] = grouped["file"].first()
    out["files"] = grouped.apply(
        lambda g: list(zip(g["file"], g["path"], strict=True)), include_groups=False
    )
    order = pd.unique(image_table[KEY])
    return out.reindex(order).rename_axis(KEY).reset_index()[[*SEQUENCE_COLUMNS, "files"]]
