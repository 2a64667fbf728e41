"""The chimpact demo generator: real table formats, geometry that carries distance, and
overexposure that the gamma fix recovers on originals but not on downsampled copies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib import demo
from lib.demo import chimpact_stats
from lib.demo.chimpact import generate
from lib.demo.chimpact_plan import SPECIES, animal_parts, box_at, box_of, make_site, plan_demo
from lib.demo.chimpact_render import render_scene
from lib.video import decode_jpeg, ffmpeg_exe, frames_at_1fps, probe, white_share

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "deep-chimpact"
SMALL = {"seed": 7, "videos": 6, "max_duration": 12, "progress": False}
CSVS = (
    "train_labels.csv", "train_metadata.csv", "test_metadata.csv", "submission_format.csv",
    "video_access_metadata.csv", "test_answers.csv", "demo_truth.csv",
)  # fmt: skip
CODECS = {"moyen_bafing": ("h264", ".mp4"), "tai": ("mpeg4", ".avi")}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six videos, one of them (at least) overexposed, rendered by a two-process pool."""
    out = tmp_path_factory.mktemp("demo") / "small"
    summary = generate(out, workers=2, overexposed_share=0.2, **SMALL)
    assert summary["overexposed"] >= 1 and summary["videos"] == 6
    return out


@pytest.fixture(scope="module")
def tables(small: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(small / name) for name in CSVS}


def labelled_frames(
    root: Path, row: pd.Series, times: list[int], *, down: bool = False, gamma: bool = False
) -> list[np.ndarray]:
    folder = f"{row.split}_videos_downsampled" if down else f"{row.split}_videos"
    frames = frames_at_1fps(root / folder / row.video_id, max(times) + 1, gamma=gamma)
    assert len(frames) > max(times), "every labelled second must have a frame"
    return [decode_jpeg(frames[t]) for t in times]


def test_columns_match_the_real_files(small: Path) -> None:
    if not REAL.is_dir():
        pytest.skip(f"real competition CSVs not found at {REAL}")
    for name in ("train_labels.csv", "train_metadata.csv", "test_metadata.csv",
                 "submission_format.csv", "video_access_metadata.csv"):  # fmt: skip
        real = (REAL / name).open().readline()
        assert (small / name).open().readline() == real, name


def test_rows_align_and_values_are_on_the_grid(tables: dict[str, pd.DataFrame]) -> None:
    keys = ["video_id", "time"]
    labels, meta = tables["train_labels.csv"], tables["train_metadata.csv"]
    assert labels[keys].equals(meta[keys])
    test = tables["test_metadata.csv"][keys]
    assert test.equals(tables["submission_format.csv"][keys])
    assert test.equals(tables["test_answers.csv"][keys])
    assert (tables["submission_format.csv"].distance == 1.0).all()
    answers = pd.concat([labels, tables["test_answers.csv"]])
    assert answers.time.dtype.kind == "i" and (answers.time >= 0).all()
    assert set(answers.distance) <= set(chimpact_stats.DISTANCE_GRID)
    assert not answers.duplicated(keys).any()
    for frame in (meta, tables["test_metadata.csv"]):
        boxes = frame[["x1", "y1", "x2", "y2", "probability"]]
        assert (boxes.isna().all(axis=1) | boxes.notna().all(axis=1)).all()
        box = boxes.dropna()
        assert ((box.x1 <= box.x2) & (box.y1 <= box.y2)).all()
        assert box[["x1", "y1", "x2", "y2"]].stack().between(0, 1).all()
        assert box.probability.between(0, 1, inclusive="neither").all()


def test_sites_are_disjoint_and_files_match_their_park(
    small: Path, tables: dict[str, pd.DataFrame]
) -> None:
    train, test = tables["train_metadata.csv"], tables["test_metadata.csv"]
    assert not set(train.site_id) & set(test.site_id)
    truth = tables["demo_truth.csv"]
    assert set(truth.video_id) == set(train.video_id) | set(test.video_id)
    assert set(truth.park) == set(CODECS), "a six-video demo still covers both parks"
    access = tables["video_access_metadata.csv"].set_index("video_id")
    for row in truth.itertuples():
        codec, extension = CODECS[row.park]
        assert row.video_id.endswith(extension) and len(row.video_id) == 4 + len(extension)
        for folder, column in (
            ("_videos", "s3_uri"),
            ("_videos_downsampled", "downsampled_s3_uri"),
        ):
            path = small / f"{row.split}{folder}" / row.video_id
            assert access.loc[row.video_id, column] == f"{row.split}{folder}/{row.video_id}"
            assert probe(path).codec == codec
        original = probe(small / f"{row.split}_videos" / row.video_id)
        down = probe(small / f"{row.split}_videos_downsampled" / row.video_id)
        assert (original.width, original.height) == (row.width, row.height)
        assert abs(down.width - row.width / 2) <= 2 and down.width % 2 == 0


def audio_codec(path: Path) -> str | None:
    header = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                            capture_output=True, text=True).stderr  # fmt: skip
    audio = [line for line in header.splitlines() if "Audio:" in line]
    return audio[0].split("Audio: ")[1].split()[0].rstrip(",") if audio else None


def test_originals_have_quiet_audio_and_downsampled_copies_none(
    small: Path, tables: dict[str, pd.DataFrame]
) -> None:
    for row in tables["demo_truth.csv"].itertuples():
        expected = "aac" if row.park == "moyen_bafing" else "pcm_s16le"
        assert audio_codec(small / f"{row.split}_videos" / row.video_id) == expected
        assert audio_codec(small / f"{row.split}_videos_downsampled" / row.video_id) is None


def test_distance_zero_fills_the_frame() -> None:
    """A label of 0 m is an animal at the lens: drawn huge, never invisible."""
    for index in range(6):
        site = make_site(1, index, "abc", "tai", "train")
        for species in SPECIES:
            near = box_of(animal_parts(site, species, 0.0, 0.0, 1.0, 0.0), site)
            far = box_of(animal_parts(site, species, 25.0, 0.0, 1.0, 0.0), site)
            assert near.visible and far.visible
            assert near.y2 - near.y1 > 0.5 * site.height > far.y2 - far.y1
            assert near.y2 >= far.y2


def test_same_seed_same_bytes_other_seed_differs(small: Path, tmp_path: Path) -> None:
    """Also proves the process pool does not change results: this copy renders serially."""
    again = generate(tmp_path / "again", workers=1, overexposed_share=0.2, **SMALL)
    assert again["videos"] == 6
    for name in CSVS:  # the access table holds the SHA-1 of every video file
        assert (tmp_path / "again" / name).read_bytes() == (small / name).read_bytes(), name
    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": 8, "videos": 4, "max_duration": 6})
    assert (other / "train_labels.csv").read_bytes() != (small / "train_labels.csv").read_bytes()


def test_overexposed_video_is_white_downsampled_but_recoverable(
    small: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = tables["demo_truth.csv"]
    meta = pd.concat([tables["train_metadata.csv"], tables["test_metadata.csv"]])
    plans = {p.video_id: p for p in plan_demo(7, 6, 12, 0.2)}
    for row in truth.itertuples():
        times = sorted(meta.loc[meta.video_id == row.video_id, "time"])
        down = [white_share(f) for f in labelled_frames(small, row, times, down=True)]
        if not row.overexposed:
            assert max(down) < 0.2, row.video_id
            continue
        assert min(down) > 0.2, row.video_id
        fixed = labelled_frames(small, row, times, gamma=True)
        assert max(white_share(f) for f in fixed) < 0.2
        # the gamma fix brings back the scene: compare with the noise-free rendering
        scene = render_scene(plans[row.video_id], times[0]).astype(float) * 112 / 255
        luma = np.array([0.299, 0.587, 0.114])
        got, want = fixed[0].astype(float) @ luma, scene @ luma
        assert got.std() > 3 and np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.7


def test_metadata_box_is_where_the_animal_is_drawn() -> None:
    for plan in plan_demo(3, 8, 10, 0.0)[:4]:
        second = plan.times[0]
        animal = np.any(render_scene(plan, second) != render_scene(plan, second, False), axis=2)
        rows, cols = np.nonzero(animal)
        box = box_at(plan, second)
        if not box.visible:
            continue
        assert abs(cols.min() - box.x1) <= 1.5 and abs(cols.max() + 1 - box.x2) <= 1.5
        assert abs(rows.min() - box.y1) <= 1.5 and abs(rows.max() + 1 - box.y2) <= 1.5


def test_nearer_animals_are_larger_and_lower(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("demo") / "bigger"
    generate(out, seed=11, videos=30, max_duration=15, progress=False)
    meta = pd.concat(
        [pd.read_csv(out / "train_metadata.csv"), pd.read_csv(out / "test_metadata.csv")]
    )
    answers = pd.concat(
        [pd.read_csv(out / "train_labels.csv"), pd.read_csv(out / "test_answers.csv")]
    )
    rows = meta.merge(answers, on=["video_id", "time"]).dropna()
    assert len(rows) >= 40
    assert (rows.y2 - rows.y1).corr(rows.distance, method="spearman") < -0.3
    assert rows.y2.corr(rows.distance, method="spearman") < -0.2


def test_label_statistics_follow_the_real_ones() -> None:
    plans = plan_demo(5, 1500, 60, 0.1)
    labels = pd.DataFrame(
        [(p.video_id, t, d) for p in plans for t, d in zip(p.times, p.distances, strict=True)],
        columns=["video_id", "time", "distance"],
    )
    per_video = labels.groupby("video_id").size()
    assert per_video.median() == 4 and per_video.max() <= 45
    assert 0.9 < (labels.time % 2 == 0).mean() < 0.98
    assert 6.0 < labels.distance.mean() < 7.5
    assert 0.6 < np.mean([p.site.park == "moyen_bafing" for p in plans]) < 0.85
    assert all(p.duration > max(p.times) for p in plans)


def test_ensure_names_the_folder_and_generates_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMTRAP_DATA", str(tmp_path))
    folder = demo.ensure("chimpact", seed=3, videos=2, max_duration=3)
    assert folder.name == "chimpact-seed3-n2-d3" and (folder / "train_labels.csv").is_file()
    monkeypatch.setattr("lib.demo.chimpact.generate", lambda *a, **k: pytest.fail("regenerated"))
    assert demo.ensure("chimpact", seed=3, videos=2, max_duration=3) == folder
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ValueError, match="sequences"):
        demo.ensure("serengeti", videos=2)  # each track has its own size options


def test_generate_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        generate(tmp_path, videos=2, max_duration=3, progress=False)
    with pytest.raises(ValueError, match="videos"):
        generate(tmp_path / "new", videos=1)


def test_cli_writes_a_folder_and_rejects_a_non_empty_out(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    command = [sys.executable, "-m", "lib.demo", "--track", "chimpact", "--out", str(out),
               "--videos", "2", "--max-duration", "3", "--quiet"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"train_videos": 1' in done.stdout and (out / "test_metadata.csv").is_file()
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    bad = subprocess.run([*command[:3], "--track", "chimpact", "--videos", "x"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "expected an integer" in bad.stderr
