"""`python -m lib.predict chimpact`: its arguments and its run (lib.predict dispatches here).

    python -m lib.predict chimpact --bundle B --videos DIR|FILES
        [--times CSV | --detections MD.json] --out CSV [--overwrite]

One row per requested second: filepath,time,distance (metres). Reference: docs/predict.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib.cli import positive, real
from lib.predict import command, outputs


def add_parser(tracks) -> None:
    """Add the `chimpact` command to `tracks`, the subparsers of `python -m lib.predict`."""
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
    ch.add_argument(
        "--detections", type=Path,
        help="MegaDetector batch-output JSON of the videos: predict one row per detected animal",
    )  # fmt: skip
    ch.add_argument(
        "--conf", type=_probability, default=0.2,
        help="with --detections: keep animal detections at or above this confidence (0.2)",
    )  # fmt: skip
    ch.add_argument("--out", type=Path, required=True, help="output CSV")
    ch.add_argument("--batch-size", type=positive(), default=32)
    ch.add_argument("--workers", type=positive(), default=2, help="videos decoded in parallel")
    ch.add_argument("--no-snap", action="store_true", help="do not snap to the train distances")
    command.common_flags(ch, "videos")


_probability = real("a confidence in [0, 1]", "in [0, 1]", lambda v: 0.0 <= v <= 1.0)


def run(args: argparse.Namespace) -> int:
    """Predict as `args` (parsed by add_parser's command) say; the command's exit code."""
    from lib.bundle_io import BundleError, default_dir
    from lib.chimpact import bundle, predict_videos
    from lib.executors import SchedulerError

    bundle_dir = (args.bundle or default_dir("chimpact")).expanduser().absolute()
    try:
        if args.detections and args.times:
            raise predict_videos.InputError("--times and --detections exclude each other; pass one")
        command.check_outputs(args)
        settings = command.settings(args, bundle_dir)
        report = outputs.Report("chimpact", settings)
        loaded = bundle.load(bundle_dir)
        checkpoint = command.open_checkpoint(args, settings, bundle_dir)
        common = {
            "batch_size": args.batch_size,
            "workers": args.workers,
            "snap": not args.no_snap,
            "progress": not args.quiet,
            "checkpoint": checkpoint,
            "scheduler": args.scheduler,
        }
        if args.detections:
            result = predict_videos.predict_detections(
                loaded, args.videos, args.detections, conf=args.conf,
                downsampled=args.downsampled, **common,
            )  # fmt: skip
        else:
            result = predict_videos.predict(
                loaded, args.videos, times=args.times, downsampled=args.downsampled, **common
            )
    except (BundleError, predict_videos.InputError, outputs.OutputError, SchedulerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = report.finish(predict_videos.write(result, args.out))
    checkpoint.remove()
    for row in result.errors.itertuples(index=False):
        print(f"no distance: {row.filepath}: {row.error}", file=sys.stderr)
    return 1 if summary["videos"] and summary["files_read"] == 0 else 0
