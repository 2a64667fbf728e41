"""Demo Hakuna Ma-data (Snapshot Serengeti) competition data in the exact real layout.

The real images (millions, ~5 TB) are not available here, so the pipeline runs on a synthetic
stand-in that keeps what the write-up's ladder depends on: 2048x1536 JPEGs with the camera's
information strip (so the resize flow and strip masking matter), fixed views per camera (so
|image - mean| is near black for empty sequences and lights up moving animals), ~70% empty
sequences, day colour and grey infrared night shots, a long-tailed species mix that depends on
hour and month, herds that trigger neighbouring cameras within seconds (the neighbour-camera
feature), seasons S1-S10 for training (S9 and S10 large enough to stack on) and S11 as the
test season with hidden answers.

Files written (all CSV rows in (season, site, roll, capture, image) order):
  train_metadata.csv, test_metadata.csv   seq_id,file_name,datetime (one row per image)
  train_labels.csv                        seq_id + 54 classes (0/1)
  submission_format.csv                   seq_id + 54 classes (0.0), test sequences
  test_answers.csv                        like train_labels.csv, for the test sequences
  demo_truth.csv                          per image: species, counts, boxes, night, damage...
  S<season>/<site>/<site>_R<roll>/S<season>_<site>_R<roll>_PICT<nnnn>.JPG
  demo_info.json                          summary; written last (its presence = complete)
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from lib.demo.folders import prepare_folder
from lib.demo.serengeti_plan import (
    FULL_SIZE,
    SEASONS,
    Demo,
    Sequence,
    Site,
    plan_demo,
    visible_boxes,
)
from lib.demo.serengeti_render import render_site
from lib.demo.serengeti_species import CLASSES, EMPTY
from lib.fileio import write_csv, write_json

GENERATOR_VERSION = 1
DEFAULT_SEQUENCES = 800
MIN_SEQUENCES = 2 * len(SEASONS)  # every season needs a few
METADATA_COLUMNS = ["seq_id", "file_name", "datetime"]
LABEL_COLUMNS = ["seq_id", *CLASSES]
TRUTH_COLUMNS = [
    "file_name", "seq_id", "split", "season", "site", "roll", "capture", "shot", "datetime",
    "night", "species", "individuals", "visible", "nearest_m", "boxes", "event", "event_kind",
    "damage",
    "mode", "site_x_km", "site_y_km", "habitat",
]  # fmt: skip
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def generate(
    out: str | Path,
    seed: int = 42,
    sequences: int = DEFAULT_SEQUENCES,
    workers: int | None = None,
    progress: bool = True,
    *,
    image_size: tuple[int, int] = FULL_SIZE,
    empty_share: float = 0.7,
    broken_share: float = 0.002,
    sites: int | None = None,
) -> dict[str, Any]:
    """Write a complete demo competition folder at `out` and return a summary.

    `sequences` counts train and test together (S11, the test season, gets ~15%). Keep the
    full image size unless a test needs speed: the write-up's first resize step only matters
    when images are large. `broken_share` of the images are damaged on disk (truncated or
    empty files) and one test sequence has no readable image, as in real collections; 0
    turns that off. Same seed, same bytes: every random draw is seeded from the seed and a
    fixed key (site, season, capture), never from worker order.
    """
    _check_arguments(seed, sequences, workers, image_size, empty_share, broken_share, sites)
    out = Path(out)
    prepare_folder(out)
    started = time.perf_counter()
    demo = plan_demo(seed, sequences, image_size, empty_share, broken_share, sites)
    written = _render_all(demo, out, workers or os.cpu_count() or 1, progress)
    summary = _write_tables(demo, out)
    summary["megabytes"] = round(sum(written.values()) / 1e6, 1)
    write_json(
        out / "demo_info.json",
        {
            "generator": "lib.demo.serengeti",
            "version": GENERATOR_VERSION,
            "seed": seed,
            "image_size": list(image_size),
            "empty_share_target": empty_share,
            "broken_share": broken_share,
            **summary,
            "sites": {s.site_id: [s.x_km, s.y_km, s.habitat] for s in demo.sites},
        },
    )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _check_arguments(
    seed: int,
    sequences: int,
    workers: int | None,
    image_size: tuple[int, int],
    empty_share: float,
    broken_share: float,
    sites: int | None,
) -> None:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(sequences, int) or sequences < MIN_SEQUENCES:
        raise ValueError(
            f"sequences must be an integer >= {MIN_SEQUENCES} (two per season), got {sequences!r}"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
    if (
        len(image_size) != 2
        or not all(isinstance(v, int) for v in image_size)
        or image_size[0] < 64
        or image_size[1] < 48
    ):
        raise ValueError(f"image_size must be (width >= 64, height >= 48), got {image_size!r}")
    if not 0.0 <= empty_share <= 1.0:
        raise ValueError(f"empty_share must be within 0..1, got {empty_share!r}")
    if not 0.0 <= broken_share <= 0.2:
        raise ValueError(f"broken_share must be within 0..0.2, got {broken_share!r}")
    if sites is not None and (not isinstance(sites, int) or sites < 2):
        raise ValueError(f"sites must be an integer >= 2 or None, got {sites!r}")


# ---------------------------------------------------------------- rendering


def _render_all(demo: Demo, out: Path, workers: int, progress: bool) -> dict[str, int]:
    """One task per camera site (its scene is drawn once per task), biggest first so the
    pool's last tasks are short ones."""
    by_site: dict[str, list[Sequence]] = {}
    for seq in demo.sequences:
        by_site.setdefault(seq.site.site_id, []).append(seq)
    sites = {s.site_id: s for s in demo.sites}
    tasks = sorted(
        ((sites[k], v) for k, v in by_site.items()),
        key=lambda task: (-sum(len(s.shots) for s in task[1]), task[0].site_id),
    )
    for seq in demo.sequences:
        for name in seq.file_names:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
    total = sum(len(s.shots) for s in demo.sequences)
    bar = tqdm(total=total, desc="demo images", unit="image", disable=not progress)
    written: dict[str, int] = {}
    try:
        for results in _run(tasks, str(out), min(workers, len(tasks))):
            written.update(results)
            bar.update(len(results))
    finally:
        bar.close()
    return written


def _run(
    tasks: list[tuple[Site, list[Sequence]]], out: str, workers: int
) -> Iterable[list[tuple[str, int]]]:
    if workers <= 1:
        yield from (render_site(site, seqs, out) for site, seqs in tasks)
        return
    # fork where available: workers start in milliseconds and plain scripts need no
    # `if __name__ == "__main__"` guard; they only run numpy and Pillow, nothing threaded.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(render_site, site, seqs, out) for site, seqs in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:  # after a failure, do not start the remaining sites
                future.cancel()


# ---------------------------------------------------------------- tables


def _write_tables(demo: Demo, out: Path) -> dict[str, Any]:
    seqs = demo.sequences
    split = {name: [s for s in seqs if s.split == name] for name in ("train", "test")}
    for name, group in split.items():
        rows = [
            (s.seq_id, f, shot.when.strftime(DATETIME_FORMAT))
            for s in group
            for f, shot in zip(s.file_names, s.shots, strict=True)
        ]
        write_csv(out / f"{name}_metadata.csv", pd.DataFrame(rows, columns=METADATA_COLUMNS))
    labels = {
        name: pd.DataFrame([(s.seq_id, *s.labels) for s in group], columns=LABEL_COLUMNS)
        for name, group in split.items()
    }
    write_csv(out / "train_labels.csv", labels["train"])
    write_csv(out / "test_answers.csv", labels["test"])
    blank = labels["test"][["seq_id"]].copy()
    for c in CLASSES:
        blank[c] = 0.0
    write_csv(out / "submission_format.csv", blank)
    truth = _truth_table(seqs)
    write_csv(out / "demo_truth.csv", truth)
    return _summary(demo, labels, truth)


def _truth_table(seqs: Iterable[Sequence]) -> pd.DataFrame:
    rows = []
    for s in seqs:
        for k, (name, shot) in enumerate(zip(s.file_names, s.shots, strict=True)):
            boxes = visible_boxes(s, k)
            cam = s.site.camera
            text = ";".join(
                f"{sp}:{x1 / cam.width:.4f},{y1 / cam.height:.4f},"
                f"{x2 / cam.width:.4f},{y2 / cam.height:.4f}"
                for sp, (x1, y1, x2, y2) in boxes
            )
            nearest = min((a.poses[k].z for a in s.animals), default=None)
            rows.append(
                (
                    name, s.seq_id, s.split, s.season, s.site.site_id, s.roll, s.capture, k,
                    shot.when.strftime(DATETIME_FORMAT), int(s.night),
                    " ".join(s.species) or EMPTY, len(s.animals), len(boxes), nearest, text,
                    s.event, s.kind, shot.damage,
                    "L" if s.night and s.site.brand == "dark" else "RGB",
                    s.site.x_km, s.site.y_km, s.site.habitat,
                )
            )  # fmt: skip
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def _summary(demo: Demo, labels: dict[str, pd.DataFrame], truth: pd.DataFrame) -> dict[str, Any]:
    seqs = demo.sequences
    events = Counter(s.event for s in seqs if s.kind == "herd")
    by_season = Counter(s.season for s in seqs)
    return {
        "sequences": len(seqs),
        "images": len(truth),
        "train_sequences": len(labels["train"]),
        "test_sequences": len(labels["test"]),
        "sequences_per_season": {f"S{k}": by_season[k] for k in sorted(by_season)},
        "empty_share": round(sum(not s.species for s in seqs) / len(seqs), 4),
        "night_share": round(sum(s.night for s in seqs) / len(seqs), 4),
        "images_per_sequence": dict(sorted(Counter(len(s.shots) for s in seqs).items())),
        "multi_species_sequences": sum(len(s.species) > 1 for s in seqs),
        "herd_events": len(events),
        "herd_sequences": sum(events.values()),
        "sites": len(demo.sites),
        "damaged_images": truth.loc[truth.damage != "", "file_name"].tolist(),
        "class_counts": {
            name: {c: int(frame[c].sum()) for c in CLASSES if frame[c].sum()}
            for name, frame in labels.items()
        },
    }
