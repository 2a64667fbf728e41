"""Stage 02: every sequence's images at model size (resize flow and naive), mean and background.

Per sequence (its first `MAX_IMAGES` images by file name, as the write-up): each image is
decoded once (lib.images: upright RGB, grayscale night shots replicated) and resized two ways -
the write-up's flow (quarter size with Lanczos -> strip blacked out -> model size) and the
naive chain it replaced (full image straight to model size, strip blacked out) - and the
sequence's mean and background images are computed from the flow's intermediate (~512x384)
images and resized to model size the same way.

Output per sequence: one uncompressed `.npz` of uint8 arrays (`flow`, `naive`: (k, H, W, 3) for
the k readable images; `image_index`: their places in the sequence; `mean`, `background`:
(H, W, 3)), then a small JSON record written last, so a rerun after a crash skips exactly the
finished sequences (and redoes them if the settings changed). The stage's `manifest.csv` and
`summary.json` are removed when a run starts and written when it ends, so stage 03 never reads
a manifest that does not describe the arrays on disk. An unreadable image is a documented skip:
the record names it with its reason (lib.images.REASONS; `outside_folder` for a name that
resolves outside the data folder, e.g. through a symlink) and the manifest counts it; a sequence
with no readable image gets no arrays (stage 06 gives it class priors).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lib import fileio, images
from lib.paths import inside
from lib.serengeti import background, resize, schema

log = logging.getLogger(__name__)

VERSION = 1
MAX_IMAGES = background.MAX_IMAGES


@dataclass(frozen=True)
class ExtractConfig:
    """Settings that change the arrays on disk; a finished sequence is redone if they change."""

    image_size: tuple[int, int] = (384, 512)  # (height, width) of the model inputs
    strip_fraction: float = resize.STRIP_FRACTION
    max_images: int = MAX_IMAGES

    def key(self) -> dict:
        return fileio.jsonable({"version": VERSION, **asdict(self)})


@dataclass
class SequenceJob:
    split: str
    seq_id: str
    file_names: tuple[str, ...]  # in file-name order


@dataclass
class SequenceResult:
    split: str
    seq_id: str
    status: str  # "ok" (at least one readable image) or "no_image"
    n_images: int = 0  # images in the sequence
    used: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file name -> ImageError reason
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def safe_name(seq_id: str) -> str:
    """A file-system friendly name for a seq_id (`SER_S1#B04#1#1` -> `SER_S1_B04_1_1`)."""
    return str(seq_id).replace("#", "_").replace("/", "_")


def extract_dir(work: str | Path) -> Path:
    return Path(work) / "extract"


def arrays_path(work: str | Path, split: str, seq_id: str) -> Path:
    return extract_dir(work) / "arrays" / split / f"{safe_name(seq_id)}.npz"


def _record_path(work: str | Path, split: str, seq_id: str) -> Path:
    return extract_dir(work) / "sequences" / split / f"{safe_name(seq_id)}.json"


def sequence_arrays(
    files: Sequence[tuple[str, Path]], cfg: ExtractConfig, naive: bool = True
) -> tuple[dict[str, np.ndarray] | None, list[str], dict[str, images.ImageError]]:
    """The arrays of one sequence from its `(name, path)` files, in file-name order.

    One function for stage 02 and for `lib.serengeti.predict`, so new images reach the networks
    through exactly the pixels the training images did. Returns (arrays or None when no image
    could be read, names used, {name: ImageError} of the first `cfg.max_images` that failed).
    `naive=False` skips the naive resize (prediction with a flow model does not need it).
    """
    flows, naives, mids, index, used = [], [], [], [], []
    failed: dict[str, images.ImageError] = {}
    ordered = sorted(files, key=lambda f: f[0])
    for i, (name, path) in enumerate(ordered[: cfg.max_images]):
        try:
            image = images.read_rgb(path)
        except images.ImageError as err:
            failed[name] = err
            continue
        mid = resize.intermediate(image, cfg.strip_fraction)
        mids.append(np.asarray(mid, dtype=np.uint8))
        flows.append(resize.to_model_size(mid, cfg.image_size))
        if naive:
            naives.append(resize.naive(image, cfg.image_size, cfg.strip_fraction))
        index.append(i)
        used.append(name)
    if not flows:
        return None, used, failed
    if len({m.shape for m in mids}) > 1:  # images of mixed sizes: combine at model size instead
        mids = flows
    mean, bg = background.mean_and_background(mids)
    arrays = {
        "flow": np.stack(flows),
        "image_index": np.asarray(index, dtype=np.int64),
        "mean": _to_model(mean, cfg.image_size),
        "background": _to_model(bg, cfg.image_size),
    }
    if naive:
        arrays["naive"] = np.stack(naives)
    return arrays, used, failed


def extract_sequence(
    job: SequenceJob, root: str | Path, work: str | Path, cfg: ExtractConfig
) -> SequenceResult:
    """Decode, resize and combine one sequence's images; failures become part of the result."""
    started = time.perf_counter()
    res = SequenceResult(job.split, job.seq_id, "ok", len(job.file_names), config=cfg.key())
    files, failed_names = [], {}
    for name in sorted(job.file_names)[: cfg.max_images]:  # the first images by file name
        try:
            # schema.load refused names that escape the folder as text; a symlink inside it
            # can still point elsewhere, and resolving catches that too
            files.append((name, inside(Path(root), name)))
        except ValueError:
            failed_names[name] = "outside_folder"
    arrays, res.used, failed = sequence_arrays(files, cfg)
    res.failed = {**failed_names, **{name: err.reason for name, err in failed.items()}}
    path = arrays_path(work, job.split, job.seq_id)
    if arrays is not None:
        arrays = {k: arrays[k] for k in ("flow", "naive", "image_index", "mean", "background")}
        with fileio.atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
    else:
        res.status = "no_image"
        path.unlink(missing_ok=True)
    res.seconds = round(time.perf_counter() - started, 3)
    fileio.write_json(_record_path(work, job.split, job.seq_id), asdict(res))
    return res


def _to_model(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return resize.to_model_size(Image.fromarray(array, "RGB"), size)


def load_arrays(work: str | Path, split: str, seq_id: str) -> dict[str, np.ndarray]:
    """The arrays stored for one sequence (KeyError-free: FileNotFoundError if none)."""
    with np.load(arrays_path(work, split, seq_id)) as z:
        return {k: z[k] for k in z.files}


def jobs(data: schema.Dataset) -> list[SequenceJob]:
    out = []
    for split in ("train", "test"):
        seqs = schema.sequences(data.images(split))
        out += [
            SequenceJob(split, s, tuple(f))
            for s, f in zip(seqs[schema.KEY], seqs["file_names"], strict=True)
        ]
    return out


def _finished(work: Path, job: SequenceJob, cfg: ExtractConfig) -> SequenceResult | None:
    path = _record_path(work, job.split, job.seq_id)
    if not path.is_file():
        return None
    try:
        rec = fileio.read_json(path)
    except ValueError:
        return None
    if rec.get("config") != cfg.key():
        return None
    if rec.get("status") == "ok" and not arrays_path(work, job.split, job.seq_id).is_file():
        return None
    return SequenceResult(**rec)


def run(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig = ExtractConfig(),  # noqa: B008 - frozen
    workers: int = 1,
    progress: bool = True,
    limit: int | None = None,
) -> pd.DataFrame:
    """Extract every sequence (train and test), in parallel, skipping finished ones.

    Returns the per-image manifest (also written to `extract/manifest.csv`, with a summary in
    `extract/summary.json`): split, seq_id, file_name, image_index, status ("ok" or the
    lib.images reason). `limit` stops after that many new sequences (tests of resuming).
    """
    work = Path(work)
    started = time.perf_counter()
    fileio.remove_stale_temps(extract_dir(work))
    # The manifest and summary say "stage 02 finished"; a run killed midway must not leave the
    # previous run's copies behind for stage 03 to read as describing the arrays now on disk.
    for name in ("summary.json", "manifest.csv"):
        (extract_dir(work) / name).unlink(missing_ok=True)
    all_jobs = jobs(data)
    results: dict[tuple[str, str], SequenceResult] = {}
    todo = []
    for job in all_jobs:
        done = _finished(work, job, cfg)
        if done is None:
            todo.append(job)
        else:
            results[(job.split, job.seq_id)] = done
    skipped = len(results)
    if limit is not None:
        todo = todo[:limit]
    bar = tqdm(total=len(todo), desc="sequences", unit="seq", disable=not progress)
    if workers <= 1 or len(todo) < 2:
        for job in todo:
            results[(job.split, job.seq_id)] = extract_sequence(job, data.root, work, cfg)
            bar.update()
    else:
        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        )
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(extract_sequence, job, str(data.root), str(work), cfg) for job in todo
            ]
            for fut in as_completed(futures):
                res = fut.result()
                results[(res.split, res.seq_id)] = res
                bar.update()
    bar.close()
    manifest = _manifest(all_jobs, results)
    fileio.write_csv(extract_dir(work) / "manifest.csv", manifest)
    seqs = pd.DataFrame([asdict(r) for r in results.values()])
    reasons = manifest.loc[manifest["status"] != "ok", "status"].value_counts()
    summary = {
        "config": cfg.key(),
        "sequences": int(len(all_jobs)),
        "sequences_done": int(len(results)),
        "sequences_skipped_finished": int(skipped),
        "sequences_no_image": int((seqs["status"] == "no_image").sum()) if len(seqs) else 0,
        "images": int(len(manifest)),
        "images_ok": int((manifest["status"] == "ok").sum()),
        "images_unreadable": int((manifest["status"].isin(images.REASONS)).sum()),
        "unreadable_by_reason": {str(k): int(v) for k, v in reasons.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_sequence": float(seqs["seconds"].median()) if len(seqs) else 0.0,
    }
    fileio.write_json(extract_dir(work) / "summary.json", summary)
    return manifest


def _manifest(
    all_jobs: list[SequenceJob], results: dict[tuple[str, str], SequenceResult]
) -> pd.DataFrame:
    rows = []
    for job in all_jobs:
        res = results.get((job.split, job.seq_id))
        for i, name in enumerate(sorted(job.file_names)):
            if res is None:
                status = "pending"
            elif name in res.failed:
                status = res.failed[name]
            elif i >= MAX_IMAGES or name not in res.used:
                status = "not_used"  # past the first three images
            else:
                status = "ok"
            rows.append(
                {
                    "split": job.split,
                    schema.KEY: job.seq_id,
                    "file_name": name,
                    "image_index": i,
                    "status": status,
                }
            )
    return pd.DataFrame(rows, columns=["split", schema.KEY, "file_name", "image_index", "status"])


def load_manifest(work: str | Path) -> pd.DataFrame:
    path = extract_dir(work) / "manifest.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: run 02_extract first")
    return pd.read_csv(path, dtype={schema.KEY: str, "file_name": str, "status": str})


def readable_sequences(work: str | Path) -> pd.DataFrame:
    """split, seq_id, n_ok for every sequence with at least one readable image.

    Raises if stage 02 stopped early (`limit`): its pending sequences would otherwise be
    silently missing from the records.
    """
    m = load_manifest(work)
    pending = m["status"] == "pending"
    if pending.any():
        raise RuntimeError(
            f"{extract_dir(work) / 'manifest.csv'}: {int(pending.sum())} image(s) not extracted "
            f"yet (e.g. {m.loc[pending, 'file_name'].iloc[0]!r}); run 02_extract to the end"
        )
    ok = m[m["status"] == "ok"].groupby(["split", schema.KEY]).size().rename("n_ok")
    return ok.reset_index()
