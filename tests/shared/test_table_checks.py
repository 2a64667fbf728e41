"""Tables checked at load (lib.tables), both tracks: each bad cell is refused with its file, its
CSV line and the fix, or repaired with a DataWarning that says what was changed - and what loads
is what stage 03 can write (numbers are numbers, times are whole seconds within a day)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from lib import tables
from lib.chimpact import schema as cschema
from lib.serengeti import schema as sschema

CSVS = ("train_labels.csv", "train_metadata.csv", "test_metadata.csv", "submission_format.csv")


@pytest.fixture
def chimp(tiny_chimpact, tmp_path) -> Path:
    for name in (*CSVS, "test_answers.csv"):
        shutil.copy(tiny_chimpact / name, tmp_path / name)
    return tmp_path


def _cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV as raw text, the way a person edits it in a text editor."""
    rows = path.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[line - 1].split(",")
    cells[header.index(column)] = value
    rows[line - 1] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")


CHIMP_BAD = [
    ("train_labels.csv", 3, "distance", "-1.5", r"line 3 has distance -1.5; distance must be >= 0"),
    ("train_labels.csv", 4, "distance", "5 m", r"line 4 has distance .5 m.; write the number"),
    ("train_labels.csv", 2, "distance", "", r"line 2 has distance \(empty\); every row needs"),
    ("train_labels.csv", 5, "distance", "inf", r"line 5 has distance inf; .* a finite number"),
    ("train_labels.csv", 3, "distance", '"2,5"', r"line 3 .*decimal point"),
    ("train_labels.csv", 6, "time", "1E+19", r"line 6 has time 1E\+19; .*below one day.*Excel"),
    ("train_labels.csv", 2, "time", "86400", r"line 2 has time 86400; .*below one day"),
    ("train_labels.csv", 3, "time", "2.5", r"line 3 has time 2.5; times must be whole seconds"),
    ("train_metadata.csv", 4, "probability", "1.7", r"line 4 has probability 1.7; .*<= 1.0"),
    ("train_metadata.csv", 5, "x1", "left", r"train_metadata.csv: line 5 has x1 'left'"),
    ("test_answers.csv", 2, "distance", "-3", r"test_answers.csv: line 2 has distance -3"),
]


@pytest.mark.parametrize("name, line, column, value, message", CHIMP_BAD)
def test_chimpact_bad_cells_name_file_line_and_fix(chimp, name, line, column, value, message):
    _cell(chimp / name, line, column, value)
    with pytest.raises(cschema.DataError, match=message) as err:
        cschema.load(chimp)
    assert str(chimp / name) in str(err.value)


def test_chimpact_duplicate_key_names_both_lines(chimp):
    path = chimp / "train_labels.csv"
    rows = path.read_text().splitlines()
    path.write_text("\n".join([*rows, rows[3]]) + "\n")
    with pytest.raises(cschema.DataError, match=rf"lines 4 and {len(rows) + 1} both have"):
        cschema.load(chimp)


def test_chimpact_spaces_in_header_and_ids_are_stripped_with_a_warning(chimp):
    clean = cschema.load(chimp)
    path = chimp / "train_labels.csv"
    rows = path.read_text().splitlines()
    rows[0] = rows[0].replace(",", ", ")  # 'video_id, time, distance' as typed by hand
    rows[1] = " " + rows[1]  # ' aany.mp4,...'
    path.write_text("\n".join(rows) + "\n")
    with pytest.warns(tables.DataWarning) as record:
        data = cschema.load(chimp)
    text = " ".join(str(w.message) for w in record)
    assert "line 1: spaces around column name(s) [' time', ' distance']" in text
    assert "line 2: spaces around video_id" in text
    assert data.train.equals(clean.train)


def test_chimpact_excel_habits_load(chimp):
    """A byte-order mark, CRLF line ends, a trailing blank line and `3.0` for a time all load."""
    clean = cschema.load(chimp)
    path = chimp / "train_labels.csv"
    rows = path.read_text().splitlines()
    rows[1] = rows[1].replace(",0,", ",0.0,", 1)
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n,,\r\n").encode())
    data = cschema.load(chimp)
    assert data.train.equals(clean.train)
    assert data.train["time"].dtype == np.int64


def test_chimpact_off_grid_distance_is_kept_and_reported(chimp):
    _cell(chimp / "train_labels.csv", 3, "distance", "3.3")
    with pytest.warns(tables.DataWarning, match=r"line 3: distance 3.3 is not on the label grid"):
        data = cschema.load(chimp)
    assert np.isclose(data.train["distance"], 3.3).sum() == 1


def test_chimpact_clean_tables_load_without_warnings(chimp):
    with warnings.catch_warnings():
        warnings.simplefilter("error", tables.DataWarning)
        data = cschema.load(chimp)
    assert data.train["distance"].dtype == np.float64 and (data.train["distance"] >= 0).all()


def test_chimpact_error_after_a_blank_line_names_the_right_line(chimp):
    path = chimp / "train_labels.csv"
    rows = path.read_text().splitlines()
    rows.insert(2, "")  # a blank line 3: the row below is line 4 in an editor
    path.write_text("\n".join(rows) + "\n")
    _cell(path, 4, "distance", "far")
    with pytest.raises(cschema.DataError, match=r"line 4 has distance 'far'"):
        cschema.load(chimp)


@pytest.fixture
def seren(tmp_path) -> Path:
    from tests.serengeti.test_serengeti_schema import _write

    return _write(tmp_path / "data")


def test_serengeti_spaces_in_header_and_seq_ids_are_stripped_with_a_warning(seren):
    clean = sschema.load(seren)
    path = seren / "train_labels.csv"
    rows = path.read_text().splitlines()
    rows[0] = rows[0].replace("seq_id,", "seq_id ,", 1)
    rows[2] = rows[2].replace("SER_", " SER_", 1)
    path.write_text("\n".join(rows) + "\n")
    with pytest.warns(tables.DataWarning) as record:
        data = sschema.load(seren)
    text = " ".join(str(w.message) for w in record)
    assert "['seq_id ']" in text and "line 3: spaces around seq_id" in text
    assert data.train_labels.equals(clean.train_labels)


def test_serengeti_label_error_after_blank_line_names_the_right_line(seren):
    path = seren / "train_labels.csv"
    rows = path.read_text().splitlines()
    rows.insert(1, "")
    cells = rows[3].split(",")
    cells[-1] = "yes"
    rows[3] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(sschema.DataError, match=r"line 4, column 'zorilla': 'yes'"):
        sschema.load(seren)


def test_serengeti_duplicate_seq_id_names_both_lines(seren):
    path = seren / "train_labels.csv"
    rows = path.read_text().splitlines()
    path.write_text("\n".join([*rows, rows[1]]) + "\n")
    with pytest.raises(sschema.DataError, match=r"lines 2 and 5"):
        sschema.load(seren)


def test_both_tracks_raise_the_one_shared_error_class():
    assert cschema.DataError is sschema.DataError is tables.DataError
    assert issubclass(tables.DataError, ValueError)
