"""The chimpact tf.data pipeline: right pixels, reproducible training epochs, shards, cache rule."""

from io import BytesIO

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lib.chimpact import input_pipeline
from lib.demo.synthetic_records import synthetic_frames, write_records
from lib.stages import Shard


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """21 records of 11 camera-like 192x108 JPEG frames, in 3 shards."""
    return write_records(tmp_path_factory.mktemp("rec"), 21, size=(192, 108), shard_size=8)


def _all(ds):
    xs, ys, vids, times = [], [], [], []
    for x, y, k in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
        vids += [v.decode() for v in k["video_id"].numpy()]
        times += k["time"].numpy().tolist()
    return np.concatenate(xs), np.concatenate(ys), list(zip(vids, times, strict=True))


@pytest.mark.parametrize("size", [16, 48, 160])  # DCT 1/2 + area, full decode + area, enlarge
def test_frames_match_a_plain_decode_and_resize(size):
    """Whatever DCT scale and filter the decoder picks, the pixels are the frame's pixels."""
    jpegs = synthetic_frames(3, size=(192, 108), seed=3)
    got = input_pipeline.decode_frames(tf.constant(jpegs), size, 3).numpy()
    assert got.shape == (3, size, size, 3) and got.dtype == np.uint8
    ref = np.stack(
        [
            np.asarray(Image.open(BytesIO(j)).convert("RGB").resize((size, size), Image.BOX))
            for j in jpegs
        ]
    ).astype(float)
    if size > 108:  # enlarging: box is the wrong reference, bilinear is what we promise
        ref = np.stack(
            [
                np.asarray(
                    Image.open(BytesIO(j)).convert("RGB").resize((size, size), Image.BILINEAR)
                )
                for j in jpegs
            ]
        ).astype(float)
    diff = np.abs(got.astype(float) - ref)
    assert diff.mean() < 2.5, diff.mean()
    assert np.percentile(diff, 99) < 16


def test_evaluation_batches_keep_record_order_and_scale(files):
    x, y, keys = _all(input_pipeline.dataset(files, 7, 24, 5))
    assert x.shape == (21, 7, 24, 24, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05
    again = _all(input_pipeline.dataset(files, 7, 24, 8, cache=False))
    assert keys == again[2] and np.array_equal(x, again[0]) and np.array_equal(y, again[1])


def test_a_training_epoch_is_reproducible_from_the_seed(files):
    def epochs(seed):
        ds = input_pipeline.dataset(
            files, 7, 24, 4, training=True, augment="a4", prob=0.9, seed=seed
        )
        return [_all(ds) for _ in range(2)]

    first, second = epochs(5), epochs(5)
    for a, b in zip(first, second, strict=True):
        assert a[2] == b[2]  # order
        assert np.array_equal(a[0], b[0])  # augmentation draws
    assert first[0][2] != first[1][2]  # a new order every epoch
    assert epochs(6)[0][2] != first[0][2]
    assert sorted(first[0][2]) == sorted(first[1][2])  # every record once per epoch


def test_a_training_set_too_big_for_memory_is_not_cached(files):
    assert input_pipeline.cache_fits(590, 7, 64)  # the demo
    assert not input_pipeline.cache_fits(12_183, 7, 512)  # the real train folds at 512 px: ~67 GB
    x, _, keys = _all(input_pipeline.dataset(files, 7, 24, 4, training=True, cache=False, seed=1))
    assert sorted(keys) == sorted(_all(input_pipeline.dataset(files, 7, 24, 4))[2])


@pytest.mark.parametrize("count", [2, 3, 5])
def test_shards_partition_the_records(files, count):
    whole = _all(input_pipeline.dataset(files, 7, 16, 4))
    parts = [input_pipeline.dataset(files, 7, 16, 4, shard=Shard(i, count)) for i in range(count)]
    seen = []
    for ds in parts:
        x, y, keys = _all(ds)
        assert int(ds.cardinality()) == -(-len(keys) // 4)  # Keras knows each shard's length
        lookup = {k: i for i, k in enumerate(whole[2])}
        idx = [lookup[k] for k in keys]
        assert np.array_equal(x, whole[0][idx]) and np.array_equal(y, whole[1][idx])
        seen += keys
    assert sorted(seen) == sorted(whole[2]) and len(set(seen)) == len(seen)


def test_folds_share_one_decode_of_each_record_file(files, tmp_path):
    """A run's folds read each part's decoded frames from one in-memory cache: after the first
    fold has read every file once, the files can vanish and the other folds still get the same
    frames (any decode would fail), and the pixels equal the per-dataset pipeline's."""
    import shutil

    copies = [shutil.copy(f, tmp_path / f.name) for f in files]
    decoded = input_pipeline.DecodedParts(copies, 7, 24)
    first_val = input_pipeline.dataset(copies[:1], 7, 24, 4, decoded=decoded)
    first_train = input_pipeline.dataset(
        copies[1:], 7, 24, 4, training=True, seed=1, decoded=decoded
    )
    ref = _all(input_pipeline.dataset(files, 7, 24, 4))
    lookup = {k: i for i, k in enumerate(ref[2])}
    x_val, _, keys_val = _all(first_val)
    x_train, _, keys_train = _all(first_train)
    for path in copies:
        path.unlink()
    second_val = _all(input_pipeline.dataset([copies[1]], 7, 24, 4, decoded=decoded))
    second_train = _all(
        input_pipeline.dataset(
            [copies[0], copies[2]], 7, 24, 4, training=True, seed=2, decoded=decoded
        )
    )
    assert sorted(keys_val + keys_train) == sorted(ref[2])
    assert np.array_equal(x_val, ref[0][[lookup[k] for k in keys_val]])
    for x, _, keys in (second_val, second_train):
        assert np.array_equal(x, ref[0][[lookup[k] for k in keys]])
    assert sorted(second_val[2] + second_train[2]) == sorted(ref[2])
    assert int(input_pipeline.dataset(copies[1:], 7, 24, 4, decoded=decoded).cardinality()) == -(
        -len(keys_train) // 4
    )
    with pytest.raises(ValueError, match="decoded parts hold 7 frames of 24 px"):
        input_pipeline.dataset(copies[:1], 9, 24, 4, decoded=decoded)
    with pytest.raises(ValueError, match="not one of the run's record files"):
        input_pipeline.dataset(files[:1], 7, 24, 4, decoded=decoded)
