"""Command line for stage 02: `python -m lib.chimpact.extract --data DIR --work DIR
[--workers N] [--scheduler local|tcp://HOST:PORT] [--shard i/N] [--frame-size WxH]`.

Items run on this machine's processes, a Dask LocalCluster or an existing Dask cluster
(docs/cluster.md); `--shard i/N` runs one share of the videos (batch arrays), and whichever share
finds every video finished writes `extract/manifest.csv`. Exit codes: 0 done, 1 some videos
failed or are still to do, 2 bad arguments or data.

It lives apart from `extract.py` so that `python -m lib.chimpact.extract` runs the stage from
the imported module (worker processes then find `extract_video` under its real name).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lib import executors, stages
from lib.chimpact import extract, schema


def frame_size(text: str) -> tuple[int, int]:
    """argparse type for WxH, e.g. 512x512."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 512x512, got {text!r}"
        ) from None
    if w < 2 or h < 2:
        raise argparse.ArgumentTypeError(f"frame size must be at least 2x2, got {text!r}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.chimpact.extract",
        description="Stage 02: frames of every labelled second and its windows, both sources.",
    )
    parser.add_argument("--data", required=True, type=Path, help="chimpact data folder")
    parser.add_argument("--work", required=True, type=Path, help="work folder (frames, manifest)")
    executors.add_arguments(parser)
    parser.add_argument("--frame-size", type=frame_size, help="scale frames to WxH")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        data = schema.load(args.data)
    except schema.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = extract.ExtractConfig(size=args.frame_size)
    try:
        manifest = extract.run(
            data, args.work, cfg, workers=args.workers, shard=args.shard,
            scheduler=args.scheduler, progress=not args.quiet,
        )  # fmt: skip
    except (executors.SchedulerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return stages.print_outcome(args.work / "extract", extract.summarize(manifest, cfg), args.shard)


if __name__ == "__main__":
    raise SystemExit(main())
