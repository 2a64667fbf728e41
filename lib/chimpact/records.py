"""Stage 03: one TFRecord example per labelled row, for each of the four datasets, per fold.

Example = the 11 JPEG frames of the row's window (bytes copied from the frame store, never
re-encoded), the distance, and the keys `video_id`, `time` (plus `site_id`). Train rows are
written per fold (`fold{k}-*.tfrec`), test rows as `test-*.tfrec`. Rows of videos whose
extraction failed are skipped and listed in the manifest, never silently dropped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import fileio, folds, records
from lib.chimpact import extract, schema
from lib.chimpact.windows import LENGTH, STEPS, window

SPEC: records.Spec = {
    "frames": records.Field("bytes", LENGTH),
    "distance": records.Field("float"),  # NaN for unlabelled test rows
    "video_id": records.Field("bytes"),
    "time": records.Field("int"),
    "site_id": records.Field("bytes"),
}
DATASETS = tuple(f"{source}-s{step}" for source in schema.SOURCES for step in STEPS)


def split_dataset(name: str) -> tuple[str, int]:
    """'full-s2' -> ('full', 2), with a clear error for anything else."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    source, step = name.split("-s")
    return source, int(step)


def records_dir(work: str | Path) -> Path:
    return Path(work) / "records"


def _rows_with_frames(
    data: schema.Dataset, manifest: pd.DataFrame, split: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose video was extracted, with its last frame per source; and the skipped rows."""
    rows = data.rows(split).copy()
    ok = manifest[(manifest["split"] == split) & (manifest["status"] == "ok")]
    rows = rows.merge(ok[["video_id", "last_down", "last_full"]], on="video_id", how="left")
    missing = rows["last_down"].isna()
    return rows[~missing].reset_index(drop=True), rows.loc[missing, schema.KEY].reset_index(
        drop=True
    )


def _example_maker(work: Path, split: str, source: str, step: int):
    def make(row) -> dict:
        last = int(getattr(row, f"last_{source}"))
        frames = [
            extract.frame_path(work, source, split, row.video_id, i).read_bytes()
            for i in window(row.time, step, last)
        ]
        return {
            "frames": frames,
            "distance": float(row.distance) if pd.notna(row.distance) else float("nan"),
            "video_id": row.video_id,
            "time": int(row.time),
            "site_id": str(row.site_id),
        }

    return make


def build(
    data: schema.Dataset,
    work: str | Path,
    n_splits: int = 5,
    group_by: str = "video",
    seed: int = 42,
    shard_size: int = 128,
    datasets: tuple[str, ...] = DATASETS,
    progress: bool = True,
) -> dict:
    """Write all records and `records/manifest.json`; a finished identical build is reused."""
    work = Path(work)
    out = records_dir(work)
    manifest_path = out / "manifest.json"
    extract_manifest = extract.load_manifest(work)
    config = {
        "n_splits": n_splits,
        "group_by": group_by,
        "seed": seed,
        "shard_size": shard_size,
        "datasets": list(datasets),
        "extract": fileio.read_json(work / "extract" / "summary.json")["config"],
        "rows": {s: int(len(data.rows(s))) for s in schema.SPLITS},
    }
    if manifest_path.is_file() and fileio.read_json(manifest_path).get("config") == config:
        return fileio.read_json(manifest_path)
    fileio.remove_stale_temps(out)  # half-written shards of a killed build
    config_path = out / "config.json"
    if out.exists() and (not config_path.is_file() or fileio.read_json(config_path) != config):
        shutil.rmtree(out)  # shards of another configuration must not be mixed in
    fileio.write_json(config_path, config)

    train, skipped_train = _rows_with_frames(data, extract_manifest, "train")
    test, skipped_test = _rows_with_frames(data, extract_manifest, "test")
    train["fold"] = folds.assign(train, n_splits=n_splits, group_by=group_by, seed=seed)
    fileio.write_csv(out / "folds.csv", train[["video_id", "time", "site_id", "fold"]])

    result: dict = {"config": config, "datasets": {}}
    total = len(datasets) * (len(train) + len(test))
    with tqdm(total=total, desc="records", unit="row", disable=not progress) as bar:
        for name in datasets:
            source, step = split_dataset(name)
            entry: dict = {}
            for k in range(n_splits):
                rows = list(train[train["fold"] == k].itertuples(index=False))
                entry[f"fold{k}"] = records.write_shards(
                    rows,
                    out / name,
                    f"fold{k}",
                    SPEC,
                    shard_size,
                    _example_maker(work, "train", source, step),
                )
                bar.update(len(rows))
            rows = list(test.itertuples(index=False))
            entry["test"] = records.write_shards(
                rows,
                out / name,
                "test",
                SPEC,
                shard_size,
                _example_maker(work, "test", source, step),
            )
            bar.update(len(rows))
            result["datasets"][name] = entry
    result["counts"] = {
        "train_rows": int(len(train)),
        "test_rows": int(len(test)),
        "per_fold": {f"fold{k}": int((train["fold"] == k).sum()) for k in range(n_splits)},
        "records_written": int(len(datasets) * (len(train) + len(test))),
    }
    result["skipped"] = {
        "train_rows": int(len(skipped_train)),
        "test_rows": int(len(skipped_test)),
        "rows": pd.concat(
            [skipped_train.assign(split="train"), skipped_test.assign(split="test")]
        ).to_dict(orient="records"),
    }
    _check_counts(result, out)
    fileio.write_json(manifest_path, result)  # written last: its presence means "complete"
    return result


def _check_counts(manifest: dict, out: Path) -> None:
    for name, entry in manifest["datasets"].items():
        for _part, shards in entry.items():
            for shard in shards:
                if (
                    records.record_count(shard["file"]) != shard["count"]
                    or not (out / name / shard["file"]).is_file()
                ):
                    raise RuntimeError(f"{out / name / shard['file']}: missing or count mismatch")
        n_train = sum(s["count"] for p, sh in entry.items() if p != "test" for s in sh)
        if n_train != manifest["counts"]["train_rows"]:
            raise RuntimeError(
                f"{name}: {n_train} train records for {manifest['counts']['train_rows']} rows"
            )


def files(work: str | Path, dataset: str, parts: list[str]) -> list[Path]:
    """Shard paths of a dataset for the given parts (`fold0`..`fold4`, `test`) from the manifest."""
    split_dataset(dataset)
    out = records_dir(work)
    manifest = fileio.read_json(out / "manifest.json")
    entry = manifest["datasets"][dataset]
    paths = []
    for part in parts:
        if part not in entry:
            raise KeyError(f"{dataset} has no part {part!r}; it has {sorted(entry)}")
        paths += [out / dataset / s["file"] for s in entry[part]]
    return paths


def fold_table(work: str | Path) -> pd.DataFrame:
    return pd.read_csv(records_dir(work) / "folds.csv", dtype={"video_id": str, "site_id": str})


def decode_sequence(example: dict) -> np.ndarray:
    """(11, H, W, 3) uint8 frames of one parsed example (eager; for reports and tests)."""
    from lib.video import decode_jpeg

    return np.stack([decode_jpeg(bytes(b)) for b in example["frames"]])
