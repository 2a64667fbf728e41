"""The predict commands' decode step, on the stage engine (lib.stages) like every stage 02.

Decoding is where a card's worth of videos or images spends its time, and it needs no model,
so it runs on the engine's executors while the model predicts in this process, from each input
as soon as it is decoded (`on_record`). Each decoded input goes to a file in the step's folder
with an engine record keyed by the file's identity, its requested rows and the decode settings:
a killed run's decoded inputs are reused and a changed file is decoded again. Failures are
counted by reason and become the input's error rows, never a crash.

Where it runs: threads of this process by default (PyAV's decoders, Pillow's decoders and
resamplers and the JPEG codec release the GIL, and a thread needs no start-up and no copy of
the model's process), or a Dask cluster with `scheduler` (lib.executors), whose workers must see
the inputs and the step's folder (beside `--out`) at the same paths.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import executors, stages
from lib.predict.resume import Checkpoint


@dataclass(frozen=True)
class DecodeStep:
    """Where decoded inputs and their records go, and what every input's key shares."""

    folder: Path
    settings: Mapping[str, Any]  # what the decoded pixels depend on
    version: int  # the decoded files' layout
    unit: str  # "video" or "sequence", for the progress bar

    def output(self, name: str) -> Path:
        """The decoded file of the input with work name `name` (hashed: names can be long)."""
        digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:20]
        return self.folder / "decoded" / f"{digest}.npz"

    def stage(self) -> stages.Stage:
        return stages.Stage(
            self.folder, self.settings, self.version, unit=self.unit,
            scratch=(self.folder / "decoded",),
        )  # fmt: skip


def work_name(path: str | Path) -> str:
    """A unique engine work name for an input file: its absolute path without the root."""
    return os.path.abspath(os.path.expanduser(str(path))).lstrip(os.sep) or "input"


@contextmanager
def folder(checkpoint: Checkpoint | None) -> Iterator[Path]:
    """The step's folder: inside the checkpoint (kept for a rerun until the outputs are
    written), else a temporary folder removed at the end."""
    if checkpoint is not None:
        yield checkpoint.folder / "decode"
        return
    tmp = Path(tempfile.mkdtemp(prefix="camtrap-decode-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(
    step: DecodeStep,
    fn: Callable[[Any], Any],
    items: Sequence[stages.Item],
    blank: Callable[[Any, str, str], Any],
    on_record: Callable[[stages.Item, dict], None],
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = True,
) -> stages.Report:
    """Decode `items` with `fn` where `scheduler` says (threads here by default), handing each
    record to `on_record` in this process as soon as it is there."""
    local = not executors.resolve(scheduler)
    pool = ThreadPoolExecutor(max_workers=max(1, workers)) if local and items else None
    with pool or nullcontext():
        return stages.run(
            step.stage(), fn, items, blank, executor=pool, workers=workers,
            scheduler=scheduler, progress=progress, on_record=on_record,
        )  # fmt: skip
