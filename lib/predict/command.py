"""What every track's `python -m lib.predict <track>` command shares: the flags for progress,
overwriting and checkpoints, the refusal of unusable outputs, the resolved settings and the
checkpoint they key. Each track's command (`lib.<track>.predict_cli`) builds on these."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from lib import executors
from lib.cli import positive
from lib.predict import outputs, resume

# settings that change where results go or how they are written, not what they are
OUTPUT_ONLY = {"out", "json", "camtrap_dp", "latitude", "longitude", "utc_offset"}


def common_flags(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--scheduler",
        help=f"decode the {unit} on a Dask cluster: 'local' (a LocalCluster) or tcp://HOST:PORT "
        f"(default: ${executors.ENV}, else threads of this process); workers must see the "
        "inputs and the folder of --out at the same paths",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace existing outputs and start afresh (drop the checkpoint)",
    )  # fmt: skip
    when = (f"every N videos and at least every {resume.EVERY_SECONDS:g} s" if unit == "videos"
            else "in chunks of N sequences, each saved when scored")  # fmt: skip
    parser.add_argument(
        "--checkpoint-every", type=positive(), default=resume.EVERY_FILES, metavar="N",
        help=f"save finished {unit} beside the output, {when} (default {resume.EVERY_FILES})",
    )  # fmt: skip


def bundle_key(folder: Path) -> str:
    """The bundle a checkpoint was made with: its manifest's hash (a re-export changes it)."""
    try:
        data = (folder / "bundle.json").read_bytes()
    except OSError:
        return ""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse unusable or finished outputs (OutputError) and a malformed --scheduler
    (SchedulerError) before any work: both exit 2."""
    executors.resolve(args.scheduler)
    outputs.check_file(args.out, "--out", args.overwrite)
    if getattr(args, "json", None):
        outputs.check_file(args.json, "--json", args.overwrite)
    if getattr(args, "camtrap_dp", None):
        outputs.check_folder(args.camtrap_dp, "--camtrap-dp", args.overwrite)


def settings(args: argparse.Namespace, bundle_dir: Path) -> dict:
    """The resolved settings, as printed at the start and stored in the checkpoint's key."""
    skip = {"track", "quiet", "overwrite", "checkpoint_every", "workers", "scheduler", "bundle"}
    if getattr(args, "camtrap_dp", None) is None:
        skip |= {"latitude", "longitude", "utc_offset"}
    chosen = {k: v for k, v in vars(args).items() if k not in skip}
    return {"bundle": str(bundle_dir), **chosen}


def open_checkpoint(args: argparse.Namespace, resolved: dict, bundle_dir: Path):
    key = {
        "track": args.track,
        "bundle": bundle_key(bundle_dir),
        **{k: str(v) for k, v in resolved.items() if k not in OUTPUT_ONLY},
    }
    return resume.Checkpoint.open(args.out, key, fresh=args.overwrite, every=args.checkpoint_every)
