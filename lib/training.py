"""Training and prediction plumbing shared by both tracks.

- `select_strategy`: TPU, several GPUs, several workers, or the default device - chosen from what
  the machine has (or forced by name), with the matching mixed-precision policy.
- `pin_threads`: the TensorFlow thread count a profile trains on, set before the first op.
- `fit`: one fold's training with the write-up's callbacks; it resumes after an interruption
  (BackupAndRestore) and keeps the best checkpoint across the interruption. Both the backup and
  the best weights are replaced atomically, so a kill at any moment leaves either the previous
  or the new state, never a half-written weights file that the rerun dies on.
- `predict_keyed`: predictions joined to their (video_id, time) keys; the last batch is padded to
  the full global batch and trimmed afterwards, so any row count works on any number of devices
  (the write-up's multi-GPU LSTM inference broke when rows did not divide the batch).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
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


def pin_threads(threads: int) -> None:
    """Train on `threads` intra- and inter-op threads (0: leave TensorFlow's default).

    TensorFlow fixes its thread pools at its first op, so this must come before any. A kernel
    that already ran TensorFlow with other pools keeps them: that is warned about, not an
    error, since its numbers only differ from a fresh process's in the last digits.
    """
    if threads <= 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        current = (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        )
        if current != (threads, threads):
            warnings.warn(
                f"TensorFlow already started on {current[0] or 'all'} intra-op threads in this "
                f"process; the profile trains on {threads}, so this run's numbers may differ "
                "from ./run_all.sh's in the last digits (restart the kernel to match them)",
                stacklevel=2,
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


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, with each epoch's state written as one unit.

    Keras overwrites the backup weights in place and then the epoch counter: a kill during the
    weights write leaves a file the rerun cannot load (it stops with an OSError), and a kill
    between the two pairs the new weights with the old epoch count (one epoch trained twice).
    Here both go into a temporary folder that replaces `state/` by rename; the previous state
    stays as `state.old/` until the new one is in place, and is used if a kill fell between.

    The state also holds the random-number states of the model's layers (dropout's seed
    generators): Keras does not save them with the weights, so a resumed run would otherwise
    draw the first epochs' dropout masks again.
    """

    def __init__(self, backup_dir: str | Path) -> None:
        super().__init__(str(backup_dir))
        root = Path(backup_dir)
        self._state, self._old = root / "state", root / "state.old"
        self._weights_path = str(self._state / "latest.weights.h5")
        self._training_metadata_path = str(self._state / "training_metadata.json")

    def on_train_begin(self, logs=None) -> None:
        recover_backup(self._state.parent)
        super().on_train_begin(logs)

    def _save_model(self) -> None:
        root = self._state.parent
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".state.", suffix=".tmp", dir=root))
        try:
            self.model.save_weights(str(tmp / "latest.weights.h5"), overwrite=True)
            meta = {
                "epoch": self._current_epoch,
                "batch": self._last_batch_seen,
                "rng_states": [
                    {"path": v.path, "value": np.asarray(v.numpy()).tolist()}
                    for v in _rng_variables(self.model)
                ],
            }
            (tmp / "training_metadata.json").write_text(json.dumps(meta))
            if self._state.exists():
                shutil.rmtree(self._old, ignore_errors=True)
                os.replace(self._state, self._old)
            os.replace(tmp, self._state)
            shutil.rmtree(self._old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _load_model(self) -> None:
        super()._load_model()
        meta = self._state / "training_metadata.json"
        if not meta.is_file():
            return
        saved = json.loads(meta.read_text()).get("rng_states", [])
        current = _rng_variables(self.model)
        # matched by position: paths get suffixes (`seed_generator_1`) when a process builds
        # the same model twice, the order of a model's variables does not change
        if len(saved) == len(current):
            for var, state in zip(current, saved, strict=True):
                var.assign(np.asarray(state["value"], dtype=var.dtype))


def _rng_variables(model: keras.Model) -> list:
    """Variables of `model` that its weights file leaves out (seed-generator states)."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]


def recover_backup(backup_dir: str | Path) -> int:
    """Tidy a backup folder after a kill and return how many epochs it holds (0: none)."""
    root = Path(backup_dir)
    state, old = root / "state", root / "state.old"
    fileio.remove_stale_temps(root)
    if not state.is_dir() and old.is_dir():  # killed between the two renames
        os.replace(old, state)
    meta = state / "training_metadata.json"
    if not (meta.is_file() and (state / "latest.weights.h5").is_file()):
        return 0
    return int(json.loads(meta.read_text())["epoch"])


class AtomicBestWeights(keras.callbacks.Callback):
    """ModelCheckpoint(save_best_only=True, save_weights_only=True) written temp + rename: the
    best weights of a run killed mid-save are the previous best, not a truncated file."""

    def __init__(self, path: str | Path, monitor: str = "val_loss", best: float | None = None):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        self.best = np.inf if best is None else best

    def on_epoch_end(self, epoch, logs=None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None or not np.less(current, self.best):
            return
        self.best = float(current)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        )
        try:
            self.model.save_weights(str(tmp / self.path.name), overwrite=True)
            os.replace(tmp / self.path.name, self.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


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
    resume_same_stream: bool = False,
) -> dict:
    """Train one fold; returns {'best_val_mae' (or 'best_val_loss' for another loss), 'epochs'};
    a finished fold is not trained again. `loss` is anything `compile` takes (chimpact: MAE);
    `metrics` builds the compile metrics inside the strategy scope (default: RMSE, chimpact's).

    With a `slot`, the model compiled for an earlier fold is reused (reset to what `build`
    gives under `seed`) and stays in `slot.model`, holding the last epoch's weights.

    A resumed fold starts a fresh input iterator, so by default its remaining epochs see the
    shuffles and augmentation draws of the *first* epochs again. `resume_same_stream=True`
    skips the batches of the finished epochs first, so a resumed run trains on exactly the
    batches an uninterrupted one would (with a seeded, deterministic pipeline: the same
    weights); the skipped batches still pass through the pipeline, cheap when it is cached.
    (ReduceLROnPlateau's patience counter restarts on resume; its reduced rate does not.)
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
    done_epochs = recover_backup(fold_dir / "backup")
    # The backup goes last: an epoch counts as done only once its learning-rate change, best
    # weights and history row are written (a kill before that redoes the epoch; the history
    # keeps the last row per epoch).
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=3, min_delta=1e-4, min_lr=1e-8
        ),
        AtomicBestWeights(weights_path, "val_loss", _best_so_far(history, "val_loss")),
        keras.callbacks.CSVLogger(str(history), append=True),
        AtomicBackupAndRestore(fold_dir / "backup"),
    ]
    steps = int(train_ds.cardinality())
    if steps > 0:
        # One iterator for all epochs: Keras otherwise opens a new one per epoch, and each
        # re-instantiates the augmentation graph (~0.2-0.4 s of CPU per epoch on the demo).
        # Shuffle and augmentation streams still change every epoch (reshuffle per iteration).
        train_ds = train_ds.repeat()
        if resume_same_stream and done_epochs:
            train_ds = train_ds.skip(done_epochs * steps)
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
