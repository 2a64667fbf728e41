"""tf.data input pipeline for chimpact records: read -> parse -> decode -> (augment) -> batch.

Frames are decoded and resized once and cached as uint8 when the dataset fits in memory
(demo sizes); augmentation runs after the cache so every epoch draws new transforms.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

from lib import records  # noqa: E402
from lib.chimpact.records import SPEC  # noqa: E402
from lib.chimpact.windows import middle  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE


def decode_frames(frames: tf.Tensor, size: int) -> tf.Tensor:
    """JPEG frames (T,) -> (T, size, size, 3) uint8: the one decode both training and the predict
    CLI use, so a bundle sees exactly the pixels its models were trained on."""

    def one(jpeg):
        img = tf.io.decode_jpeg(jpeg, channels=3)
        img = tf.image.resize(img, (size, size), antialias=True)  # aspect not kept (write-up)
        return tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

    return tf.map_fn(one, frames, fn_output_signature=tf.TensorSpec((size, size, 3), tf.uint8))


def dataset(
    files: Sequence[str | Path],
    frames: int,
    image_size: int,
    batch_size: int,
    training: bool = False,
    augment: str | None = None,
    prob: float = 0.0,
    seed: int = 42,
    cache: bool = True,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of (frames (B,T,S,S,3) float32 in [0,1], distance, keys).

    Each element is (inputs, target, keys) where keys holds `video_id` and `time`, so
    predictions are joined to labels by key, never by read order.
    """
    files = [str(f) for f in files]
    if not files:
        raise ValueError("no record files given")
    sel = middle(frames)
    n = sum(records.record_count(f) for f in files)
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))
    ds = ds.apply(tf.data.experimental.assert_cardinality(n))  # lets Keras know the epoch length

    def parse(raw):
        ex = records.parse(raw, SPEC)
        seq = decode_frames(ex["frames"][sel], image_size)
        return seq, ex["distance"], {"video_id": ex["video_id"], "time": ex["time"]}

    ds = ds.map(parse, num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(2048, seed=seed, reshuffle_each_iteration=True)
    augmenting = bool(training and augment)
    if augmenting:
        # one stateless seed pair per element from a seeded stream: parallel map workers then
        # draw the same transforms for the same elements every run (stateful ops would not)
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed).batch(2)))
        ds = ds.map(lambda elem, pair: (*elem, pair))

    def finish(seq, y, keys, pair=None):
        x = tf.cast(seq, tf.float32) / 255.0
        if augmenting:
            from lib.augment import augment as apply_policy

            x = apply_policy(x, augment, prob, seed=pair)
        return x, y, keys

    ds = ds.map(finish, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def without_keys(ds: tf.data.Dataset) -> tf.data.Dataset:
    """(inputs, target) pairs for keras fit/evaluate."""
    return ds.map(lambda x, y, k: (x, y))
