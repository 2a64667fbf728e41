"""The bad-input matrix for the serengeti track: each case gets a clear error naming the file
(and line) and the fix, or a documented, counted skip - never a crash deep in pandas or
TensorFlow, and never a silently wrong row.

Table-level cases edit a copy of the tiny demo's CSVs and call `schema.load` (more shapes of the
same checks: test_serengeti_schema.py). Image-level cases - a listed file that is missing, zero
bytes, text named .JPG, a truncated JPEG, a symlink out of the folder - are counted skips of
stage 02 and are run through it in test_real_images_serengeti.py; a sequence left with no
readable image gets the class priors downstream. Submissions: test_serengeti_pipeline.py and
the cases below (no NaN, no missing row, ever).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from lib.serengeti import runid, schema, submission
from lib.serengeti.schema import CLASSES, KEY, DataError

CSVS = ("train_metadata.csv", "train_labels.csv", "test_metadata.csv", "submission_format.csv")


@pytest.fixture
def tables(tiny_serengeti, tmp_path):
    """A data folder holding the tiny demo's CSVs only (images are not needed to load them)."""
    for name in (*CSVS, "test_answers.csv"):
        shutil.copy(tiny_serengeti / name, tmp_path / name)
    return tmp_path


def _edit(folder, name, change):
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    change(frame).to_csv(folder / name, index=False)


def _set(row: int, column: str, value):
    def change(frame):
        frame.loc[row, column] = value
        return frame

    return change


def _add_label_row(frame):
    extra = frame.iloc[[0]].assign(seq_id="SER_S1#Z99#1#1")
    return pd.concat([frame, extra])


def _swap_two_classes(frame):
    cols = list(frame.columns)
    cols[5], cols[6] = cols[6], cols[5]
    return frame[cols]


M, L, T, F = CSVS
CASES = {
    # column layout
    "metadata-no-file_name": (
        M,
        lambda f: f.drop(columns="file_name"),
        r"missing column\(s\) \['file_name'\]",
    ),
    "metadata-renamed": (
        T,
        lambda f: f.rename(columns={"datetime": "date_time"}),
        r"missing column\(s\) \['datetime'\].*found",
    ),
    "labels-renamed-key": (
        L,
        lambda f: f.rename(columns={KEY: "id"}),
        r"missing \['seq_id'\], unexpected \['id'\]",
    ),
    "labels-no-class": (L, lambda f: f.drop(columns="zebra"), r"missing \['zebra'\]"),
    "format-no-class": (F, lambda f: f.drop(columns="empty"), r"missing \['empty'\]"),
    "format-class-order": (
        F,
        _swap_two_classes,
        r"wrong order: column 6 is 'buffalo' where 'batearedfox'",
    ),
    # keys
    "metadata-empty-seq_id": (M, _set(2, KEY, ""), r"empty seq_id on line 4"),
    "metadata-empty-file_name": (T, _set(0, "file_name", ""), r"empty file_name on line 2"),
    "metadata-bad-seq_id": (
        M,
        _set(1, KEY, "SER_S1#B04#1"),
        r"line 3: seq_id 'SER_S1#B04#1' does not look like",
    ),
    "seq-in-metadata-not-labels": (L, lambda f: f.iloc[1:], r"1 only in train_metadata.csv"),
    "seq-in-labels-not-metadata": (
        L,
        _add_label_row,
        r"1 only in train_labels.csv \(e.g. \['SER_S1#Z99#1#1'\]\)",
    ),
    # duplicated rows
    "metadata-dup-row": (M, lambda f: pd.concat([f, f.iloc[[3]]]), r"2 rows repeat a file_name"),
    "labels-dup-row": (
        L,
        lambda f: pd.concat([f, f.iloc[[3]]]),
        r"2 rows repeat a seq_id.*keep one row",
    ),
    "format-dup-row": (F, lambda f: pd.concat([f, f.iloc[[0]]]), r"2 rows repeat a seq_id"),
    # label values
    "label-nan": (
        L,
        _set(4, "zebra", ""),
        r"line 6, column 'zebra': \(empty\); labels must be 0 or 1",
    ),
    "label-two": (L, _set(0, "impala", "2"), r"line 2, column 'impala': '2'"),
    "label-minus-one": (L, _set(0, "impala", "-1"), r"'-1'; labels must be 0 or 1"),
    "label-half": (L, _set(0, "impala", "0.5"), r"'0.5'; labels must be 0 or 1"),
    "label-word": (L, _set(0, "impala", "yes"), r"'yes'; labels must be 0 or 1"),
    # the submission format against the test metadata
    "format-missing-row": (
        F,
        lambda f: f.iloc[1:],
        r"submission format must list exactly the test",
    ),
    "format-extra-row": (
        F,
        lambda f: pd.concat([f, f.iloc[[0]].assign(seq_id="SER_S11#Z99#1#1")]),
        r"1 only in submission_format.csv",
    ),
    # file names that leave the data folder
    "dotdot": (
        T,
        _set(0, "file_name", "../../etc/passwd"),
        r"line 2: file_name '../../etc/passwd' points outside",
    ),
    "dotdot-inside-path": (
        M,
        _set(0, "file_name", "S1/../../x.JPG"),
        r"points outside the data folder",
    ),
    "backslashes": (
        M,
        _set(0, "file_name", "..\\..\\Windows\\x.JPG"),
        r"points outside the data folder",
    ),
    "absolute": (T, _set(0, "file_name", "/etc/passwd"), r"points outside the data folder"),
    "drive-letter": (
        T,
        _set(0, "file_name", "C:/Windows/x.JPG"),
        r"points outside the data folder",
    ),
    # datetimes
    "datetime-word": (
        M,
        _set(0, "datetime", "yesterday"),
        r"line 2: datetime 'yesterday' is not YYYY-MM-DD HH:MM:SS",
    ),
    "datetime-impossible": (
        M,
        _set(1, "datetime", "2012-13-45 25:61:00"),
        r"'2012-13-45 25:61:00' is not YYYY-MM-DD",
    ),
    "datetime-slashes": (
        T,
        _set(0, "datetime", "2012/07/01 10:00:00"),
        r"'2012/07/01 10:00:00' is not",
    ),
    "datetime-day-first": (
        T,
        _set(0, "datetime", "01-07-2012 10:00:00"),
        r"'01-07-2012 10:00:00' is not",
    ),
    "datetime-date-only": (
        M,
        _set(0, "datetime", "2012-07-01"),
        r"'2012-07-01' is not.*leave it empty",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tables_fail_with_file_line_and_fix(tables, case):
    name, change, message = CASES[case]
    _edit(tables, name, change)
    with pytest.raises(DataError, match=message) as err:
        schema.load(tables)
    assert name in str(err.value)  # the file to fix is named


@pytest.mark.parametrize("content", [b"", b"\xff\xd8\xff\xe0 binary, not a table \x00\x01"])
def test_unreadable_csv_names_the_file(tables, content):
    (tables / L).write_bytes(content)
    with pytest.raises(DataError, match=rf"{L}: not (a readable CSV|UTF-8 text)"):
        schema.load(tables)


def test_excel_byte_order_mark_and_padded_headers_are_read(tables):
    """Excel's "CSV UTF-8" starts with a byte-order mark, and hand-edited headers often have
    spaces after the commas; both name the right columns and must not read as missing ones."""
    text = (tables / M).read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    (tables / M).write_bytes(b"\xef\xbb\xbf" + (header.replace(",", ", ") + "\n" + rest).encode())
    (tables / L).write_bytes(b"\xef\xbb\xbf" + (tables / L).read_bytes())
    data = schema.load(tables)
    assert list(data.train_images.columns[:3]) == schema.METADATA_COLUMNS
    assert data.train_images[KEY].str.startswith("SER_S").all()


def test_missing_table_empty_folder_and_absent_folder(tables, tmp_path_factory):
    (tables / F).unlink()
    with pytest.raises(DataError, match=rf"{F}: file not found.*python -m lib.demo"):
        schema.load(tables)
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DataError, match=r"data folder is empty; put the competition files"):
        schema.load(empty)
    with pytest.raises(DataError, match="data folder not found"):
        schema.load(empty / "nope")


def test_the_unchanged_copy_loads(tables):
    data = schema.load(tables)  # the cases above fail because of their change, not the copy
    assert len(data.train_labels) and len(data.submission_format)


@pytest.mark.parametrize(
    "run_id, message",
    [
        ("run-20191219-1000-single-irv2-sigmoid", r"missing.*resize"),
        ("run-20191219-1000-single-vgg-sigmoid-flow", r"backbone 'vgg' is not one of"),
        ("run-20191319-1000-single-irv2-sigmoid-flow", r"20191319"),
        ("run-20191219-1000-single-irv2-sigmoid-flow/../../x", r"resize 'flow/\.\./\.\./x'"),
        ("job-20191219-1000-single-irv2-sigmoid-flow", r"must start with 'run-'"),
        ("", r"\(empty run ID\): found 1"),
    ],
)
def test_unknown_or_malformed_run_id_says_which_part_is_wrong(run_id, message):
    with pytest.raises(runid.RunIdError, match=message):
        runid.parse(run_id)


def _format(n: int = 4) -> pd.DataFrame:
    fmt = pd.DataFrame(0.5, index=range(n), columns=list(CLASSES))
    fmt.insert(0, KEY, [f"SER_S11#A01#1#{i + 1}" for i in range(n)])
    return fmt


def test_a_submission_never_holds_nan_or_misses_a_row(tmp_path):
    fmt = _format()
    pred = fmt.copy()
    pred.loc[2, "zebra"] = np.nan  # one model gave no score for one class of one sequence
    with pytest.raises(submission.SubmissionError, match=r"missing, non-numeric.*'zebra'"):
        submission.make(pred, fmt)
    with pytest.raises(submission.SubmissionError, match=r"1 of 4 format row\(s\) have no pred"):
        submission.make(fmt.iloc[[0, 1, 3]], fmt)
    with pytest.raises(submission.SubmissionError, match="no prediction"):
        submission.make(fmt.assign(seq_id=[*fmt[KEY][:3], "SER_S11#A01#1#99"]), fmt)
    sub = submission.make(fmt.iloc[::-1], fmt)  # any order in, the format's order out
    submission.write(sub, fmt, tmp_path / "sub.csv")
    back = pd.read_csv(tmp_path / "sub.csv", dtype={KEY: str})
    assert back[KEY].tolist() == fmt[KEY].tolist() and not back.isna().any().any()
    with pytest.raises(submission.SubmissionError):
        submission.write(pred, fmt, tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()  # nothing written for an invalid submission


def test_a_submission_for_another_test_set_is_refused():
    fmt, other = _format(4), _format(5)
    with pytest.raises(submission.SubmissionError, match="5 rows but the format has 4"):
        submission.validate(other, fmt)
    shifted = fmt.assign(seq_id=[s.replace("A01", "B02") for s in fmt[KEY]])
    with pytest.raises(submission.SubmissionError, match=r"4 seq_id\(s\) not in the format"):
        submission.validate(shifted, fmt)
