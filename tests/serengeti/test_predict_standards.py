"""The serengeti CLI's standard outputs: its MegaDetector JSON passes MegaDetector's own
validator (also on the real camera-trap images), and its Camtrap DP package passes the
standard's schemas - and the checks themselves catch a broken file."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from helpers.camtrap_tables import check_descriptor, check_package
from PIL import Image

from lib.serengeti.schema import KEY

REAL = Path("/work/shared/data/real-images")
T0 = datetime(2013, 5, 4, 10, 0, 0)


def _cli(*args: str) -> int:
    from lib.predict.__main__ import main

    return main(["serengeti", *args, "--quiet"])


def _validate(path: Path) -> dict:
    from megadetector.postprocessing.validate_batch_results import validate_batch_results

    return validate_batch_results(str(path))["validation_results"]


def _cameras(root: Path) -> Path:
    """Two camera folders, one with two bursts, as JPEG, TIFF and WebP with EXIF times."""
    shots = [("camA", "a1.jpg", 0), ("camA", "a2.tif", 3), ("camA", "a3.webp", 400),
             ("camB", "b1.JPG", 5)]  # fmt: skip
    for k, (cam, name, sec) in enumerate(shots):
        path = root / cam / name
        path.parent.mkdir(parents=True, exist_ok=True)
        exif = Image.Exif()
        exif[0x0132] = (T0 + timedelta(seconds=sec)).strftime("%Y:%m:%d %H:%M:%S")
        Image.new("RGB", (160, 120), (40 * k, 120, 60)).save(path, exif=exif)
    return root


def test_megadetector_json_passes_megadetectors_validator(tiny_serengeti_bundle, tmp_path):
    images = _cameras(tmp_path / "images")
    (images / "camB" / "broken.jpg").write_bytes(b"\xff\xd8 cut")
    out, js = tmp_path / "pred.csv", tmp_path / "pred.json"
    assert _cli("--bundle", str(tiny_serengeti_bundle[0]), "--images", str(images),
                "--out", str(out), "--json", str(js)) == 0  # fmt: skip
    doc = json.loads(js.read_text())
    assert doc["info"]["format_version"] == "1.6"
    assert {"detector", "detection_completion_time", "classifier"} <= set(doc["info"])
    failed = [i for i in doc["images"] if "failure" in i]
    assert [i["file"] for i in failed] == ["camB/broken.jpg"] and failed[0]["detections"] is None
    assert {i["file"] for i in doc["images"]} >= {"camA/a2.tif", "camA/a3.webp"}  # read too
    result = _validate(js)
    assert result["errors"] == [] and result["warnings"] == []
    # the validator is not a rubber stamp: a float format version of 1.6 is refused
    doc["info"]["format_version"] = 1.6
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    assert _validate(tmp_path / "bad.json")["errors"]


@pytest.mark.skipif(not REAL.is_dir(), reason="no real camera-trap images beside the checkout")
def test_real_images_json_passes_megadetectors_validator(tiny_serengeti_bundle, tmp_path):
    js = tmp_path / "real.json"
    assert _cli("--bundle", str(tiny_serengeti_bundle[0]), "--images", str(REAL),
                "--out", str(tmp_path / "real.csv"), "--json", str(js),
                "--group-by", "image") == 0  # fmt: skip
    result = _validate(js)
    assert result["errors"] == [] and result["warnings"] == []
    files = {i["file"]: i for i in json.loads(js.read_text())["images"]}
    assert len(files) == len(list(REAL.glob("*.jpg")))
    assert files["african_elephants_truncated_file.jpg"]["detections"] is None


def test_camtrap_dp_package_passes_the_standards_schemas(tiny_serengeti_bundle, tmp_path, capsys):
    images = _cameras(tmp_path / "images")
    out, package = tmp_path / "pred.csv", tmp_path / "package"
    args = ["--bundle", str(tiny_serengeti_bundle[0]), "--images", str(images),
            "--out", str(out), "--camtrap-dp", str(package)]  # fmt: skip
    assert _cli(*args) == 2  # the standard needs coordinates, which images do not carry
    assert "--latitude" in capsys.readouterr().err and not out.exists()
    place = ["--latitude", "-2.33", "--longitude", "34.83", "--utc-offset", "+03:00"]
    assert _cli(*args, *place) == 0
    assert sorted(p.name for p in package.iterdir()) == [
        "datapackage.json",
        "deployments.csv",
        "media.csv",
        "observations.csv",
    ]
    assert check_package(package) == []
    rows = pd.read_csv(out)
    obs = pd.read_csv(package / "observations.csv")
    assert obs["eventID"].tolist() == rows[KEY].tolist()  # one event per sequence
    assert set(obs["observationLevel"]) == {"event"}
    assert len(pd.read_csv(package / "media.csv")) == 4
    deployments = pd.read_csv(package / "deployments.csv")
    assert deployments["deploymentID"].tolist() == ["camA", "camB"]
    assert deployments["deploymentStart"].iloc[0] == "2013-05-04T10:00:00+0300"
    # the check catches what a platform would refuse
    broken = shutil.copytree(package, tmp_path / "broken")
    obs.assign(observationType="animals").to_csv(broken / "observations.csv", index=False)
    assert any("observationType" in e for e in check_package(broken))
    descriptor = json.loads((package / "datapackage.json").read_text())
    assert check_descriptor({**descriptor, "temporal": {"start": "2013"}})
