"""Small argparse helpers shared by the command lines (lib.demo, lib.predict, stage CLIs)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path


def positive(minimum: int = 1) -> Callable[[str], int]:
    """argparse type: an integer >= minimum, with a message that names the problem."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def size_pair(names: str, example: str, minimum: tuple[int, int] = (2, 2)) -> Callable:
    """argparse type for two sizes written AxB, in the order `names` says ("WIDTHxHEIGHT" or
    "HEIGHTxWIDTH": the tracks' CLIs differ, as their tools do); each at least `minimum`."""

    def parse(text: str) -> tuple[int, int]:
        try:
            a, b = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {names} such as {example}, got {text!r}"
            ) from None
        if a < minimum[0] or b < minimum[1]:
            low = f"{minimum[0]}x{minimum[1]}"
            raise argparse.ArgumentTypeError(f"must be at least {low} ({names}), got {text!r}")
        return a, b

    return parse


def run_stage(load: Callable[[Path], object], run: Callable[[object], int], data: Path) -> int:
    """A stage CLI's body: load the data folder, run, map known failures to exit code 2 with
    the message alone (the file and the fix are in it; a traceback would bury them)."""
    from lib import executors, tables

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        dataset = load(data)
    except tables.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return run(dataset)
    except (executors.SchedulerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def stage_parser(prog: str, description: str, track: str, holds: str) -> argparse.ArgumentParser:
    """A stage command line's parser with what every stage takes: the data and work folders
    and the engine's options (lib.executors)."""
    from lib import executors

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--data", required=True, type=Path, help=f"{track} data folder")
    parser.add_argument("--work", required=True, type=Path, help=f"work folder ({holds})")
    executors.add_arguments(parser)
    return parser
