"""Checking the competition tables at load, shared by both tracks' schemas.

The tables come from people: saved by Excel (a byte-order mark, `1E+19` for a long number,
blank trailing lines), edited by hand (`5 m` in a number cell, `video_id, time` headers with
spaces, a row pasted twice). Each check here names the file, the CSV line and the fix, so a bad
cell stops at load instead of surfacing as a bare ValueError or a wrapped integer three stages
later. Frames are read with every cell as text and keep the CSV line number as their index until
`done` resets it, so every message can point at the line a person sees in an editor.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

DAY_SECONDS = 86_400  # a time is a second of one video: 0 .. 86399


class DataError(ValueError):
    """Input data that does not match the competition layout; the message says how to fix it."""


class DataWarning(UserWarning):
    """Input the loader repaired or kept but a person should know about (stripped spaces,
    distances off the label grid)."""


def show(value: object) -> str:
    """A cell as a person reads it in the CSV: 'ten' (text quoted), -2, 1E+19 or (empty)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return repr(value)
        return value.strip()
    return "(empty)" if pd.isna(value) else str(value)


def read_csv(path: Path, missing: str) -> pd.DataFrame:
    """Every cell as text (empty cells NaN), indexed by CSV line; headers stripped with a warning.

    `missing` is the sentence to give when the file does not exist (what the folder needs).
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found. {missing}")
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError:
        raise DataError(
            f"{path}: not UTF-8 text; save it again as 'CSV UTF-8 (comma delimited)'"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: not a readable CSV ({err})") from None
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # line 1 is the header
    _strip_headers(frame, path)
    return frame[~frame.isna().all(axis=1)]  # blank lines (Excel's trailing ',,,') hold nothing


def _strip_headers(frame: pd.DataFrame, path: Path) -> None:
    names = [str(c) for c in frame.columns]
    stripped = [c.strip() for c in names]
    changed = [c for c, s in zip(names, stripped, strict=True) if c != s]
    if changed:
        warnings.warn(
            f"{path}: line 1: spaces around column name(s) {changed} removed; the header should "
            f"read {','.join(stripped)}",
            DataWarning,
            stacklevel=3,
        )
    repeated = sorted({c for c in stripped if stripped.count(c) > 1})
    if repeated:
        raise DataError(f"{path}: line 1 names column(s) {repeated} twice; keep one of each")
    frame.columns = stripped


def columns(frame: pd.DataFrame, path: Path, expected: Sequence[str]) -> pd.DataFrame:
    """The expected columns, in that order; missing ones named with what was found."""
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; expected exactly {list(expected)}, "
            f"found {list(frame.columns)}"
        )
    return frame[list(expected)].copy()


def strip_ids(frame: pd.DataFrame, path: Path, names: Sequence[str]) -> None:
    """Spaces around id cells (`' aany.mp4'`, Excel padding) removed, with one warning per column:
    an id with a space would otherwise name a file that does not exist or split one key in two."""
    for name in names:
        text = frame[name]
        stripped = text.str.strip()
        changed = text.notna() & (text != stripped)
        if changed.any():
            line = int(frame.index[changed.to_numpy()][0])
            warnings.warn(
                f"{path}: line {line}: spaces around {name} {text[line]!r} removed "
                f"({int(changed.sum())} such cell(s) in column {name!r})",
                DataWarning,
                stacklevel=2,
            )
            frame[name] = stripped


def present(frame: pd.DataFrame, path: Path, name: str) -> None:
    """Refuse empty cells in a key column, naming the first line."""
    empty = frame[name].isna() | (frame[name].astype(str).str.strip() == "")
    if empty.any():
        line = int(frame.index[empty.to_numpy()][0])
        raise DataError(
            f"{path}: empty {name} on line {line} ({int(empty.sum())} such row(s)); every row "
            f"needs a {name}"
        )


def _refuse(frame: pd.DataFrame, path: Path, name: str, bad: np.ndarray, why: str) -> None:
    if bad.any():
        line = int(frame.index[bad][0])
        raise DataError(
            f"{path}: line {line} has {name} {show(frame.at[line, name])}; {why} "
            f"({int(bad.sum())} such row(s))"
        )


def _not_number_hint(cells: pd.Series, bad: np.ndarray) -> str:
    first = str(cells[bad].iloc[0]) if bad.any() else ""
    if "," in first:
        return "write the number with a decimal point, e.g. 2.5"
    return "write the number alone, e.g. 5 (units belong in the header, not in the cell)"


def numbers(
    frame: pd.DataFrame,
    path: Path,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    required: bool = True,
) -> pd.Series:
    """A float column: every cell a finite number within [minimum, maximum] (empty allowed only
    when not `required`); returns the parsed values."""
    cells = frame[name]
    values = pd.to_numeric(cells.str.strip(), errors="coerce")
    empty = cells.isna().to_numpy()
    if required:
        _refuse(frame, path, name, empty, f"every row needs a {name}")
    text = values.isna().to_numpy() & ~empty
    _refuse(frame, path, name, text, _not_number_hint(cells, text))
    finite = np.isfinite(values.to_numpy(dtype=np.float64)) | empty
    _refuse(frame, path, name, ~finite, f"{name} must be a finite number")
    if minimum is not None:
        _refuse(frame, path, name, (values < minimum).to_numpy(), f"{name} must be >= {minimum}")
    if maximum is not None:
        _refuse(frame, path, name, (values > maximum).to_numpy(), f"{name} must be <= {maximum}")
    return values.astype(np.float64)


def seconds(frame: pd.DataFrame, path: Path, name: str = "time") -> pd.Series:
    """A time column: whole seconds from 0 to a day, as int64 (`1E+19` is refused, not wrapped)."""
    cells = frame[name]
    values = pd.to_numeric(cells.str.strip(), errors="coerce")
    fix = "times must be whole seconds >= 0"
    _refuse(frame, path, name, values.isna().to_numpy(), fix)
    _refuse(frame, path, name, (values < 0).to_numpy(), fix)
    _refuse(frame, path, name, (values != np.floor(values)).to_numpy(), fix)
    _refuse(
        frame, path, name, (values >= DAY_SECONDS).to_numpy(),
        f"times must be whole seconds below one day ({DAY_SECONDS}); a number shown like 1E+19 "
        "is what Excel writes for a long one: format the column as a number with no decimals",
    )  # fmt: skip
    return values.astype(np.int64)


def unique(frame: pd.DataFrame, path: Path, key: Sequence[str]) -> None:
    """Refuse repeated keys, naming both lines of the first repeat."""
    dup = frame.duplicated(list(key), keep=False).to_numpy()
    if not dup.any():
        return
    rows = frame[dup]
    first = rows.iloc[0]
    same = rows[(rows[list(key)] == first[list(key)]).all(axis=1)]
    shown = ", ".join(str(first[k]) for k in key)
    raise DataError(
        f"{path}: {int(dup.sum())} rows repeat a ({', '.join(key)}) key, e.g. lines "
        f"{' and '.join(str(i) for i in same.index[:2])} both have ({shown}); remove the duplicates"
    )


def off_grid(frame: pd.DataFrame, path: Path, name: str, values: pd.Series, grid) -> None:
    """Warn about values that are not on the label grid (kept: they may be deliberate)."""
    grid = np.asarray(grid, dtype=np.float64)
    v = values.to_numpy(dtype=np.float64)
    ok = np.isnan(v) | np.isclose(v[:, None], grid[None, :], atol=1e-6).any(axis=1)
    if ok.all():
        return
    line = int(frame.index[~ok][0])
    warnings.warn(
        f"{path}: line {line}: {name} {v[~ok][0]:g} is not on the label grid "
        f"({int((~ok).sum())} such row(s)); kept as given, but check the unit (metres)",
        DataWarning,
        stacklevel=2,
    )


def done(frame: pd.DataFrame) -> pd.DataFrame:
    """The checked frame with a plain 0-based index, as the rest of the project expects."""
    return frame.reset_index(drop=True)
