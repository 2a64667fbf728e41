"""Input files as a stage sees them: what is wrong with one (in the user's words), and its identity.

A memory card or a copied folder holds more than clean files: links that loop or point nowhere
(an unmounted card), folders named like videos, empty or unreadable files. Each of these must
become a counted skip with a reason a person understands, never a crash in pathlib or a decoder
message. `identity` is what a finished item's record remembers of each file it was made from, so
a replaced file (same name, other content) is redone on the next run.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from PIL import Image

# Bytes hashed at each end of a file: a re-encoded or replaced file differs in its header or its
# last bytes; hashing every byte of 5 TB of images at every rerun would cost more than the stage.
HASH_BYTES = 16 * 1024

LOOP = "a link that loops"
DANGLING = "a link to nothing (dangling)"
MISSING = "missing"
EMPTY = "an empty file"
UNREADABLE = "unreadable (permission denied)"
OUTSIDE = "a link that points outside the data folder"


def problem(path: str | Path, what: str = "file") -> str | None:
    """None for a readable, non-empty regular file; otherwise why it cannot be used.

    `what` names the expected kind in the reason ("a folder, not a video").
    """
    path = Path(path)
    try:
        info = os.stat(path)  # follows links: a loop or a dangling link fails here
    except OSError as err:
        if err.errno == errno.ELOOP:
            return LOOP
        if os.path.islink(path):
            return DANGLING
        if err.errno in (errno.EACCES, errno.EPERM):
            return UNREADABLE
        return MISSING
    kind = f"{'an' if what[0] in 'aeiou' else 'a'} {what}"
    if stat.S_ISDIR(info.st_mode):
        return f"a folder, not {kind}"
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file (a device or pipe), not {kind}"
    if info.st_size == 0:
        return EMPTY
    if not os.access(path, os.R_OK):
        return UNREADABLE
    return None


def resolve_inside(base: Path, name: str) -> tuple[Path, str | None]:
    """`base / name` resolved, refusing a link that escapes `base`; never raises.

    Returns (path, problem): on a problem the unresolved path, so messages name what the user
    listed. Python 3.11's `Path.resolve` raises RuntimeError on a loop; that becomes LOOP here.
    """
    raw = Path(base) / name
    try:
        target = raw.resolve()
        root = Path(base).resolve()
    except (RuntimeError, OSError):
        return raw, LOOP
    if target != root and root not in target.parents:
        return raw, OUTSIDE
    return target, None


def identity(path: str | Path) -> dict:
    """Size, modification time and a hash of the first and last HASH_BYTES of a file.

    A file that cannot be read gets {"problem": reason} instead, so its items are keyed too (and
    redone once the file is fixed).
    """
    path = Path(path)
    reason = problem(path)
    if reason is not None:
        return {"problem": reason}
    try:
        info, digest = ends_digest(path, HASH_BYTES)
    except OSError as err:
        return {"problem": UNREADABLE if err.errno in (errno.EACCES, errno.EPERM) else str(err)}
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha1_ends": digest}


def ends_digest(path: str | Path, span: int) -> tuple[os.stat_result, str]:
    """The file's stat and the SHA-1 of its first and last `span` bytes: two short reads that
    notice a file replaced or re-copied without reading it whole. OSError if it cannot be read."""
    info = os.stat(path)
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fh:
        digest.update(fh.read(span))
        if info.st_size > span:
            fh.seek(max(span, info.st_size - span))
            digest.update(fh.read(span))
    return info, digest.hexdigest()


def video_reason(message: str) -> str:
    """A decoder's error message in the user's terms (the full message goes beside it)."""
    text = message.lower()
    for needle, reason in (
        ("no video stream", "no video stream"),
        ("cannot index the video stream", "no video stream"),
        ("no timed packets", "no video stream"),
        ("no frames", "no frames"),
        ("did not finish", "decoding took too long"),
        ("did not index", "decoding took too long"),
        ("empty", EMPTY),
        ("no such file", MISSING),
    ):
        if needle in text:
            return reason
    return "not a readable video"


def image_suffixes() -> tuple[str, ...]:
    """Every file suffix Pillow can open here (.jpg, .png, .tif, .webp, ...), lower case."""
    Image.init()
    return tuple(
        sorted(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)
    )


def check_writable(folder: str | Path, what: str = "work folder") -> None:
    """Create `folder` and write a probe file there, before any work starts.

    Raises PermissionError naming the folder and the fix, rather than a traceback after hours
    of work when the first record is written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"{folder}: the {what} is a file, not a folder; remove it or choose another path"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise PermissionError(
            f"{folder}: the {what} cannot be written ({err.strerror or err}); make it writable "
            "(chmod u+w) or point the work root elsewhere (CAMTRAP_WORK)"
        ) from None
