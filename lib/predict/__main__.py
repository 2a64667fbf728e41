"""Command line: predictions from a model bundle on new videos (chimpact) or images (serengeti).

    python -m lib.predict chimpact --bundle B --videos DIR|FILES [--times CSV] --out CSV
    python -m lib.predict serengeti --bundle B --images DIR|FILES [--metadata CSV] --out CSV

Exit codes: 0 done (unreadable inputs are listed in the errors file, not fatal), 1 nothing could
be read, 2 bad arguments (no input files found among them included), a bad times or metadata
table or an unusable bundle (the message says which file).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from lib.cli import positive

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib.predict", description=__doc__.split("\n")[0]
    )
    tracks = parser.add_subparsers(dest="track", required=True)
    ch = tracks.add_parser(
        "chimpact",
        help="distance of the animal per second of video",
        description="One row per requested second: filepath,time,distance (metres).",
    )
    ch.add_argument("--bundle", type=Path, help="bundle folder (default runs/chimpact/bundle)")
    ch.add_argument("--videos", nargs="+", required=True, help="video files and/or folders")
    ch.add_argument(
        "--times", type=Path,
        help="CSV of rows to predict: time plus filepath or video_id (default: every second)",
    )  # fmt: skip
    ch.add_argument(
        "--downsampled", type=Path,
        help="folder with downsampled copies of the videos (same names), for the down runs",
    )  # fmt: skip
    ch.add_argument("--out", type=Path, required=True, help="output CSV")
    ch.add_argument("--batch-size", type=positive(), default=32)
    ch.add_argument("--workers", type=positive(), default=2, help="videos decoded in parallel")
    ch.add_argument("--no-snap", action="store_true", help="do not snap to the train distances")
    ch.add_argument("--quiet", action="store_true", help="no progress bar")
    _serengeti_parser(tracks)
    return parser


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _serengeti_parser(tracks) -> None:
    se = tracks.add_parser(
        "serengeti",
        help="species probabilities per image sequence",
        description=(
            "One row per sequence: seq_id,first_file,n_images, the 54 class probabilities, "
            "top_class,top_score. Sequences: images of one folder whose capture times (EXIF "
            "DateTimeOriginal, else file modification time) are at most --gap-s apart, or the "
            "sequences of a --metadata CSV."
        ),
    )
    se.add_argument("--bundle", type=Path, help="bundle folder (default runs/serengeti/bundle)")
    se.add_argument("--images", nargs="+", required=True, help="image files and/or folders")
    se.add_argument(
        "--metadata", type=Path,
        help="CSV seq_id,file_name,datetime (the competition layout; names relative to the one "
             "--images folder): use its sequences instead of grouping",
    )  # fmt: skip
    se.add_argument("--out", type=Path, required=True, help="output CSV")
    se.add_argument("--json", type=Path, help="also write MegaDetector batch-output JSON here")
    se.add_argument(
        "--gap-s", type=_non_negative, default=60.0,
        help="a new sequence starts after this many seconds without a shot (default 60)",
    )  # fmt: skip
    se.add_argument(
        "--group-by", choices=("folder", "image"), default="folder",
        help="folder: one camera per folder (default); image: every image its own sequence",
    )  # fmt: skip
    se.add_argument("--batch-size", type=positive(), default=32)
    se.add_argument("--workers", type=positive(), default=2, help="images decoded in parallel")
    se.add_argument("--quiet", action="store_true", help="no progress bar")


def _chimpact(args: argparse.Namespace) -> int:
    from lib.bundle import BundleError, default_dir
    from lib.chimpact import bundle, predict

    try:
        loaded = bundle.load(args.bundle or default_dir("chimpact"))
        result = predict.predict(
            loaded, args.videos, times=args.times, downsampled=args.downsampled,
            batch_size=args.batch_size, workers=args.workers, snap=not args.no_snap,
            progress=not args.quiet,
        )  # fmt: skip
    except (BundleError, predict.InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = predict.write(result, args.out)
    print(json.dumps(summary, indent=2))
    for row in result.errors.itertuples(index=False):
        print(f"unreadable: {row.filepath}: {row.error}", file=sys.stderr)
    everything_failed = len(result.errors) and len(result.errors) == summary["videos"]
    return 1 if everything_failed else 0


def _serengeti(args: argparse.Namespace) -> int:
    from lib.bundle import BundleError, default_dir
    from lib.serengeti import bundle, predict

    try:
        loaded = bundle.load(args.bundle or default_dir("serengeti"))
        result = predict.predict(
            loaded, args.images, metadata=args.metadata, gap_s=args.gap_s,
            group_by=args.group_by, batch_size=args.batch_size, workers=args.workers,
            progress=not args.quiet,
        )  # fmt: skip
    except (BundleError, predict.InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = predict.write(result, args.out, args.json, loaded)
    print(json.dumps(summary, indent=2))
    for row in result.errors.itertuples(index=False):
        print(f"unreadable: {row.file}: {row.error}", file=sys.stderr)
    nothing_read = summary["sequences_without_readable_image"] == summary["sequences"]
    return 1 if nothing_read else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.track == "chimpact":
        return _chimpact(args)
    if args.track == "serengeti":
        return _serengeti(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
