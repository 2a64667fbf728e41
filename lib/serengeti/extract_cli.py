"""Command line for stage 02: `python -m lib.serengeti.extract --data DIR --work DIR
[--workers N] [--scheduler local|tcp://HOST:PORT] [--shard i/N] [--image-size HxW]`.

The same engine options as chimpact's stage 02 (lib.executors.add_arguments). Exit codes: 0 done,
1 some sequences failed or are still to do, 2 bad arguments or data. Apart from `extract.py` so
that worker processes find `extract_sequence` under its module's real name.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lib import executors, stages
from lib.serengeti import extract, schema


def image_size(text: str) -> tuple[int, int]:
    """argparse type for HxW (height first, as the model inputs), e.g. 384x512."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH such as 384x512, got {text!r}"
        ) from None
    if h < 2 or w < 2:
        raise argparse.ArgumentTypeError(f"image size must be at least 2x2, got {text!r}")
    return h, w


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.serengeti.extract",
        description="Stage 02: every sequence's images at model size, mean and background.",
    )
    parser.add_argument("--data", required=True, type=Path, help="serengeti data folder")
    parser.add_argument("--work", required=True, type=Path, help="work folder (arrays, manifest)")
    executors.add_arguments(parser)
    parser.add_argument("--image-size", type=image_size, default=(384, 512), help="HxW")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        data = schema.load(args.data)
    except schema.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = extract.ExtractConfig(image_size=args.image_size)
    try:
        manifest = extract.run(
            data, args.work, cfg, workers=args.workers, shard=args.shard,
            scheduler=args.scheduler, progress=not args.quiet,
        )  # fmt: skip
    except (executors.SchedulerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = manifest["status"]
    mine = {"images": len(manifest), "ok": int((status == "ok").sum()),
            "pending": int((status == "pending").sum())}  # fmt: skip
    return stages.print_outcome(extract.extract_dir(args.work), mine, args.shard)


if __name__ == "__main__":
    raise SystemExit(main())
