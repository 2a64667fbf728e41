"""Prediction demos: a second animal in some seconds, its truth, and a MegaDetector JSON.

The competition labels one animal per second, so the competition-style demo draws one. To show
per-animal distances from detections, a prediction demo adds to some test videos a second
animal (a companion) for a span of seconds, at a distance that differs from the first one's by
several metres, on the other side of the frame. Each animal's true distance and box at every
whole second go into `animal_truth.csv`, and `test_megadetector.json` holds what a detector
would have said: the true boxes with jittered edges, some missed, plus a few false boxes - so
tests can score per-animal distances against the truth.

Every draw comes from generators seeded by (seed, a stream number not used elsewhere, video
index), so a competition-style demo of the same seed is unchanged byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.demo.chimpact_plan import SPECIES, Box, VideoPlan, box_at

TRUTH_COLUMNS = ["video_id", "time", "animal", "distance", "x1", "y1", "x2", "y2"]
MISS_RATE = 0.1  # share of true boxes the simulated detector misses
FALSE_RATE = 0.08  # false boxes per second
MIN_GAP_M = 4.0  # the companion's distance differs from the first animal's by at least this
DETECTOR = "simulated from the demo's rendered boxes (lib.demo.chimpact_pairs)"


@dataclass(frozen=True)
class Companion:
    """A second animal: its species, distance and position keys, seconds it is present."""

    species: str
    key_z: tuple[float, ...]
    key_u: tuple[float, ...]
    start: int
    end: int  # last second present

    def present(self, second: int) -> bool:
        return self.start <= second <= self.end


def _companion(seed: int, plan: VideoPlan) -> Companion:
    rng = np.random.default_rng([seed, 11, plan.index])
    z = np.asarray(plan.key_z)
    gap = rng.uniform(MIN_GAP_M, 9.0) * np.where(z > 12.0, -1.0, 1.0)
    key_z = np.clip(z + gap, 1.0, 25.0)
    key_u = np.clip(-0.6 * np.asarray(plan.key_u) + rng.normal(0, 0.05), -0.85, 0.85)
    span = max(3, plan.duration // 2)
    start = int(rng.integers(0, max(1, plan.duration - span)))
    species = SPECIES[int(rng.integers(len(SPECIES)))].name
    return Companion(
        species=species,
        key_z=tuple(round(float(v), 4) for v in key_z),
        key_u=tuple(round(float(v), 4) for v in key_u),
        start=start,
        end=min(plan.duration - 1, start + span - 1),
    )


def add_companions(plans: list[VideoPlan], seed: int, share: float) -> list[VideoPlan]:
    """The plans with a companion in `share` of the test videos (at least one when > 0)."""
    test = [p.index for p in plans if p.site.split == "test"]
    if share <= 0 or not test:
        return plans
    rng = np.random.default_rng([seed, 10])
    count = min(len(test), max(1, round(share * len(test))))
    chosen = set(rng.choice(test, size=count, replace=False).tolist())
    return [
        dataclasses.replace(p, companion=_companion(seed, p)) if p.index in chosen else p
        for p in plans
    ]


def as_plan(plan: VideoPlan) -> VideoPlan:
    """The companion as a plan of its own (same site, light and noise), for drawing and boxes."""
    c = plan.companion
    return dataclasses.replace(plan, species=c.species, key_z=c.key_z, key_u=c.key_u,
                               companion=None)  # fmt: skip


def _normalised(box: Box, plan: VideoPlan) -> list[float]:
    w, h = plan.site.width, plan.site.height
    return [box.x1 / w, box.y1 / h, box.x2 / w, box.y2 / h]


def animals_at(plan: VideoPlan, second: int) -> list[tuple[int, float, Box]]:
    """(animal number, true distance, rendered box) of each visible animal at a second."""
    out = []
    box = box_at(plan, second)
    if box.visible:
        out.append((0, float(plan.key_z[second]), box))
    if plan.companion is not None and plan.companion.present(second):
        other = as_plan(plan)
        box2 = box_at(other, second)
        if box2.visible:
            out.append((1, float(other.key_z[second]), box2))
    return out


def truth_table(plans: list[VideoPlan], split: str = "test") -> pd.DataFrame:
    """Every visible animal at every whole second of the split's videos (TRUTH_COLUMNS)."""
    rows = [
        (p.video_id, t, k, z, *(round(v, 6) for v in _normalised(box, p)))
        for p in sorted(plans, key=lambda p: p.video_id)
        if p.site.split == split
        for t in range(p.duration)
        for k, z, box in animals_at(p, t)
    ]
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def _detection(rng: np.random.Generator, xyxy: list[float], frame: int, conf: float) -> dict:
    x1, y1, x2, y2 = xyxy
    jitter = rng.normal(0, 0.01, 4)
    x1, y1 = float(np.clip(x1 + jitter[0], 0, 1)), float(np.clip(y1 + jitter[1], 0, 1))
    x2 = float(np.clip(x2 + jitter[2], x1 + 1e-3, 1))
    y2 = float(np.clip(y2 + jitter[3], y1 + 1e-3, 1))
    bbox = [round(x1, 4), round(y1, 4), round(max(x2 - x1, 1e-4), 4), round(max(y2 - y1, 1e-4), 4)]
    return {"category": "1", "conf": round(conf, 3), "bbox": bbox, "frame_number": frame}


def megadetector_json(plans: list[VideoPlan], seed: int, split: str = "test") -> dict:
    """A MegaDetector batch output (format 1.6, video results) for the split's videos: one
    sampled frame per second (frame second x fps), true boxes jittered, some missed, and a few
    false boxes (most below the usual 0.2 threshold)."""
    images = []
    for plan in sorted(plans, key=lambda p: p.video_id):
        if plan.site.split != split:
            continue
        rng = np.random.default_rng([seed, 12, plan.index])
        fps, dets = plan.site.fps, []
        for t in range(plan.duration):
            for _, _, box in animals_at(plan, t):
                if rng.random() >= MISS_RATE:
                    conf = float(rng.uniform(0.5, 0.98))
                    dets.append(_detection(rng, _normalised(box, plan), t * fps, conf))
            if rng.random() < FALSE_RATE:
                x, y = rng.uniform(0, 0.8, 2)
                conf = float(rng.uniform(0.05, 0.35))
                dets.append(_detection(rng, [x, y, x + 0.1, y + 0.1], t * fps, conf))
        images.append({
            "file": plan.video_id, "frame_rate": float(fps),
            "frames_processed": [t * fps for t in range(plan.duration)], "detections": dets,
        })  # fmt: skip
    return {
        "info": {"format_version": "1.6", "detector": DETECTOR,
                 "detection_completion_time": "2000-01-01 00:00:00"},
        "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
        "images": images,
    }  # fmt: skip
