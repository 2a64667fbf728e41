"""Species probabilities for new image sequences from a model bundle: one row per sequence.

The steps are those that made the submission, in the same code where possible:

1. sequences: rebuilt from folders and capture times, or taken from a metadata CSV
   (lib.serengeti.grouping);
2. per sequence, its first images by file name decoded and resized exactly as stage 02 did
   (`lib.serengeti.extract.sequence_arrays`: robust decode, the resize flow, mean and
   background), on the stage engine (lib.predict.decode_step) ahead of the networks;
3. every network of the bundle on its inputs, as-is and mirrored (flip TTA = the mean);
4. the stack: the same feature table as 06 (per-image scores, sequence scores, hour, month,
   image count, and the neighbour-camera features computed among the predicted sequences when
   the bundle's stack used them), both boosters, the single model's image mean for the other
   classes, class priors for sequences without a readable image, and the submission's clip.

Never NaN, never a crash for a bad file: unreadable images are listed in the errors table
(`file,seq_id,error`) and a sequence with none readable gets the class priors; links to nothing,
link loops and folders among the inputs are listed there too (seq_id empty), as skips.

Sequences are scored in fixed chunks of the sequence list; with a checkpoint
(lib.predict.resume) each finished chunk's network scores are saved, and a rerun scores only
the chunks not finished, in the same chunks as an uninterrupted run, so its output is the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, stages
from lib.predict import card_files, decode_step
from lib.predict.resume import Checkpoint, file_identity
from lib.serengeti import grouping, metrics, neighbors, sequence_reads, stacking
from lib.serengeti.bundle import Bundle
from lib.serengeti.grouping import InputError
from lib.serengeti.schema import CLASSES, KEY
from lib.serengeti.sequence_reads import SequenceRead

log = logging.getLogger(__name__)

FIXED_COLUMNS = [KEY, "first_file", "n_images"]
OUTPUT_COLUMNS = [*FIXED_COLUMNS, *CLASSES, "top_class", "top_score"]
ERROR_COLUMNS = ["file", KEY, "error"]
CHUNK_SEQUENCES = 64  # sequences decoded before the networks score them (without checkpoint)
# every format Pillow reads that cameras and photo tools write, beside the usual JPEGs
IMAGE_SUFFIXES = grouping.IMAGE_SUFFIXES

__all__ = ["InputError", "Result", "predict", "write"]


def _pad(x: np.ndarray) -> np.ndarray:
    """Repeat the last row up to the next power of two: each network traces its predict step
    for a handful of batch shapes instead of once per chunk size."""
    n = len(x)
    size = 1 << (n - 1).bit_length()
    return x if size == n else np.concatenate([x, np.repeat(x[-1:], size - n, axis=0)])


def _scores(model, inputs: dict[str, np.ndarray], batch_size: int) -> np.ndarray:
    """Flip-TTA scores (n, 54) float64: the mean of the as-is and mirrored inputs' scores,
    the inputs scaled uint8 / 255 to float32 as the training pipeline did."""
    n = len(next(iter(inputs.values())))
    out = np.zeros((n, len(CLASSES)), dtype=np.float64)
    for start in range(0, n, batch_size):
        batch = {
            k: v[start : start + batch_size].astype(np.float32) / np.float32(255.0)
            for k, v in inputs.items()
        }
        views = []
        for x in (batch, {k: np.ascontiguousarray(v[:, :, ::-1]) for k, v in batch.items()}):
            padded = {k: _pad(v) for k, v in x.items()}
            feed = padded if len(padded) > 1 else next(iter(padded.values()))
            views.append(np.asarray(model.predict_on_batch(feed), dtype=np.float64))
        m = len(batch[next(iter(batch))])
        out[start : start + m] = (views[0][:m] + views[1][:m]) / 2.0
    return out


def score_networks(
    bundle: Bundle, reads: list[SequenceRead], batch_size: int
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(per-image scores of the single model: seq_id, image_index + 54 classes; per-sequence
    scores of each sequence model: seq_id + 54 classes), flip TTA, for the readable sequences."""
    ok = [r for r in reads if r.arrays is not None]  # readable sequences
    single = bundle.networks["single"]
    pixels = "naive" if single.resize == "naive" else "flow"
    keys = [(r.seq_id, int(i)) for r in ok for i in r.arrays["image_index"]]
    image_scores = pd.DataFrame(columns=[KEY, "image_index", *CLASSES])
    if keys:
        x = np.concatenate([r.arrays[pixels] for r in ok])
        values = _scores(single.model, {"image": x}, batch_size)
        image_scores = pd.DataFrame(values, columns=list(CLASSES))
        image_scores.insert(0, "image_index", np.asarray([k[1] for k in keys], np.int64))
        image_scores.insert(0, KEY, [k[0] for k in keys])
    sequence_scores = {}
    for role in bundle.stack_info["sequence_models"]:
        net = bundle.networks[role]
        frame = pd.DataFrame(columns=[KEY, *CLASSES])
        if ok:
            if role == "twostream":
                inputs = {k: np.stack([r.arrays[k] for r in ok]) for k in ("mean", "background")}
            else:
                inputs = {"image": np.stack([r.arrays["background"] for r in ok])}
            frame = pd.DataFrame(_scores(net.model, inputs, batch_size), columns=list(CLASSES))
            frame.insert(0, KEY, [r.seq_id for r in ok])
        sequence_scores[role] = frame
    return image_scores, sequence_scores


def stack_predictions(
    bundle: Bundle,
    seqs: pd.DataFrame,
    image_scores: pd.DataFrame,
    sequence_scores: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """seq_id + 54 probabilities for every row of `seqs`, as 06 made the submission's."""
    info = bundle.stack_info
    prior = bundle.priors()
    if image_scores.empty:  # nothing readable: priors everywhere (stacking.predict would too)
        out = pd.DataFrame([prior.to_numpy()] * len(seqs), columns=list(CLASSES))
        out.insert(0, KEY, seqs[KEY].to_numpy())
        return metrics.clip_predictions(out)
    image_scores = image_scores.astype({c: np.float64 for c in CLASSES})
    extra = []
    if info["neighbors"]["used"]:
        per = image_scores.groupby(KEY, sort=True)[list(CLASSES)].mean().reindex(seqs[KEY])
        per = per.fillna(bundle.neighbor_fill_priors()).rename_axis(KEY).reset_index()
        table = seqs[[KEY, "season", "site", "datetime"]].merge(per, on=KEY)
        extra.append(
            neighbors.neighbor_features(
                table, float(info["neighbors"]["window_s"]), classes=info["neighbors"]["classes"]
            )
        )
    features = stacking.feature_table(
        seqs[[KEY, "datetime", "n_images"]],
        {"single": image_scores},
        {m: sequence_scores[m].astype({c: np.float64 for c in CLASSES}) for m in sequence_scores},
        extra=extra,
    )
    if list(features.columns) != list(info["feature_columns"]):
        raise ValueError(
            f"{bundle.folder}: the stack was fitted on other feature columns than this code "
            "builds; re-export the bundle with this version of the project"
        )
    fallback = stacking.image_mean({"single": image_scores})
    pred = stacking.predict(
        bundle.stack, features, fallback, prior, directions=tuple(info["directions"])
    )
    low, high = info["clip"]
    return metrics.clip_predictions(pred, low, high)


@dataclass
class Result:
    rows: pd.DataFrame  # OUTPUT_COLUMNS, one row per sequence
    errors: pd.DataFrame  # ERROR_COLUMNS, one row per image that could not be read or skip
    images: pd.DataFrame  # grouping.IMAGE_COLUMNS + status ("ok", "failed", "not_used")
    base: Path  # image names are relative to this folder
    grouping: dict  # how sequences were made
    skipped: list[tuple[str, str]] = field(default_factory=list)  # inputs not read: (path, why)
    skipped_finished: int = 0  # sequences taken from the checkpoint

    def summary(self) -> dict:
        prior_rows = self.rows[KEY].isin(self.sequences_without_image())
        status = self.images["status"]
        failed: dict[str, int] = {}
        for error in self.errors["error"]:
            reason = str(error).split(":")[0]
            failed[reason] = failed.get(reason, 0) + 1
        return {
            "images": int(len(self.images)),
            "files_read": int((status == "ok").sum()),
            "sequences": int(len(self.rows)),
            "finished_sequences_skipped": self.skipped_finished,
            "rows_written": int(len(self.rows)),
            "unreadable_images": int((status == "failed").sum()),
            "inputs_skipped": len(self.skipped),
            "failed_by_reason": failed,
            "sequences_without_readable_image": int(prior_rows.sum()),
            "time_sources": {
                str(k): int(v) for k, v in self.images["time_source"].value_counts().items()
            },
        }

    def sequences_without_image(self) -> set[str]:
        status = self.images.groupby(KEY)["status"].agg(lambda s: (s == "ok").any())
        return set(status.index[~status])


def _image_table(
    images: list[str | Path], metadata: str | Path | None, gap_s: float, group_by: str
) -> tuple[pd.DataFrame, Path, dict, list[tuple[str, str]]]:
    """(one row per image with its sequence, the names' base folder, how sequences were made,
    the inputs skipped with their reason)."""
    if metadata is not None:
        table = grouping.read_metadata(metadata, images)
        base = Path(images[0]).expanduser().absolute()
        return table, base, {"sequences": f"from {Path(metadata).name}"}, []
    try:
        found = card_files.find(images, IMAGE_SUFFIXES, "an image", require="image")
    except card_files.InputError as exc:
        raise InputError(str(exc)) from None
    table = grouping.group(found.files, found.base, gap_s, group_by)
    how = {
        "sequences": f"group by {group_by}, gap {gap_s:g} s",
        "gap_s": gap_s,
        "group_by": group_by,
        "time": "EXIF DateTimeOriginal, else EXIF DateTime, else file modification time",
    }
    return table, found.base, how, found.skipped


@dataclass
class Scores:
    """The networks' scores of some sequences (what a checkpoint chunk holds)."""

    image: list[pd.DataFrame] = field(default_factory=list)
    sequence: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    reads: list[SequenceRead] = field(default_factory=list)

    def add(self, image: pd.DataFrame, sequence: dict[str, pd.DataFrame]) -> None:
        self.image.append(image)
        for role, frame in sequence.items():
            self.sequence.setdefault(role, []).append(frame)


def _chunk_entry(scores: Scores) -> dict:
    """A chunk's scores as JSON-ready lists (floats round-trip exactly through JSON)."""
    return {
        "image": [f.to_dict(orient="split", index=False) for f in scores.image],
        "sequence": {r: [f.to_dict(orient="split", index=False) for f in fs]
                     for r, fs in scores.sequence.items()},
        "reads": [{"seq_id": r.seq_id, "failed": r.failed, "used": r.used} for r in scores.reads],
    }  # fmt: skip


def _chunk_scores(entry: dict) -> Scores:
    def frame(d: dict) -> pd.DataFrame:
        return pd.DataFrame(d["data"], columns=d["columns"])

    out = Scores(
        image=[frame(d) for d in entry["image"]],
        sequence={r: [frame(d) for d in ds] for r, ds in entry["sequence"].items()},
    )
    out.reads = [SequenceRead(r["seq_id"], None, r["failed"], r["used"]) for r in entry["reads"]]
    return out


def _score_chunk(bundle: Bundle, reads: list[SequenceRead], batch_size: int) -> Scores:
    """Score one chunk of sequences and drop their pixels (a big folder never sits in RAM)."""
    out = Scores(reads=reads)
    if any(r.readable for r in reads):
        out.add(*score_networks(bundle, reads, batch_size))
    for read in reads:
        read.arrays = None
    return out


def _chunk_identity(chunk: list[tuple[str, list[tuple[str, Path]]]]) -> list:
    return [[seq, [[name, file_identity(path)] for name, path in files]] for seq, files in chunk]


def _score_all(
    bundle: Bundle,
    jobs: list[tuple[str, list[tuple[str, Path]]]],
    opts: Options,
    checkpoint: Checkpoint | None,
) -> Scores:
    """Every sequence's scores, chunk by chunk; finished chunks from the checkpoint, the others
    decoded on the stage engine and scored here, in order, as each chunk's last one arrives."""
    size = checkpoint.every if checkpoint else CHUNK_SEQUENCES
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    idents = [_chunk_identity(c) if checkpoint else None for c in chunks]
    names = [f"chunk {i} of {size}: {c[0][0]}" for i, c in enumerate(chunks)]
    parts: list[Scores | None] = [
        _chunk_scores(d) if (d := checkpoint.get(n, i) if checkpoint else None) else None
        for n, i in zip(names, idents, strict=True)
    ]
    skipped = sum(len(c) for c, p in zip(chunks, parts, strict=True) if p is not None)
    if skipped:
        log.warning("resuming from %s: %d finished sequences skipped", checkpoint.folder, skipped)
    with decode_step.folder(checkpoint) as where:
        step = decode_step.DecodeStep(where, _decode_settings(bundle), sequence_reads.VERSION,
                                      "sequence")  # fmt: skip
        arrived: dict[str, tuple[stages.Item, dict]] = {}
        chunk_of = {seq: k for k, c in enumerate(chunks) if parts[k] is None for seq, _ in c}
        left = {k: len(c) for k, c in enumerate(chunks) if parts[k] is None}

        def scored(item: stages.Item, record: dict) -> None:
            arrived[item.job.seq_id] = (item, record)
            k = chunk_of[item.job.seq_id]
            left[k] -= 1
            if left[k] == 0:
                chunk = [arrived.pop(seq) for seq, _ in chunks[k]]
                parts[k] = _score_arrived(bundle, chunk, opts)
                if checkpoint:
                    entry = {**_chunk_entry(parts[k]), "identity": idents[k]}
                    checkpoint.put(names[k], entry, force=True)

        todo = [job for c, p in zip(chunks, parts, strict=True) if p is None for job in c]
        items = [_decode_item(step, bundle, seq, files) for seq, files in todo]
        decode_step.run(step, sequence_reads.decode, items, sequence_reads.blank, scored,
                        opts.workers, opts.scheduler, opts.progress)  # fmt: skip
    if checkpoint:
        checkpoint.reused = skipped
    return _joined(parts)


def _decode_settings(bundle: Bundle) -> dict:
    naive = bundle.networks["single"].resize == "naive"
    return {"extract": bundle.extract_config().key(), "naive": naive}


def _decode_item(
    step: decode_step.DecodeStep, bundle: Bundle, seq_id: str, files: list[tuple[str, Path]]
) -> stages.Item:
    """The engine item that decodes one sequence for `bundle`."""
    name = sequence_reads.work_name(seq_id)
    job = sequence_reads.DecodeJob(
        seq_id=seq_id, files=tuple((n, str(p)) for n, p in files),
        config=bundle.extract_config(), naive=bundle.networks["single"].resize == "naive",
        out=str(step.output(name)),
    )  # fmt: skip
    rows = sorted(n for n, _ in files)
    return stages.Item(name, job, rows=rows, files=tuple(str(p) for _, p in files),
                       outputs=(job.out,))  # fmt: skip


def _score_arrived(bundle: Bundle, arrived: list[tuple[stages.Item, dict]], opts) -> Scores:
    """Score one chunk's decoded sequences, then drop their decoded files."""
    reads = [sequence_reads.load(rec, item.job.out) for item, rec in arrived]
    part = _score_chunk(bundle, reads, opts.batch_size)
    for item, _ in arrived:
        Path(item.job.out).unlink(missing_ok=True)
    return part


def _joined(parts: list[Scores | None]) -> Scores:
    total = Scores()
    for part in parts:
        if part is None:  # a bug, not bad input: every chunk is scored or taken from the checkpoint
            raise RuntimeError("internal error: a chunk of sequences was never scored")
        total.reads += part.reads
        total.image += part.image
        for role, frames in part.sequence.items():
            total.sequence.setdefault(role, []).extend(frames)
    return total


@dataclass
class Options:
    """How to score: batch size, and where and how many sequences are decoded at once."""

    batch_size: int = 32
    workers: int = 2
    progress: bool = True
    scheduler: str | None = None  # lib.executors; None: threads of this process


def predict(
    bundle: Bundle,
    images: list[str | Path],
    metadata: str | Path | None = None,
    gap_s: float = grouping.DEFAULT_GAP_S,
    group_by: str = "folder",
    batch_size: int = 32,
    workers: int = 2,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
    scheduler: str | None = None,
) -> Result:
    """Predict every sequence of the images found in `images` (files or folders), grouped by
    folder and capture time, or the sequences a `metadata` CSV lists."""
    table, base, how, skipped = _image_table(images, metadata, gap_s, group_by)
    seqs = grouping.sequences(table)
    jobs = list(zip(seqs[KEY], seqs["files"], strict=True))
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)  # a few batch shapes retrace predict; not worth a warning
    try:
        opts = Options(batch_size, workers, progress, scheduler)
        scores = _score_all(bundle, jobs, opts, checkpoint)
    finally:
        tf_log.setLevel(level)
    empty = pd.DataFrame(columns=[KEY, "image_index", *CLASSES])
    image_scores = pd.concat(scores.image, ignore_index=True) if scores.image else empty
    sequence_scores = {
        role: pd.concat(parts, ignore_index=True) for role, parts in scores.sequence.items()
    }
    pred = stack_predictions(bundle, seqs, image_scores, sequence_scores)
    rows = seqs[FIXED_COLUMNS].merge(pred, on=KEY, how="left", validate="one_to_one")
    probs = rows[list(CLASSES)].to_numpy(np.float64)
    if not np.isfinite(probs).all():  # a bug, not bad input: say so rather than write NaN
        raise RuntimeError("internal error: a prediction is NaN; please report this")
    rows["top_class"] = np.asarray(CLASSES)[probs.argmax(axis=1)]
    rows["top_score"] = probs.max(axis=1)
    skips = pd.DataFrame([(p, "", f"skipped: {r}") for p, r in skipped], columns=ERROR_COLUMNS)
    errors = _errors(scores.reads)
    return Result(
        rows=rows[OUTPUT_COLUMNS],
        errors=pd.concat([errors, skips], ignore_index=True) if skipped else errors,
        images=_image_status(table, scores.reads),
        base=base,
        grouping=how,
        skipped=skipped,
        skipped_finished=checkpoint.reused if checkpoint else 0,
    )


def _errors(reads: list[SequenceRead]) -> pd.DataFrame:
    rows = [
        {"file": name, KEY: r.seq_id, "error": error}
        for r in reads
        for name, error in r.failed.items()
    ]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def _image_status(table: pd.DataFrame, reads: list[SequenceRead]) -> pd.DataFrame:
    failed = {(r.seq_id, name): e for r in reads for name, e in r.failed.items()}
    used = {(r.seq_id, name) for r in reads for name in r.used}
    out = table.copy()
    keys = list(zip(out[KEY], out["file"], strict=True))
    out["status"] = ["failed" if k in failed else "ok" if k in used else "not_used" for k in keys]
    out["error"] = [failed.get(k, "") for k in keys]
    return out


def errors_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.errors.csv")


def write(
    result: Result,
    out: str | Path,
    json_path: str | Path | None = None,
    bundle: Bundle | None = None,
    camtrap_dp: str | Path | None = None,
    place: dict | None = None,
) -> dict:
    """The predictions CSV, `<name>.errors.csv` beside it (header only when nothing failed)
    and, if asked, the MegaDetector batch-output JSON (lib.serengeti.megadetector) and a
    Camtrap DP package (lib.serengeti.camtrap_dp; `place`: its lat, lon, utc_offset). The CSV
    is written last: its presence means the run finished."""
    summary = {**result.summary(), "out": str(out), "errors": str(errors_path(out))}
    if json_path is not None:
        from lib.serengeti import megadetector

        fileio.write_json(json_path, megadetector.batch_output(result, bundle))
        summary["json"] = str(json_path)
    if camtrap_dp is not None:
        import lib.serengeti.camtrap_dp

        lib.serengeti.camtrap_dp.write(result, camtrap_dp, bundle, **(place or {}))
        summary["camtrap_dp"] = str(camtrap_dp)
    fileio.write_csv(errors_path(out), result.errors)
    fileio.write_csv(out, result.rows)
    return summary
