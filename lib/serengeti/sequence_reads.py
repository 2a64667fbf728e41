"""What the serengeti predict command decodes from one sequence, as a step of the stage engine.

The pixels are stage 02's (`lib.serengeti.extract.sequence_arrays`: robust decode, the resize
flow, mean and background), so new images reach the networks as the training images did.
`decode` runs where the engine puts it (a thread, a Dask worker) and leaves the arrays in one
.npz; the networks' process loads them with `load`. No model code is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lib import fileio
from lib.serengeti import extract

VERSION = 1  # layout of the decoded files


@dataclass
class SequenceRead:
    """One sequence's network inputs (None when no image could be read) and its failures."""

    seq_id: str
    arrays: dict[str, np.ndarray] | None  # dropped once the networks have scored them
    failed: dict[str, str] = field(default_factory=dict)  # file -> "reason: detail"
    used: list[str] = field(default_factory=list)  # files that reached the networks

    @property
    def readable(self) -> bool:
        return bool(self.used)


@dataclass(frozen=True)
class DecodeJob:
    """One sequence to decode: everything `decode` needs, small enough to send to a worker."""

    seq_id: str
    files: tuple[tuple[str, str], ...]  # (name, path) of its images
    config: extract.ExtractConfig
    naive: bool  # whether the bundle's single network reads the naive resize
    out: str  # the .npz to write


def work_name(seq_id: str) -> str:
    """The engine's work name of a sequence, one to one with its seq_id."""
    return extract.safe_name(seq_id)


def read(job: DecodeJob) -> SequenceRead:
    """Decode and resize one sequence as stage 02 did; failures are recorded, never raised."""
    files = [(name, Path(path)) for name, path in job.files]
    try:
        arrays, used, failed = extract.sequence_arrays(files, job.config, job.naive)
    except (OSError, ValueError) as exc:  # e.g. images of one sequence that cannot be combined
        names = sorted(f for f, _ in files)[: job.config.max_images]
        return SequenceRead(job.seq_id, None, {n: f"unreadable: {exc}" for n in names})
    errors = {
        name: f"{err.reason}: {err.detail}" if err.detail else err.reason
        for name, err in failed.items()
    }
    return SequenceRead(job.seq_id, arrays, errors, used)


def decode(job: DecodeJob) -> dict:
    """Decode one sequence into `job.out` (no arrays when none of its images is readable:
    the sequence then gets the class priors, which is an answer, not a failed decode)."""
    seq = read(job)
    fileio.write_npz(job.out, seq.arrays or {})
    return {"status": "ok", "seq_id": seq.seq_id, "failed": seq.failed, "used": seq.used}


def blank(job: DecodeJob, reason: str, error: str) -> dict:
    """The result of a sequence whose decode never returned (a lost worker, a crash)."""
    names = sorted(name for name, _ in job.files)[: job.config.max_images]
    return {"status": "failed", "seq_id": job.seq_id, "used": [],
            "failed": {n: f"{reason}: {error}" for n in names}}  # fmt: skip


def load(record: dict, out: str | Path) -> SequenceRead:
    """A decoded sequence back from its engine record's result and its .npz."""
    res = record["result"]
    seq = SequenceRead(res["seq_id"], None, dict(res["failed"]), list(res["used"]))
    if record["status"] == "ok" and seq.used:
        seq.arrays = fileio.read_npz(out)
    else:
        seq.used = []
    return seq
