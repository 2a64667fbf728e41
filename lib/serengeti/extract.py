"""Stage 02: every sequence's images at model size (resize flow and naive), mean and background.

Per sequence (its first `MAX_IMAGES` images by file name, as the write-up): each image is
decoded once (lib.images: upright RGB, grayscale night shots replicated) and resized two ways -
the write-up's flow (quarter size with Lanczos -> strip blacked out -> model size) and the
naive chain it replaced (full image straight to model size, strip blacked out) - and the
sequence's mean and background images are computed from the flow's intermediate (~512x384)
images and resized to model size the same way.

Output per sequence: one uncompressed `.npz` of uint8 arrays (`flow`, `naive`: (k, H, W, 3) for
the k readable images; `image_index`: their places in the sequence; `mean`, `background`:
(H, W, 3)). Resuming, workers (a local pool or a Dask cluster), the per-sequence records,
`manifest.csv`, `errors.csv` and `summary.json` are the stage engine's (`lib.stages`): a
sequence is redone when its file names, any of its images' identity (size, mtime, hash of head
and tail: a damaged image replaced by a good copy) or the settings change, and the manifest is
written only when every sequence has a record, so stage 03 never reads one that does not
describe the arrays on disk. An unreadable image is a documented skip: the manifest gives its
reason (lib.images.REASONS, or the file's problem in words: "a link that loops", "a folder, not
an image", `outside_folder` for a link out of the data folder); a sequence with no readable
image gets no arrays (stage 06 gives it class priors) and is retried on the next run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from lib import fileio, images, inputs, stages
from lib.serengeti import background, resize, schema

log = logging.getLogger(__name__)

VERSION = 2  # 2: records keyed by content; arrays named by the quoted seq_id
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
    failed: dict[str, str] = field(default_factory=dict)  # file name -> reason it was skipped
    config: dict = field(default_factory=dict)
    reason: str = ""  # "no readable image" for status no_image
    error: str = ""


NO_IMAGE = "no readable image"


def safe_name(seq_id: str) -> str:
    """A file name for a seq_id, one to one (`SER_S1#B04#1#1` -> `SER_S1%23B04%231%231`):
    replacing `#` by `_` would give `a#b` and `a_b` one file."""
    return quote(str(seq_id), safe="-_.~")


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

    One function for stage 02 and for `lib.serengeti.predict_images`, so new images reach the
    networks through exactly the pixels the training images did. Returns (arrays or None when no
    image could be read, names used, {name: ImageError} of the first `cfg.max_images` that failed).
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
    res = SequenceResult(job.split, job.seq_id, "ok", len(job.file_names), config=cfg.key())
    files, failed_names = [], {}
    for name in sorted(job.file_names)[: cfg.max_images]:  # the first images by file name
        path, problem = image_file(Path(root), name)
        if problem:
            failed_names[name] = problem
        else:
            files.append((name, path))
    arrays, res.used, failed = sequence_arrays(files, cfg)
    res.failed = {**failed_names, **{name: err.reason for name, err in failed.items()}}
    path = arrays_path(work, job.split, job.seq_id)
    if arrays is not None:
        arrays = {k: arrays[k] for k in ("flow", "naive", "image_index", "mean", "background")}
        fileio.write_npz(path, arrays)
    else:
        res.status, res.reason = "no_image", NO_IMAGE
        res.error = f"{job.seq_id}: none of its images could be read ({res.failed})"
        path.unlink(missing_ok=True)
    return res


def image_file(root: Path, name: str) -> tuple[Path, str]:
    """(path, problem) of an image named in the metadata; the problem in the user's words.

    schema.load refused names that escape the folder as text; a symlink inside it can still
    point elsewhere (`outside_folder`), loop or dangle, and resolving catches that too. Empty
    and unreadable files are left to lib.images (`truncated`, `unreadable`), as predict does.
    """
    problem = inputs.problem(root / name, "image")
    if problem in (inputs.EMPTY, inputs.UNREADABLE):  # lib.images' own words for these
        problem = None
    if problem is not None:
        return root / name, problem
    path, problem = inputs.resolve_inside(root, name)
    return path, ("outside_folder" if problem == inputs.OUTSIDE else problem or "")


def _to_model(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return resize.to_model_size(Image.fromarray(array, "RGB"), size)


def load_arrays(work: str | Path, split: str, seq_id: str) -> dict[str, np.ndarray]:
    """The arrays stored for one sequence (KeyError-free: FileNotFoundError if none)."""
    return fileio.read_npz(arrays_path(work, split, seq_id))


def jobs(data: schema.Dataset) -> list[SequenceJob]:
    out = []
    for split in ("train", "test"):
        seqs = schema.sequences(data.images(split))
        out += [
            SequenceJob(split, s, tuple(f))
            for s, f in zip(seqs[schema.KEY], seqs["file_names"], strict=True)
        ]
    return out


def items(data: schema.Dataset, cfg: ExtractConfig, work: Path) -> list[stages.Item]:
    """The engine's items: a sequence is made from its file names and its first images."""
    out = []
    for job in jobs(data):
        used = sorted(job.file_names)[: cfg.max_images]
        out.append(
            stages.Item(
                name=f"{job.split}/{job.seq_id}",
                job=job,
                rows={"file_names": sorted(job.file_names)},
                files=tuple(str(Path(data.root) / n) for n in used),
            )
        )
    return out


def run(
    data: schema.Dataset,
    work: str | Path,
    cfg: ExtractConfig = ExtractConfig(),  # noqa: B008 - frozen
    workers: int | None = None,
    progress: bool = True,
    limit: int | None = None,
    scheduler: str | None = None,
    shard: stages.Shard | None = None,
) -> pd.DataFrame:
    """Extract every sequence (train and test) on the stage engine, skipping unchanged ones.

    Returns the per-image manifest (written to `extract/manifest.csv` once every sequence has a
    record, with `summary.json` and `errors.csv`): split, seq_id, file_name, image_index, status
    ("ok", "not_used", "pending" or why the image was skipped). `workers` processes locally
    (default: all cores) or the Dask cluster of `scheduler` (see `lib.executors`); `shard`
    selects this run's sequences; `limit` stops after that many new sequences (tests).
    """
    work = Path(work)
    st = stages.Stage(
        folder=extract_dir(work), settings=cfg.key(), version=VERSION, records="sequences",
        unit="sequence",
    )  # fmt: skip
    all_items = items(data, cfg, work)
    fn = functools.partial(extract_sequence, root=str(data.root), work=str(work), cfg=cfg)
    report = stages.run(
        st, fn, all_items, functools.partial(_blank, cfg=cfg), workers=workers,
        scheduler=scheduler, shard=shard, limit=limit, progress=progress,
    )  # fmt: skip
    results = {(r["split"], r["seq_id"]): SequenceResult(**r) for r in report.results()}
    manifest = _manifest([it.job for it in all_items], results)
    stages.finish(st, report, manifest, _summary(manifest, results, report, cfg))
    return manifest


def _blank(job: SequenceJob, reason: str, error: str, cfg: ExtractConfig) -> SequenceResult:
    return SequenceResult(
        job.split, job.seq_id, "no_image", len(job.file_names), config=cfg.key(), reason=reason,
        error=error,
    )  # fmt: skip


def _summary(
    manifest: pd.DataFrame,
    results: dict[tuple[str, str], SequenceResult],
    report: stages.Report,
    cfg: ExtractConfig,
) -> dict:
    skipped = ~manifest["status"].isin(["ok", "not_used", "pending"])
    reasons = manifest.loc[skipped, "status"].value_counts()
    return {
        "config": cfg.key(),
        "sequences": len(report.items),
        "sequences_done": len(results),
        "sequences_skipped_finished": report.skipped,
        "sequences_no_image": sum(r.status == "no_image" for r in results.values()),
        "images": int(len(manifest)),
        "images_ok": int((manifest["status"] == "ok").sum()),
        "images_unreadable": int(skipped.sum()),
        "unreadable_by_reason": {str(k): int(v) for k, v in sorted(reasons.items())},
    }


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


if __name__ == "__main__":  # the command line is extract_cli.py, which imports this module
    raise SystemExit("stage 02's command line is `python -m lib.serengeti.extract_cli`")
