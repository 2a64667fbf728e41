"""Loading a Serengeti data folder: good folders load, each kind of bad input names file and fix."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.serengeti import schema
from lib.serengeti.schema import CLASSES, DataError


def test_classes_are_the_54_in_submission_order():
    assert len(CLASSES) == 54 == len(set(CLASSES))
    assert CLASSES[:3] == ("aardvark", "aardwolf", "baboon")
    assert CLASSES[15] == "empty" and CLASSES[-1] == "zorilla"
    assert list(CLASSES[-4:]) == ["wildcat", "wildebeest", "zebra", "zorilla"]


def test_parse_seq_id():
    assert schema.parse_seq_id("SER_S1#B04#1#1") == schema.SeqId(1, "B04", 1, 1)
    assert schema.parse_seq_id("SER_S10#L11#3#125") == schema.SeqId(10, "L11", 3, 125)
    for bad in ("SER_S1#B04#1", "S1#B04#1#1", "SER_Sx#B04#1#1", "SER_S1#B04#1#1#2", ""):
        with pytest.raises(ValueError, match="does not look like"):
            schema.parse_seq_id(bad)


def _labels(seq_ids, classes_by_seq):
    frame = pd.DataFrame(0, index=range(len(seq_ids)), columns=list(CLASSES))
    for i, cls in enumerate(classes_by_seq):
        frame.loc[i, cls] = 1
    frame.insert(0, "seq_id", seq_ids)
    return frame


def _meta(seq_ids, images_per_seq):
    rows = []
    for seq, n in zip(seq_ids, images_per_seq, strict=True):
        sid = schema.parse_seq_id(seq)
        for k in range(n):
            folder = f"S{sid.season}/{sid.site}/{sid.site}_R{sid.roll}"
            name = f"S{sid.season}_{sid.site}_R{sid.roll}_PICT{sid.capture * 10 + k:04d}.JPG"
            rows.append((seq, f"{folder}/{name}", f"2011-0{sid.season}-01 12:00:0{k}"))
    return pd.DataFrame(rows, columns=["seq_id", "file_name", "datetime"])


TRAIN = ["SER_S1#B04#1#1", "SER_S1#B04#1#2", "SER_S2#C05#1#1"]
TEST = ["SER_S3#D06#2#7", "SER_S3#D06#2#8"]


def _write(folder: Path, answers: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # metadata rows deliberately out of file-name order within a sequence
    meta = _meta(TRAIN, [3, 1, 2]).iloc[[2, 0, 1, 3, 5, 4]]
    meta.to_csv(folder / "train_metadata.csv", index=False)
    _labels(TRAIN, ["zebra", "empty", "impala"]).to_csv(folder / "train_labels.csv", index=False)
    _meta(TEST, [1, 2]).to_csv(folder / "test_metadata.csv", index=False)
    fmt = _labels(TEST, ["empty", "empty"]).astype({c: float for c in CLASSES})
    fmt[list(CLASSES)] = 1 / 54
    fmt.to_csv(folder / "submission_format.csv", index=False)
    if answers:
        _labels(TEST, ["empty", "zebra"]).to_csv(folder / "test_answers.csv", index=False)
    return folder


@pytest.fixture
def folder(tmp_path):
    return _write(tmp_path / "data")


def test_load_good_folder(folder):
    data = schema.load(folder)
    assert data.root == folder.resolve()
    imgs = data.train_images
    assert list(imgs.columns) == [
        "seq_id", "file_name", "datetime", "season", "site", "roll", "capture", "image_index"
    ]  # fmt: skip
    first = imgs[imgs["seq_id"] == TRAIN[0]]
    assert list(first["image_index"]) == [0, 1, 2]
    assert list(first["file_name"]) == sorted(first["file_name"])  # order by file name
    assert first["season"].iloc[0] == 1 and first["site"].iloc[0] == "B04"
    assert str(imgs["datetime"].dtype).startswith("datetime64")
    assert data.train_labels["zebra"].dtype == np.int8
    assert data.train_labels.loc[0, "zebra"] == 1
    assert data.test_labels is not None and data.test_labels.loc[1, "zebra"] == 1
    assert list(data.submission_format["seq_id"]) == TEST
    assert data.image_path(first["file_name"].iloc[0]).is_relative_to(folder.resolve())


def test_answers_are_optional(tmp_path):
    assert schema.load(_write(tmp_path / "d", answers=False)).test_labels is None


def test_sequences_table(folder):
    seqs = schema.sequences(schema.load(folder).train_images)
    assert list(seqs["seq_id"]) == sorted(TRAIN)
    row = seqs.set_index("seq_id").loc[TRAIN[0]]
    assert row["n_images"] == 3 and row["site"] == "B04" and row["season"] == 1
    assert row["datetime"] == pd.Timestamp("2011-01-01 12:00:00")
    assert row["file_names"] == tuple(sorted(row["file_names"]))


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    frame = pd.read_csv(path, dtype=str)
    change(frame).to_csv(path, index=False)


def _swap_two_classes(f: pd.DataFrame) -> pd.DataFrame:
    cols = list(f.columns)
    cols[2], cols[3] = cols[3], cols[2]
    return f[cols]


M, L, F = "train_metadata.csv", "train_labels.csv", "submission_format.csv"
BAD_INPUTS = {
    "metadata-column": (
        M,
        lambda f: f.drop(columns="datetime"),
        r"missing column\(s\) \['datetime",
    ),
    "class-order": (L, _swap_two_classes, "wrong order: column 3 is 'baboon' where 'aardwolf'"),
    "class-missing": (L, lambda f: f.drop(columns="zebra"), r"missing \['zebra'\]"),
    "class-extra": (L, lambda f: f.assign(lion=0), r"unexpected \['lion'\]"),
    "unknown-seq": (L, lambda f: f.iloc[:2], r"1 only in train_metadata.csv \(e.g. \['SER_S2#C05"),
    "label-value": (L, lambda f: f.assign(zebra=["1", "2", "0"]), "line 3, column 'zebra': '2'"),
    "dup-label": (L, lambda f: pd.concat([f, f.iloc[[0]]]), "repeat a seq_id"),
    "bad-seq-id": (M, lambda f: f.assign(seq_id=f["seq_id"].str[4:]), "does not look like"),
    "bad-datetime": (M, lambda f: f.assign(datetime="yesterday"), "'yesterday' is not YYYY-MM"),
    "dotdot": (M, lambda f: f.assign(file_name="../../etc/passwd"), "points outside the data"),
    "absolute": (M, lambda f: f.assign(file_name="/etc/passwd"), "points outside the data"),
    "dup-file": (M, lambda f: f.assign(file_name="S1/a.JPG"), "repeat a file_name"),
    "format-rows": (F, lambda f: f.iloc[:1], "submission format must list exactly the test"),
    "answers": ("test_answers.csv", lambda f: f.iloc[[0, 0]], "repeat a seq_id"),
    "answers-rows": ("test_answers.csv", lambda f: f.iloc[:1], "answers must cover"),
    "format-vs-test": (F, lambda f: f.assign(seq_id=[TRAIN[0], TEST[1]]), "disagree on seq_ids"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_name_the_file_and_problem(folder, case):
    name, change, message = BAD_INPUTS[case]
    _edit(folder, name, change)
    with pytest.raises(DataError, match=message) as err:
        schema.load(folder)
    assert name in str(err.value)


def test_missing_file_says_how_to_make_demo_data(folder):
    (folder / "train_labels.csv").unlink()
    with pytest.raises(DataError, match=r"train_labels.csv: file not found.*python -m lib.demo"):
        schema.load(folder)


def test_train_and_test_must_not_share_sequences(folder):
    meta = pd.read_csv(folder / "test_metadata.csv", dtype=str)
    train = pd.read_csv(folder / "train_metadata.csv", dtype=str)
    moved = train[train["seq_id"] == TRAIN[1]]
    pd.concat([meta, moved]).to_csv(folder / "test_metadata.csv", index=False)
    fmt = pd.read_csv(folder / "submission_format.csv", dtype=str)
    extra = fmt.iloc[[0]].assign(seq_id=TRAIN[1])
    pd.concat([fmt, extra]).to_csv(folder / "submission_format.csv", index=False)
    (folder / "test_answers.csv").unlink()
    with pytest.raises(DataError, match="both train and test"):
        schema.load(folder)


def test_empty_datetime_is_allowed_as_unknown(folder):
    _edit(folder, "train_metadata.csv", lambda f: f.assign(datetime=[""] + list(f["datetime"][1:])))
    imgs = schema.load(folder).train_images
    assert imgs["datetime"].isna().sum() == 1


def test_dot_segments_inside_the_folder_are_normalised(folder):
    _edit(
        folder,
        "test_metadata.csv",
        lambda f: f.assign(file_name=["./" + n for n in f["file_name"]]),
    )
    names = schema.load(folder).test_images["file_name"]
    assert not any(n.startswith("./") for n in names)
