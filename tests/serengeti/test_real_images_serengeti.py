"""Real-world image files through Serengeti stage 02 (lib/serengeti/extract.py).

Two folders in the competition layout, each run through `extract.run` as the 02 notebook does:

- field-like files made here with Pillow, so the test runs everywhere (CI has no real images):
  grayscale (L), CMYK, EXIF orientation 6/3/8 of an asymmetric picture, a PNG named .JPG, a
  truncated JPEG, a zero-byte file, a text file named .JPG, a listed file that is missing, a
  symlink that points outside the data folder, and names with spaces and non-ASCII letters;
- the real Snapshot Serengeti image and its variants in /work/shared/data/real-images (skipped
  where that folder does not exist).

Readable files must come out upright and 3-channel at model size; each unreadable one is a
counted, named skip in the manifest and summary, and the run carries on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lib import fileio
from lib.serengeti import extract, records, resize, schema
from lib.serengeti.schema import CLASSES, KEY

REAL = Path("/work/shared/data/real-images")
SIZE = (48, 64)  # (height, width) at model size
CFG = extract.ExtractConfig(image_size=SIZE)


def upright_picture() -> np.ndarray:
    """480x640 RGB, asymmetric: a red block top-left, a blue block on the right edge, grey
    elsewhere, a white strip along the bottom (the camera's information strip)."""
    arr = np.full((480, 640, 3), 90, np.uint8)
    arr[:160, :200] = (230, 30, 30)
    arr[200:300, 560:] = (30, 30, 230)
    arr[-30:] = 255
    return arr


def _jpeg(path: Path, image: Image.Image, **kw) -> None:
    image.save(path, format="JPEG", quality=95, **kw)


def _oriented(orientation: int) -> Callable[[Path], None]:
    """A JPEG whose stored pixels are turned so that `orientation` brings them upright."""
    stored_turn = {6: Image.Transpose.ROTATE_90, 3: Image.Transpose.ROTATE_180,
                   8: Image.Transpose.ROTATE_270}[orientation]  # fmt: skip

    def write(path: Path) -> None:
        stored = Image.fromarray(upright_picture()).transpose(stored_turn)
        exif = Image.Exif()
        exif[0x0112] = orientation
        _jpeg(path, stored, exif=exif.tobytes())

    return write


def _rgb(path: Path) -> None:
    _jpeg(path, Image.fromarray(upright_picture()))


def _gray(path: Path) -> None:
    _jpeg(path, Image.fromarray(upright_picture()).convert("L"))


def _cmyk(path: Path) -> None:
    _jpeg(path, Image.fromarray(upright_picture()).convert("CMYK"))


def _png_named_jpg(path: Path) -> None:
    Image.fromarray(upright_picture()).save(path, format="PNG")


def _truncated(path: Path) -> None:
    _rgb(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _text(path: Path) -> None:
    path.write_text("camera log: battery low\n", encoding="utf-8")


def _missing(path: Path) -> None:
    pass  # listed in the metadata, never written


def _outside(path: Path) -> None:
    target = path.parents[4] / "elsewhere.jpg"  # beside the data folder, not in it
    _rgb(target)
    path.symlink_to(target)


# seq_id -> [(file name, writer, expected manifest status)]; names sort in the listed order
FIELD = {
    "SER_S1#A01#1#1": [
        ("S1/A01/A01_R1/S1_A01_R1_PICT0001.JPG", _rgb, "ok"),
        ("S1/A01/A01_R1/S1_A01_R1_PICT0002.JPG", _gray, "ok"),
        ("S1/A01/A01_R1/S1_A01_R1_PICT0003.JPG", _cmyk, "ok"),
    ],
    "SER_S1#A01#1#2": [
        ("S1/A01/A01_R1/S1_A01_R1_PICT0011.JPG", _oriented(6), "ok"),
        ("S1/A01/A01_R1/S1_A01_R1_PICT0012.JPG", _oriented(3), "ok"),
        ("S1/A01/A01_R1/S1_A01_R1_PICT0013.JPG", _oriented(8), "ok"),
    ],
    "SER_S2#B02#1#1": [
        ("S2/B02/B02_R1/S2_B02_R1_PICT0001.JPG", _png_named_jpg, "ok"),
        ("S2/B02/B02_R1/S2_B02_R1_PICT0002.JPG", _truncated, "truncated"),
        ("S2/B02/B02_R1/S2_B02_R1_PICT0003.JPG", _zero, "truncated"),
    ],
    "SER_S9#B02#1#1": [
        ("S9/B02/B02_R1/S9_B02_R1_PICT0001.JPG", _text, "not_an_image"),
        ("S9/B02/B02_R1/S9_B02_R1_PICT0002.JPG", _missing, "missing"),
    ],
    "SER_S10#C03#1#1": [
        ("S10/C03/Ngorongoro crater/Ñandú é 0001.JPG", _rgb, "ok"),
        ("S10/C03/Ngorongoro crater/Ñandú é 0002.JPG", _outside, "outside_folder"),
    ],
    "SER_S11#D04#1#1": [  # test
        ("S11/D04/D04_R1/S11_D04_R1_PICT0001.JPG", _oriented(6), "ok"),
    ],
}


def write_folder(root: Path, seqs: dict[str, list[tuple[str, Callable[[Path], None], str]]],
                 test_seqs: set[str]) -> Path:  # fmt: skip
    """A data folder in the competition layout holding `seqs` (all labelled `empty`)."""
    meta = {"train": [], "test": []}
    for seq_id, files in seqs.items():
        split = "test" if seq_id in test_seqs else "train"
        for i, (name, write, _) in enumerate(files):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
            meta[split].append((seq_id, name, f"2012-07-01 10:00:0{i}"))
    for split, rows in meta.items():
        frame = pd.DataFrame(rows, columns=schema.METADATA_COLUMNS)
        frame.to_csv(root / f"{split}_metadata.csv", index=False)
    train_ids = sorted({r[0] for r in meta["train"]})
    test_ids = sorted({r[0] for r in meta["test"]})
    labels = pd.DataFrame([[s] + [int(c == "empty") for c in CLASSES] for s in train_ids],
                          columns=schema.LABEL_COLUMNS)  # fmt: skip
    labels.to_csv(root / "train_labels.csv", index=False)
    fmt = pd.DataFrame([[s] + [0.5] * len(CLASSES) for s in test_ids], columns=schema.LABEL_COLUMNS)
    fmt.to_csv(root / "submission_format.csv", index=False)
    return root


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """The field-like folder after stage 02: (dataset, work folder, manifest)."""
    base = tmp_path_factory.mktemp("field")
    data = schema.load(write_folder(base / "data", FIELD, {"SER_S11#D04#1#1"}))
    work = base / "work"
    manifest = extract.run(data, work, CFG, workers=2, progress=False)
    return data, work, manifest


def _reference() -> np.ndarray:
    """The upright picture straight through the flow (no JPEG), at model size."""
    return resize.flow(Image.fromarray(upright_picture()), SIZE)


def test_manifest_names_every_file_with_its_outcome(field):
    _, _, manifest = field
    expected = {name: status for files in FIELD.values() for name, _, status in files}
    assert dict(zip(manifest["file_name"], manifest["status"], strict=True)) == expected


def test_summary_counts_each_bad_file_by_reason(field):
    _, work, _ = field
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["images"] == 14 and summary["images_ok"] == 9
    assert summary["images_unreadable"] == 5
    assert summary["unreadable_by_reason"] == {
        "truncated": 2, "not_an_image": 1, "missing": 1, "outside_folder": 1
    }  # fmt: skip
    assert summary["sequences_no_image"] == 1  # SER_S9#B02#1#1: text + missing


def test_exif_orientation_is_applied_before_the_flow(field):
    _, work, _ = field
    ref = _reference().astype(int)
    for split, seq_id in (("train", "SER_S1#A01#1#2"), ("test", "SER_S11#D04#1#1")):
        flows = extract.load_arrays(work, split, seq_id)["flow"]
        assert flows.shape[1:] == (*SIZE, 3)
        for k, flow in enumerate(flows):
            assert np.abs(flow.astype(int) - ref).mean() < 4, (seq_id, k)
            red = flow[: SIZE[0] // 4, : SIZE[1] // 5].reshape(-1, 3).mean(axis=0)
            assert red[0] > 180 and red[1] < 80, (seq_id, k)  # the red block is top-left
            blue = flow[int(SIZE[0] * 0.45) : int(SIZE[0] * 0.6), -3:].reshape(-1, 3).mean(0)
            assert blue[2] > 180 and blue[0] < 80, (seq_id, k)  # the blue block right


def test_grayscale_and_cmyk_come_out_three_channel(field):
    _, work, _ = field
    arr = extract.load_arrays(work, "train", "SER_S1#A01#1#1")
    assert arr["flow"].shape == (3, *SIZE, 3) and arr["naive"].shape == (3, *SIZE, 3)
    rgb, gray, cmyk = (a.astype(int) for a in arr["flow"])
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert np.abs(cmyk - rgb).mean() < 4  # colours kept
    assert np.abs(rgb - _reference().astype(int)).mean() < 4
    # the white information strip is blacked out (edge rows blend a little in the resize)
    assert arr["flow"][:, -(resize.strip_rows(SIZE[0]) - 1) :].max() < 16


def test_png_named_jpg_is_read_by_content_and_broken_neighbours_are_skipped(field):
    _, work, _ = field
    arr = extract.load_arrays(work, "train", "SER_S2#B02#1#1")
    assert arr["image_index"].tolist() == [0]  # the PNG; the truncated and empty files skipped
    assert np.array_equal(arr["flow"][0], _reference())  # PNG is lossless: exactly the flow


def test_spaces_and_non_ascii_names_survive_the_manifest(field):
    _, work, _ = field
    manifest = extract.load_manifest(work)
    names = set(manifest["file_name"])
    assert "S10/C03/Ngorongoro crater/Ñandú é 0001.JPG" in names
    arr = extract.load_arrays(work, "train", "SER_S10#C03#1#1")
    assert arr["image_index"].tolist() == [0]


def test_the_next_stage_runs_on_what_stage_02_kept(field):
    data, work, _ = field
    manifest = records.build(data, work, shard_size=8)
    seqs = records.sequences(work)
    assert set(seqs.loc[~seqs["readable"], KEY]) == {"SER_S9#B02#1#1"}
    assert manifest["parts"]["s9"]["sequences_without_image"] == 1
    assert sum(s["count"] for s in manifest["parts"]["fit"]["images"]) == 7


REAL_FILES = {  # real file -> (sequence, expected manifest status)
    "african_elephants.jpg": ("SER_S1#E01#1#1", "ok"),
    "african_elephants_bw.jpg": ("SER_S1#E01#1#1", "ok"),
    "african_elephants_cmyk.jpg": ("SER_S1#E01#1#1", "ok"),
    "african_elephants_with_exif_orientation.jpg": ("SER_S1#E01#1#2", "ok"),
    "african_elephants_truncated_file.jpg": ("SER_S1#E01#1#3", "truncated"),
    "blank.jpg": ("SER_S11#E02#1#1", "ok"),
}


@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (real example images) not on this machine")
def test_real_serengeti_images_through_stage_02(tmp_path):
    seqs: dict[str, list] = {}
    for name, (seq_id, status) in REAL_FILES.items():
        src = REAL / name

        def copy(path: Path, src: Path = src) -> None:
            shutil.copyfile(src, path)

        seqs.setdefault(seq_id, []).append((f"S1/E01/E01_R1/{name}", copy, status))
    data = schema.load(write_folder(tmp_path / "data", seqs, {"SER_S11#E02#1#1"}))
    manifest = extract.run(data, tmp_path / "work", CFG, workers=2, progress=False)
    got = dict(zip(manifest["file_name"].str.split("/").str[-1], manifest["status"], strict=True))
    assert got == {name: status for name, (_, status) in REAL_FILES.items()}
    summary = fileio.read_json(tmp_path / "work" / "extract" / "summary.json")
    assert summary["unreadable_by_reason"] == {"truncated": 1}
    assert summary["sequences_no_image"] == 1
    three = extract.load_arrays(tmp_path / "work", "train", "SER_S1#E01#1#1")["flow"].astype(int)
    assert three.shape == (3, *SIZE, 3)
    original, bw, cmyk = three
    assert (bw[..., 0] == bw[..., 1]).all() and (bw[..., 1] == bw[..., 2]).all()
    assert np.abs(cmyk - original).mean() < 4
    rotated = extract.load_arrays(tmp_path / "work", "train", "SER_S1#E01#1#2")["flow"][0]
    assert rotated.shape == (*SIZE, 3)
    assert np.abs(rotated.astype(int) - original).mean() < 4  # upright like the original


def test_eda_loader_skips_the_same_files_as_stage_02(field):
    """01_eda's mean/background loader reads through the same checks: the symlink out of the
    folder and the broken files are skipped with the manifest's reasons, not raised."""
    from lib.serengeti import background

    data, _, manifest = field
    load = background.loader(data.root, SIZE)
    for seq_id in ("SER_S10#C03#1#1", "SER_S2#B02#1#1"):
        names = [n for n, _, _ in FIELD[seq_id]]
        res = background.sequence_images(names, load)
        expected = manifest[(manifest[KEY] == seq_id) & (manifest["status"] != "ok")]
        assert res.failed == dict(zip(expected["file_name"], expected["status"], strict=True))
        assert len(res.used) == 1 and res.background is not None
