"""Content keys: short digests of what a stage's output was made from.

Every stage after 02 that skips finished work decides by one of these, never by a count or a
timestamp alone: the label cells that concern an item, the upstream stage's entry for it, the
settings and a format version (records), the record shards a fold reads (training), the fold
weights and test shards a prediction reads (inference). Equal keys mean "made from the same
inputs"; any edit of an input changes the key of exactly the outputs made from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from lib import fileio

_HEAD_TAIL = 1 << 16  # bytes read from each end of a large file


def digest(obj: Any, length: int = 12) -> str:
    """Short SHA-1 of an object's canonical JSON (sorted keys, numpy values as Python ones)."""
    text = json.dumps(fileio.jsonable(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:length]


def item_key(**parts: Any) -> str:
    """One item's content key: everything its output is made from, as one full digest."""
    return digest(parts, 40)


def file_identity(path: str | Path) -> dict:
    """Size, modification time and a digest of the head and tail of a file: enough to notice a
    rewritten or replaced file without reading all of a large one."""
    path = Path(path)
    stat = path.stat()
    h = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as f:
        h.update(f.read(_HEAD_TAIL))
        if stat.st_size > 2 * _HEAD_TAIL:
            f.seek(-_HEAD_TAIL, os.SEEK_END)
        h.update(f.read(_HEAD_TAIL))
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "head_tail": h.hexdigest()}


def file_digest(path: str | Path) -> str:
    """SHA-1 of a whole file (model weights: small enough to hash, and two trainings that end
    in the same weights give the same key)."""
    h = hashlib.sha1(usedforsecurity=False)
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
