"""Run IDs: the write-up names every model variant by a folder name that encodes its settings.

`run-20211113-1648-full-a4p50-f7s1` means: started 2021-11-13 16:48, original videos with gamma
correction (`full`, vs `down` for the downsampled copies), augmentation policy `a4` applied with
probability 0.50, 7 frames per sequence, 1 s between frames. Keeping that grammar lets our runs
sit next to the write-up's 12 in one table, and parsing it strictly (with a message that names the
wrong part) stops a typo from silently training a different variant.

The write-up's runs and their published CV MAE live in `writeup_runs.csv` beside this module; that
file is the single source of truth, read by `registry()` (a DataFrame) and at import into
`WRITEUP_RUNS` (a tuple, for code that wants no pandas).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime
from numbers import Real
from pathlib import Path

import pandas as pd

from lib import runid_rules

PATTERN = "run-YYYYMMDD-HHMM-{down|full}-a{1|2|4}p{50|80}-f{7|9}s{1|2}"
SOURCES = ("down", "full")
POLICIES = ("a1", "a2", "a4")
PROBS = {"p50": 0.5, "p80": 0.8}
FRAMES = {"f7": 7, "f9": 9}
STEPS = {"s1": 1, "s2": 2}
REGISTRY_PATH = Path(__file__).with_name("writeup_runs.csv")
REGISTRY_COLUMNS = ["run_id", "writeup_cv_mae"]

# What each of the six dash-separated parts is, in order, and a loose shape used only to say
# which part is missing when there are too few.
_PARTS = (
    ("prefix", "run", re.compile(r"^run$")),
    ("date", "YYYYMMDD", re.compile(r"^\d{8}$")),
    ("time", "HHMM", re.compile(r"^\d{4}$")),
    ("source", "down|full", re.compile(r"^(down|full)$")),
    ("augmentation", "a{1|2|4}p{50|80}", re.compile(r"^a[^p]*p.*$")),
    ("frames/step", "f{7|9}s{1|2}", re.compile(r"^f[^s]*s.*$")),
)


class RunIdError(ValueError):
    """A run ID that does not follow the grammar; the message names the bad part."""


@dataclass(frozen=True)
class RunSpec:
    """The settings a run ID encodes."""

    run_id: str
    date: datetime  # start date and time (minute precision)
    source: str  # "down" (downsampled videos) or "full" (originals, gamma-corrected if white)
    policy: str  # "a1", "a2" or "a4" (lib.augment.POLICIES)
    prob: float  # probability that a sequence is augmented: 0.5 or 0.8
    frames: int  # frames per sequence: 7 or 9
    step: int  # seconds between frames: 1 or 2

    @property
    def dataset(self) -> str:
        """Name of the records dataset this run trains on (down-s1, down-s2, full-s1, full-s2)."""
        return f"{self.source}-s{self.step}"


def _fail(run_id: object, problem: str) -> RunIdError:
    return RunIdError(f"{run_id}: {problem}; expected {PATTERN}")


def parse(run_id: str) -> RunSpec:
    """Split a run ID into its settings, or raise RunIdError saying which part is wrong."""
    parts, when = runid_rules.split(run_id, _PARTS, "frames/step", lambda p: _fail(run_id, p))
    source, aug, fs = parts[3:]
    if source not in SOURCES:
        raise _fail(run_id, f"source {source!r} is not one of {', '.join(SOURCES)}")
    m = re.fullmatch(r"(a[^p]*)(p.*)", aug)
    if m is None:
        raise _fail(run_id, f"augmentation part {aug!r} must look like a{{1|2|4}}p{{50|80}}")
    policy, prob = m.groups()
    if policy not in POLICIES:
        raise _fail(run_id, f"augmentation policy {policy!r} is not one of {', '.join(POLICIES)}")
    if prob not in PROBS:
        raise _fail(run_id, f"augmentation probability {prob!r} is not one of {', '.join(PROBS)}")
    m = re.fullmatch(r"(f[^s]*)(s.*)", fs)
    if m is None:
        raise _fail(run_id, f"frames/step part {fs!r} must look like f{{7|9}}s{{1|2}}")
    frames, step = m.groups()
    if frames not in FRAMES:
        raise _fail(run_id, f"frame count {frames!r} is not one of {', '.join(FRAMES)}")
    if step not in STEPS:
        raise _fail(run_id, f"time step {step!r} is not one of {', '.join(STEPS)}")
    return RunSpec(
        run_id=run_id,
        date=when,
        source=source,
        policy=policy,
        prob=PROBS[prob],
        frames=FRAMES[frames],
        step=STEPS[step],
    )


def make(
    source: str,
    policy: str,
    prob: float,
    frames: int,
    step: int,
    when: datetime | None = None,
) -> str:
    """Build a run ID (start time `when`, default now) and check it by parsing it back."""
    if when is None:
        when = datetime.now()
    probs = [k for k, v in PROBS.items() if isinstance(prob, Real) and math.isclose(prob, v)]
    if not probs:
        raise RunIdError(f"augmentation probability {prob!r} is not one of 0.5, 0.8")
    for label, value, allowed in (
        ("source", source, SOURCES),
        ("augmentation policy", policy, POLICIES),
        ("frame count", frames, tuple(FRAMES.values())),
        ("time step", step, tuple(STEPS.values())),
    ):
        if value not in allowed or isinstance(value, bool):
            raise RunIdError(f"{label} {value!r} is not one of {', '.join(map(str, allowed))}")
    run_id = f"run-{when:%Y%m%d-%H%M}-{source}-{policy}{probs[0]}-f{frames}s{step}"
    parse(run_id)
    return run_id


def registry() -> pd.DataFrame:
    """The write-up's runs with their published CV MAE (columns run_id, writeup_cv_mae)."""
    frame = pd.read_csv(REGISTRY_PATH, dtype={"run_id": str, "writeup_cv_mae": float})
    if list(frame.columns) != REGISTRY_COLUMNS:
        raise ValueError(
            f"{REGISTRY_PATH}: columns {list(frame.columns)}, expected {REGISTRY_COLUMNS}"
        )
    for run_id in frame["run_id"]:
        parse(run_id)
    if frame["run_id"].duplicated().any():
        raise ValueError(f"{REGISTRY_PATH}: duplicated run_id values")
    return frame


def _load_writeup_runs() -> tuple[tuple[str, float], ...]:
    with REGISTRY_PATH.open(newline="", encoding="utf-8") as handle:
        rows = tuple(
            (row["run_id"], float(row["writeup_cv_mae"])) for row in csv.DictReader(handle)
        )
    for run_id, _ in rows:
        parse(run_id)
    return rows


# Read from writeup_runs.csv (the one copy of the write-up's table), not written out here.
WRITEUP_RUNS: tuple[tuple[str, float], ...] = _load_writeup_runs()


def quick_runs() -> list[str]:
    """One downsampled and one full-video run for short demos: the best-scoring of each source.

    For the write-up's table these are run-20211104-1815-down-a4p50-f7s1 and
    run-20211113-1648-full-a4p50-f7s1 (both a4p50-f7s1, the strongest recipe).
    """
    table = registry()
    source = table["run_id"].map(lambda r: parse(r).source)
    picks = []
    for src in SOURCES:
        rows = table[source == src]
        if rows.empty:
            raise ValueError(f"{REGISTRY_PATH}: no {src!r} run to pick")
        picks.append(str(rows.loc[rows["writeup_cv_mae"].idxmin(), "run_id"]))
    return picks


def planned(runs: str) -> list[str]:
    """The run IDs a profile trains, by its `runs` setting (lib.profiles): "quick" gives
    quick_runs(), anything else every run of the write-up's table (lib.runs.planned)."""
    return quick_runs() if runs == "quick" else list(registry()["run_id"])
