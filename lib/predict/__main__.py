"""Command line: predictions from a model bundle on new videos (chimpact) or images (serengeti).

    python -m lib.predict chimpact --bundle B --videos DIR|FILES
        [--times CSV | --detections MD.json] --out CSV [--overwrite]
    python -m lib.predict serengeti --bundle B --images DIR|FILES [--metadata CSV] --out CSV
        [--json MD.json] [--camtrap-dp DIR] [--overwrite]

Finished files are checkpointed beside the output (`<out>.checkpoint/`); the same command
continues a killed run. Exit codes: 0 done (unreadable inputs are listed in the errors file, not
fatal), 1 nothing could be read, 2 bad arguments (no input files found among them included, an
output that exists without --overwrite or cannot be written), a bad times, metadata or
detections file or an unusable bundle (the message says which file). Full reference:
docs/predict.md.

Each track's command lives in its package: `lib.<track>.predict_cli`, for every track of
lib.paths.TRACKS, defines `add_parser(subparsers)` (its sub-command and arguments) and
`run(args) -> exit code`. This module only finds that module by the track's name and dispatches;
what the commands share is lib.predict.command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from types import ModuleType

from lib.paths import TRACKS, check_track

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def track_command(track: str) -> ModuleType:
    """`lib.<track>.predict_cli` for a track of lib.paths.TRACKS (ValueError for any other)."""
    check_track(track)
    return importlib.import_module(f"lib.{track}.predict_cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.predict", description=__doc__.split("\n")[0]
    )
    tracks = parser.add_subparsers(dest="track", required=True)
    for track in TRACKS:
        track_command(track).add_parser(tracks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return track_command(args.track).run(args)


if __name__ == "__main__":
    sys.exit(main())
