"""Inference on several devices returns one prediction per row, equal to one device's.

TensorFlow fixes its device list at start-up, so the two-logical-CPU case runs in a fresh
interpreter. 13 rows with a global batch of 4 exercise the padded last batch (the write-up's
multi-GPU LSTM inference broke when the row count did not divide the batch size).
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from PIL import Image
    from io import BytesIO
    from lib import tfrecord_io, training
    from lib.chimpact import input_pipeline
    from lib.chimpact.records import SPEC
    from lib.chimpact.model import ModelConfig, build_model

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    def jpeg(level):
        buf = BytesIO()
        Image.fromarray(np.full((24, 32, 3), level, np.uint8)).save(buf, format="JPEG")
        return buf.getvalue()
    items = [{"frames": [jpeg(int(rng.integers(0, 255))) for _ in range(11)], "distance": float(i),
              "video_id": f"v{i:02d}.mp4", "time": i, "site_id": "s"} for i in range(13)]
    tfrecord_io.write_shards(items, out, "test", SPEC, shard_size=5)
    files = sorted(__import__("pathlib").Path(out).glob("*.tfrec"))
    cfg = ModelConfig(frames=7, image_size=16, backbone="small", lstm_units=8, dense_units=8)
    keras_model = build_model(cfg)
    keras_model.save_weights(os.path.join(out, "w.weights.h5"))
    ds = input_pipeline.dataset(files, 7, 16, 4)
    one = training.predict_keyed(keras_model, ds, 4)
    strategy = training.select_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_model(cfg)
    model.load_weights(os.path.join(out, "w.weights.h5"))
    two = training.predict_keyed(model, ds, 4, strategy)
    one.to_csv(os.path.join(out, "one.csv"), index=False)
    two.to_csv(os.path.join(out, "two.csv"), index=False)
    """
)


def test_two_devices_predict_every_row_like_one_device(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = pd.read_csv(tmp_path / "one.csv")
    two = pd.read_csv(tmp_path / "two.csv")
    assert len(one) == len(two) == 13
    assert sorted(two["video_id"]) == [f"v{i:02d}.mp4" for i in range(13)]
    merged = one.merge(two, on=["video_id", "time"], suffixes=("_one", "_two"))
    assert len(merged) == 13
    assert (merged["pred_one"] - merged["pred_two"]).abs().max() < 1e-4
