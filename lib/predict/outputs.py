"""Output paths checked before any work starts, and the report both predict commands print.

Finished predictions must never be thrown away: an output that exists is replaced only with
`--overwrite`, and a path that cannot take the output (a folder, a read-only place) is refused
before hours of decoding rather than after.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

OVERWRITE_FLAG = "--overwrite"


class OutputError(ValueError):
    """An output path that cannot be used; the message names the path and the fix."""


def _writable_folder(path: Path) -> Path:
    """The nearest existing folder of `path` (where it would be created), checked writable."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is a file, not a folder; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: {parent} is not writable; choose a folder you can write to")
    return parent


def check_file(path: Path, flag: str, overwrite: bool) -> None:
    """`path` can receive an output file and does not hold one (unless `overwrite`)."""
    if path.is_dir():
        raise OutputError(f"{flag} {path}: is a folder; give a file name, e.g. {path}/pred.csv")
    if path.exists() and not overwrite:
        raise OutputError(
            f"{flag} {path}: already exists (a finished output); pass {OVERWRITE_FLAG} to "
            "replace it, or choose another name"
        )
    _writable_folder(path)


def check_folder(path: Path, flag: str, overwrite: bool) -> None:
    """`path` can receive an output folder and does not hold one (unless `overwrite`)."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag} {path}: is a file; give a folder (it is created)")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise OutputError(
            f"{flag} {path}: already holds files; pass {OVERWRITE_FLAG} to replace them, "
            "or choose another folder"
        )
    _writable_folder(path)


class Report:
    """What the user sees: the resolved settings first, a one-line summary last (stderr), and
    the summary as JSON on stdout for scripts."""

    def __init__(self, track: str, settings: dict[str, Any]) -> None:
        self.track = track
        self.started = time.perf_counter()
        lines = [f"  {k}: {v}" for k, v in settings.items()]
        print(f"predict {track} with:\n" + "\n".join(lines), file=sys.stderr, flush=True)

    def finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        summary = {**summary, "seconds": round(time.perf_counter() - self.started, 1)}
        failed = summary.get("failed_by_reason", {})
        failures = ", ".join(f"{n} {r}" for r, n in failed.items()) or "none"
        print(
            f"{summary['files_read']} files read, failed: {failures}; "
            f"{summary['rows_written']} rows written to {summary['out']} "
            f"in {summary['seconds']:.1f} s",
            file=sys.stderr,
        )
        print(json.dumps(summary, indent=2))
        return summary
