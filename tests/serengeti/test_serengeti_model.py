"""The three networks build at tiny sizes, train a step, and pass weights down the ladder.

Steps run eagerly: tracing InceptionResNetV2's training graph takes minutes on a 2-core CPU,
one eager step seconds, and the layers and weights under test are the same.
"""

import keras
import numpy as np
import pytest

from lib.serengeti import model as sm
from lib.serengeti.model import ModelConfig, build_model


def _batch(cfg: ModelConfig, n: int = 2):
    rng = np.random.default_rng(0)
    x = rng.random((n, *cfg.image_size, 3), dtype=np.float32)
    y = np.zeros((n, 54), np.float32)
    y[0, 15] = 1  # empty
    y[1, [52, 51]] = 1  # zebra and wildebeest together
    if cfg.model == "twostream":
        return {"mean": x, "background": x[::-1].copy()}, y
    return x, y


def _train_step(model: keras.Model, cfg: ModelConfig, x, y) -> float:
    model.compile(keras.optimizers.Adam(1e-3), loss=sm.loss(cfg), run_eagerly=True)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=len(y), verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    return float(history.history["loss"][0])


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(
            ModelConfig(backbone="irv2", image_size=(75, 75), backbone_weights=None),
            marks=pytest.mark.slow,  # 55M parameters: 5-30 s on a 2-core CPU
        ),
        ModelConfig(backbone="mnv2", image_size=(32, 48), backbone_weights=None),
        ModelConfig(model="background", backbone="small", image_size=(32, 48), small_width=8),
        ModelConfig(
            model="twostream",
            backbone="small",
            image_size=(32, 48),
            small_width=8,
            fusion_filters=16,
        ),
    ],  # fmt: skip
    ids=["single-irv2", "single-mnv2", "background-small", "twostream-small"],
)
def test_model_trains_a_step_and_gives_54_probabilities(cfg):
    keras.utils.set_random_seed(0)
    model = build_model(cfg)
    x, y = _batch(cfg)
    assert np.isfinite(_train_step(model, cfg, x, y))
    out = model.predict(x, verbose=0)
    assert out.shape == (2, 54) and out.dtype == np.float32
    assert ((out >= 0) & (out <= 1)).all()
    assert model.get_layer("max_pool").__class__.__name__ == "GlobalMaxPooling2D"
    if cfg.model == "twostream":
        assert model.get_layer("fusion").filters == 16
        assert {t.name for t in model.inputs} == {"mean", "background"}
    else:
        assert model.get_layer("dropout").rate == pytest.approx(0.05)


def test_softmax_benchmark_head():
    cfg = ModelConfig(backbone="small", head="softmax", image_size=(32, 32), small_width=8)
    model = build_model(cfg)
    x, y = _batch(cfg)
    targets = sm.softmax_targets(y)
    assert targets[1, 52] == pytest.approx(0.5) and targets.sum(axis=1) == pytest.approx(1.0)
    assert np.isfinite(_train_step(model, cfg, x, targets))
    assert model.predict(x, verbose=0).sum(axis=1) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="no class"):
        sm.softmax_targets(np.zeros((1, 54)))


def test_background_and_twostream_start_from_their_parents(tmp_path):
    keras.utils.set_random_seed(1)
    kw = {"backbone": "small", "image_size": (32, 48), "small_width": 8}
    single = build_model(ModelConfig(**kw))
    single.save_weights(tmp_path / "single.weights.h5")
    bg = sm.load_parent_weights(
        build_model(ModelConfig(model="background", **kw)), tmp_path / "single.weights.h5"
    )
    for a, b in zip(single.get_weights(), bg.get_weights(), strict=True):
        assert np.array_equal(a, b)
    # make the background model differ, as fine-tuning would
    bg.set_weights([w + 0.5 for w in bg.get_weights()])
    bg.save_weights(tmp_path / "bg.weights.h5")

    cfg = ModelConfig(model="twostream", fusion_filters=8, **kw)
    two = sm.init_twostream(
        build_model(cfg), cfg, tmp_path / "single.weights.h5", tmp_path / "bg.weights.h5"
    )
    for stream, parent in (("mean_backbone", single), ("background_backbone", bg)):
        got = two.get_layer(stream).get_weights()
        want = parent.get_layer("backbone").get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), stream
    with pytest.raises(FileNotFoundError, match="train the single model first"):
        sm.load_parent_weights(single, tmp_path / "nope.weights.h5")


def test_config_is_checked():
    with pytest.raises(ValueError, match="unknown backbone"):
        ModelConfig(backbone="resnet")
    with pytest.raises(ValueError, match="too small for backbone 'irv2'"):
        ModelConfig(backbone="irv2", image_size=(64, 64))
    with pytest.raises(ValueError, match="softmax head is only for the single"):
        ModelConfig(model="twostream", head="softmax")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        build_model(ModelConfig(backbone="mnv2", image_size=(32, 32), backbone_weights="nope.h5"))
