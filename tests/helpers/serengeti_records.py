"""Hand-made serengeti TFRecords for pipeline tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from lib import tfrecord_io
from lib.serengeti import records, schema


def one_image_record(path: Path, image: np.ndarray) -> Path:
    """Write one `images` example (flow and naive pixels = `image`, class 0) to `path`; its
    name must carry the count (`x-00-n0001.tfrec`), as stage 03's shard names do."""
    labels = np.zeros(schema.N_CLASSES, np.float32)
    labels[0] = 1
    example = {
        "flow": image.tobytes(),
        "naive": image.tobytes(),
        "seq_id": b"SER_S1#A01#1#1",
        "image_index": 0,
        "first": 1,
        "labels": labels,
    }
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(tfrecord_io.serialize(example, records.IMAGE_SPEC))
    return path
