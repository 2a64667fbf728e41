"""Finished per-file results kept beside the output, so a killed predict run continues.

A run over a card's worth of files can die at 90 %; rerunning the same command must continue
where it stopped and recompute nothing finished. The checkpoint is a folder beside the output,
`<out>.checkpoint/`: `key.json` (what the results depend on: track, settings, the bundle's
manifest) and numbered part files, each written atomically (a killed write leaves at most a
temporary file that is ignored). Each entry records the identity of the file it was made from
(size, modification time, a hash of its head and tail), so a file replaced since is redone and
nothing else. Parts are appended, never rewritten, so saving costs the new results only.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from lib import fileio
from lib.inputs import ends_digest

log = logging.getLogger(__name__)

VERSION = 1
EVERY_FILES = 20  # a part is written after this many new results ...
EVERY_SECONDS = 120.0  # ... or when this much time has passed since the last one
HASH_BYTES = 1 << 16


def folder_for(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.name}.checkpoint")


def file_identity(path: str | Path) -> dict[str, Any]:
    """Size, modification time and a hash of the first and last 64 KiB: enough to notice a
    file replaced or re-copied, at the cost of two short reads. None-valued for a file that
    cannot be read (its failure is then recomputed, which is cheap)."""
    try:
        stat, digest = ends_digest(path, HASH_BYTES)
    except OSError:
        return {"size": None, "mtime_ns": None, "sha1_head_tail": None}
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha1_head_tail": digest}


class Checkpoint:
    """Entries by name, loaded from an earlier run's parts when its key matches."""

    def __init__(
        self,
        folder: Path,
        key: dict,
        every: int = EVERY_FILES,
        seconds: float = EVERY_SECONDS,
    ) -> None:
        self.folder = folder
        self.key = fileio.jsonable(key)
        self.every = every
        self.seconds = seconds
        self.entries: dict[str, dict] = {}
        self.pending: dict[str, dict] = {}
        self.reused = 0
        self._last_save = time.monotonic()
        self._parts = 0

    @classmethod
    def open(cls, out: str | Path, key: dict, fresh: bool = False, **kwargs: Any) -> Checkpoint:
        """The checkpoint of `out`: an earlier run's entries if its key equals `key`, else
        (or with `fresh`) an empty one that replaces it."""
        ckpt = cls(folder_for(out), key, **kwargs)
        stored = ckpt._stored_key()
        if stored is not None and stored != ckpt.key and not fresh:
            log.warning(
                "%s was made with other settings or another bundle; starting afresh", ckpt.folder
            )
        if fresh or stored != ckpt.key:
            shutil.rmtree(ckpt.folder, ignore_errors=True)
        else:
            ckpt._load()
        ckpt.folder.mkdir(parents=True, exist_ok=True)
        fileio.write_json(ckpt.folder / "key.json", {"version": VERSION, "key": ckpt.key})
        return ckpt

    def _stored_key(self) -> dict | None:
        try:
            stored = fileio.read_json(self.folder / "key.json")
        except (OSError, ValueError):
            return None
        return stored.get("key") if stored.get("version") == VERSION else None

    def _load(self) -> None:
        for part in sorted(self.folder.glob("part-*.json")):
            try:
                self.entries.update(fileio.read_json(part))
            except (OSError, ValueError):  # never written whole: its files are redone
                log.warning("%s: unreadable checkpoint part, its files are recomputed", part)
            self._parts += 1

    def get(self, name: str, identity: dict) -> dict | None:
        """The finished entry of `name` if it was made from a file with this identity."""
        entry = self.entries.get(name)
        if entry is None or entry.get("identity") != fileio.jsonable(identity):
            return None
        self.reused += 1
        return entry

    def put(self, name: str, entry: dict, force: bool = False) -> None:
        """Record a finished entry; a part is written every `every` entries or `seconds`."""
        entry = fileio.jsonable(entry)
        self.entries[name] = entry
        self.pending[name] = entry
        due = time.monotonic() - self._last_save >= self.seconds
        if force or due or len(self.pending) >= self.every:
            self.save()

    def save(self) -> None:
        if self.pending:
            fileio.write_json(self.folder / f"part-{self._parts:06d}.json", self.pending)
            self._parts += 1
            self.pending = {}
        self._last_save = time.monotonic()

    def remove(self) -> None:
        """Called once the outputs are written: a complete output needs no checkpoint."""
        shutil.rmtree(self.folder, ignore_errors=True)
