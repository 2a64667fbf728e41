"""`python -m lib.predict serengeti`: its arguments and its run (lib.predict dispatches here).

    python -m lib.predict serengeti --bundle B --images DIR|FILES [--metadata CSV] --out CSV
        [--json MD.json] [--camtrap-dp DIR] [--overwrite]

One row per image sequence with the 54 class probabilities. Reference: docs/predict.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib.cli import positive, real
from lib.predict import command, outputs


def add_parser(tracks) -> None:
    """Add the `serengeti` command to `tracks`, the subparsers of `python -m lib.predict`."""
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
        "--camtrap-dp", type=Path, metavar="DIR",
        help="also write a Camtrap DP data package (sequence-level observations) into DIR",
    )  # fmt: skip
    se.add_argument("--latitude", type=float, help="with --camtrap-dp: the cameras' latitude")
    se.add_argument("--longitude", type=float, help="with --camtrap-dp: the cameras' longitude")
    se.add_argument(
        "--utc-offset", default="+00:00",
        help="with --camtrap-dp: the time zone the camera clocks ran on, +HH:MM (default +00:00)",
    )  # fmt: skip
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
    command.common_flags(se, "sequences")


_non_negative = real(
    "a number of seconds", "a finite number >= 0", lambda v: v >= 0 and v != float("inf")
)


def run(args: argparse.Namespace) -> int:
    """Predict as `args` (parsed by add_parser's command) say; the command's exit code."""
    from lib.bundle_io import BundleError, default_dir
    from lib.executors import SchedulerError
    from lib.serengeti import bundle, camtrap_dp, predict_images

    bundle_dir = (args.bundle or default_dir("serengeti")).expanduser().absolute()
    place = {"lat": args.latitude, "lon": args.longitude, "utc_offset": args.utc_offset}
    try:
        command.check_outputs(args)
        if args.camtrap_dp:
            camtrap_dp.check_settings(args.latitude, args.longitude, args.utc_offset)
        settings = command.settings(args, bundle_dir)
        report = outputs.Report("serengeti", settings)
        loaded = bundle.load(bundle_dir)
        checkpoint = command.open_checkpoint(args, settings, bundle_dir)
        result = predict_images.predict(
            loaded, args.images, metadata=args.metadata, gap_s=args.gap_s,
            group_by=args.group_by, batch_size=args.batch_size, workers=args.workers,
            progress=not args.quiet, checkpoint=checkpoint, scheduler=args.scheduler,
        )  # fmt: skip
    except (
        BundleError,
        predict_images.InputError,
        outputs.OutputError,
        camtrap_dp.PackageError,
        SchedulerError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = predict_images.write(
        result, args.out, args.json, loaded, camtrap_dp=args.camtrap_dp, place=place
    )
    summary = report.finish(summary)
    checkpoint.remove()
    for row in result.errors.itertuples(index=False):
        print(f"unreadable: {row.file}: {row.error}", file=sys.stderr)
    nothing_read = summary["sequences_without_readable_image"] == summary["sequences"]
    return 1 if nothing_read else 0
