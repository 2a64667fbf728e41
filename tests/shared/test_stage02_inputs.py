"""Stage 02 of both tracks keyed by what each item is made from, and odd files on a card.

Edit one label's time, replace one video or one image: exactly that item is redone. Links that
loop or dangle, folders named like videos or images, empty files: counted skips with a reason
in the user's words, in the manifest, errors.csv and the summary; never a crash. Every image
format Pillow reads is read.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from lib import fileio, inputs, stages
from lib.chimpact import extract as chextract
from lib.chimpact import schema as chschema
from lib.serengeti import extract as seextract
from lib.serengeti import schema as seschema

SIZE = (16, 20)


def stamps(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*.json")}


def redone(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(k for k in after if before.get(k) != after[k])


@pytest.fixture
def chimpact_copy(tiny_chimpact, tiny_extracted, tmp_path):
    """A copy of the tiny demo and of its finished work folder, free to edit."""
    data_dir, work = tmp_path / "data", tmp_path / "work"
    shutil.copytree(tiny_chimpact, data_dir, symlinks=True)
    shutil.copytree(tiny_extracted[1], work)
    again = chextract.run(chschema.load(data_dir), work, workers=1, progress=False)
    assert fileio.read_json(work / "extract" / "summary.json")["engine"]["ran"] == 0  # moved: kept
    assert (again["status"] == "ok").all()
    return data_dir, work


def test_editing_one_label_time_redoes_exactly_that_video(chimpact_copy):
    data_dir, work = chimpact_copy
    meta = pd.read_csv(data_dir / "train_metadata.csv", dtype={"video_id": str})
    labels = pd.read_csv(data_dir / "train_labels.csv", dtype={"video_id": str})
    row = meta.iloc[0]
    taken = set(meta.loc[meta["video_id"] == row["video_id"], "time"])
    new_time = next(t for t in range(int(row["time"]) + 1, 10_000) if t not in taken)
    for table, name in ((meta, "train_metadata.csv"), (labels, "train_labels.csv")):
        hit = (table["video_id"] == row["video_id"]) & (table["time"] == row["time"])
        table.loc[hit, "time"] = new_time
        table.to_csv(data_dir / name, index=False)
    before = stamps(work / "extract" / "videos")
    chextract.run(chschema.load(data_dir), work, workers=1, progress=False)
    assert redone(before, stamps(work / "extract" / "videos")) == [f"train/{row['video_id']}.json"]
    assert fileio.read_json(work / "extract" / "summary.json")["engine"]["ran"] == 1


def test_replacing_one_video_redoes_exactly_that_video(chimpact_copy):
    data_dir, work = chimpact_copy
    folder = data_dir / chschema.VIDEO_DIRS[("train", "down")]
    videos = sorted(p.name for p in folder.iterdir())
    shutil.copyfile(folder / videos[1], folder / videos[0])  # another clip under the same name
    before = stamps(work / "extract" / "videos")
    chextract.run(chschema.load(data_dir), work, workers=1, progress=False)
    assert redone(before, stamps(work / "extract" / "videos")) == [f"train/{videos[0]}.json"]


def test_odd_files_among_the_videos_are_counted_skips(chimpact_copy):
    data_dir, work = chimpact_copy
    data = chschema.load(data_dir)
    folder = data_dir / chschema.VIDEO_DIRS[("train", "down")]
    victims = sorted(data.train["video_id"].unique())[:4]
    (folder / victims[0]).unlink()
    (folder / victims[0]).symlink_to(folder / victims[0])  # a link that loops
    (folder / victims[1]).unlink()
    (folder / victims[1]).symlink_to(data_dir / "unmounted-card" / victims[1])
    (folder / victims[2]).unlink()
    (folder / victims[2]).mkdir()  # a folder named like a video
    (folder / victims[3]).write_bytes(b"")
    manifest = chextract.run(data, work, workers=2, progress=False)
    reason = manifest.set_index("video_id")["reason"]
    assert reason[victims[0]] == inputs.LOOP
    assert reason[victims[1]] == inputs.DANGLING
    assert reason[victims[2]] == "a folder, not a video"
    assert reason[victims[3]] == inputs.EMPTY
    assert (manifest.loc[~manifest["video_id"].isin(victims), "status"] == "ok").all()
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["errors"] == 4 and summary["errors_by_reason"][inputs.LOOP] == 1
    errors = stages.load_errors(work / "extract")
    assert sorted(errors["name"]) == sorted(f"train/{v}" for v in victims)
    assert errors["error"].str.contains(str(folder)).all()  # the message names the file


def test_two_videos_with_one_stem_keep_their_own_frames(tiny_chimpact, tmp_path):
    data = chschema.load(tiny_chimpact)
    jobs = chextract.plan(data)
    names = [f"{j.split}/{j.video_id}" for j in jobs]
    assert len({chextract.frame_dir(tmp_path, "down", "train", n) for n in ("a.AVI", "a.MP4")}) == 2
    assert len(set(names)) == len(names)


@pytest.fixture
def serengeti_copy(tiny_serengeti, tmp_path):
    data_dir, work = tmp_path / "data", tmp_path / "work"
    shutil.copytree(tiny_serengeti, data_dir, symlinks=True)
    cfg = seextract.ExtractConfig(image_size=SIZE)
    seextract.run(seschema.load(data_dir), work, cfg, workers=2, progress=False)
    return data_dir, work, cfg


def ok_images(work: Path, n: int) -> pd.DataFrame:
    """n train images that stage 02 used, each from another sequence."""
    manifest = seextract.load_manifest(work)
    ok = manifest[(manifest["status"] == "ok") & (manifest["split"] == "train")]
    return ok.drop_duplicates(seschema.KEY).iloc[:n]


def test_replacing_one_image_redoes_exactly_that_sequence(serengeti_copy):
    data_dir, work, cfg = serengeti_copy
    seq_id, name = ok_images(work, 1)[[seschema.KEY, "file_name"]].iloc[0]
    image = Image.open(data_dir / name).convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image.save(data_dir / name, format="JPEG")
    before = stamps(work / "extract" / "sequences")
    seextract.run(seschema.load(data_dir), work, cfg, workers=1, progress=False)
    expected = f"train/{seextract.safe_name(seq_id)}.json"
    failed = {f"{n}.json".replace("#", "%23") for n in stages.load_errors(work / "extract")["name"]}
    changed = redone(before, stamps(work / "extract" / "sequences"))
    assert [c for c in changed if c not in failed] == [expected]  # failures are always retried


def test_odd_image_files_are_counted_skips(serengeti_copy):
    data_dir, work, cfg = serengeti_copy
    names = list(ok_images(work, 3)["file_name"])
    for name in names:
        (data_dir / name).unlink()
    (data_dir / names[0]).symlink_to(data_dir / names[0])
    (data_dir / names[1]).symlink_to(data_dir / "gone.jpg")
    (data_dir / names[2]).mkdir()
    manifest = seextract.run(seschema.load(data_dir), work, cfg, workers=2, progress=False)
    status = manifest.set_index("file_name")["status"]
    assert [status[n] for n in names] == [inputs.LOOP, inputs.DANGLING, "a folder, not an image"]
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["unreadable_by_reason"][inputs.LOOP] == 1


def test_tif_and_webp_images_are_read_like_jpegs(serengeti_copy):
    data_dir, work, cfg = serengeti_copy
    meta = pd.read_csv(data_dir / "train_metadata.csv", dtype=str)
    renamed = {}
    for name, fmt in zip(ok_images(work, 2)["file_name"], ("TIFF", "WEBP"), strict=True):
        new = str(Path(name).with_suffix(".tif" if fmt == "TIFF" else ".webp"))
        Image.open(data_dir / name).save(data_dir / new, format=fmt, lossless=True)
        os.remove(data_dir / name)
        renamed[name] = new
    meta["file_name"] = meta["file_name"].replace(renamed)
    meta.to_csv(data_dir / "train_metadata.csv", index=False)
    manifest = seextract.run(seschema.load(data_dir), work, cfg, workers=1, progress=False)
    status = manifest.set_index("file_name")["status"]
    assert [status[n] for n in renamed.values()] == ["ok", "ok"]
