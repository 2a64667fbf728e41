"""Run IDs for the Serengeti ladder: each network the write-up trained is one run ID.

`run-20191220-0930-single-irv2-sigmoid-flow` means: started 2019-12-20 09:30, the single-image
model (`single`; or `background`, fine-tuned on background images; or `twostream`, mean and
background streams), backbone InceptionResNetV2 (`irv2`; `mnv2` = MobileNetV2; `small` = a
CPU-sized CNN for demos), a sigmoid head with binary cross-entropy (`sigmoid`; or `softmax` with
categorical cross-entropy, the benchmark's loss), and validation/test images resized through the
write-up's flow (`flow`; or `naive`: the full image straight to model size).

Training images always go through the flow - the write-up trained on the community's
antialiased 512x384 copy - so `naive` names the *mismatch* it hit at inference (0.0038 vs
0.0045), not a different training set. With that, the ladder's model steps are run IDs:

    softmax control       single-mnv2-softmax-naive
    MobileNetV2 + sigmoid single-mnv2-sigmoid-naive    public 0.0060
    InceptionResNetV2     single-irv2-sigmoid-naive    public 0.0045
    resize fix            single-irv2-sigmoid-flow     public 0.0038
    background            background-irv2-sigmoid-flow (empty-class log loss 0.045 -> 0.035)
    two-stream            twostream-irv2-sigmoid-flow  public 0.0027 (inside the stack)

Rules beyond the parts' own values: `softmax` only for `single` (the loss rung compares
single-image models), and `background`/`twostream` only with `sigmoid` and `flow` (they are
fine-tuned from a sigmoid single-image model, and the write-up built them after the resize fix).

The ladder, with the write-up's public scores, lives in `writeup_runs.csv` beside this module
(`registry()`); rows for steps that are not one network (boosting, second booster, flip TTA)
have no run ID. The write-up published no run folder names, so the dates in the registry are
placeholders that keep the ladder's order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from lib import runid_rules

PATTERN = (
    "run-YYYYMMDD-HHMM-{single|background|twostream}-{mnv2|irv2|small}-{softmax|sigmoid}"
    "-{naive|flow}"
)
MODELS = ("single", "background", "twostream")
BACKBONES = ("mnv2", "irv2", "small")
HEADS = ("softmax", "sigmoid")
RESIZES = ("naive", "flow")
PARENTS = {"single": (), "background": ("single",), "twostream": ("single", "background")}
REGISTRY_PATH = Path(__file__).with_name("writeup_runs.csv")
REGISTRY_COLUMNS = [
    "step",
    "run_id",
    "writeup_public_logloss",
    "writeup_empty_logloss",
    "writeup_scored_as",
]
SCORED_AS = ("model", "stack", "")

_PARTS = (
    ("prefix", "run", re.compile(r"^run$")),
    ("date", "YYYYMMDD", re.compile(r"^\d+$")),
    ("time", "HHMM", re.compile(r"^\d+$")),
    ("model", "|".join(MODELS), re.compile(r"^(single|background|twostream)$")),
    ("backbone", "|".join(BACKBONES), re.compile(r"^(mnv2|irv2|small)$")),
    ("head", "|".join(HEADS), re.compile(r"^(softmax|sigmoid)$")),
    ("resize", "|".join(RESIZES), re.compile(r"^(naive|flow)$")),
)


class RunIdError(ValueError):
    """A run ID that does not follow the grammar; the message names the bad part."""


@dataclass(frozen=True)
class RunSpec:
    """The settings a run ID encodes."""

    run_id: str
    date: datetime
    model: str  # single | background | twostream
    backbone: str  # mnv2 | irv2 | small
    head: str  # softmax | sigmoid
    resize: str  # naive | flow: how validation and test images are resized

    @property
    def train_resize(self) -> str:
        """Training images always go through the write-up's flow (see the module docstring)."""
        return "flow"

    @property
    def parents(self) -> tuple[str, ...]:
        """Models whose weights this one starts from (background: single; twostream: both)."""
        return PARENTS[self.model]


def _fail(run_id: object, problem: str) -> RunIdError:
    shown = run_id if run_id != "" else "(empty run ID)"
    return RunIdError(f"{shown}: {problem}; expected {PATTERN}")


def parse(run_id: str) -> RunSpec:
    """Split a run ID into its settings, or raise RunIdError saying which part is wrong."""
    parts, when = runid_rules.split(run_id, _PARTS, "resize", lambda p: _fail(run_id, p))
    model, backbone, head, resize = parts[3:]
    for label, value, allowed in (
        ("model", model, MODELS),
        ("backbone", backbone, BACKBONES),
        ("head", head, HEADS),
        ("resize", resize, RESIZES),
    ):
        if value not in allowed:
            raise _fail(run_id, f"{label} {value!r} is not one of {', '.join(allowed)}")
    if head == "softmax" and model != "single":
        raise _fail(run_id, f"head 'softmax' is only for the single model, not {model!r}")
    if model != "single" and (head, resize) != ("sigmoid", "flow"):
        raise _fail(
            run_id,
            f"model {model!r} needs head 'sigmoid' and resize 'flow' (it is fine-tuned from a "
            f"sigmoid single-image model after the resize fix), got {head!r} and {resize!r}",
        )
    return RunSpec(run_id, when, model, backbone, head, resize)


def make(model: str, backbone: str, head: str, resize: str, when: datetime | None = None) -> str:
    """Build a run ID (start time `when`, default now) and check it by parsing it back."""
    for label, value, allowed in (
        ("model", model, MODELS),
        ("backbone", backbone, BACKBONES),
        ("head", head, HEADS),
        ("resize", resize, RESIZES),
    ):
        if value not in allowed:
            raise RunIdError(f"{label} {value!r} is not one of {', '.join(allowed)}")
    when = datetime.now() if when is None else when
    run_id = f"run-{when:%Y%m%d-%H%M}-{model}-{backbone}-{head}-{resize}"
    parse(run_id)
    return run_id


def parent_of(run_id: str, kind: str, candidates: Iterable[str]) -> str:
    """The run whose weights `run_id` starts from: among `candidates`, the latest `kind` run
    (single or background) with the same backbone, a sigmoid head and the flow resize."""
    spec = parse(run_id)
    if kind not in spec.parents:
        raise ValueError(f"{run_id}: a {spec.model} model has no {kind!r} parent")
    matches = [
        s
        for s in (parse(c) for c in candidates)
        if (s.model, s.backbone, s.head, s.resize) == (kind, spec.backbone, "sigmoid", "flow")
    ]
    if not matches:
        raise ValueError(
            f"{run_id}: no {kind}-{spec.backbone}-sigmoid-flow run to start from; train one first"
        )
    return max(matches, key=lambda s: (s.date, s.run_id)).run_id


def registry() -> pd.DataFrame:
    """The write-up's ladder: step, run_id ('' for non-network steps), public log loss, the
    `empty`-class log loss it quotes, and whether the public score was of the model or a stack.
    Rows in the write-up's order."""
    frame = pd.read_csv(REGISTRY_PATH, dtype={"step": str, "run_id": str, "writeup_scored_as": str})
    if list(frame.columns) != REGISTRY_COLUMNS:
        raise ValueError(
            f"{REGISTRY_PATH}: columns {list(frame.columns)}, expected {REGISTRY_COLUMNS}"
        )
    frame["run_id"] = frame["run_id"].fillna("")
    frame["writeup_scored_as"] = frame["writeup_scored_as"].fillna("")
    for run_id in frame["run_id"]:
        if run_id:
            parse(run_id)
    ids = frame.loc[frame["run_id"] != "", "run_id"]
    if ids.duplicated().any() or frame["step"].duplicated().any():
        raise ValueError(f"{REGISTRY_PATH}: duplicated step or run_id values")
    bad = ~frame["writeup_scored_as"].isin(SCORED_AS)
    if bad.any():
        raise ValueError(f"{REGISTRY_PATH}: writeup_scored_as must be one of {SCORED_AS}")
    for col in ("writeup_public_logloss", "writeup_empty_logloss"):
        values = frame[col].dropna()
        if not all(math.isfinite(v) and 0 <= v for v in values):
            raise ValueError(f"{REGISTRY_PATH}: {col} must be non-negative numbers or empty")
    return frame


def model_runs() -> list[str]:
    """Run IDs of the ladder's networks, in the write-up's order."""
    return [r for r in registry()["run_id"] if r]


def quick_runs() -> list[str]:
    """The networks the final stack needs, for short demos: the resize-fixed single-image model,
    the background model and the two-stream model (the latest-dated of each in the registry)."""
    runs = model_runs()
    picks = []
    for model in MODELS:
        specs = [parse(r) for r in runs]
        cands = [s for s in specs if s.model == model and (s.head, s.resize) == ("sigmoid", "flow")]
        if not cands:
            raise ValueError(f"{REGISTRY_PATH}: no {model}-...-sigmoid-flow run to pick")
        picks.append(max(cands, key=lambda s: s.date).run_id)
    return picks


def planned(runs: str) -> list[str]:
    """The run IDs a profile trains, by its `runs` setting (lib.profiles): "quick" gives
    quick_runs(), anything else every ladder network, model_runs() (lib.runs.planned)."""
    return quick_runs() if runs == "quick" else model_runs()
