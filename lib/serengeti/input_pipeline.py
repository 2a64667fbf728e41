"""tf.data input pipeline for Serengeti records: read -> parse -> decode -> cache -> (shuffle,
flip) -> batch -> prefetch.

Elements are (inputs, target, keys): inputs are float32 images in [0, 1] - one tensor for the
single and background models (input `image`), a dict {"mean", "background"} for the two-stream
model; the target is the 54 labels (scaled to sum to 1 for the softmax head); keys are `seq_id`
and `image_index` (0 for sequence examples), so predictions are joined to labels by key, never
by read order. Training flips left-right at random - the same flip for both streams of a
two-stream example (a background that moved one way and a mean that moved the other would be
two different scenes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lib import tfrecord_io  # noqa: E402
from lib.serengeti.records import SPECS  # noqa: E402
from lib.serengeti.schema import CLASSES, KEY  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
# what each model reads: record kind and {model input name: record field}
SOURCES = {
    "single": ("images", {"image": None}),  # None: the run's resize chain (flow or naive)
    "background": ("sequences", {"image": "background"}),
    "twostream": ("sequences", {"mean": "mean", "background": "background"}),
}


def dataset(
    files: Sequence[str | Path],
    model: str,
    image_size: tuple[int, int],
    batch_size: int,
    resize: str = "flow",
    training: bool = False,
    seed: int = 42,
    first_only: bool = False,
    softmax: bool = False,
    output_size: tuple[int, int] | None = None,
    augment: str = "flip",
) -> tf.data.Dataset:
    """Batches of (inputs, target, keys) for `model` (single | background | twostream).

    `image_size` is the size the records hold; `output_size` (smaller), if given, shrinks every
    image to it with an antialiased Lanczos filter - the flow's own filter - before the cache, so
    a progressive-resizing stage caches and trains on its small images only.

    `augment` (training only): "flip", the write-up's random left-right flip, or "flip-zoom-light"
    (`AUGMENTS`), which also zooms into a random crop and jitters brightness and contrast."""
    if augment not in AUGMENTS:
        raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}, got {augment!r}")
    files = [str(f) for f in files]
    if not files:
        raise ValueError("no record files given")
    kind, fields = SOURCES[model]
    fields = {name: (resize if f is None else f) for name, f in fields.items()}
    h, w = image_size
    if output_size is not None and (output_size[0] > h or output_size[1] > w):
        raise ValueError(f"output_size {output_size} is larger than the stored {image_size}")
    ds = _counted_records(files)
    parse = _parser(SPECS[kind], fields, image_size, output_size)
    ds = ds.map(parse, num_parallel_calls=AUTOTUNE, deterministic=True)
    if first_only:
        ds = ds.filter(lambda x, y, k, first: first == 1)
    ds = ds.map(lambda x, y, k, first: (x, y, k)).cache()
    finish = _finisher(fields, augment, softmax)
    if training:
        ds = _with_seed_pairs(ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True), seed)
        ds = ds.map(lambda el, pair: finish(*el, pair), num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(finish, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def _counted_records(files: list[str]) -> tf.data.Dataset:
    """The raw records of `files` with their count asserted up front: Keras then knows the
    epoch length (progress, steps) without a first pass over the shards."""
    n = sum(tfrecord_io.record_count(f) for f in files)
    ds = tf.data.TFRecordDataset(files)
    return ds.apply(tf.data.experimental.assert_cardinality(n))


def _parser(
    spec: tfrecord_io.Spec,
    fields: dict[str, str],
    image_size: tuple[int, int],
    output_size: tuple[int, int] | None,
) -> Callable[[tf.Tensor], tuple]:
    """Record -> (inputs as uint8 at the stage's size, labels, keys, first): one parser for
    image and sequence records, which lack `image_index` and `first` (a sequence is index 0 and
    always its own first)."""
    h, w = image_size

    def parse(raw: tf.Tensor) -> tuple:
        ex = tfrecord_io.parse(raw, spec)
        x = {
            name: _shrink(tf.reshape(tf.io.decode_raw(ex[f], tf.uint8), (h, w, 3)), output_size)
            for name, f in fields.items()
        }
        keys = {
            KEY: ex["seq_id"],
            "image_index": ex["image_index"] if "image_index" in ex else tf.constant(0, tf.int64),
        }
        first = ex["first"] if "first" in ex else tf.constant(1, tf.int64)
        return x, ex["labels"], keys, first

    return parse


def _with_seed_pairs(ds: tf.data.Dataset, seed: int) -> tf.data.Dataset:
    """Each element zipped with its own seed pair from a seeded stream (new pairs each epoch).

    The augmentation is drawn with stateless ops from that pair, so which example is flipped
    depends on the seed and the element's place only - not on which parallel map thread reached
    a shared random op first (the stateful `tf.random.uniform` made two same-seed runs differ)."""
    pairs = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip(ds, pairs)


def _finisher(fields: dict[str, str], augment: str, softmax: bool) -> Callable[..., tuple]:
    """The after-cache step: scale to [0, 1], augment when a seed pair comes with the element
    (training), normalise the softmax target, and unwrap single-input models' one stream."""
    # brightness and contrast are not jittered on a background image: a lifted floor there
    # would read as motion everywhere
    lit = tuple(name for name, f in fields.items() if f != "background")

    def finish(x: dict, y: tf.Tensor, keys: dict, pair: tf.Tensor | None = None) -> tuple:
        x = {name: tf.cast(v, tf.float32) / 255.0 for name, v in x.items()}
        if pair is not None and augment != "flip":
            x = zoom_light(x, pair, lit)
        elif pair is not None:
            x = flip_streams(x, tf.random.stateless_uniform((), seed=pair) < 0.5)
        if softmax:
            y = y / tf.maximum(tf.reduce_sum(y), 1.0)
        if len(x) == 1:
            x = next(iter(x.values()))
        return x, y, keys

    return finish


AUGMENTS = ("flip", "flip-zoom-light")
ZOOM_MIN = 0.8  # the crop keeps 80-100 % of each side (zoom in up to 1.25x), anywhere inside
BRIGHTNESS = 0.1  # added to [0, 1] pixels, +-
CONTRAST = (0.8, 1.2)  # factor about each image's mean


def zoom_light(x: dict, pair: tf.Tensor, lit: tuple[str, ...]) -> dict:
    """One random flip, zoom crop and (for the `lit` streams) brightness/contrast change per
    example, the same for all its streams; each draw comes from its own stateless seed split
    off the example's pair, so the stream is a function of the run seed only."""
    seeds = tf.random.experimental.stateless_split(pair, 5)
    flip = tf.random.stateless_uniform((), seed=seeds[0]) < 0.5
    side = tf.random.stateless_uniform((), seed=seeds[1], minval=ZOOM_MIN, maxval=1.0)
    corner = tf.random.stateless_uniform((2,), seed=seeds[2]) * (1.0 - side)
    box = tf.stack([corner[0], corner[1], corner[0] + side, corner[1] + side])[tf.newaxis]
    delta = tf.random.stateless_uniform((), seed=seeds[3], minval=-BRIGHTNESS, maxval=BRIGHTNESS)
    factor = tf.random.stateless_uniform((), seed=seeds[4], minval=CONTRAST[0], maxval=CONTRAST[1])
    out = {}
    for name, v in flip_streams(x, flip).items():
        v = tf.image.crop_and_resize(v[tf.newaxis], box, [0], v.shape[:2])[0]
        if name in lit:
            v = tf.image.adjust_contrast(v, factor) + delta
        out[name] = tf.clip_by_value(v, 0.0, 1.0)
    return out


def flip_streams(x: dict, flip: tf.Tensor) -> dict:
    """Every stream of one example mirrored left-right when `flip` is true: one draw for all
    (a background that moved one way and a mean that moved the other would be two scenes)."""
    return {
        name: tf.cond(flip, lambda v=v: tf.reverse(v, [1]), lambda v=v: v) for name, v in x.items()
    }


def _shrink(image: tf.Tensor, size: tuple[int, int] | None) -> tf.Tensor:
    if size is None or tuple(size) == tuple(image.shape[:2]):
        return image
    small = tf.image.resize(image, size, method="lanczos3", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(small), 0, 255), tf.uint8)


def without_keys(ds: tf.data.Dataset) -> tf.data.Dataset:
    """(inputs, target) pairs for keras fit/evaluate."""
    return ds.map(lambda x, y, k: (x, y))


def flip(x):
    """Left-right flip of a batch (NHWC), of every stream alike."""
    if isinstance(x, dict):
        return {k: tf.reverse(v, [2]) for k, v in x.items()}
    return tf.reverse(x, [2])


def predict(model, ds: tf.data.Dataset) -> pd.DataFrame:
    """Scores of every element, as-is and flipped: columns seq_id, image_index, view
    ("orig" | "flip") and the 54 classes; the flip-TTA score is the mean of the two views."""
    keys_s, keys_i, orig, flipped = [], [], [], []
    for x, _, k in ds:
        orig.append(np.asarray(model.predict_on_batch(x), dtype=np.float64))
        flipped.append(np.asarray(model.predict_on_batch(flip(x)), dtype=np.float64))
        keys_s += [v.decode() for v in k[KEY].numpy()]
        keys_i += [int(v) for v in k["image_index"].numpy()]
    frames = []
    for view, parts in (("orig", orig), ("flip", flipped)):
        values = np.concatenate(parts) if parts else np.zeros((0, len(CLASSES)))
        frame = pd.DataFrame(values, columns=list(CLASSES))
        frame.insert(0, "view", view)
        frame.insert(0, "image_index", np.asarray(keys_i, np.int64))
        frame.insert(0, KEY, keys_s)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def view(pred: pd.DataFrame, which: str = "tta") -> pd.DataFrame:
    """One score per (seq_id, image_index): the "orig" view, the "flip" view, or "tta" (mean)."""
    if which in ("orig", "flip"):
        return pred[pred["view"] == which].drop(columns="view").reset_index(drop=True)
    if which != "tta":
        raise ValueError(f"view must be orig, flip or tta, got {which!r}")
    return pred.groupby([KEY, "image_index"], sort=True)[list(CLASSES)].mean().reset_index()


def per_sequence(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean over a sequence's scored images: seq_id + 54 classes."""
    return scores.groupby(KEY, sort=True)[list(CLASSES)].mean().reset_index()
