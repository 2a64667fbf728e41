"""Find the files to predict among the paths a user gave, the way a memory card really looks.

A card copied to disk holds links that point nowhere (an unmounted card), links that loop,
folders named like videos, thumbnails and notes beside the media, and the same file reached
twice (a folder and, again, one of its files by name). None of that may stop or silently skew a
run: every such entry is a counted skip with a reason in the user's terms, each file is
predicted once, and only a path that does not exist at all (a typo) is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class InputError(ValueError):
    """Paths that cannot be used at all; the message names the path and the fix."""


@dataclass
class Found:
    """The files to predict (in order, each once), the skipped entries, and the common folder."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    base: Path = Path(".")

    def reasons(self) -> dict[str, int]:
        """How many entries were skipped for each reason (without the detail)."""
        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            key = reason.split(" (")[0]
            counts[key] = counts.get(key, 0) + 1
        return counts


def _link_problem(path: Path) -> str:
    """Why a path that `exists()` calls missing cannot be read: a dangling link or a loop."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "a link that loops back on itself"
        return f"a link to nothing ({os.readlink(path)})" if path.is_symlink() else "unreadable"
    return ""


def _classify(path: Path, suffixes: tuple[str, ...], kind: str) -> str:
    """'' when `path` is a file to predict, else the reason it is skipped."""
    if path.is_symlink() or not path.exists():
        problem = _link_problem(path)
        if problem:
            return problem
    if path.is_dir():
        return f"a folder, not {kind}"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in suffixes:
        return f"not {kind} file ({path.suffix or 'no suffix'})"
    return ""


def _walk(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Every file below `folder` in name order, plus links to folders and folders named like
    media files (so that they are reported), without following links to folders (a link loop
    would never end) and without failing on unreadable subfolders."""
    out: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=False, onerror=lambda _: None):
        dirs.sort()
        here = Path(root)
        links = [d for d in dirs if (here / d).is_symlink()]
        named_like = [d for d in dirs if d not in links and Path(d).suffix.lower() in suffixes]
        out += [here / name for name in sorted(files + links + named_like)]
        dirs[:] = [d for d in dirs if d not in links]
    return out


def find(
    inputs: list[str | Path],
    suffixes: tuple[str, ...],
    kind: str,
    quiet_unsupported: bool = True,
    require: str = "",
) -> Found:
    """Files among `inputs` whose suffix (any case) is in `suffixes`: files as given, folders
    searched recursively. Inside folders, files of other types are ignored unless
    `quiet_unsupported` is False; named files of other types are always counted skips. With
    `require` (the files' noun, e.g. "video"), finding none is an InputError."""
    if not inputs:
        raise InputError(f"no inputs given; name {kind} files or folders")
    found = Found()
    by_real: dict[str, Path] = {}  # the file's real path -> the path it is predicted under
    bases: list[str] = []
    for item in inputs:
        path = Path(item).expanduser().absolute()
        if not os.path.lexists(path):
            raise InputError(f"{path}: no such file or folder; check the path")
        named = not path.is_dir()
        bases.append(str(path.parent if named else path))
        for entry in [path] if named else _walk(path, suffixes):
            reason = _classify(entry, suffixes, kind)
            if reason.startswith("not ") and "file (" in reason and not named and quiet_unsupported:
                continue
            if reason:
                found.skipped.append((str(entry), reason))
                continue
            _keep_once(by_real, entry)
    found.files = list(by_real.values())
    found.base = Path(os.path.commonpath(bases)) if bases else Path(".")
    if require and not found.files:
        raise InputError(
            f"no {require} files ({', '.join(suffixes)}, any case) in {', '.join(map(str, inputs))}"
        )
    return found


def _keep_once(by_real: dict[str, Path], entry: Path) -> None:
    """Record `entry` unless its file was reached already (predicted once, where it was first
    reached), preferring the file's own path over a link to it: a card's shortcut does not rename
    the video in the output."""
    real = os.path.realpath(entry)
    if real not in by_real or (by_real[real].is_symlink() and not entry.is_symlink()):
        by_real[real] = entry
