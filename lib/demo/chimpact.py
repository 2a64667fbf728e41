"""Demo Deep Chimpact competition data: videos and CSVs in the exact real layout.

Real competition videos (~180 GB) are not available here, so the pipeline is exercised on a
synthetic stand-in that keeps what matters for the task: real distance/label statistics,
fixed camera sites disjoint between train and test, size and ground contact that follow a
pinhole camera, two parks with their real containers and codecs, night IR footage, and
overexposed videos whose original can be recovered with the write-up's gamma fix while the
downsampled copy cannot.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib.demo import chimpact_pairs, chimpact_stats
from lib.demo.chimpact_plan import Box, VideoPlan, box_at, plan_demo
from lib.demo.chimpact_render import render_video
from lib.demo.folders import prepare_folder
from lib.fileio import write_csv, write_json

GENERATOR_VERSION = 1
LABEL_COLUMNS = ["video_id", "time", "distance"]
METADATA_COLUMNS = ["video_id", "time", "x1", "y1", "x2", "y2", "probability", "park", "site_id"]
ACCESS_COLUMNS = [
    "video_id", "s3_uri", "downsampled_s3_uri", "sha1_checksum", "downsampled_sha1_checksum",
]  # fmt: skip
TRUTH_COLUMNS = [
    "video_id", "split", "park", "site_id", "species", "overexposed", "night",
    "width", "height", "fps", "duration",
]  # fmt: skip
SPLITS = ("train", "test")
MAX_SECONDS = 600


def generate(
    out: str | Path,
    seed: int = 42,
    videos: int = 120,
    max_duration: int = 60,
    workers: int | None = None,
    progress: bool = True,
    *,
    overexposed_share: float = 0.10,
    companions: float = 0.0,
) -> dict[str, Any]:
    """Write a complete demo competition folder at `out` and return a summary.

    `videos` counts both splits (train ~70%, test ~30%). `overexposed_share` of the videos
    (at least one when > 0) are overexposed. Same seed, same bytes: every random draw is
    seeded from (seed, video index), and ffmpeg runs single-threaded.

    `companions` > 0 makes a prediction demo (lib.demo.chimpact_pairs): that share of the test
    videos shows a second animal for some seconds, and `animal_truth.csv` and
    `test_megadetector.json` are written. At 0 (the default) the folder is the competition-style
    demo, unchanged.
    """
    _check_arguments(seed, videos, max_duration, workers, overexposed_share)
    if not 0.0 <= companions <= 1.0:
        raise ValueError(f"companions must be within 0..1, got {companions!r}")
    out = Path(out)
    _prepare_folder(out)
    started = time.perf_counter()
    plans = plan_demo(seed, videos, max_duration, overexposed_share)
    if companions > 0:
        plans = chimpact_pairs.add_companions(plans, seed, companions)
    checksums = _render_all(plans, out, workers or os.cpu_count() or 1, progress)
    summary = _write_tables(plans, checksums, out, seed)
    info = {
        "generator": "lib.demo.chimpact",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "max_duration": max_duration,
        "overexposed_share": overexposed_share,
        **summary,
    }
    if companions > 0:
        write_csv(out / "animal_truth.csv", chimpact_pairs.truth_table(plans))
        write_json(out / "test_megadetector.json", chimpact_pairs.megadetector_json(plans, seed))
        info["companions"] = companions
        info["videos_with_two_animals"] = sum(p.companion is not None for p in plans)
    write_json(out / "demo_info.json", info)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _check_arguments(
    seed: int, videos: int, max_duration: int, workers: int | None, overexposed_share: float
) -> None:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(videos, int) or videos < 2:
        raise ValueError(f"videos must be an integer >= 2 (one train and one test), got {videos!r}")
    if not isinstance(max_duration, int) or not 2 <= max_duration <= MAX_SECONDS:
        raise ValueError(
            f"max_duration must be an integer from 2 to {MAX_SECONDS} s, got {max_duration!r}"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
    if not 0.0 <= overexposed_share <= 1.0:
        raise ValueError(f"overexposed_share must be within 0..1, got {overexposed_share!r}")


def _prepare_folder(out: Path) -> None:
    """An empty demo folder (lib.demo.folders.prepare_folder) with the four video folders."""
    prepare_folder(out)
    for split in SPLITS:
        (out / f"{split}_videos").mkdir(parents=True, exist_ok=True)
        (out / f"{split}_videos_downsampled").mkdir(parents=True, exist_ok=True)


def _render_all(
    plans: list[VideoPlan], out: Path, workers: int, progress: bool
) -> dict[str, tuple[str, str]]:
    """Render every video, longest first so the pool's last tasks are short ones."""
    order = sorted(plans, key=lambda plan: -plan.frames * plan.site.width * plan.site.height)
    bar = tqdm(total=len(plans), desc="demo videos", unit="video", disable=not progress)
    checksums: dict[str, tuple[str, str]] = {}
    try:
        for video_id, sha1, sha1_down in _run(order, out, min(workers, len(plans))):
            checksums[video_id] = (sha1, sha1_down)
            bar.update()
    finally:
        bar.close()
    return checksums


def _run(plans: list[VideoPlan], out: Path, workers: int) -> Iterable[tuple[str, str, str]]:
    if workers == 1:
        yield from (render_video(plan, str(out)) for plan in plans)
        return
    # fork where available: workers start in milliseconds and plain scripts need no
    # `if __name__ == "__main__"` guard; they only run numpy and ffmpeg, nothing threaded.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(render_video, plan, str(out)) for plan in plans]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:  # after a failure, do not start the remaining videos
                future.cancel()


# ---------------------------------------------------------------- tables


def _write_tables(
    plans: list[VideoPlan], checksums: dict[str, tuple[str, str]], out: Path, seed: int
) -> dict[str, Any]:
    plans = sorted(plans, key=lambda plan: plan.video_id)
    rows = {split: _rows(plans, split, seed) for split in SPLITS}
    labels = {
        split: pd.DataFrame([r[:3] for r in rows[split]], columns=LABEL_COLUMNS) for split in SPLITS
    }
    write_csv(out / "train_labels.csv", labels["train"])
    for split in SPLITS:
        write_csv(
            out / f"{split}_metadata.csv",
            pd.DataFrame([r[3] for r in rows[split]], columns=METADATA_COLUMNS),
        )
    write_csv(out / "submission_format.csv", labels["test"].assign(distance="1.0"))
    write_csv(out / "test_answers.csv", labels["test"])
    write_csv(out / "video_access_metadata.csv", _access_table(plans, checksums))
    write_csv(out / "demo_truth.csv", _truth_table(plans))
    return {
        "videos": len(plans),
        **{f"{s}_videos": sum(p.site.split == s for p in plans) for s in SPLITS},
        **{f"{s}_rows": len(rows[s]) for s in SPLITS},
        **{f"{s}_sites": len({p.site.site_id for p in plans if p.site.split == s}) for s in SPLITS},
        "overexposed": sum(p.overexposed for p in plans),
        "night": sum(p.night for p in plans),
        "missing_boxes": sum(r[3][2] is None for s in SPLITS for r in rows[s]),
    }


def _rows(plans: list[VideoPlan], split: str, seed: int) -> list[tuple[str, int, str, list[Any]]]:
    """(video_id, time, distance, metadata row) for each label of a split, sorted like the
    real files (by video_id, then time)."""
    rows = []
    for plan in plans:
        if plan.site.split != split:
            continue
        rng = np.random.default_rng([seed, 5, plan.index])
        for second, distance in zip(plan.times, plan.distances, strict=True):
            fields = detect(rng, box_at(plan, second), plan, distance)
            meta = [plan.video_id, second, *fields, plan.site.park, plan.site.site_id]
            rows.append((plan.video_id, second, str(float(distance)), meta))
    return rows


def detect(
    rng: np.random.Generator, box: Box, plan: VideoPlan, distance: float
) -> list[str | None]:
    """Simulated detector output (x1, y1, x2, y2, probability) for the rendered box, or five
    blanks: jittered edges, bimodal confidence, misses more likely for far or small animals."""
    width, height = plan.site.width, plan.site.height
    bw, bh = box.x2 - box.x1, box.y2 - box.y1
    missing = min(
        chimpact_stats.BOX_MISSING_MAX,
        chimpact_stats.BOX_MISSING_BASE + chimpact_stats.BOX_MISSING_PER_METRE * distance,
    )
    if not box.visible or bh < 6:
        missing = max(missing, 0.6)
    if rng.random() < missing:
        return [None] * 5
    jitter = rng.normal(0, 1, 4) * np.array([0.04 * bw + 1, 0.04 * bh + 1] * 2)
    x1, y1, x2, y2 = (np.array([box.x1, box.y1, box.x2, box.y2]) + jitter) / np.array(
        [width, height] * 2
    )
    x1, x2 = sorted((float(np.clip(x1, 0, 1)), float(np.clip(x2, 0, 1))))
    y1, y2 = sorted((float(np.clip(y1, 0, 1)), float(np.clip(y2, 0, 1))))
    fields = [_f32(v) for v in (x1, y1, x2, y2)]
    return [*fields, _f32(_confidence(rng, bh / height))]


def _confidence(rng: np.random.Generator, height_share: float) -> float:
    """Bimodal like the real detector: near-zero, near-one, or anything between; big boxes
    lean to confident."""
    lean = float(np.clip(height_share / 0.6, 0, 1)) - 0.5
    low = float(np.clip(chimpact_stats.PROBABILITY_LOW - 0.25 * lean, 0.05, 0.6))
    high = float(np.clip(chimpact_stats.PROBABILITY_HIGH + 0.25 * lean, 0.05, 0.6))
    draw = rng.random()
    if draw < low:
        value = rng.beta(0.8, 14)
    elif draw < low + high:
        value = 1 - rng.beta(0.8, 14)
    else:
        value = rng.uniform(0.1, 0.9)
    return float(np.clip(value, 0.0100001, 0.9999))


def _f32(value: float) -> str:
    """Shortest float32 text, as the real detector columns are written ('0.4190867')."""
    return str(np.float32(value))


def _access_table(plans: list[VideoPlan], checksums: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Like the real table, but the URIs are paths relative to the demo folder."""
    return pd.DataFrame(
        [
            (
                p.video_id,
                f"{p.site.split}_videos/{p.video_id}",
                f"{p.site.split}_videos_downsampled/{p.video_id}",
                *checksums[p.video_id],
            )
            for p in plans
        ],
        columns=ACCESS_COLUMNS,
    )


def _truth_table(plans: list[VideoPlan]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (p.video_id, p.site.split, p.site.park, p.site.site_id, p.species, p.overexposed,
             p.night, p.site.width, p.site.height, p.site.fps, p.duration)
            for p in plans
        ],
        columns=TRUTH_COLUMNS,
    )  # fmt: skip
