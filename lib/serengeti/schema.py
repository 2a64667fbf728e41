"""The competition's file layout and CSV schema, and loading them with clear errors.

A data folder holds `train_metadata.csv` / `test_metadata.csv` (one row per image:
`seq_id,file_name,datetime`), `train_labels.csv` (`seq_id` + the 54 classes as 0/1),
`submission_format.csv` (`seq_id` + the 54 classes, rows in the order the scorer expects) and,
for demo data only, `test_answers.csv` (the test labels). Everything downstream joins on
`seq_id`, never on read order, so the keys are checked once here; a problem is reported with the
file, the line and what to do about it.

File names come from CSVs we do not control: each one must stay inside the data folder (a name
like `../../etc/passwd` is refused at load time). Whether the image exists or decodes is *not*
checked here: that is a per-file outcome of reading it (lib.images), counted by the stage that
reads, so a data folder with a few broken files still loads.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib import tables
from lib.paths import inside

# The 54 classes in the order of the competition's submission_format.csv columns.
CLASSES: tuple[str, ...] = (
    "aardvark", "aardwolf", "baboon", "bat", "batearedfox", "buffalo", "bushbuck", "caracal",
    "cattle", "cheetah", "civet", "dikdik", "duiker", "eland", "elephant", "empty",
    "gazellegrants", "gazellethomsons", "genet", "giraffe", "guineafowl", "hare", "hartebeest",
    "hippopotamus", "honeybadger", "hyenaspotted", "hyenastriped", "impala", "insectspider",
    "jackal", "koribustard", "leopard", "lionfemale", "lionmale", "mongoose", "monkeyvervet",
    "ostrich", "otherbird", "porcupine", "reedbuck", "reptiles", "rhinoceros", "rodents",
    "secretarybird", "serval", "steenbok", "topi", "vulture", "warthog", "waterbuck", "wildcat",
    "wildebeest", "zebra", "zorilla",
)  # fmt: skip
N_CLASSES = len(CLASSES)
KEY = "seq_id"
METADATA_COLUMNS = ["seq_id", "file_name", "datetime"]
LABEL_COLUMNS = [KEY, *CLASSES]
SUBMISSION_COLUMNS = LABEL_COLUMNS
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

SEQ_ID = re.compile(r"SER_S(?P<season>\d+)#(?P<site>[A-Za-z0-9]+)#(?P<roll>\d+)#(?P<capture>\d+)")
SEQ_ID_SHAPE = "SER_S<season>#<site>#<roll>#<capture>, e.g. SER_S1#B04#1#1"

FILES = {
    "train_metadata": "train_metadata.csv",
    "test_metadata": "test_metadata.csv",
    "train_labels": "train_labels.csv",
    "submission_format": "submission_format.csv",
    "test_answers": "test_answers.csv",  # demo data only
}


DataError = tables.DataError  # one class for both tracks' table errors


@dataclass(frozen=True)
class SeqId:
    season: int
    site: str
    roll: int
    capture: int


def parse_seq_id(seq_id: str) -> SeqId:
    """`SER_S1#B04#1#1` -> SeqId(season=1, site='B04', roll=1, capture=1); ValueError otherwise."""
    m = SEQ_ID.fullmatch(str(seq_id))
    if m is None:
        raise ValueError(f"seq_id {seq_id!r} does not look like {SEQ_ID_SHAPE}")
    return SeqId(int(m["season"]), m["site"], int(m["roll"]), int(m["capture"]))


def seq_parts(seq_ids: pd.Series, path: Path | str = "seq_id") -> pd.DataFrame:
    """season, site, roll, capture columns for a column of seq_ids (vectorised), aligned to it."""
    parts = seq_ids.astype(str).str.extract(f"^{SEQ_ID.pattern}$")
    bad = parts["season"].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {seq_ids.index[i]}: seq_id {seq_ids.iloc[i]!r} does not look like "
            f"{SEQ_ID_SHAPE} ({int(bad.sum())} such row(s))"
        )
    return pd.DataFrame(
        {
            "season": parts["season"].astype(np.int64).to_numpy(),
            "site": parts["site"].to_numpy(),
            "roll": parts["roll"].astype(np.int64).to_numpy(),
            "capture": parts["capture"].astype(np.int64).to_numpy(),
        },
        index=seq_ids.index,
    )


@dataclass(frozen=True)
class Dataset:
    """One data folder in the competition layout, with its tables loaded and checked.

    Image tables (`train_images`, `test_images`) have one row per image: seq_id, file_name,
    datetime (NaT where the CSV has none), season, site, roll, capture, and `image_index` (the
    image's place in its sequence, 0-based, by file name - the order the write-up used).
    Label tables have seq_id + the 54 classes as int8, in CLASSES order.
    """

    root: Path
    train_images: pd.DataFrame
    train_labels: pd.DataFrame
    test_images: pd.DataFrame
    submission_format: pd.DataFrame
    test_labels: pd.DataFrame | None  # from test_answers.csv (demo data) or None

    def image_path(self, file_name: str) -> Path:
        """Absolute path of an image named in a metadata CSV (never outside the data folder)."""
        return inside(self.root, file_name)

    def images(self, split: str) -> pd.DataFrame:
        if split not in ("train", "test"):
            raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
        return self.train_images if split == "train" else self.test_images


_NEEDED = (
    f"A serengeti data folder needs {', '.join(v for k, v in FILES.items() if k != 'test_answers')}"
    " (run `python -m lib.demo --track serengeti --out DIR` to make a demo one)."
)


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text, indexed by CSV line, headers and seq_ids stripped (lib.tables)."""
    frame = tables.read_csv(path, _NEEDED)
    if KEY in frame.columns:
        tables.strip_ids(frame, path, [KEY])
    return frame


def _check_file_name(name: str, root: Path, path: Path, line: int) -> str:
    """A relative POSIX name that stays inside the data folder, normalised (no './')."""
    text = str(name).replace("\\", "/")
    norm = posixpath.normpath(text)
    if (
        text.startswith("/")
        or re.match(r"^[A-Za-z]:", text)
        or norm == ".."
        or norm.startswith("../")
    ):
        raise DataError(
            f"{path}: line {line}: file_name {name!r} points outside the data folder {root}; "
            "file names must be relative to it, e.g. S1/B04/B04_R1/S1_B04_R1_PICT0001.JPG"
        )
    return norm


def read_metadata(path: Path, root: Path) -> pd.DataFrame:
    """One metadata CSV: exact columns, seq_ids parsed, file names safe, datetimes parsed."""
    frame = _read_csv(path)
    missing = [c for c in METADATA_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; expected {METADATA_COLUMNS}, "
            f"found {list(frame.columns)}"
        )
    frame = frame[METADATA_COLUMNS]
    tables.present(frame, path, KEY)
    tables.present(frame, path, "file_name")
    frame["file_name"] = [
        _check_file_name(name, root, path, line) for line, name in frame["file_name"].items()
    ]
    dup = frame["file_name"].duplicated(keep=False)
    if dup.any():
        lines = " and ".join(str(i) for i in frame.index[dup.to_numpy()][:2])
        raise DataError(
            f"{path}: {int(dup.sum())} rows repeat a file_name, e.g. "
            f"{frame.loc[dup, 'file_name'].iloc[0]!r} (lines {lines}); each image must be "
            "listed once"
        )
    raw = frame["datetime"]
    when = pd.to_datetime(raw.str.strip(), format=DATETIME_FORMAT, errors="coerce")
    bad = when.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}: line {raw.index[i]}: datetime {raw.iloc[i]!r} is not YYYY-MM-DD HH:MM:SS "
            f"({int(bad.sum())} such row(s)); leave it empty if the time is unknown"
        )
    frame["datetime"] = when
    frame = pd.concat([frame, seq_parts(frame[KEY], path)], axis=1)
    frame = frame.sort_values([KEY, "file_name"], kind="stable").reset_index(drop=True)
    frame["image_index"] = frame.groupby(KEY, sort=False).cumcount().astype(np.int64)
    return frame


def read_labels(path: Path, what: str = "labels") -> pd.DataFrame:
    """A labels-shaped CSV (train labels, test answers): seq_id + the 54 classes as 0/1."""
    frame = _read_csv(path)
    _check_class_columns(frame, path)
    frame = frame[LABEL_COLUMNS]
    tables.present(frame, path, KEY)
    values = frame[list(CLASSES)].apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce"))
    bad = ~values.isin([0, 1]).to_numpy()
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        cell = frame.iloc[row, col + 1]
        shown = "(empty)" if pd.isna(cell) else repr(str(cell))
        raise DataError(
            f"{path}: line {frame.index[row]}, column {CLASSES[col]!r}: {shown}; "
            f"{what} must be 0 or 1 ({int(bad.sum())} bad value(s))"
        )
    frame[list(CLASSES)] = values.astype(np.int8)
    _check_unique(frame, path)
    return tables.done(frame)


def _check_class_columns(frame: pd.DataFrame, path: Path) -> None:
    columns = list(frame.columns)
    if columns == LABEL_COLUMNS:
        return
    missing = [c for c in LABEL_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in LABEL_COLUMNS]
    if missing or extra:
        raise DataError(
            f"{path}: columns do not match the 54 classes: missing {missing}, unexpected {extra}; "
            "expected seq_id followed by the classes of lib.serengeti.schema.CLASSES"
        )
    first = next(i for i, (a, b) in enumerate(zip(columns, LABEL_COLUMNS, strict=True)) if a != b)
    raise DataError(
        f"{path}: class columns are in the wrong order: column {first + 1} is "
        f"{columns[first]!r} where {LABEL_COLUMNS[first]!r} belongs; reorder the columns to "
        "seq_id + lib.serengeti.schema.CLASSES (the submission order)"
    )


def _check_unique(frame: pd.DataFrame, path: Path) -> None:
    dup = frame[KEY].duplicated(keep=False)
    if dup.any():
        first = frame.loc[dup, KEY].iloc[0]
        lines = " and ".join(str(i) for i in frame.index[(frame[KEY] == first).to_numpy()][:2])
        raise DataError(
            f"{path}: {int(dup.sum())} rows repeat a seq_id, e.g. {first!r} (lines {lines}); "
            "keep one row per sequence"
        )


def read_submission_format(path: Path) -> pd.DataFrame:
    frame = _read_csv(path)
    _check_class_columns(frame, path)
    frame = frame[LABEL_COLUMNS]
    tables.present(frame, path, KEY)
    _check_unique(frame, path)
    return tables.done(frame)


def _same_sequences(a: pd.Series, b: pd.Series, path_a: Path, path_b: Path, fix: str) -> None:
    sa, sb = set(a), set(b)
    if sa != sb:
        only_a, only_b = sorted(sa - sb), sorted(sb - sa)
        raise DataError(
            f"{path_a.name} and {path_b.name} disagree on seq_ids: {len(only_a)} only in "
            f"{path_a.name} (e.g. {only_a[:3]}), {len(only_b)} only in {path_b.name} "
            f"(e.g. {only_b[:3]}); {fix}"
        )


def load(root: str | Path) -> Dataset:
    """Load and cross-check a data folder (labels vs metadata, format vs test, answers if any)."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    if not any(root.iterdir()):
        needed = ", ".join(v for k, v in FILES.items() if k != "test_answers")
        raise DataError(
            f"{root}: data folder is empty; put the competition files there ({needed} and the "
            "image folders) or run `python -m lib.demo --track serengeti --out DIR` for a demo one"
        )
    files = {k: root / v for k, v in FILES.items()}
    train_images = read_metadata(files["train_metadata"], root)
    train_labels = read_labels(files["train_labels"])
    _same_sequences(
        train_labels[KEY],
        train_images[KEY],
        files["train_labels"],
        files["train_metadata"],
        "every labelled sequence needs at least one image row and every image a label row",
    )
    test_images = read_metadata(files["test_metadata"], root)
    fmt = read_submission_format(files["submission_format"])
    _same_sequences(
        fmt[KEY],
        test_images[KEY],
        files["submission_format"],
        files["test_metadata"],
        "the submission format must list exactly the test sequences",
    )
    overlap = set(train_labels[KEY]) & set(fmt[KEY])
    if overlap:
        raise DataError(
            f"{len(overlap)} seq_id(s) are both train and test, e.g. {sorted(overlap)[:3]}; "
            "train_labels.csv and submission_format.csv must not share sequences"
        )
    test_labels = None
    if files["test_answers"].is_file():
        test_labels = read_labels(files["test_answers"], "answers")
        _same_sequences(
            test_labels[KEY],
            fmt[KEY],
            files["test_answers"],
            files["submission_format"],
            "the answers must cover exactly the test sequences",
        )
    return Dataset(
        root=root,
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        submission_format=fmt,
        test_labels=test_labels,
    )


def sequences(images: pd.DataFrame) -> pd.DataFrame:
    """One row per sequence: seq_id, season, site, roll, capture, n_images, datetime and
    file_names (tuple, by file name). `datetime` is that of the first image (by file name) that
    has one; NaT when none has."""
    first = images.sort_values([KEY, "image_index"]).groupby(KEY, sort=True)
    out = first[["season", "site", "roll", "capture", "datetime"]].first()
    out["n_images"] = first.size().astype(np.int64)
    out["file_names"] = first["file_name"].agg(tuple)
    return out.reset_index()[
        [KEY, "season", "site", "roll", "capture", "n_images", "datetime", "file_names"]
    ]


def season_of(seq_ids: pd.Series) -> pd.Series:
    """Season number of each seq_id (the write-up trained on S1-S8, stacked on S9/S10)."""
    return seq_parts(seq_ids)["season"]
