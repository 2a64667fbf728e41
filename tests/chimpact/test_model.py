"""The CNN-LSTM builds and trains with both backbones (EfficientNet-B0 at a tiny size)."""

import keras
import numpy as np
import pytest

from lib.chimpact.model import ModelConfig, build_model


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(
            frames=7,
            image_size=32,
            backbone="efficientnet_b0",
            backbone_weights=None,
            lstm_units=16,
            dense_units=8,
        ),
        ModelConfig(frames=9, image_size=32, backbone="small", lstm_units=8, dense_units=8),
        ModelConfig(
            frames=7,
            image_size=32,
            backbone="small",
            lstm_units=8,
            dense_units=8,
            time_distributed=True,
        ),
    ],  # fmt: skip
    ids=["efficientnet_b0", "small", "small-timedistributed"],
)
def test_model_trains_a_step_and_predicts_one_distance_per_sequence(cfg):
    keras.utils.set_random_seed(0)
    model = build_model(cfg)
    x = np.random.default_rng(0).random((4, cfg.frames, 32, 32, 3), dtype=np.float32)
    y = np.array([1.0, 2.0, 5.5, 12.0], np.float32)
    model.compile(keras.optimizers.Adam(1e-3), loss="mae")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    out = model.predict(x, verbose=0)
    assert out.shape == (4, 1) and out.dtype == np.float32


def test_a_missing_local_weights_file_is_a_clear_error(tmp_path):
    cfg = ModelConfig(image_size=32, backbone_weights=str(tmp_path / "nope.h5"))
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        build_model(cfg)


def test_local_backbone_weights_load_without_internet(tmp_path):
    """Users without internet point `backbone_weights` at a file; here one the test writes."""
    base = keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg"
    )
    path = tmp_path / "effnet_notop.weights.h5"
    base.save_weights(path)
    model = build_model(
        ModelConfig(
            frames=7, image_size=32, backbone_weights=str(path), lstm_units=8, dense_units=8
        )
    )
    cnn = model.get_layer("efficientnet_b0")  # wrapper: Rescaling(255) -> Keras EfficientNetB0
    loaded = cnn.layers[-1].get_weights()
    assert len(loaded) == len(base.get_weights())
    assert all(np.allclose(a, b) for a, b in zip(loaded, base.get_weights(), strict=True))


def test_unknown_backbone_and_pool_are_rejected():
    with pytest.raises(ValueError, match="backbone"):
        build_model(ModelConfig(image_size=32, backbone="resnet"))
    with pytest.raises(ValueError, match="small_pool"):
        build_model(ModelConfig(image_size=32, backbone="small", small_pool="max"))
    with pytest.raises(ValueError, match="small_downsample"):
        build_model(ModelConfig(image_size=32, backbone="small", small_downsample="blur"))


def test_the_downsampling_layouts_halve_the_map_where_they_say():
    """Each layout ends on the same (size/16)^2 map; pool_first convolves every block after the
    stem on the max-pooled half-size map, pool_stem convolves the same maps but normalizes the
    stem's after its max-pool, pool convolves at full size and pools after, stride does not
    pool."""
    from lib.chimpact.model import backbone
    from lib.chimpact.model_config import DOWNSAMPLING

    convs, norms, pools = {}, {}, {}
    for layout in DOWNSAMPLING:
        cnn = backbone(ModelConfig(image_size=64, backbone="small", small_downsample=layout))
        assert cnn.output.shape[-1] == 16 * 4 * 4
        sizes = [(type(ly).__name__, ly.output.shape[1]) for ly in cnn.layers[1:]]
        convs[layout] = [size for kind, size in sizes if kind == "Conv2D"]
        norms[layout] = [size for kind, size in sizes if kind == "BatchNormalization"]
        pools[layout] = sum(kind == "MaxPooling2D" for kind, _ in sizes)
    assert pools == {"pool_stem": 3, "pool_first": 3, "pool": 3, "stride": 0}
    assert convs["pool_first"] == convs["pool_stem"] == [32, 16, 8, 4, 4]
    assert norms["pool_first"] == [32, 16, 8, 4]
    assert norms["pool_stem"] == [16, 16, 8, 4]
    assert convs["stride"] == [32, 16, 8, 4, 4]
    assert convs["pool"] == [32, 32, 16, 8, 4]
    from lib import profiles

    assert profiles.get("demo").model.small_downsample == "pool_stem"


def test_motion_channels_are_the_difference_from_the_window_mean():
    from lib.chimpact.model import with_motion

    x = np.random.default_rng(1).random((2, 5, 8, 8, 3), dtype=np.float32)
    out = keras.ops.convert_to_numpy(with_motion(x))
    assert out.shape == (2, 5, 8, 8, 6)
    np.testing.assert_allclose(out[..., :3], x)
    np.testing.assert_allclose(out[..., 3:], np.abs(x - x.mean(axis=1, keepdims=True)), atol=1e-6)


def test_standardized_sequences_ignore_brightness():
    """A gamma-darkened copy of a sequence (scaled pixel values) looks the same to the CNN."""
    from lib.chimpact.model import standardized

    x = np.random.default_rng(2).random((1, 5, 8, 8, 3), dtype=np.float32)
    a = keras.ops.convert_to_numpy(standardized(x))
    b = keras.ops.convert_to_numpy(standardized(0.44 * x))
    assert abs(a.mean()) < 1e-5 and 0.9 < a.std() <= 1.0  # the 0.02 floor shrinks it a little
    assert abs(b.mean()) < 1e-5 and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9999
    assert 0.85 < b.std() / a.std() <= 1.0  # the darkened copy differs only by the floor's share


def test_demo_model_options_survive_a_keras_save_and_load(tmp_path):
    """Bundles store `.keras` files: the in-graph motion/standardize ops must round-trip."""
    cfg = ModelConfig(
        frames=7, image_size=32, backbone="small", lstm_units=8, dense_units=8,
        small_bn_momentum=0.9, motion=True, standardize=True, output_bias=6.0,
    )  # fmt: skip
    keras.utils.set_random_seed(0)
    model = build_model(cfg)
    x = np.random.default_rng(3).random((3, 7, 32, 32, 3), dtype=np.float32)
    # an untrained model starts at its output bias, so predictions start near it
    assert model.get_layer("distance").get_weights()[1][0] == pytest.approx(6.0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="small backbone"):
        build_model(ModelConfig(image_size=32, backbone_weights=None, motion=True))
