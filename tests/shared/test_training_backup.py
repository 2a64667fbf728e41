"""The training backup and best weights are replaced as a whole: whatever moment a kill lands
on, the rerun finds either the previous or the new state - never a half-written weights file
(Keras' own BackupAndRestore overwrites in place and the rerun then stops with an OSError)."""

from __future__ import annotations

import json

import keras
import numpy as np

from lib import training


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    out = keras.layers.Dense(1)(keras.layers.Dropout(0.5)(keras.layers.Dense(8)(inp)))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((32, 4), np.float32), rng.random((32, 1), np.float32)


def test_backup_state_holds_weights_epoch_and_dropout_rng(tmp_path):
    model = _model()
    x, y = _data()
    backup = training.AtomicBackupAndRestore(tmp_path / "backup")
    backup.delete_checkpoint = False  # keep it to look at
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[backup])
    assert training.recover_backup(tmp_path / "backup") == 2
    meta = json.loads((tmp_path / "backup" / "state" / "training_metadata.json").read_text())
    rng = [v for v in model.variables if "seed_generator" in v.path]
    assert rng and [s["path"] for s in meta["rng_states"]] == [v.path for v in rng]
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["state"]  # no temps, no old

    fresh = _model()  # a rerun: restores weights, optimizer and the dropout stream position
    restore = training.AtomicBackupAndRestore(tmp_path / "backup")
    restore.set_model(fresh)
    restore.on_train_begin()
    for a, b in zip(model.variables, fresh.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()), err_msg=a.path)
    assert fresh._initial_epoch == 2


def test_a_kill_between_the_renames_or_mid_write_leaves_a_usable_state(tmp_path):
    model = _model()
    x, y = _data()
    backup = training.AtomicBackupAndRestore(tmp_path / "backup")
    backup.delete_checkpoint = False
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[backup])
    root = tmp_path / "backup"
    # killed after the old state was moved aside, before the new one was renamed in
    (root / "state").rename(root / "state.old")
    # ... and a half-written next state in its temporary folder
    half = root / ".state.abc123.tmp"
    half.mkdir()
    (half / "latest.weights.h5").write_bytes(b"\x89HDF\r\n partial")
    assert training.recover_backup(root) == 1
    assert sorted(p.name for p in root.iterdir()) == ["state"]
    fresh = _model()
    restore = training.AtomicBackupAndRestore(root)
    restore.set_model(fresh)
    restore.on_train_begin()  # loads, no OSError
    assert fresh._initial_epoch == 1


def test_best_weights_are_written_only_on_improvement_and_atomically(tmp_path):
    model = _model()
    path = tmp_path / "best.weights.h5"
    best = training.AtomicBestWeights(path, "val_loss", best=0.5)
    best.set_model(model)
    best.on_epoch_end(0, {"val_loss": 0.7})  # worse than the run's best so far: not saved
    assert not path.exists()
    best.on_epoch_end(1, {"val_loss": 0.4})
    assert path.is_file() and best.best == 0.4
    stamp = path.stat().st_mtime_ns
    best.on_epoch_end(2, {"val_loss": 0.4})  # equal is not better
    assert path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.weights.h5"]
    other = _model()
    other.load_weights(path)  # a complete, loadable file
