"""Fold training resumes after an interruption and skips finished folds."""

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from lib import training


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8), dtype=np.float32)
    y = (x.sum(axis=1) * 2).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(4)


def _build():
    inp = keras.Input((8,))
    return keras.Model(inp, keras.layers.Dense(1)(keras.layers.Dense(4, activation="relu")(inp)))


class _StopAfter(keras.callbacks.Callback):
    """Simulates a crash: raises after `epochs` epochs have been saved by BackupAndRestore."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.epochs:
            raise KeyboardInterrupt


def test_an_interrupted_fold_continues_from_its_last_epoch(tmp_path, monkeypatch):
    strategy = training.select_strategy("default")
    fold, weights = tmp_path / "fold0", tmp_path / "w.weights.h5"
    real_fit = keras.Model.fit

    def crashing_fit(self, *args, callbacks=None, **kwargs):
        return real_fit(self, *args, callbacks=[*callbacks, _StopAfter(2)], **kwargs)

    monkeypatch.setattr(keras.Model, "fit", crashing_fit)
    try:
        training.fit(_build, _data(), _data(8, 1), fold, weights, 5, 1e-2, strategy, verbose=0)
    except KeyboardInterrupt:
        pass
    assert not (fold / "done.json").exists()
    assert len(pd.read_csv(fold / "history.csv")) == 2

    trained = []

    class _Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            trained.append(epoch)

    def counting_fit(self, *args, callbacks=None, **kwargs):
        return real_fit(self, *args, callbacks=[*callbacks, _Count()], **kwargs)

    monkeypatch.setattr(keras.Model, "fit", counting_fit)
    info = training.fit(_build, _data(), _data(8, 1), fold, weights, 5, 1e-2, strategy, verbose=0)
    assert trained == [2, 3, 4]  # resumed after the two finished epochs, not restarted
    history = pd.read_csv(fold / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2, 3, 4]
    assert info["epochs"] == 5 and weights.is_file()
    assert info["best_val_mae"] == history["val_loss"].min()
    assert json.loads((fold / "done.json").read_text()) == info


def test_a_finished_fold_is_not_trained_again(tmp_path):
    strategy = training.select_strategy("default")
    fold, weights = tmp_path / "fold0", tmp_path / "w.weights.h5"
    first = training.fit(_build, _data(), _data(8, 1), fold, weights, 2, 1e-2, strategy, verbose=0)
    stamp = weights.stat().st_mtime_ns
    again = training.fit(None, None, None, fold, weights, 2, 1e-2, strategy, verbose=0)
    assert again == first and weights.stat().st_mtime_ns == stamp


def _build_bn_dropout():
    inp = keras.Input((8,))
    x = keras.layers.Dense(6, activation="relu")(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dropout(0.3)(x)  # its seed generator must be reset too
    return keras.Model(inp, keras.layers.Dense(1)(x))


def test_a_model_reused_across_folds_trains_exactly_like_fresh_ones(tmp_path):
    """ModelSlot skips rebuilding and retracing per fold; results must not change."""
    strategy = training.select_strategy("default")

    def folds(root, slot):
        out = []
        for k in range(3):
            weights = root / f"w{k}.weights.h5"
            training.fit(
                _build_bn_dropout,
                _data(16, k),
                _data(8, 10 + k),
                root / f"fold{k}",
                weights,
                3,
                1e-2,
                strategy,
                seed=100 + k,
                verbose=0,
                slot=slot,
            )
            model = _build_bn_dropout()
            model.load_weights(weights)
            out.append((pd.read_csv(root / f"fold{k}" / "history.csv"), model.get_weights()))
        return out

    slot = training.ModelSlot()
    fresh, reused = folds(tmp_path / "fresh", None), folds(tmp_path / "reused", slot)
    assert slot.model is not None
    for (h1, w1), (h2, w2) in zip(fresh, reused, strict=True):
        pd.testing.assert_frame_equal(h1, h2, check_exact=False, rtol=1e-6)
        assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(w1, w2, strict=True))
    assert not np.allclose(fresh[0][1][0], fresh[1][1][0])  # folds really differ
    assert len({round(float(h["loss"].iloc[0]), 6) for h, _ in fresh}) == 3


def test_a_resumed_fold_can_replay_the_stream_and_end_like_an_uninterrupted_one(
    tmp_path, monkeypatch
):
    """resume_same_stream skips the finished epochs' batches of a seeded, shuffled stream (of
    known length, as 04's are), so a crash and a rerun end like one uninterrupted run."""
    strategy = training.select_strategy("default")
    real_fit = keras.Model.fit

    def stream():  # made after seeding, as 04 does: the shuffle's seeds then repeat exactly
        keras.utils.set_random_seed(7)
        return _data(32, 3).shuffle(8, seed=5)  # 8 batches, reshuffled every epoch

    def crashing_fit(self, *args, callbacks=None, **kwargs):
        return real_fit(self, *args, callbacks=[*callbacks, _StopAfter(2)], **kwargs)

    def run(folder: Path) -> tuple[list, pd.DataFrame]:
        training.fit(_build, stream(), _data(8, 1), folder, folder / "w.weights.h5", 4, 1e-2,
                     strategy, verbose=0, resume_same_stream=True)  # fmt: skip
        best = _build()
        best.load_weights(folder / "w.weights.h5")
        return best.get_weights(), pd.read_csv(folder / "history.csv")

    straight, h1 = run(tmp_path / "straight")
    monkeypatch.setattr(keras.Model, "fit", crashing_fit)
    try:
        run(tmp_path / "resumed")
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(keras.Model, "fit", real_fit)
    assert len(pd.read_csv(tmp_path / "resumed" / "history.csv")) == 2
    resumed, h2 = run(tmp_path / "resumed")
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    for a, b in zip(straight, resumed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
