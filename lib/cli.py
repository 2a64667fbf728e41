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


def real(what: str, rule: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    """argparse type: a float `ok` accepts; the messages name what was expected (`what`) and the
    rule it broke (`rule`), with the text as given."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
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
    and the engine's options (add_engine_arguments)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--data", required=True, type=Path, help=f"{track} data folder")
    parser.add_argument("--work", required=True, type=Path, help=f"work folder ({holds})")
    add_engine_arguments(parser)
    return parser


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every stage command line shares: where items run (lib.executors), and which
    of them (lib.stages shards)."""
    from lib import executors, stages

    def shard(text: str):
        try:
            return stages.parse_shard(text)
        except stages.ShardError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument("--workers", type=positive(), help="processes (default: all cores)")
    parser.add_argument(
        "--scheduler",
        help=f"'local' (a Dask LocalCluster) or tcp://HOST:PORT of a Dask scheduler "
        f"(default: ${executors.ENV}, else this machine's processes)",
    )
    parser.add_argument(
        "--shard", type=shard, default=None,
        help="i/N: only this share of the items, 0 <= i < N (batch arrays; the last to finish "
        "writes the manifest)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def engine_options(args: argparse.Namespace) -> dict:
    """The parsed engine options (add_engine_arguments) as keyword arguments of a stage's `run`."""
    return {"workers": args.workers, "shard": args.shard, "scheduler": args.scheduler,
            "progress": not args.quiet}  # fmt: skip
