"""Serengeti model bundles and `python -m lib.predict serengeti`, on a bundle exported from
untrained networks and a stack fitted on synthetic scores (conftest.tiny_serengeti_bundle).

The bundle's numbers are meaningless; what is tested is that the bundle is self-contained and
round-trips, how images become sequences (folder, capture time, gap; EXIF vs file time; a
metadata CSV), the output formats, bad inputs and exit codes, and that the neighbour-camera
feature is computed among the predicted sequences. That the CLI's predictions equal
05_infer + 06's submission on trained runs is checked in test_notebooks_serengeti.py.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SER_BUNDLE_RUNS, SER_BUNDLE_SIZE
from PIL import Image

from lib import fileio
from lib.bundle_io import BundleError
from lib.predict import card_files
from lib.serengeti import grouping, megadetector
from lib.serengeti.schema import CLASSES, KEY

# optional real examples beside the checkout (../shared/data/real-images), never copied here
REAL_IMAGES = next(
    (p / "shared/data/real-images" for p in Path(__file__).resolve().parents
     if (p / "shared/data/real-images").is_dir()),
    Path("/work/shared/data/real-images"),
)  # fmt: skip
T0 = datetime(2013, 5, 4, 10, 0, 0)


def _jpeg(path: Path, when: datetime | None, seed: int = 0, size=(160, 120)) -> Path:
    """A small noisy JPEG, with EXIF DateTimeOriginal = `when` unless None."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    exif = Image.Exif()
    if when is not None:
        exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", exif=exif)
    return path


def _cli(*args: str) -> int:
    from lib.predict.__main__ import main

    return main(["serengeti", *args, "--quiet"])


def _camera_folder(root: Path) -> Path:
    """Two cameras: A fires at 0, 1, 2 s and again at 200 s; B once at 1 s."""
    for k, sec in enumerate((0, 1, 2, 200)):
        _jpeg(root / "camA" / f"IMG_{k:04d}.JPG", T0 + timedelta(seconds=sec), seed=k)
    _jpeg(root / "camB" / "IMG_0001.jpeg", T0 + timedelta(seconds=1), seed=9)
    return root


# --- bundle -------------------------------------------------------------------------------


def test_bundle_is_self_contained_and_round_trips(tiny_serengeti_bundle, tmp_path, monkeypatch):
    from lib.serengeti import bundle

    folder, originals = tiny_serengeti_bundle
    moved = shutil.copytree(folder, tmp_path / "elsewhere")
    for name in ("CAMTRAP_RUNS", "CAMTRAP_WORK", "CAMTRAP_DATA"):  # nothing of the project's
        monkeypatch.setenv(name, str(tmp_path / "nowhere" / name))
    loaded = bundle.load(moved)
    manifest = json.loads((moved / "bundle.json").read_text())
    assert manifest["classes"] == list(CLASSES)
    assert {r: n.run_id for r, n in loaded.networks.items()} == SER_BUNDLE_RUNS
    assert manifest["preprocessing"]["image_size"] == list(SER_BUNDLE_SIZE)
    assert manifest["preprocessing"]["strip_fraction"] == 0.066
    assert manifest["stack"]["neighbors"]["used"] is True
    assert set(manifest["stack"]["boosters"]) == {"empty/a", "empty/b", "zebra/a", "zebra/b"}
    assert all(f.endswith(".keras") for f in (n["file"] for n in manifest["networks"].values()))
    assert manifest["environment"]["tensorflow"] and manifest["environment"]["git_commit"]
    assert np.isclose(loaded.priors().sum(), sum(manifest["priors"].values()))
    rng = np.random.default_rng(0)
    x = rng.random((2, *SER_BUNDLE_SIZE, 3), dtype=np.float32)
    for role, net in loaded.networks.items():
        feed = {"mean": x, "background": x[::-1]} if role == "twostream" else x
        want = originals[role].predict_on_batch(feed)
        np.testing.assert_allclose(net.model.predict_on_batch(feed), want, rtol=1e-5, atol=1e-6)


def test_copied_bundle_predicts_the_same(tiny_serengeti_bundle, tmp_path):
    images = _camera_folder(tmp_path / "images")
    moved = shutil.copytree(tiny_serengeti_bundle[0], tmp_path / "moved")
    for name, folder in (("a", tiny_serengeti_bundle[0]), ("b", moved)):
        code = _cli("--bundle", str(folder), "--images", str(images), "--out",
                    str(tmp_path / f"{name}.csv"))  # fmt: skip
        assert code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


def test_bundle_errors_name_the_file(tiny_serengeti_bundle, tmp_path):
    from lib.serengeti import bundle

    with pytest.raises(BundleError, match="not a model bundle"):
        bundle.load(tmp_path)
    broken = shutil.copytree(tiny_serengeti_bundle[0], tmp_path / "broken")
    (broken / "stack" / "zebra-b.txt").unlink()
    with pytest.raises(BundleError, match="incomplete, stack/zebra-b.txt is missing"):
        bundle.load(broken)
    wrong = shutil.copytree(tiny_serengeti_bundle[0], tmp_path / "wrong")
    manifest = json.loads((wrong / "bundle.json").read_text())
    fileio.write_json(wrong / "bundle.json", {**manifest, "track": "chimpact"})
    with pytest.raises(BundleError, match="track 'chimpact', not 'serengeti'"):
        bundle.load(wrong)


# --- grouping -----------------------------------------------------------------------------


def _find(paths):
    """The image files of `paths` and their common folder, as the predict CLI finds them."""
    found = card_files.find(paths, grouping.IMAGE_SUFFIXES, "an image", require="image")
    return found.files, found.base


def test_images_are_found_recursively_with_any_case_suffix(tmp_path):
    _jpeg(tmp_path / "a" / "x.JPG", T0)
    _jpeg(tmp_path / "a" / "b" / "y.jpeg", T0)
    Image.new("RGB", (8, 8)).save(tmp_path / "z.PNG")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("not an image")
    (tmp_path / "docs" / "clip.mp4").write_bytes(b"")
    paths, base = _find([tmp_path])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "a/b/y.jpeg", "a/x.JPG", "z.PNG",
    ]  # fmt: skip
    assert base == tmp_path.absolute()
    with pytest.raises(card_files.InputError, match="no image files"):
        _find([tmp_path / "docs"])
    with pytest.raises(card_files.InputError, match="no such file or folder"):
        _find([tmp_path / "missing"])


def test_sequences_are_one_camera_folder_and_a_time_gap(tmp_path):
    root = _camera_folder(tmp_path)
    paths, base = _find([root])
    table = grouping.group(paths, base, gap_s=60)
    seqs = grouping.sequences(table).set_index(KEY)
    assert seqs["n_images"].to_dict() == {"camA#1": 3, "camA#2": 1, "camB#1": 1}
    assert seqs.loc["camA#1", "first_file"] == "camA/IMG_0000.JPG"
    assert seqs.loc["camA#2", "datetime"] == pd.Timestamp(T0 + timedelta(seconds=200))
    assert set(table["time_source"]) == {"exif_original"}
    assert seqs.loc["camA#1", "site"] != seqs.loc["camB#1", "site"]  # cameras for neighbours
    wide = grouping.sequences(grouping.group(paths, base, gap_s=300))
    assert wide["n_images"].tolist() == [4, 1]
    each = grouping.sequences(grouping.group(paths, base, group_by="image"))
    assert len(each) == 5 and (each["n_images"] == 1).all()
    # a gap exactly gap_s long stays in the sequence; a second more starts a new one
    assert grouping.sequences(grouping.group(paths, base, gap_s=198))["n_images"].tolist()[0] == 4
    assert grouping.sequences(grouping.group(paths, base, gap_s=197))["n_images"].tolist()[0] == 3


def test_capture_time_is_exif_first_then_the_file_time(tmp_path):
    with_exif = _jpeg(tmp_path / "cam" / "a.jpg", T0)
    without = _jpeg(tmp_path / "cam" / "b.jpg", None)
    broken = tmp_path / "cam" / "c.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    stamp = (T0 + timedelta(seconds=30)).timestamp()
    for path in (with_exif, without, broken):
        os.utime(path, (stamp + 3600, stamp + 3600))
    os.utime(without, (stamp, stamp))
    assert grouping.capture_time(with_exif) == (pd.Timestamp(T0), "exif_original")
    assert grouping.capture_time(without) == (pd.Timestamp(T0 + timedelta(seconds=30)), "mtime")
    assert grouping.capture_time(broken)[1] == "mtime"  # unreadable header: file time, no crash
    assert grouping.capture_time(tmp_path / "gone.jpg") == (pd.NaT, "none")
    paths, base = _find([tmp_path])
    seqs = grouping.sequences(grouping.group(paths, base, gap_s=60))
    # EXIF 10:00:00 and file time 10:00:30 are one burst; the broken file's 11:00:30 is not
    assert seqs["n_images"].tolist() == [2, 1]


def test_metadata_csv_gives_the_sequences(tmp_path):
    root = _camera_folder(tmp_path / "data")
    meta = pd.DataFrame(
        {
            KEY: ["SER_S11#A01#1#7", "SER_S11#A01#1#7", "mine-2"],
            "file_name": ["camA/IMG_0003.JPG", "camA/IMG_0000.JPG", "camB/IMG_0001.jpeg"],
            "datetime": ["2013-05-04 10:03:20", "2013-05-04 10:00:00", ""],
        }
    )
    meta.to_csv(tmp_path / "meta.csv", index=False)
    table = grouping.read_metadata(tmp_path / "meta.csv", [root])
    seqs = grouping.sequences(table)
    assert seqs[KEY].tolist() == ["SER_S11#A01#1#7", "mine-2"]  # the CSV's order
    assert seqs["n_images"].tolist() == [2, 1]
    assert seqs["first_file"].tolist() == ["camA/IMG_0000.JPG", "camB/IMG_0001.jpeg"]
    assert seqs[["season", "site"]].values.tolist() == [[11, "A01"], [0, "camB"]]
    assert pd.isna(seqs["datetime"].iloc[1])
    bad = meta.assign(datetime=["2013-05-04", "", ""])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(grouping.InputError, match=r"bad.csv: line 2: datetime '2013-05-04'"):
        grouping.read_metadata(tmp_path / "bad.csv", [root])
    escape = meta.assign(file_name=["../../etc/passwd", "a.jpg", "b.jpg"])
    escape.to_csv(tmp_path / "escape.csv", index=False)
    with pytest.raises(grouping.InputError, match="line 2: refusing path"):
        grouping.read_metadata(tmp_path / "escape.csv", [root])
    with pytest.raises(grouping.InputError, match="exactly that one folder"):
        grouping.read_metadata(tmp_path / "meta.csv", [root, root / "camA"])


# --- predictions and output formats -------------------------------------------------------


def test_csv_and_json_outputs(tiny_serengeti_bundle, tmp_path):
    images = _camera_folder(tmp_path / "images")
    (images / "camB" / "IMG_0002.jpg").write_bytes(b"")  # unreadable, 10 s after the other
    os.utime(images / "camB" / "IMG_0002.jpg", ((T0 + timedelta(seconds=11)).timestamp(),) * 2)
    out = tmp_path / "pred.csv"
    code = _cli("--bundle", str(tiny_serengeti_bundle[0]), "--images", str(images),
                "--out", str(out), "--json", str(tmp_path / "pred.json"))  # fmt: skip
    assert code == 0
    rows = pd.read_csv(out)
    assert list(rows.columns) == [KEY, "first_file", "n_images", *CLASSES, "top_class", "top_score"]
    probs = rows[list(CLASSES)].to_numpy()
    assert np.isfinite(probs).all() and probs.min() >= 0 and probs.max() <= 1
    assert rows["top_class"].tolist() == [CLASSES[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose(rows["top_score"], probs.max(axis=1))
    assert rows["n_images"].sum() == 6
    errors = pd.read_csv(tmp_path / "pred.errors.csv")
    assert errors[["file", KEY]].values.tolist() == [["camB/IMG_0002.jpg", "camB#1"]]
    assert errors["error"].iloc[0].startswith("truncated")

    doc = json.loads((tmp_path / "pred.json").read_text())
    assert doc["info"]["format_version"] and doc["detection_categories"] == {"1": "animal"}
    assert doc["classification_categories"] == {str(i): c for i, c in enumerate(CLASSES)}
    assert len(doc["images"]) == 6
    by_seq = rows.set_index(KEY)
    for img in doc["images"]:
        if img["file"] == "camB/IMG_0002.jpg":
            assert img["failure"].startswith("truncated") and img["detections"] is None
            continue
        pairs = img["classifications"]
        scores = [p for _, p in pairs]
        assert scores == sorted(scores, reverse=True) and 1 <= len(pairs) <= 5
        row = by_seq.loc[img[KEY]]
        assert CLASSES[int(pairs[0][0])] == row["top_class"]
        for cat, p in pairs:
            assert abs(p - row[CLASSES[int(cat)]]) < 1e-5
        (det,) = img["detections"]
        assert det["bbox"] == [0.0, 0.0, 1.0, 1.0]
        assert abs(det["conf"] - (1 - row["empty"])) < 1e-5
    frame = megadetector.to_frame(doc)
    assert frame["file"].tolist() == sorted(frame["file"].tolist())  # the images' order


def test_unreadable_sequences_get_priors_and_exit_codes(tiny_serengeti_bundle, tmp_path, capsys):
    from lib.serengeti import bundle

    bundle_dir = str(tiny_serengeti_bundle[0])
    out = tmp_path / "pred.csv"
    folder = tmp_path / "imgs"
    _jpeg(folder / "ok" / "a.jpg", T0)
    (folder / "bad").mkdir()
    (folder / "bad" / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert _cli("--bundle", bundle_dir, "--images", str(folder), "--out", str(out)) == 0
    rows = pd.read_csv(out).set_index("first_file")
    priors = bundle.load(bundle_dir).priors().clip(1e-5, 1 - 1e-5)
    np.testing.assert_allclose(rows.loc["bad/b.jpg", list(CLASSES)], priors, atol=1e-12)
    assert not np.allclose(rows.loc["ok/a.jpg", list(CLASSES)], priors)
    assert pd.read_csv(tmp_path / "pred.errors.csv")["file"].tolist() == ["bad/b.jpg"]
    capsys.readouterr()
    # nothing readable at all: exit 1, priors everywhere, the files named
    bad_out = tmp_path / "bad.csv"
    assert _cli("--bundle", bundle_dir, "--images", str(folder / "bad"), "--out", str(bad_out)) == 1
    assert "unreadable: b.jpg" in capsys.readouterr().err
    np.testing.assert_allclose(pd.read_csv(bad_out)[list(CLASSES)].iloc[0], priors, atol=1e-12)
    # unusable arguments: exit 2, the file named, nothing written
    gone = tmp_path / "gone.csv"
    assert _cli("--bundle", str(tmp_path), "--images", str(folder), "--out", str(gone)) == 2
    assert f"{tmp_path}: not a model bundle (no bundle.json)" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _cli("--bundle", bundle_dir, "--images", str(tmp_path / "empty"), "--out",
                str(gone)) == 2  # fmt: skip
    assert "no image files" in capsys.readouterr().err
    assert _cli("--bundle", bundle_dir, "--images", str(folder), "--metadata",
                str(tmp_path / "nope.csv"), "--out", str(gone)) == 2  # fmt: skip
    assert "nope.csv: no such file" in capsys.readouterr().err
    assert not gone.exists()
    with pytest.raises(SystemExit) as exc:
        _cli("--bundle", bundle_dir, "--images", str(folder), "--out", str(gone), "--gap-s", "-1")
    assert exc.value.code == 2


def test_neighbour_feature_is_computed_among_the_predicted_sequences(tiny_serengeti_bundle):
    """The synthetic stack learned "zebra when other cameras saw zebra within 120 s": the same
    sequence gets a different zebra probability depending on its neighbours' scores."""
    from lib.serengeti import bundle, predict_images

    loaded = bundle.load(tiny_serengeti_bundle[0])
    ids = ["SER_S11#C00#1#1", "SER_S11#C01#1#1", "SER_S11#C02#1#1", "SER_S11#C00#1#2"]
    when = pd.to_datetime(["2013-01-01 06:00:00", "2013-01-01 06:00:30", "2013-01-01 06:01:00",
                           "2013-01-01 09:00:00"])  # fmt: skip
    seqs = pd.DataFrame({KEY: ids, "season": 11, "site": [i.split("#")[1] for i in ids],
                         "datetime": when, "n_images": 1})  # fmt: skip

    def zebra_of_first(neighbour_zebra: float) -> tuple[float, float]:
        image = pd.DataFrame(0.05, index=range(4), columns=list(CLASSES))
        image["zebra"] = [0.5, neighbour_zebra, neighbour_zebra, 0.5]
        image.insert(0, "image_index", 0)
        image.insert(0, KEY, ids)
        per_seq = {
            m: image.drop(columns="image_index") for m in loaded.stack_info["sequence_models"]
        }
        pred = predict_images.stack_predictions(loaded, seqs, image, per_seq).set_index(KEY)
        return float(pred.loc[ids[0], "zebra"]), float(pred.loc[ids[3], "zebra"])

    seen, alone_hi = zebra_of_first(0.95)
    unseen, alone_lo = zebra_of_first(0.05)
    assert seen > 0.5 > unseen
    assert alone_hi == alone_lo  # three hours later: no neighbour either way


def test_real_camera_trap_images(tiny_serengeti_bundle, tmp_path):
    if not REAL_IMAGES.is_dir():
        pytest.skip(f"real test images not found at {REAL_IMAGES} (shared/data/real-images)")
    images = shutil.copytree(REAL_IMAGES, tmp_path / "real", ignore=shutil.ignore_patterns("*.md"))
    n_files = len(list(images.glob("*.jpg")))
    for group_by, out in (("folder", tmp_path / "by_folder.csv"), ("image", tmp_path / "each.csv")):
        code = _cli("--bundle", str(tiny_serengeti_bundle[0]), "--images", str(images),
                    "--out", str(out), "--group-by", group_by)  # fmt: skip
        assert code == 0
        rows = pd.read_csv(out)
        assert rows["n_images"].sum() == n_files
        assert np.isfinite(rows[list(CLASSES)].to_numpy()).all()
        errors = pd.read_csv(out.with_name(f"{out.stem}.errors.csv"))
        assert errors["file"].tolist() == ["african_elephants_truncated_file.jpg"]
    each = pd.read_csv(tmp_path / "each.csv").set_index("first_file")
    assert len(each) == n_files  # grayscale, CMYK and EXIF-rotated files all predicted
    truncated = each.loc["african_elephants_truncated_file.jpg", list(CLASSES)].to_numpy()
    fine = each.drop(index="african_elephants_truncated_file.jpg")[list(CLASSES)].to_numpy()
    assert not any(np.allclose(truncated, row) for row in fine)  # it got the priors instead
