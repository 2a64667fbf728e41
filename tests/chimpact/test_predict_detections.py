"""`predict chimpact --detections`: MegaDetector output in, one row per detected animal.

On a prediction demo (some seconds hold two animals at distances several metres apart), a
bundle whose blend includes a box member (fitted here on synthetic boxes: nearer = taller) gives
two rows with different distances where two animals are, scored per animal against the
generator's truth. Missing files and videos without detections are counted, not fatal.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from lib import fileio
from lib.chimpact import detections, distance_scores


@pytest.fixture(scope="module")
def pairs_demo(tmp_path_factory):
    from lib.demo import chimpact

    out = tmp_path_factory.mktemp("pairs") / "demo"
    chimpact.generate(out, seed=5, videos=8, max_duration=8, overexposed_share=0.0,
                      companions=1.0, progress=False, workers=2)  # fmt: skip
    return out


def _box_rows(rng, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    height = rng.uniform(0.05, 0.9, n)
    y2 = rng.uniform(0.5, 1.0, n)
    x1 = rng.uniform(0, 0.5, n)
    rows = pd.DataFrame({"video_id": rng.integers(0, 40, n).astype(str), "x1": x1,
                         "y1": y2 - height, "x2": x1 + height, "y2": y2,
                         "probability": rng.uniform(0.3, 1, n)})  # fmt: skip
    return rows, np.clip(2.0 / height, 1, 25)


@pytest.fixture(scope="module")
def box_bundle(tiny_bundle, tmp_path_factory, monkeypatch_module):
    """The tiny bundle plus a box member exported by the bundle's own code."""
    import lightgbm as lgb

    from lib.chimpact import boxes
    from lib.chimpact import bundle as chimpact_bundle

    runs = tmp_path_factory.mktemp("runs")
    monkeypatch_module.setenv("CAMTRAP_RUNS", str(runs))
    rows, y = _box_rows(np.random.default_rng(0), 600)
    boxes.member_dir().mkdir(parents=True)
    for k in range(2):
        model = lgb.LGBMRegressor(n_estimators=60, verbose=-1, random_state=k)
        model.fit(boxes.features(rows), y)
        model.booster_.save_model(str(boxes.member_dir() / f"fold{k}.txt"))
    folder = shutil.copytree(tiny_bundle[0], tmp_path_factory.mktemp("bb") / "bundle")
    manifest = fileio.read_json(folder / "bundle.json")
    with_boxes = {r["run_id"]: 0.25 for r in manifest["runs"]} | {boxes.NAME: 0.5}
    manifest["boxes"] = chimpact_bundle._export_boxes(folder, with_boxes, {}, manifest["files"])
    for run in manifest["runs"]:
        run["weight_with_boxes"] = 0.25
    fileio.write_json(folder / "bundle.json", manifest)
    return folder


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _cli(*args: str) -> int:
    from lib.predict.__main__ import main

    return main(["chimpact", *args, "--quiet"])


def test_two_animals_get_two_distances_scored_per_animal(box_bundle, pairs_demo, tmp_path):
    md = json.loads((pairs_demo / "test_megadetector.json").read_text())
    md["images"].append({"file": "gone.mp4", "frame_rate": 8.0, "frames_processed": [0],
                         "detections": [{"category": "1", "conf": 0.9, "bbox": [0, 0, .5, .5],
                                         "frame_number": 0}]})  # fmt: skip
    first = md["images"][0]
    md["images"].append({**first, "file": "../test_videos_downsampled/" + first["file"],
                         "detections": []})  # fmt: skip
    (tmp_path / "md.json").write_text(json.dumps(md))
    out = tmp_path / "animals.csv"
    code = _cli("--bundle", str(box_bundle), "--videos", str(pairs_demo / "test_videos"),
                "--detections", str(tmp_path / "md.json"), "--out", str(out))  # fmt: skip
    assert code == 0
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["filepath", "time", "distance", "x1", "y1", "x2", "y2", "conf"]
    assert rows["conf"].min() >= 0.2 and rows["distance"].notna().all()
    truth = pd.read_csv(pairs_demo / "animal_truth.csv")
    matched = distance_scores.match_animals(rows, truth)
    two = matched.dropna(subset=["animal"]).groupby(["video_id", "time"])
    pairs = [g for _, g in two if g["animal"].nunique() == 2]
    assert pairs, "the demo should hold seconds where both animals were detected"
    ordered = [g.sort_values("distance_true")["distance"].to_numpy()[[0, -1]] for g in pairs]
    assert all(near != far for near, far in ordered)  # each animal its own distance
    # mostly the nearer animal (usually the taller box) is predicted nearer
    assert sum(near < far for near, far in ordered) >= len(ordered) / 2
    score = distance_scores.score_animals(rows, truth)
    assert score["seconds_with_two_animals"] == len(pairs) and np.isfinite(score["mae"])
    errors = pd.read_csv(tmp_path / "animals.errors.csv")
    names = errors["filepath"].map(lambda p: p.rsplit("/", 1)[-1])
    reasons = dict(zip(names, errors["error"], strict=True))
    assert reasons["gone.mp4"] == "skipped: missing on disk"
    assert reasons[first["file"]] == "skipped: no animal detection"  # the downsampled copy


def test_detections_read_video_and_1fps_frame_results(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"x")
    (tmp_path / "w.avi").write_bytes(b"x")
    box = [0.1, 0.2, 0.3, 0.4]
    doc = {
        "info": {"format_version": "1.6"},
        "detection_categories": {"1": "animal", "2": "person"},
        "images": [
            {"file": "v.mp4", "frame_rate": 10.0, "detections": [
                {"category": "1", "conf": 0.9, "bbox": box, "frame_number": 25},
                {"category": "1", "conf": 0.8, "bbox": box, "frame_number": 20},  # same second
                {"category": "1", "conf": 0.7, "bbox": [0.5, 0.5, 0.1, 0.1], "frame_number": 20},
                {"category": "2", "conf": 0.9, "bbox": box, "frame_number": 30},  # a person
                {"category": "1", "conf": 0.1, "bbox": box, "frame_number": 40},  # below conf
            ]},
            {"file": "w.avi/frame000003.jpg", "detections": [
                {"category": "1", "conf": 0.5, "bbox": box}]},
            {"file": "w.avi/frame000004.jpg", "failure": "Failure image access",
             "detections": None},
        ],
    }  # fmt: skip
    (tmp_path / "md.json").write_text(json.dumps(doc))
    found = detections.read(tmp_path / "md.json", [tmp_path], conf=0.2)
    got = found.rows.assign(filepath=found.rows["filepath"].map(lambda p: p.name))
    assert got[["filepath", "time"]].values.tolist() == [["v.mp4", 2], ["v.mp4", 2], ["w.avi", 3]]
    np.testing.assert_allclose(got.iloc[0][["x1", "y1", "x2", "y2"]].astype(float),
                               [0.1, 0.2, 0.4, 0.6])  # fmt: skip
    assert found.failed == [("w.avi", "Failure image access")]
    (tmp_path / "bad.json").write_text('{"images": [')
    with pytest.raises(detections.DetectionsError, match="copy it again"):
        detections.read(tmp_path / "bad.json", [tmp_path])


def test_times_and_detections_exclude_each_other(tiny_bundle, tmp_path, capsys):
    args = ["--bundle", str(tiny_bundle[0]), "--videos", str(tmp_path), "--out",
            str(tmp_path / "o.csv"), "--times", "t.csv", "--detections", "d.json"]  # fmt: skip
    assert _cli(*args) == 2 and "exclude each other" in capsys.readouterr().err
