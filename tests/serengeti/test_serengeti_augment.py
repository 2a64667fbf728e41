"""The serengeti training augmentations: the write-up's flip, and flip-zoom-light (a random zoom
crop and brightness/contrast jitter), one draw per example shared by all its streams."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers.serengeti_records import one_image_record

from lib.serengeti import input_pipeline

ZOOM_KEPT = input_pipeline.ZOOM_MIN


def _picture(seed: int = 0) -> tf.Tensor:
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(0.2, 0.8, (24, 32, 3)).astype(np.float32))


def test_one_draw_moves_both_streams_alike_and_lights_only_the_picture():
    img = _picture()
    x = {"mean": img, "background": img}
    moved = [input_pipeline.zoom_light(x, tf.constant([3, s], tf.int64), ()) for s in range(8)]
    lit = [input_pipeline.zoom_light(x, tf.constant([3, s], tf.int64), ("mean",)) for s in range(8)]
    for geo, out in zip(moved, lit, strict=True):
        # the same crop and flip for both streams of an example
        np.testing.assert_array_equal(geo["mean"].numpy(), geo["background"].numpy())
        # the background stream gets the geometry only; the picture also its light change
        np.testing.assert_array_equal(out["background"].numpy(), geo["background"].numpy())
        assert out["mean"].shape == img.shape
        assert 0.0 <= float(tf.reduce_min(out["mean"])) <= float(tf.reduce_max(out["mean"])) <= 1
    assert all(not np.allclose(o["mean"], g["mean"]) for o, g in zip(lit, moved, strict=True))
    # each seed its own draw, the same seed the same draw
    assert not np.allclose(moved[0]["mean"], moved[1]["mean"])
    again = input_pipeline.zoom_light(x, tf.constant([3, 0], tf.int64), ("mean",))
    np.testing.assert_array_equal(again["mean"].numpy(), lit[0]["mean"].numpy())


def test_zoom_stays_inside_the_image():
    # a horizontal ramp: any crop inside the image keeps values within the ramp's range and
    # (unflipped or flipped) monotonic along each row
    ramp = tf.tile(tf.linspace(0.1, 0.9, 32)[tf.newaxis, :, tf.newaxis], (24, 1, 3))
    for s in range(10):
        out = input_pipeline.zoom_light({"image": ramp}, tf.constant([5, s], tf.int64), ())["image"]
        row = out.numpy()[12, :, 0]
        assert row.min() >= 0.1 - 1e-6 and row.max() <= 0.9 + 1e-6
        steps = np.diff(row)
        assert (steps >= -1e-6).all() or (steps <= 1e-6).all()
        assert row.max() - row.min() >= 0.8 * ZOOM_KEPT - 0.03  # at least 80 % of the row kept


def test_an_unknown_augmentation_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="augment must be one of flip, flip-zoom-light"):
        input_pipeline.dataset(
            [tmp_path / "x-00-n0001.tfrec"], "single", (24, 32), 1, augment="rotate"
        )


def test_training_batches_follow_the_chosen_augmentation_and_the_seed(tmp_path):
    image = (np.asarray(_picture(1)) * 255).astype(np.uint8)
    path = one_image_record(tmp_path / "one-00-n0001.tfrec", image)

    def first(augment: str, seed: int) -> np.ndarray:
        ds = input_pipeline.dataset(
            [path], "single", (24, 32), 1, training=True, seed=seed, augment=augment
        )
        return next(iter(ds))[0].numpy()[0]

    plain = image / 255.0
    flipped = first("flip", 4)
    assert np.allclose(flipped, plain, atol=1e-6) or np.allclose(flipped, plain[:, ::-1], atol=1e-6)
    zoomed = first("flip-zoom-light", 4)
    np.testing.assert_array_equal(zoomed, first("flip-zoom-light", 4))
    assert not np.allclose(zoomed, plain, atol=1e-3) and not np.allclose(
        zoomed, plain[:, ::-1], atol=1e-3
    )
    assert 0.0 <= zoomed.min() <= zoomed.max() <= 1.0
