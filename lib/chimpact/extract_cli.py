"""Command line for stage 02: `python -m lib.chimpact.extract --data DIR --work DIR
[--workers N] [--shard i/N] [--merge] [--frame-size WxH]`.

Sharded runs (on several machines, or several processes of one) may share one work folder or
use their own; the per-video entries under `extract/videos/` are what counts. When the shards
share a folder, the last one to finish writes the global `extract/manifest.csv`; with separate
folders, copy them into one (`frames/` and `extract/videos/`) and run `--merge` there. Exit
codes: 0 done, 1 some videos failed or (with --merge) are missing, 2 bad arguments.

It lives apart from `extract.py` so that `python -m lib.chimpact.extract` runs the stage from
the imported module (worker processes then find `extract_video` under its real name).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from lib import shard as sharding
from lib.chimpact import extract, schema
from lib.cli import positive


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


def shard_spec(text: str) -> sharding.Shard:
    try:
        return sharding.parse(text)
    except sharding.ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.chimpact.extract",
        description="Stage 02: frames of every labelled second and its windows, both sources.",
    )
    parser.add_argument("--data", required=True, type=Path, help="chimpact data folder")
    parser.add_argument("--work", required=True, type=Path, help="work folder (frames, manifest)")
    parser.add_argument("--workers", type=positive(), help="processes (default: all cores)")
    parser.add_argument(
        "--shard", type=shard_spec, default=sharding.WHOLE, help="i/N: this run's share, 0 <= i < N"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="extract nothing; assemble manifest.csv from the per-video entries of all shards",
    )
    parser.add_argument("--frame-size", type=frame_size, help="scale frames to WxH")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
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
    if args.merge:
        try:
            manifest = extract.assemble(data, args.work, cfg)
        except extract.MissingVideos as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    else:
        manifest = extract.run(
            data, args.work, cfg, workers=args.workers, shard=args.shard, progress=not args.quiet
        )
    summary = extract.summarize(manifest, cfg)
    summary.pop("config")
    print(json.dumps({"shard": str(args.shard), **summary}, indent=2))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
