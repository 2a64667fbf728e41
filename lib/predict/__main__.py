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
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from pathlib import Path

from lib.cli import positive
from lib.predict import checkpoint as ckpt
from lib.predict import outputs

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
    _common_flags(ch, "videos")
    _serengeti_parser(tracks)
    return parser


def _common_flags(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace existing outputs and start afresh (drop the checkpoint)",
    )  # fmt: skip
    when = (f"every N videos and at least every {ckpt.EVERY_SECONDS:g} s" if unit == "videos"
            else "in chunks of N sequences, each saved when scored")  # fmt: skip
    parser.add_argument(
        "--checkpoint-every", type=positive(), default=ckpt.EVERY_FILES, metavar="N",
        help=f"save finished {unit} beside the output, {when} (default {ckpt.EVERY_FILES})",
    )  # fmt: skip


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a confidence in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


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
    _common_flags(se, "sequences")


# settings that change where results go or how they are written, not what they are
OUTPUT_ONLY = {"out", "json", "camtrap_dp", "latitude", "longitude", "utc_offset"}


def _bundle_key(folder: Path) -> str:
    """The bundle a checkpoint was made with: its manifest's hash (a re-export changes it)."""
    try:
        data = (folder / "bundle.json").read_bytes()
    except OSError:
        return ""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unusable or finished outputs before any work (OutputError, exit 2)."""
    outputs.check_file(args.out, "--out", args.overwrite)
    if getattr(args, "json", None):
        outputs.check_file(args.json, "--json", args.overwrite)
    if getattr(args, "camtrap_dp", None):
        outputs.check_folder(args.camtrap_dp, "--camtrap-dp", args.overwrite)


def _settings(args: argparse.Namespace, bundle_dir: Path) -> dict:
    """The resolved settings, as printed at the start and stored in the checkpoint's key."""
    skip = {"track", "quiet", "overwrite", "checkpoint_every", "workers", "bundle"}
    if getattr(args, "camtrap_dp", None) is None:
        skip |= {"latitude", "longitude", "utc_offset"}
    settings = {k: v for k, v in vars(args).items() if k not in skip}
    return {"bundle": str(bundle_dir), **settings}


def _open_checkpoint(args: argparse.Namespace, settings: dict, bundle_dir: Path):
    key = {"track": args.track, "bundle": _bundle_key(bundle_dir),
           **{k: str(v) for k, v in settings.items() if k not in OUTPUT_ONLY}}
    return ckpt.Checkpoint.open(args.out, key, fresh=args.overwrite, every=args.checkpoint_every)


def _chimpact(args: argparse.Namespace) -> int:
    from lib.bundle import BundleError, default_dir
    from lib.chimpact import bundle, predict

    bundle_dir = (args.bundle or default_dir("chimpact")).expanduser().absolute()
    try:
        if args.detections and args.times:
            raise predict.InputError("--times and --detections exclude each other; pass one")
        _check_outputs(args)
        settings = _settings(args, bundle_dir)
        report = outputs.Report("chimpact", settings)
        loaded = bundle.load(bundle_dir)
        checkpoint = _open_checkpoint(args, settings, bundle_dir)
        common = {"batch_size": args.batch_size, "workers": args.workers,
                  "snap": not args.no_snap, "progress": not args.quiet, "checkpoint": checkpoint}
        if args.detections:
            result = predict.predict_detections(
                loaded, args.videos, args.detections, conf=args.conf,
                downsampled=args.downsampled, **common,
            )  # fmt: skip
        else:
            result = predict.predict(
                loaded, args.videos, times=args.times, downsampled=args.downsampled, **common
            )
    except (BundleError, predict.InputError, outputs.OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = report.finish(predict.write(result, args.out))
    checkpoint.remove()
    for row in result.errors.itertuples(index=False):
        print(f"no distance: {row.filepath}: {row.error}", file=sys.stderr)
    return 1 if summary["videos"] and summary["files_read"] == 0 else 0


def _serengeti(args: argparse.Namespace) -> int:
    from lib.bundle import BundleError, default_dir
    from lib.serengeti import bundle, predict

    bundle_dir = (args.bundle or default_dir("serengeti")).expanduser().absolute()
    from lib.serengeti import camtrap_dp

    place = {"lat": args.latitude, "lon": args.longitude, "utc_offset": args.utc_offset}
    try:
        _check_outputs(args)
        if args.camtrap_dp:
            camtrap_dp.check_settings(args.latitude, args.longitude, args.utc_offset)
        settings = _settings(args, bundle_dir)
        report = outputs.Report("serengeti", settings)
        loaded = bundle.load(bundle_dir)
        checkpoint = _open_checkpoint(args, settings, bundle_dir)
        result = predict.predict(
            loaded, args.images, metadata=args.metadata, gap_s=args.gap_s,
            group_by=args.group_by, batch_size=args.batch_size, workers=args.workers,
            progress=not args.quiet, checkpoint=checkpoint,
        )  # fmt: skip
    except (BundleError, predict.InputError, outputs.OutputError, camtrap_dp.PackageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = predict.write(
        result, args.out, args.json, loaded, camtrap_dp=args.camtrap_dp, place=place
    )
    summary = report.finish(summary)
    checkpoint.remove()
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
