"""Predictions as a MegaDetector batch-output JSON file, the format camera-trap tools read
(Timelapse, AddaxAI, MegaDetector's postprocessing; https://lila.science/megadetector-output-format).

The serengeti models classify whole *sequences*; they draw no boxes. So, per image:

- `classifications`: the image's sequence's probabilities as `[category id, probability]`
  pairs, highest first - the top `TOP_K` classes with at least `MIN_SCORE`, and always the top
  one - plus `seq_id`, `seq_num_frames` and `frame_num` (the image's place in its sequence by
  file name), so tools that work per sequence can regroup;
- `detections`: one box covering the whole image (`bbox` [0, 0, 1, 1]), category "animal" with
  `conf` = 1 - P(empty), carrying the same classifications without `empty`. The format wants a
  `detections` list for every processed image (an empty list would *claim* an empty image),
  and tools show classifications only on detections; a reader that filters on `conf` gets
  "animal present" with the stack's own probability;
- images that could not be read: `"failure": "<reason>"` and `"detections": null`.

The file follows the current format (1.6: `format_version` a string, `info` with detector and
classifier fields and completion times) and passes MegaDetector's own validator
(`megadetector.postprocessing.validate_batch_results`), which the tests run on it.

`classification_categories` maps "0".."53" to the 54 class names in submission order (the CSV's
column order), so a category id is the class's column index.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from lib.serengeti.schema import CLASSES, KEY

FORMAT_VERSION = "1.6"  # the current MegaDetector batch-output format
TOP_K = 5
MIN_SCORE = 0.01
ANIMAL = "1"
DIGITS = 6


def classifications(probs: np.ndarray, top_k: int = TOP_K, min_score: float = MIN_SCORE) -> list:
    """[[category id, probability], ...] sorted by probability (highest first)."""
    order = np.argsort(-probs, kind="stable")[:top_k]
    keep = [i for j, i in enumerate(order) if j == 0 or probs[i] >= min_score]
    return [[str(int(i)), round(float(probs[i]), DIGITS)] for i in keep]


def batch_output(result, bundle=None) -> dict:
    """The JSON document (a dict) for a lib.serengeti.predict_images.Result."""
    rows = result.rows.set_index(KEY)
    values = rows[list(CLASSES)].to_numpy(np.float64)
    probs = dict(zip(rows.index, values, strict=True))
    empty = CLASSES.index("empty")
    images = []
    table = result.images.sort_values([KEY, "file"], kind="stable")
    frame_num = table.groupby(KEY, sort=False).cumcount()
    counts = table.groupby(KEY)["file"].transform("size")
    for (_, img), num, total in zip(table.iterrows(), frame_num, counts, strict=True):
        entry: dict = {"file": img["file"]}
        if img["status"] == "failed":
            entry.update({"failure": img["error"] or "unreadable", "detections": None})
        else:
            p = probs[img[KEY]]
            cls = classifications(p)
            animal = [c for c in cls if c[0] != str(empty)]
            entry["classifications"] = cls
            entry["detections"] = [
                {
                    "category": ANIMAL,
                    "conf": round(float(1.0 - p[empty]), DIGITS),
                    "bbox": [0.0, 0.0, 1.0, 1.0],
                    **({"classifications": animal} if animal else {}),
                }
            ]
        entry.update({"seq_id": img[KEY], "seq_num_frames": int(total), "frame_num": int(num)})
        images.append(entry)
    order = {f: i for i, f in enumerate(result.images["file"])}
    images.sort(key=lambda e: order[e["file"]])
    return {
        "info": _info(result, bundle),
        "detection_categories": {ANIMAL: "animal"},
        "classification_categories": {str(i): c for i, c in enumerate(CLASSES)},
        "images": images,
    }


def _info(result, bundle) -> dict:
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    info: dict = {
        "format_version": FORMAT_VERSION,
        "detector": "none: one whole-image box per image (the classifier works per sequence)",
        "detection_completion_time": now,
        "detector_metadata": {"box": "whole image", "conf": "1 - P(empty) of the sequence"},
        "classification_completion_time": now,
        "classifier": "camtrap-kaggle serengeti bundle",
        "classifier_metadata": {
            "level": "sequence: every image carries its sequence's probabilities",
            "image_root": str(result.base),
            "grouping": result.grouping,
            "top_k": TOP_K,
            "min_score": MIN_SCORE,
            "detection": "one whole-image box per image, conf = 1 - P(empty)",
        },
    }
    if bundle is not None:
        env = bundle.manifest.get("environment", {})
        info["classifier"] = f"camtrap-kaggle serengeti bundle {bundle.folder.name}"
        info["classifier_metadata"].update(
            {
                "bundle": str(bundle.folder),
                "git_commit": env.get("git_commit"),
                "networks": {r: n.run_id for r, n in bundle.networks.items()},
            }
        )
    return info


def to_frame(document: dict) -> pd.DataFrame:
    """file, seq_id, failure and one column per class present in the classifications
    (NaN where a class was not listed): for tests and quick looks."""
    names = document["classification_categories"]
    rows = []
    for img in document["images"]:
        row = {"file": img["file"], KEY: img.get(KEY), "failure": img.get("failure")}
        for cat, p in img.get("classifications", []):
            row[names[cat]] = p
        rows.append(row)
    return pd.DataFrame(rows)
