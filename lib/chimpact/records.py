"""Stage 03: one TFRecord example per labelled row, for each of the four datasets, per fold.

Example = the 11 JPEG frames of the row's window (bytes copied from the frame store, never
re-encoded), the distance, and the keys `video_id`, `time` (plus `site_id`). Train rows are
written per fold (`fold{k}-*.tfrec`), test rows as `test-*.tfrec`. Rows of videos whose
extraction failed are skipped and listed in the manifest, never silently dropped.

Shards are named by the content keys of their rows (`row_key`: the row's label cells and its
video's stage-02 manifest entry, plus the dataset, the extraction settings and the format
version), so a rerun after one distance is corrected rewrites the one shard per dataset that
holds the row and keeps every other; stage 04 keys its folds by the shard names it reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import content_keys, fileio, folds, tfrecord_io
from lib.chimpact import extract, schema
from lib.chimpact.windows import LENGTH, STEPS, window

SPEC: tfrecord_io.Spec = {
    "frames": tfrecord_io.Field("bytes", LENGTH),
    "distance": tfrecord_io.Field("float"),  # NaN for unlabelled test rows
    "video_id": tfrecord_io.Field("bytes"),
    "time": tfrecord_io.Field("int"),
    "site_id": tfrecord_io.Field("bytes"),
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
    """Write all records and `records/manifest.json`; shards whose content key is unchanged are
    kept (see `row_key`), so a rerun rewrites only the shards of changed rows. Returns the
    manifest plus `written`: the shards this call wrote (`dataset/file`)."""
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
        "version": tfrecord_io.FORMAT_VERSION,
    }
    fileio.remove_stale_temps(out)  # half-written shards of a killed build
    manifest_path.unlink(missing_ok=True)  # written last: its presence means "complete"
    train, skipped_train = _rows_with_frames(data, extract_manifest, "train")
    test, skipped_test = _rows_with_frames(data, extract_manifest, "test")
    train["fold"] = folds.assign(train, n_splits=n_splits, group_by=group_by, seed=seed)
    fileio.write_csv(out / "folds.csv", train[["video_id", "time", "site_id", "fold"]])
    videos = video_entries(extract_manifest)
    parts = {f"fold{k}": ("train", train[train["fold"] == k]) for k in range(n_splits)}
    parts["test"] = ("test", test)

    result: dict = {"config": config, "tables": tables_key(data), "datasets": {}}
    written: list[str] = []
    done: list[str] = []
    total = len(datasets) * (len(train) + len(test))
    with tqdm(total=total, desc="records", unit="row", disable=not progress) as bar:
        for name in datasets:
            source, step = split_dataset(name)
            settings = {"dataset": name, "extract": config["extract"]}
            entry: dict = {}
            for part, (split, frame) in parts.items():
                rows = list(frame.itertuples(index=False))
                entry[part] = tfrecord_io.write_shards(
                    rows, out / name, part, SPEC, shard_size,
                    _example_maker(work, split, source, step),
                    keys=[row_key(r, split, videos) for r in rows],
                    settings=settings, written=done,
                )  # fmt: skip
                written += [f"{name}/{f}" for f in done]
                done.clear()
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
    return {**result, "written": sorted(written)}  # this build's rewritten shards (not stored)


def video_entries(extract_manifest: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(split, video_id) -> digest of the video's stage-02 manifest row, as stage 02 wrote it.

    The row is what stage 02 says about the frames it stored (their count, the gamma decision,
    its own key where it keeps one, the time it took): a re-extracted video has another row, so
    its records are rewritten without this stage reading a single frame.
    """
    rows = extract_manifest.to_dict(orient="records")
    return {(str(r["split"]), str(r["video_id"])): content_keys.digest(r, 40) for r in rows}


def tables_key(data: schema.Dataset) -> str:
    """Digest of the label-table cells the records hold (keys, distances, sites), so a later
    stage can tell that the tables were edited after stage 03 ran."""
    cols = [*schema.KEY, "distance", "site_id"]
    return content_keys.digest(
        {s: data.rows(s)[cols].to_dict(orient="list") for s in schema.SPLITS}
    )


def check_current(data: schema.Dataset, work: str | Path) -> None:
    """Refuse to train or score on records made from other label tables than `data`'s."""
    manifest = fileio.read_json(records_dir(work) / "manifest.json")
    if manifest.get("tables") != tables_key(data):
        raise RuntimeError(
            f"{records_dir(work) / 'manifest.json'}: the records were made from other label "
            f"tables than those in {data.root} (edited since?); rerun 02_extract and "
            "03_tfrecords, which redo exactly the changed rows"
        )


def input_key(work: str | Path, dataset: str, parts: list[str]) -> str:
    """What a stage reading `parts` of `dataset` was made from: the names of those shards,
    which carry their content digests (a training fold's or a prediction's input key)."""
    return content_keys.digest([p.name for p in files(work, dataset, parts)])


def row_key(row, split: str, videos: dict[tuple[str, str], str]) -> str:
    """One labelled row's content key: its label-table cells and its video's stage-02 entry."""
    distance = float(row.distance) if pd.notna(row.distance) else None
    return content_keys.item_key(
        split=split,
        video_id=str(row.video_id),
        time=int(row.time),
        distance=distance,
        site_id=str(row.site_id),
        video=videos[(split, str(row.video_id))],
    )


def _check_counts(manifest: dict, out: Path) -> None:
    for name, entry in manifest["datasets"].items():
        for _part, shards in entry.items():
            for shard in shards:
                if (
                    tfrecord_io.record_count(shard["file"]) != shard["count"]
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
