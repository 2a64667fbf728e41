"""Command line for stage 02: `python -m lib.chimpact.extract_cli --data DIR --work DIR
[--workers N] [--scheduler local|tcp://HOST:PORT] [--shard i/N] [--frame-size WxH]`.

Items run on this machine's processes, a Dask LocalCluster or an existing Dask cluster
(docs/cluster.md); `--shard i/N` runs one share of the videos (batch arrays), and whichever share
finds every video finished writes `extract/manifest.csv`. Exit codes: 0 done, 1 some videos
failed or are still to do, 2 bad arguments or data.

It lives apart from `extract.py` so that the stage runs from the imported module (worker
processes then find `extract_video` under its real name); `extract.py` does not import it.
"""

from __future__ import annotations

import argparse

from lib import cli, stages
from lib.chimpact import extract, schema


def build_parser() -> argparse.ArgumentParser:
    parser = cli.stage_parser(
        "python -m lib.chimpact.extract_cli",
        "Stage 02: frames of every labelled second and its windows, both sources.",
        "chimpact", "frames, manifest",
    )  # fmt: skip
    parser.add_argument("--frame-size", type=cli.size_pair("WIDTHxHEIGHT", "512x512"),
                        help="scale frames to WxH")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = extract.ExtractConfig(size=args.frame_size)

    def run(data: schema.Dataset) -> int:
        manifest = extract.run(data, args.work, cfg, **cli.engine_options(args))
        summary = extract.summarize(manifest, cfg)
        return stages.print_outcome(args.work / "extract", summary, args.shard)

    return cli.run_stage(schema.load, run, args.data)


if __name__ == "__main__":
    raise SystemExit(main())
