"""Command line: `python -m lib.demo --track chimpact [--out DIR] [--seed N] [--videos N]
[--max-duration S]` or `python -m lib.demo --track serengeti [--out DIR] [--seed N]
[--sequences N] [--image-size WxH]`. Prints the summary as JSON; exit code 2 for bad
arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib.cli import positive, size_pair
from lib.demo import MARKER, ensure
from lib.fileio import atomic_dir, read_json
from lib.paths import TRACKS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.demo",
        description="Generate demo competition data (videos or images and CSVs in the real "
        "layout).",
    )
    parser.add_argument("--track", required=True, choices=TRACKS)
    parser.add_argument(
        "--out", type=Path, help="new or empty folder (default: the shared demo location)"
    )
    parser.add_argument("--seed", type=positive(0), default=42)
    parser.add_argument(
        "--videos", type=positive(2), help="chimpact: total videos, train + test (default 120)"
    )
    parser.add_argument(
        "--max-duration", type=positive(2), help="chimpact: longest clip in seconds (default 60)"
    )
    parser.add_argument(
        "--companions", type=float,
        help="chimpact prediction demo: share of test videos with a second animal for some "
             "seconds; also writes animal_truth.csv and test_megadetector.json (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--sequences",
        type=positive(22),
        help="serengeti: total sequences, train + test (default 800)",
    )
    parser.add_argument(
        "--image-size",
        type=size_pair("WIDTHxHEIGHT", "2048x1536", (64, 48)),
        help="serengeti: WIDTHxHEIGHT (default 2048x1536)",
    )
    parser.add_argument("--workers", type=positive(1), help="processes (default: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.track == "serengeti":
        wrong = [
            f
            for f, v in (("--videos", args.videos), ("--max-duration", args.max_duration),
                         ("--companions", args.companions))
            if v
        ]  # fmt: skip
        options = {"sequences": args.sequences, "image_size": args.image_size}
    else:
        wrong = [
            f for f, v in (("--sequences", args.sequences), ("--image-size", args.image_size)) if v
        ]
        options = {"videos": args.videos, "max_duration": args.max_duration,
                   "companions": args.companions}  # fmt: skip
    if wrong:
        parser.error(f"{', '.join(wrong)} does not apply to --track {args.track}")
    options = {k: v for k, v in options.items() if v is not None}
    if args.out is None:
        folder = ensure(args.track, args.seed, **options)
        print(json.dumps({"out": str(folder), **read_json(folder / MARKER)}, indent=2))
        return 0
    out = args.out.expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        parser.error(f"--out {out} exists and is not an empty folder; choose a new folder")
    if args.track == "serengeti":
        from lib.demo.serengeti import generate
    else:
        from lib.demo.chimpact import generate  # type: ignore[assignment]

    with atomic_dir(out) as tmp:
        summary = generate(
            tmp, seed=args.seed, workers=args.workers, progress=not args.quiet, **options
        )
    print(json.dumps({"out": str(out), **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
