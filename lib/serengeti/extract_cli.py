"""Command line for stage 02: `python -m lib.serengeti.extract_cli --data DIR --work DIR
[--workers N] [--scheduler local|tcp://HOST:PORT] [--shard i/N] [--image-size HxW]`.

The same engine options as chimpact's stage 02 (lib.cli.add_engine_arguments). Exit codes: 0
done, 1 some sequences failed or are still to do, 2 bad arguments or data. Apart from
`extract.py` (which does not import it) so that worker processes find `extract_sequence` under
its module's real name.
"""

from __future__ import annotations

import argparse

from lib import cli, stages
from lib.serengeti import extract, schema


def build_parser() -> argparse.ArgumentParser:
    parser = cli.stage_parser(
        "python -m lib.serengeti.extract_cli",
        "Stage 02: every sequence's images at model size, mean and background.",
        "serengeti", "arrays, manifest",
    )  # fmt: skip
    parser.add_argument("--image-size", type=cli.size_pair("HEIGHTxWIDTH", "384x512"),
                        default=(384, 512), help="HxW")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = extract.ExtractConfig(image_size=args.image_size)

    def run(data: schema.Dataset) -> int:
        manifest = extract.run(data, args.work, cfg, **cli.engine_options(args))
        status = manifest["status"]
        mine = {"images": len(manifest), "ok": int((status == "ok").sum()),
                "pending": int((status == "pending").sum())}  # fmt: skip
        return stages.print_outcome(extract.extract_dir(args.work), mine, args.shard)

    return cli.run_stage(schema.load, run, args.data)


if __name__ == "__main__":
    raise SystemExit(main())
