import math

import numpy as np
import pytest
import tensorflow as tf

from lib import augment

ALL = sorted({name for names in augment.POLICIES.values() for name in names})


def sequence(t=5, h=32, w=32, seed=0):
    """Random, asymmetric frames: every transform changes them."""
    return np.random.default_rng(seed).uniform(0, 1, (t, h, w, 3)).astype(np.float32)


def which(out, candidates):
    """Names of the candidate outputs that `out` equals."""
    return [n for n, c in candidates.items() if np.allclose(out, c, atol=1e-6)]


def test_policies_are_the_writeups():
    assert {k: len(v) for k, v in augment.POLICIES.items()} == {"a1": 9, "a2": 15, "a4": 12}
    a1 = augment.POLICIES["a1"]
    assert augment.POLICIES["a2"][:9] == a1 and augment.POLICIES["a4"][:9] == a1
    assert set(ALL) == set(augment.TRANSFORMS)


@pytest.mark.parametrize("name", ALL)
def test_every_transform_keeps_shape_dtype_range_and_acts_per_frame(name):
    x = sequence()
    out = augment.apply(x, name)
    assert out.shape == x.shape and out.dtype == tf.float32
    y = out.numpy()
    assert y.min() >= 0.0 and y.max() <= 1.0
    assert not np.allclose(y, x)  # every transform changes an asymmetric colour image
    # The same transform on each frame alone gives the same frame: nothing mixes frames.
    for t in range(x.shape[0]):
        np.testing.assert_allclose(y[t], augment.apply(x[t : t + 1], name).numpy()[0], atol=1e-6)
    # Identical input frames give identical output frames.
    same = np.repeat(x[:1], 3, axis=0)
    z = augment.apply(same, name).numpy()
    assert np.array_equal(z[0], z[1]) and np.array_equal(z[0], z[2])


def test_flips_and_right_angle_rotations_match_numpy():
    x = sequence(t=2, h=16, w=16)
    np.testing.assert_array_equal(augment.apply(x, "flip_lr"), np.flip(x, axis=2))
    np.testing.assert_array_equal(augment.apply(x, "flip_ud"), np.flip(x, axis=1))
    for k, name in [(1, "rotate90"), (2, "rotate180"), (3, "rotate270")]:
        np.testing.assert_array_equal(augment.apply(x, name), np.rot90(x, k, axes=(1, 2)))
    # The rebuilt tfa.image.rotate turns the same way (counter-clockwise) as np.rot90.
    np.testing.assert_array_equal(
        augment._rotate(tf.constant(x), math.pi / 2), np.rot90(x, axes=(1, 2))
    )


def test_right_angle_rotation_of_non_square_frames_is_resized_back():
    x = sequence(t=2, h=24, w=32)
    for name in ("rotate90", "rotate270", "rotate45_crop"):
        assert augment.apply(x, name).shape == x.shape


def test_diagonal_rotation_crop_leaves_no_black_corners():
    ones = np.ones((1, 100, 100, 3), np.float32)
    for name in ("rotate45_crop", "rotate135_crop", "rotate225_crop", "rotate315_crop"):
        assert augment.apply(ones, name).numpy().min() > 0.99


def tfa_blur_reference(x, size, sigma=5.0):
    """numpy version of tfa.image.gaussian_filter2d(x, filter_shape=size, sigma=sigma).

    tfa built the 1-D kernel on offsets range(-size//2 + 1, size//2 + 1) (for size 10: -4..5, not
    the symmetric -4.5..4.5), normalised it, and padded with REFLECT (numpy's "reflect": the edge
    pixel is not repeated), (size-1)//2 before and the rest after, then a VALID correlation.
    """
    offsets = np.arange(-size // 2 + 1, size // 2 + 1)
    k = np.exp(-(offsets**2) / (2 * sigma**2))
    k /= k.sum()
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    out = np.empty_like(x, dtype=np.float64)
    h, w = x.shape[1:3]
    for t in range(x.shape[0]):
        p = np.pad(x[t].astype(np.float64), ((before, after), (before, after), (0, 0)), "reflect")
        rows = sum(k[i] * p[i : i + h] for i in range(size))
        out[t] = sum(k[j] * rows[:, j : j + w] for j in range(size))
    return out


@pytest.mark.parametrize(("name", "size"), [("blur10", 10), ("blur20", 20)])
def test_blur_equals_tfa_gaussian_filter(name, size):
    x = sequence(t=2)
    expected = tfa_blur_reference(x, size)
    # Same padding as tfa, so the whole image matches, borders included.
    np.testing.assert_allclose(augment.apply(x, name).numpy(), expected, atol=1e-4)
    kernel = augment.tfa_gaussian_kernel(size, 5.0)
    assert kernel.shape == (size,) and kernel.sum() == pytest.approx(1.0)


def test_colour_transforms():
    x = sequence(t=2)
    gray = augment.apply(x, "gray").numpy()
    assert np.allclose(gray[..., 0], gray[..., 1]) and np.allclose(gray[..., 0], gray[..., 2])
    np.testing.assert_allclose(gray[..., 0], x @ np.array([0.2989, 0.587, 0.114]), atol=1e-3)
    bright = augment.apply(x, "gray_brightness+0.4").numpy()
    np.testing.assert_allclose(bright, np.clip(gray + 0.4, 0, 1), atol=1e-6)
    dark = augment.apply(x, "gray_brightness-0.4").numpy()
    np.testing.assert_allclose(dark, np.clip(gray - 0.4, 0, 1), atol=1e-6)
    hue = augment.apply(x, "hue+0.4").numpy()
    np.testing.assert_allclose(hue, tf.image.adjust_hue(x, 0.4).numpy(), atol=1e-6)


def draws(frames, policy, prob, n):
    """n seeded augmentations of the same frames, run in graph mode through tf.data."""
    ds = tf.data.Dataset.range(n).map(
        lambda i: augment.augment(
            frames, policy, prob, seed=tf.stack([tf.constant(42, tf.int64), i])
        )
    )
    return np.stack(list(ds.as_numpy_iterator()))


@pytest.mark.parametrize(("policy", "prob"), [("a4", 0.5), ("a2", 0.8), ("a1", 0.8)])
def test_share_of_augmented_sequences_is_prob_and_each_uses_one_transform(policy, prob):
    x = sequence(t=3, h=16, w=16, seed=3)
    n = 400
    outs = draws(tf.constant(x), policy, prob, n)
    candidates = {name: augment.apply(x, name).numpy() for name in augment.POLICIES[policy]}
    candidates["none"] = x
    picked = []
    for out in outs:
        match = which(out, candidates)
        assert len(match) == 1, match  # all frames got one and the same transform
        picked.append(match[0])
    share = np.mean([p != "none" for p in picked])
    assert abs(share - prob) < 4 * math.sqrt(prob * (1 - prob) / n)
    assert set(picked) == set(candidates)  # every transform of the policy gets drawn


def test_identical_frames_stay_identical_under_augment():
    x = np.repeat(sequence(t=1, seed=5), 4, axis=0)
    for seed in range(12):
        out = augment.augment(x, "a4", 1.0, seed=tf.constant([seed, 0])).numpy()
        assert all(np.array_equal(out[0], out[t]) for t in range(1, 4))


def test_same_stateless_seed_same_output():
    x = sequence(t=3)
    seeds = [tf.constant([s, 9]) for s in range(6)]
    first = [augment.augment(x, "a2", 0.8, seed=s).numpy() for s in seeds]
    again = [augment.augment(x, "a2", 0.8, seed=s).numpy() for s in seeds]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert len({a.tobytes() for a in first}) > 1  # different seeds, different draws


def test_make_augmenter_in_a_tf_data_pipeline():
    x = sequence(t=3, h=16, w=16, seed=7)
    ds = tf.data.Dataset.from_tensors((x, 4.5)).repeat(20).map(augment.make_augmenter("a4", 0.5))
    candidates = {name: augment.apply(x, name).numpy() for name in augment.POLICIES["a4"]}
    candidates["none"] = x
    assert ds.element_spec[0].shape == (3, 16, 16, 3)
    for frames, label in ds.as_numpy_iterator():
        assert label == 4.5 and frames.dtype == np.float32
        assert len(which(frames, candidates)) == 1
    only_frames = tf.data.Dataset.from_tensors(x).map(augment.make_augmenter("a1", 0.5))
    assert next(iter(only_frames)).shape == x.shape
    assert np.array_equal(augment.augment(x, "a1", 0.0).numpy(), x)


def test_bad_inputs_raise_clear_errors():
    x = sequence(t=1, h=16, w=16)
    with pytest.raises(ValueError, match="unknown augmentation policy 'a3'"):
        augment.augment(x, "a3", 0.5)
    with pytest.raises(ValueError, match="probability must be a number in"):
        augment.make_augmenter("a1", 1.5)
    with pytest.raises(ValueError, match="unknown transform 'spin'"):
        augment.apply(x, "spin")
    with pytest.raises(ValueError, match="must be float32"):
        augment.apply((x * 255).astype(np.uint8), "flip_lr")
    with pytest.raises(ValueError, match=r"shape \(T, H, W, 3\)"):
        augment.apply(x[0], "flip_lr")
