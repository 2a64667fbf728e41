"""tf.data input pipeline for chimpact records: read -> parse -> decode -> (augment) -> batch.

Frames are decoded and resized once and cached as uint8 when the dataset fits in memory
(demo sizes); augmentation runs after the cache so every epoch draws new transforms.

Speed (bench/pipeline.py measures it): JPEGs are decoded at the largest DCT scale (1/2, 1/4,
1/8) that still leaves at least twice the target size, then shrunk with an area (box) filter;
that is cheaper than a full decode plus an antialiased bilinear resize and closer to a Lanczos
reference. Without augmentation the float conversion runs once per batch, not per sequence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

from lib import tfrecord_io  # noqa: E402
from lib.chimpact.records import SPEC  # noqa: E402
from lib.chimpact.windows import middle  # noqa: E402
from lib.stages import ALL, Shard  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
DCT_RATIOS = (1, 2, 4, 8)  # scales libjpeg can decode at directly
CACHE_BUDGET_BYTES = 2 * 2**30  # decoded uint8 frames kept in memory per dataset (cache="auto")
RAW_SHUFFLE = 1024  # serialized records shuffled when decoded frames are not cached


def decode_frames(frames: tf.Tensor, size: int, count: int) -> tf.Tensor:
    """(T,) JPEG strings of one video -> (T, S, S, 3) uint8; aspect not kept (write-up).

    Training and the predict CLI (lib/chimpact/predict_videos.py) both decode through this function,
    so a bundle sees exactly the pixels its models were trained on.

    One branch is picked per sequence from the first frame's header (all frames of a record
    come from one video): the largest DCT scale 1/r whose shorter side is still >= 2*size,
    then an area (box) filter, which is antialiased and cheap; frames smaller than the target
    are enlarged bilinearly instead. The T decodes are separate graph nodes, not a map_fn loop.
    """
    header = tf.io.extract_jpeg_shape(frames[0])
    short = tf.minimum(header[0], header[1])
    # 0: enlarge (bilinear), 1: full decode + area, 2..: decode at 1/2, 1/4, 1/8 + area
    index = tf.cast(short >= size, tf.int32) + tf.add_n(
        [tf.cast(short >= 2 * size * r, tf.int32) for r in DCT_RATIOS[1:]]
    )

    def branch(ratio: int, method: str):
        def fn() -> tf.Tensor:
            out = [
                tf.image.resize(
                    tf.io.decode_jpeg(frames[i], channels=3, ratio=ratio),
                    (size, size),
                    method=method,
                    antialias=method == "bilinear",
                )
                for i in range(count)
            ]
            return tf.stack(out)

        return fn

    branches = [branch(1, "bilinear")] + [branch(r, "area") for r in DCT_RATIOS]
    x = tf.ensure_shape(tf.switch_case(index, branches), (count, size, size, 3))
    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)


def cache_fits(n: int, frames: int, image_size: int, budget: int = CACHE_BUDGET_BYTES) -> bool:
    """Whether `n` decoded sequences fit the in-memory cache budget (full profile: they don't)."""
    return n * frames * image_size * image_size * 3 <= budget


class DecodedParts:
    """Decoded sequences of a run's record files, cached in memory once for all its folds.

    A fold reads four parts for training and the fifth for validation, so with a cache per
    fold's dataset every part is decoded five times per run (each fold's first epoch pays a
    cold decode). Here all the run's files become one parsed, decoded and `.cache()`d dataset
    (one trace of the decoder, one decode of each file), and each fold's pipelines filter
    their files out of it: the cache is a resource that derived pipelines share. Only for
    data that fits the memory budget.
    """

    def __init__(self, files: Sequence[str | Path], frames: int, image_size: int) -> None:
        self.files = [str(f) for f in files]
        if not self.files:
            raise ValueError("no record files given")
        self.frames, self.image_size = frames, image_size
        self._counts = {f: tfrecord_io.record_count(f) for f in self.files}
        parse = _parser(frames, image_size)
        index = tf.data.Dataset.from_tensor_slices(
            (self.files, tf.range(len(self.files), dtype=tf.int32))
        )
        raw = index.flat_map(lambda f, i: tf.data.TFRecordDataset(f).map(lambda r: (r, i)))
        self._all = raw.map(
            lambda r, i: (*parse(r), i), num_parallel_calls=AUTOTUNE, deterministic=True
        ).cache()

    def read(self, files: Sequence[str]) -> tf.data.Dataset:
        """The given files' decoded sequences (in the order of the run's file list)."""
        unknown = [f for f in files if f not in self._counts]
        if unknown:
            raise ValueError(f"{unknown[0]}: not one of the run's record files")
        wanted = tf.constant([self.files.index(f) for f in files], tf.int32)
        ds = self._all.filter(lambda seq, y, keys, i: tf.reduce_any(tf.equal(i, wanted)))
        ds = ds.map(lambda seq, y, keys, i: (seq, y, keys))
        n = sum(self._counts[f] for f in files)
        return ds.apply(tf.data.experimental.assert_cardinality(n))


def _parser(frames: int, image_size: int):
    sel = middle(frames)

    def parse(raw):
        ex = tfrecord_io.parse(raw, SPEC)
        seq = decode_frames(ex["frames"][sel], image_size, frames)
        return seq, ex["distance"], {"video_id": ex["video_id"], "time": ex["time"]}

    return parse


def _record_total(files: list[str], shard: Shard) -> int:
    """How many records the dataset yields: Keras takes the epoch length from it and the cache
    rule weighs it, so it is counted before anything is read (a shard keeps every N-th)."""
    n = sum(tfrecord_io.record_count(f) for f in files)
    return len(range(shard.index, n, shard.count))


def _check_decoded(decoded: DecodedParts | None, frames: int, image_size: int) -> None:
    """A run-wide cache holds one frame count and size; reading another from it would hand
    the model sequences of the wrong shape, so a mismatch is an error, not a silent re-decode."""
    if decoded is not None and (decoded.frames, decoded.image_size) != (frames, image_size):
        raise ValueError(
            f"decoded parts hold {decoded.frames} frames of {decoded.image_size} px, "
            f"this dataset needs {frames} of {image_size}"
        )


def _decode_records(
    files: list[str],
    n: int,
    frames: int,
    image_size: int,
    training: bool,
    cache: bool,
    seed: int,
    shard: Shard,
) -> tf.data.Dataset:
    """(uint8 sequence, distance, keys) decoded for this dataset alone.

    Sharding happens on the serialized records, before any decode. Without the cache a
    training epoch is shuffled here, where elements are small; with it the shuffle waits
    until after the cache so that the decode is not repeated.
    """
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))
    if shard != ALL:  # the read order is deterministic, so the N shards partition records
        ds = ds.shard(shard.count, shard.index)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n))  # Keras: the epoch length
    if training and not cache:  # shuffle the small serialized records, not decoded frames
        ds = ds.shuffle(min(n, RAW_SHUFFLE), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(_parser(frames, image_size), num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    return ds


def _batch_whole(ds: tf.data.Dataset, batch_size: int, drop_remainder: bool) -> tf.data.Dataset:
    """Batches for evaluation or unaugmented training: with no per-sequence work left, the
    float conversion runs once per batch instead of once per sequence."""
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda x, y, k: (tf.cast(x, tf.float32) / 255.0, y, k))
    return ds.prefetch(AUTOTUNE)


def _augment_and_batch(
    ds: tf.data.Dataset,
    augment: str,
    prob: float,
    seed: int,
    deterministic: bool,
    batch_size: int,
    drop_remainder: bool,
) -> tf.data.Dataset:
    """Batches of augmented sequences; augmentation is drawn per sequence, so it runs before
    batching. `deterministic` pairs every sequence with a seed from a seeded stream (the same
    draws every run); otherwise a stateful augmenter runs in parallel in whatever order."""
    import lib.augment

    if deterministic:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds)

        def finish(seq, y, keys, pair):
            x = tf.cast(seq, tf.float32) / 255.0
            return lib.augment.augment(x, augment, prob, seed=pair), y, keys

        ds = ds.map(lambda el, pair: finish(*el, pair), num_parallel_calls=AUTOTUNE)
    else:
        to_float = lib.augment.make_augmenter(augment, prob)
        ds = ds.map(
            lambda seq, y, keys: (to_float(tf.cast(seq, tf.float32) / 255.0), y, keys),
            num_parallel_calls=AUTOTUNE,
            deterministic=False,
        )
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def dataset(
    files: Sequence[str | Path],
    frames: int,
    image_size: int,
    batch_size: int,
    training: bool = False,
    augment: str | None = None,
    prob: float = 0.0,
    seed: int = 42,
    cache: bool | str = "auto",
    drop_remainder: bool = False,
    deterministic: bool = True,
    shard: Shard = ALL,
    decoded: DecodedParts | None = None,
) -> tf.data.Dataset:
    """Batches of (frames (B,T,S,S,3) float32 in [0,1], distance, keys).

    Each element is (inputs, target, keys) where keys holds `video_id` and `time`, so
    predictions are joined to labels by key, never by read order.

    `cache="auto"` keeps decoded frames in memory only when they fit `CACHE_BUDGET_BYTES`
    (decoding is most of the pipeline's cost, so later epochs and folds then skip it).
    `deterministic=True` makes a training epoch reproducible from `seed`: the order is fixed and
    each sequence's augmentation draw comes from a seeded per-element stream instead of a
    stateful op whose draws depend on thread timing; it costs little (bench/pipeline.py).
    `shard=Shard(i, N)` keeps every N-th record from the i-th, before anything is decoded.
    `decoded` (with the cache on and no shard) reads the files' frames from a run-wide
    `DecodedParts` instead of decoding them for this dataset alone.
    """
    files = [str(f) for f in files]
    if not files:
        raise ValueError("no record files given")
    n = _record_total(files, shard)
    if cache == "auto":
        cache = cache_fits(n, frames, image_size)
    _check_decoded(decoded, frames, image_size)
    if cache and shard == ALL and decoded is not None:
        ds = decoded.read(files)
    else:
        ds = _decode_records(files, n, frames, image_size, training, cache, seed, shard)
    if cache and training:
        ds = ds.shuffle(2048, seed=seed, reshuffle_each_iteration=True)
    if not (training and augment):
        return _batch_whole(ds, batch_size, drop_remainder)
    return _augment_and_batch(ds, augment, prob, seed, deterministic, batch_size, drop_remainder)


def without_keys(ds: tf.data.Dataset) -> tf.data.Dataset:
    """(inputs, target) pairs for keras fit/evaluate."""
    return ds.map(lambda x, y, k: (x, y))
