"""Training and prediction plumbing shared by both tracks.

- `select_strategy`: TPU, several GPUs, several workers, or the default device - chosen from what
  the machine has (or forced by name), with the matching mixed-precision policy.
- `fit`: one fold's training with the write-up's callbacks; it resumes after an interruption
  (BackupAndRestore) and keeps the best checkpoint across the interruption.
- `predict_keyed`: predictions joined to their (video_id, time) keys; the last batch is padded to
  the full global batch and trimmed afterwards, so any row count works on any number of devices
  (the write-up's multi-GPU LSTM inference broke when rows did not divide the batch).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lib import fileio  # noqa: E402


def _has_tpu() -> bool:
    return (
        bool(os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"))
        or Path("/dev/accel0").exists()
    )


def select_strategy(kind: str = "auto") -> tf.distribute.Strategy:
    """auto | tpu | multiworker | mirrored | default. `auto` never probes the network for a TPU
    unless the environment names one (TPU_NAME, COLAB_TPU_ADDR or /dev/accel0)."""
    if kind not in ("auto", "tpu", "multiworker", "mirrored", "default"):
        raise ValueError(f"unknown strategy {kind!r}")
    if kind == "tpu" or (kind == "auto" and _has_tpu()):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if kind == "multiworker" or (kind == "auto" and os.environ.get("TF_CONFIG")):
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if kind == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if kind == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def set_precision(strategy: tf.distribute.Strategy, mode: str = "auto") -> str:
    """mixed_float16 on GPU, mixed_bfloat16 on TPU, float32 on CPU (or as forced)."""
    if mode == "auto":
        if isinstance(strategy, tf.distribute.TPUStrategy):
            mode = "mixed_bfloat16"
        elif tf.config.list_logical_devices("GPU"):
            mode = "mixed_float16"
        else:
            mode = "float32"
    keras.mixed_precision.set_global_policy(mode)
    return mode


def _best_so_far(history: Path, monitor: str) -> float | None:
    if not history.is_file():
        return None
    h = pd.read_csv(history)
    return float(h[monitor].min()) if monitor in h and len(h) else None


def _compiled(
    model: keras.Model,
    learning_rate: float,
    loss="mae",
    metrics: Callable[[], list] | None = None,
) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss,
        metrics=metrics() if metrics is not None else [keras.metrics.RootMeanSquaredError("rmse")],
    )
    return model


class ModelSlot:
    """One compiled model shared by the folds of a run (one architecture, one learning rate).

    A new model per fold costs a build, a compile and fresh traces of the train, validation
    and predict graphs: seconds per fold on a CPU, more than a demo fold's epoch (bench/infer.py).
    `fresh` hands out the same model reset to exactly what `build()` + compile would give at
    the current random seed: every variable (weights, batch-norm statistics, seed-generator
    state) is copied from a throwaway build, which traces nothing, and the optimizer's
    variables (step count, learning rate, moments, loss scale) go back to their initial values.
    """

    def __init__(self) -> None:
        self.model: keras.Model | None = None
        self._optimizer_start: list[np.ndarray] = []
        self._learning_rate: float | None = None
        self._loss: tuple = ()

    def fresh(
        self,
        build: Callable[[], keras.Model],
        strategy: tf.distribute.Strategy,
        learning_rate: float,
        loss="mae",
        metrics: Callable[[], list] | None = None,
    ) -> keras.Model:
        with strategy.scope():
            init = build()
            same = (
                self.model is not None
                and self._learning_rate == learning_rate
                and self._loss == (loss, metrics)
                and [v.shape for v in init.variables] == [v.shape for v in self.model.variables]
            )
            if not same:
                self.model = _compiled(init, learning_rate, loss, metrics)
                self._loss = (loss, metrics)
                self.model.optimizer.build(self.model.trainable_variables)
                self._optimizer_start = [v.numpy() for v in self.model.optimizer.variables]
                self._learning_rate = learning_rate
                return self.model
            assert self.model is not None
            for dst, src in zip(self.model.variables, init.variables, strict=True):
                dst.assign(src)
            for var, value in zip(
                self.model.optimizer.variables, self._optimizer_start, strict=True
            ):
                var.assign(value)
        return self.model


def fit(
    build: Callable[[], keras.Model],
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    fold_dir: str | Path,
    weights_path: str | Path,
    epochs: int,
    learning_rate: float,
    strategy: tf.distribute.Strategy,
    seed: int = 42,
    verbose: int = 2,
    slot: ModelSlot | None = None,
    loss="mae",
    metrics: Callable[[], list] | None = None,
) -> dict:
    """Train one fold; returns {'best_val_mae' (or 'best_val_loss' for another loss), 'epochs'};
    a finished fold is not trained again. `loss` is anything `compile` takes (chimpact: MAE);
    `metrics` builds the compile metrics inside the strategy scope (default: RMSE, chimpact's).

    With a `slot`, the model compiled for an earlier fold is reused (reset to what `build`
    gives under `seed`) and stays in `slot.model`, holding the last epoch's weights.
    """
    fold_dir = Path(fold_dir)
    done = fold_dir / "done.json"
    if done.is_file() and Path(weights_path).is_file():
        return json.loads(done.read_text())
    fold_dir.mkdir(parents=True, exist_ok=True)
    history = fold_dir / "history.csv"
    keras.utils.set_random_seed(seed)  # weights init, shuffling and augmentation draws
    if slot is not None:
        model = slot.fresh(build, strategy, learning_rate, loss, metrics)
    else:
        with strategy.scope():
            model = _compiled(build(), learning_rate, loss, metrics)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(fold_dir / "backup")),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=3, min_delta=1e-4, min_lr=1e-8
        ),
        keras.callbacks.ModelCheckpoint(
            str(weights_path),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=_best_so_far(history, "val_loss"),
        ),
        keras.callbacks.CSVLogger(str(history), append=True),
    ]
    steps = int(train_ds.cardinality())
    if steps > 0:
        # One iterator for all epochs: Keras otherwise opens a new one per epoch, and each
        # re-instantiates the augmentation graph (~0.2-0.4 s of CPU per epoch on the demo).
        # Shuffle and augmentation streams still change every epoch (reshuffle per iteration).
        train_ds = train_ds.repeat()
    model.fit(
        train_ds,
        steps_per_epoch=steps if steps > 0 else None,
        validation_data=val_ds,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # tf.data shuffles with the run seed
    )
    h = pd.read_csv(history).drop_duplicates("epoch", keep="last")
    fileio.write_csv(history, h)
    key = "best_val_mae" if loss == "mae" else "best_val_loss"
    result = {key: float(h["val_loss"].min()), "epochs": int(len(h))}
    fileio.write_json(done, result)
    return result


def predict_keyed(
    model: keras.Model, ds: tf.data.Dataset, global_batch: int, strategy=None
) -> pd.DataFrame:
    """Predict every element of a (inputs, target, keys) dataset: columns video_id, time, pred."""
    strategy = strategy or tf.distribute.get_strategy()
    keys_v, keys_t, preds = [], [], []
    for x, _, k in ds:
        n = int(k["time"].shape[0])
        if n < global_batch:  # pad by repeating the last row; trimmed below
            x = tf.concat([x, tf.repeat(x[-1:], global_batch - n, axis=0)], axis=0)
        with strategy.scope():
            p = np.asarray(model.predict_on_batch(x), dtype=np.float32).reshape(-1)[:n]
        preds.append(p)
        keys_v += [v.decode() for v in k["video_id"].numpy()]
        keys_t += [int(t) for t in k["time"].numpy()]
    return pd.DataFrame(
        {"video_id": keys_v, "time": np.asarray(keys_t, np.int64), "pred": np.concatenate(preds)}
    )
