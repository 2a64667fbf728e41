"""What the predict CLIs do with the odd things a memory card and a copied bundle hold: links
that loop or point nowhere, folders named like videos, unsupported files, a file given twice,
rows past a video's end, damaged bundle files, and outputs that cannot be written."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from lib.bundle_io import BundleError
from lib.predict import card_files
from lib.video import frames_at_1fps

VIDEO = (".mp4", ".avi")


def _card(root):
    """A card folder: two videos, a link loop, a dangling link, a folder named like a video,
    a note, and a link to one of the videos."""
    (root / "DCIM").mkdir(parents=True)
    for name in ("PICT0001.MP4", "PICT0002.avi"):
        (root / "DCIM" / name).write_bytes(b"video")
    os.symlink(root / "DCIM" / "loop.mp4", root / "DCIM" / "loop.mp4")
    os.symlink(root / "unmounted" / "x.mp4", root / "DCIM" / "gone.mp4")
    (root / "DCIM" / "PICT0003.MP4").mkdir()
    (root / "DCIM" / "notes.txt").write_text("field notes")
    os.symlink(root / "DCIM" / "PICT0001.MP4", root / "again.mp4")
    return root


def test_odd_entries_are_counted_skips_and_each_file_is_found_once(tmp_path):
    card = _card(tmp_path / "card")
    found = card_files.find([card, card / "DCIM" / "PICT0002.avi", card / "DCIM" / "notes.txt"],
                        VIDEO, "a video")  # fmt: skip
    # once each, in the order first reached, under the file's own name rather than the link's
    assert [p.name for p in found.files] == ["PICT0001.MP4", "PICT0002.avi"]
    reasons = {os.path.basename(p): r for p, r in found.skipped}
    assert reasons["loop.mp4"] == "a link that loops back on itself"
    assert reasons["gone.mp4"].startswith("a link to nothing")
    assert reasons["PICT0003.MP4"] == "a folder, not a video"
    assert reasons["notes.txt"] == "not a video file (.txt)"  # named: counted
    assert found.reasons()["a link to nothing"] == 1
    with pytest.raises(card_files.InputError, match="no such file or folder"):
        card_files.find([tmp_path / "typo"], VIDEO, "a video")


def test_chimpact_cli_on_a_card_with_odd_entries(tiny_bundle, tiny_chimpact, tmp_path, capsys):
    from lib.predict.__main__ import main

    card = tmp_path / "card"
    card.mkdir()
    video = sorted((tiny_chimpact / "test_videos").iterdir())[0]
    shutil.copy(video, card / video.name)
    os.symlink(card / "nowhere.mp4", card / "gone.mp4")
    (card / "folder.avi").mkdir()
    out = tmp_path / "pred.csv"
    assert main(["chimpact", "--bundle", str(tiny_bundle[0]), "--videos", str(card),
                 str(card / video.name), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    rows = pd.read_csv(out)
    assert rows["filepath"].nunique() == 1  # given twice, predicted once
    errors = pd.read_csv(tmp_path / "pred.errors.csv")
    assert sorted(errors["error"]) == [
        "skipped: a folder, not a video",
        f"skipped: a link to nothing ({card}/nowhere.mp4)",
    ]
    assert "files read" in capsys.readouterr().err  # the closing summary line


def test_rows_past_a_videos_end_get_no_distance_and_a_reason(tiny_bundle, tiny_chimpact, tmp_path):
    from lib.predict.__main__ import main

    video = sorted((tiny_chimpact / "test_videos").iterdir())[0]
    last = len(frames_at_1fps(video, 10**6)) - 1
    pd.DataFrame({"filepath": [str(video)] * 3, "time": [last + 30, 0, last]}).to_csv(
        tmp_path / "times.csv", index=False
    )
    out = tmp_path / "pred.csv"
    assert (
        main(
            [
                "chimpact",
                "--bundle",
                str(tiny_bundle[0]),
                "--videos",
                str(video),
                "--times",
                str(tmp_path / "times.csv"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rows = pd.read_csv(out)
    assert rows["time"].tolist() == [last + 30, 0, last]
    assert rows["distance"].isna().tolist() == [True, False, False]
    errors = pd.read_csv(tmp_path / "pred.errors.csv")
    assert errors[["time", "error"]].values.tolist() == [
        [last + 30, f"past the video's end (its last second is {last})"]
    ]


def test_a_time_beyond_a_day_is_refused(tiny_bundle, tmp_path, capsys):
    from lib.predict.__main__ import main

    pd.DataFrame({"filepath": ["a.mp4"], "time": ["1E+19"]}).to_csv(tmp_path / "t.csv", index=False)
    assert (
        main(
            [
                "chimpact",
                "--bundle",
                str(tiny_bundle[0]),
                "--videos",
                str(tmp_path),
                "--times",
                str(tmp_path / "t.csv"),
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert "line 2" in capsys.readouterr().err


def _cut(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_damaged_chimpact_bundle_files_are_named(tiny_bundle, tmp_path):
    from lib.chimpact import bundle

    cut = shutil.copytree(tiny_bundle[0], tmp_path / "cut")
    keras_file = sorted((cut / "models").rglob("*.keras"))[1]
    _cut(keras_file)
    with pytest.raises(BundleError, match="copy it again") as err:
        bundle.load(cut)
    assert str(keras_file) in str(err.value)
    manifest = shutil.copytree(tiny_bundle[0], tmp_path / "manifest")
    _cut(manifest / "bundle.json", 0.7)
    with pytest.raises(BundleError, match="bundle.json.*copy it again"):
        bundle.load(manifest)


def test_a_cut_booster_is_refused_before_lightgbm_sees_it(tiny_serengeti_bundle, tmp_path):
    """LightGBM's parser aborts the whole process on a cut model file; were the check missing,
    this test process would die here rather than fail."""
    from lib.serengeti import bundle

    cut = shutil.copytree(tiny_serengeti_bundle[0], tmp_path / "cut")
    booster = sorted((cut / "stack").glob("*.txt"))[0]
    for keep in (0.3, 0.95, 0.999):
        shutil.copy(tiny_serengeti_bundle[0] / "stack" / booster.name, booster)
        _cut(booster, keep)
        with pytest.raises(BundleError, match="copy it again") as err:
            bundle.load(cut)
        assert booster.name in str(err.value)


def test_outputs_that_cannot_be_written_are_refused_first(tiny_bundle, tmp_path, capsys):
    from lib.predict.__main__ import main

    (tmp_path / "a-file").write_text("x")
    args = ["chimpact", "--bundle", str(tiny_bundle[0]), "--videos", str(tmp_path)]
    assert main([*args, "--out", str(tmp_path / "a-file" / "pred.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
