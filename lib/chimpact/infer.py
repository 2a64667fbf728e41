"""Stage 05: each run's test predictions = mean of its fold models, keyed by (video_id, time).

The models are rebuilt from the run's own config.json, so inference does not depend on the
profile the notebook was started with - only on what the run folder says about itself.

`test_pred.csv` is kept while its key (`test_pred.key.json`: the run's config, a digest of each
fold's weights, the test shards' content-keyed names) is unchanged, so a rerun of 05 after
nothing changed predicts nothing, and a retrained fold or a rewritten test shard redoes it.

One model is built and its predict graph traced once per run; each fold's weights are loaded
into it in turn (bench/infer.py measures the saving over building one model per fold).
`shard=Shard(i, N)` predicts every N-th test record only, into its own file; `merge_shards`
assembles `test_pred.csv` once all N are there (the union equals a single-process run).

    python -m lib.chimpact.infer --run RUN_ID --profile demo [--data DIR] [--shard i/N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lib import content_keys, fileio
from lib.chimpact import records, runid
from lib.chimpact.model import ModelConfig, build_model
from lib.chimpact.train import run_dir, weights_path
from lib.stages import ALL, Shard, parse_shard
from lib.tfrecord_io import record_count


def shard_path(run_id: str, shard: Shard) -> Path:
    return run_dir(run_id) / "test_pred_shards" / f"shard{shard.index}of{shard.count}.csv"


def predict_run(
    run_id: str,
    work,
    strategy_kind: str = "auto",
    batch_size: int | None = None,
    shard: Shard = ALL,
) -> pd.DataFrame:
    """Columns video_id, time, pred (fold mean) and pred_fold{k}; written to test_pred.csv.

    With a shard other than 0/1 only that shard's rows are predicted and written to
    `shard_path`; `test_pred.csv` is assembled when the last shard finishes.
    """
    from lib import training
    from lib.chimpact import input_pipeline

    out = run_dir(run_id)
    config_path = out / "config.json"
    if not (out / "metrics.json").is_file():
        raise FileNotFoundError(
            f"{out}: run not finished (no metrics.json); train it with 04_train"
        )
    config = fileio.read_json(config_path)
    spec = runid.parse(run_id)
    key = prediction_key(run_id, config, work)
    if shard == ALL and _is_current(out, key):  # made from these inputs already
        kept = pd.read_csv(out / "test_pred.csv", dtype={"video_id": str})
        preds = [c for c in kept.columns if c.startswith("pred")]
        return kept.astype(dict.fromkeys(preds, "float32"))  # as predicted (float32)
    mcfg = ModelConfig.from_dict(config["model"])
    strategy = training.select_strategy(strategy_kind)
    training.set_precision(strategy)
    batch = batch_size or config["batch_size"]
    files = records.files(work, spec.dataset, ["test"])
    ds = input_pipeline.dataset(files, spec.frames, mcfg.image_size, batch, shard=shard)
    with strategy.scope():
        model = build_model(mcfg)  # one graph for all folds: only the weights change
    merged: pd.DataFrame | None = None
    for k in range(config["n_splits"]):
        model.load_weights(weights_path(run_id, k))
        pred = training.predict_keyed(model, ds, batch, strategy).rename(
            columns={"pred": f"pred_fold{k}"}
        )
        merged = (
            pred
            if merged is None
            else merged.merge(pred, on=["video_id", "time"], how="outer", validate="one_to_one")
        )
    assert merged is not None
    fold_cols = [c for c in merged.columns if c.startswith("pred_fold")]
    merged.insert(2, "pred", merged[fold_cols].mean(axis=1))
    merged = merged.sort_values(["video_id", "time"]).reset_index(drop=True)
    if shard == ALL:
        fileio.write_csv(out / "test_pred.csv", merged)
        fileio.write_json(out / KEY_FILE, key)  # after the predictions it vouches for
        return merged
    fileio.write_csv(shard_path(run_id, shard), merged)
    if all(shard_path(run_id, Shard(i, shard.count)).is_file() for i in range(shard.count)):
        merge_shards(run_id, shard.count, work)
    return merged


KEY_FILE = "test_pred.key.json"
PREDICTION_VERSION = 1


def prediction_key(run_id: str, config: dict, work) -> dict:
    """What a run's test predictions are made from: its config (less the commit), each fold's
    weights and the test shards; stored beside test_pred.csv."""
    spec = runid.parse(run_id)
    return {
        "version": PREDICTION_VERSION,
        "config": content_keys.digest({k: v for k, v in config.items() if k != "git_commit"}),
        "weights": [
            content_keys.file_digest(weights_path(run_id, k)) for k in range(config["n_splits"])
        ],
        "test": records.input_key(work, spec.dataset, ["test"]),
    }


def _is_current(out: Path, key: dict) -> bool:
    path = out / KEY_FILE
    if not (path.is_file() and (out / "test_pred.csv").is_file()):
        return False
    try:
        return fileio.read_json(path) == fileio.jsonable(key)
    except ValueError:  # a cut-short key file: predict again
        return False


def merge_shards(run_id: str, count: int, work) -> pd.DataFrame:
    """Assemble test_pred.csv from N shard files; checks they cover every test row once."""
    parts = []
    for i in range(count):
        path = shard_path(run_id, Shard(i, count))
        if not path.is_file():
            raise FileNotFoundError(f"{path}: shard {i}/{count} has not been predicted yet")
        parts.append(pd.read_csv(path, dtype={"video_id": str}))
    merged = pd.concat(parts, ignore_index=True)
    if merged.duplicated(["video_id", "time"]).any():
        raise RuntimeError(f"{run_id}: shards overlap; were they run with different files?")
    spec = runid.parse(run_id)
    expected = sum(record_count(f) for f in records.files(work, spec.dataset, ["test"]))
    if len(merged) != expected:
        raise RuntimeError(f"{run_id}: shards hold {len(merged)} rows, the test set {expected}")
    merged = merged.sort_values(["video_id", "time"]).reset_index(drop=True)
    (run_dir(run_id) / KEY_FILE).unlink(missing_ok=True)  # shards are not keyed: predict anew
    fileio.write_csv(run_dir(run_id) / "test_pred.csv", merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.chimpact.infer",
        description="Test predictions of one finished run (mean of its fold models).",
    )
    parser.add_argument("--run", required=True, help="run ID (a folder under runs/chimpact/)")
    parser.add_argument("--profile", default="demo", help="demo | quick | full (finds the data)")
    parser.add_argument("--data", default="", help="competition-layout folder ('' = demo data)")
    parser.add_argument("--seed", type=int, default=42, help="demo data seed")
    parser.add_argument("--shard", default="", help="i/N: predict every N-th test row only")
    parser.add_argument(
        "--merge",
        type=int,
        default=0,
        metavar="N",
        help="only assemble test_pred.csv from N finished shards",
    )
    parser.add_argument("--strategy", default="auto")
    args = parser.parse_args(argv)
    shard = parse_shard(args.shard)

    from lib import profiles

    ctx = profiles.prepare("chimpact", args.profile, args.data, seed=args.seed)
    if args.merge:
        merged = merge_shards(args.run, args.merge, ctx.work)
        print(f"{run_dir(args.run) / 'test_pred.csv'}: {len(merged)} rows from {args.merge} shards")
        return 0
    pred = predict_run(args.run, ctx.work, strategy_kind=args.strategy, shard=shard)
    where = run_dir(args.run) / "test_pred.csv" if shard == ALL else shard_path(args.run, shard)
    print(f"{where}: {len(pred)} rows (shard {shard})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
