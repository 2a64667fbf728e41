"""The Serengeti demo generator: the competition's exact layout, faithful images (fixed scenes,
grey night shots, the information strip, animals that move between shots), herds seen by
neighbouring cameras, determinism, and the command line."""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lib import demo
from lib.demo import serengeti_plan
from lib.demo.serengeti import generate
from lib.demo.serengeti_bodies import Individual, Pose, animal_shapes, box_of
from lib.demo.serengeti_render import render_shot
from lib.demo.serengeti_species import BODIES, CLASSES, ECOLOGY, SPECIES
from tests.conftest import TINY_SERENGETI

ROOT = Path(__file__).resolve().parents[2]
# The 54 classes in submission order, copied from the competition's description (not from the code).
DOCS_CLASSES = (
    """aardvark, aardwolf, baboon, bat, batearedfox, buffalo, bushbuck, caracal,
cattle, cheetah, civet, dikdik, duiker, eland, elephant, empty, gazellegrants, gazellethomsons,
genet, giraffe, guineafowl, hare, hartebeest, hippopotamus, honeybadger, hyenaspotted,
hyenastriped, impala, insectspider, jackal, koribustard, leopard, lionfemale, lionmale,
mongoose, monkeyvervet, ostrich, otherbird, porcupine, reedbuck, reptiles, rhinoceros, rodents,
secretarybird, serval, steenbok, topi, vulture, warthog, waterbuck, wildcat, wildebeest, zebra,
zorilla""".replace("\n", " ")
    .replace(" ", "")
    .split(",")
)
SEQ_ID = re.compile(r"^SER_S(\d+)#([A-Z]\d{2})#(\d+)#(\d+)$")
FILE_NAME = re.compile(r"^S(\d+)/([A-Z]\d{2})/\2_R(\d+)/S\1_\2_R\3_PICT(\d{4})\.JPG$")
CSVS = (
    "train_metadata.csv",
    "test_metadata.csv",
    "train_labels.csv",
    "submission_format.csv",
    "test_answers.csv",
    "demo_truth.csv",
)
SIZE = TINY_SERENGETI["image_size"]


@pytest.fixture(scope="module")
def tables(tiny_serengeti: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(tiny_serengeti / name) for name in CSVS}


def readable(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def test_class_list_and_species_tables_match_the_docs() -> None:
    assert len(DOCS_CLASSES) == 54
    assert list(CLASSES) == DOCS_CLASSES
    assert set(BODIES) == set(ECOLOGY) == set(SPECIES) == set(CLASSES) - {"empty"}
    for name, eco in ECOLOGY.items():
        assert eco.activity in serengeti_plan.ACTIVITY, name
        assert set(eco.companions) <= set(SPECIES), name


def test_columns_and_row_order_follow_the_competition(tables: dict[str, pd.DataFrame]) -> None:
    for name in ("train_metadata.csv", "test_metadata.csv"):
        assert list(tables[name].columns) == ["seq_id", "file_name", "datetime"]
    for name in ("train_labels.csv", "test_answers.csv", "submission_format.csv"):
        assert list(tables[name].columns) == ["seq_id", *DOCS_CLASSES], name
    train, test = tables["train_metadata.csv"], tables["test_metadata.csv"]
    assert tables["train_labels.csv"].seq_id.tolist() == train.seq_id.unique().tolist()
    sub, answers = tables["submission_format.csv"], tables["test_answers.csv"]
    assert sub.seq_id.tolist() == test.seq_id.unique().tolist() == answers.seq_id.tolist()
    assert (
        sub[DOCS_CLASSES].dtypes.map(pd.api.types.is_float_dtype).all()
        and (sub[DOCS_CLASSES] == 0.0).all().all()
    )
    assert not set(train.seq_id) & set(test.seq_id)
    assert not pd.concat([train, test]).file_name.duplicated().any()


def test_ids_names_and_times_follow_the_grammar(tables: dict[str, pd.DataFrame]) -> None:
    meta = pd.concat([tables["train_metadata.csv"], tables["test_metadata.csv"]])
    for row in meta.itertuples():
        season, site, roll, _ = SEQ_ID.match(row.seq_id).groups()
        f_season, f_site, f_roll, _ = FILE_NAME.match(row.file_name).groups()
        assert (season, site, roll) == (f_season, f_site, f_roll), row
        datetime.strptime(row.datetime, "%Y-%m-%d %H:%M:%S")
    seasons = meta.seq_id.str.extract(SEQ_ID.pattern)[0].astype(int)
    assert set(seasons[: len(tables["train_metadata.csv"])]) == set(range(1, 11))
    assert set(seasons[len(tables["train_metadata.csv"]) :]) == {11}
    # seasons follow each other in time, like the real survey
    span = pd.to_datetime(meta.datetime).groupby(seasons.to_numpy()).agg(["min", "max"])
    assert (span["max"].iloc[:-1].to_numpy() < span["min"].iloc[1:].to_numpy()).all()
    # per roll: captures 1, 2, 3..., images PICT0001... in capture order, one second apart-ish
    parts = meta.seq_id.str.extract(SEQ_ID.pattern).astype({0: int, 2: int, 3: int})
    meta = meta.assign(
        roll_key=parts[0].astype(str) + parts[1] + parts[2].astype(str),
        capture=parts[3],
        pict=meta.file_name.str[-8:-4].astype(int),
    )
    for _, roll in meta.groupby("roll_key", sort=False):
        assert roll.pict.tolist() == list(range(1, len(roll) + 1))
        assert roll.capture.drop_duplicates().tolist() == list(range(1, roll.capture.max() + 1))
    for _, seq in meta.groupby("seq_id"):
        times = pd.to_datetime(seq.datetime)
        assert times.is_monotonic_increasing and (times.iloc[-1] - times.iloc[0]).seconds <= 6


def test_every_file_exists_and_only_listed_damage_fails_to_decode(
    tiny_serengeti: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = tables["demo_truth.csv"].set_index("file_name")
    meta = pd.concat([tables["train_metadata.csv"], tables["test_metadata.csv"]])
    assert set(meta.file_name) == set(truth.index)
    damaged = truth.damage.fillna("")
    assert (damaged != "").any(), "the default demo includes a few broken files"
    for name in meta.file_name:
        path = tiny_serengeti / name
        assert path.is_file(), name
        if damaged[name]:
            with pytest.raises((OSError, SyntaxError)):
                readable(path)
            continue
        image = readable(path)
        assert image.format == "JPEG" and image.size == SIZE, name
        assert image.mode == truth.loc[name, "mode"], name
        exif = image.getexif().get_ifd(0x8769)
        taken = datetime.strptime(exif[0x9003], "%Y:%m:%d %H:%M:%S")
        assert taken == datetime.strptime(truth.loc[name, "datetime"], "%Y-%m-%d %H:%M:%S")
    # one test sequence has no readable image at all (the write-up gives those class priors)
    whole = truth[truth.split == "test"].groupby("seq_id").damage.apply(lambda d: d.notna().all())
    assert whole.any()


def test_images_per_sequence_and_empty_share(tables: dict[str, pd.DataFrame]) -> None:
    meta = pd.concat([tables["train_metadata.csv"], tables["test_metadata.csv"]])
    per_sequence = meta.groupby("seq_id").size()
    assert per_sequence.between(1, 3).all() and per_sequence.max() == 3
    labels = pd.concat([tables["train_labels.csv"], tables["test_answers.csv"]])
    assert abs(labels["empty"].mean() - 0.7) < 0.1


@pytest.mark.parametrize("share", [0.5, 0.7, 0.9])
def test_empty_share_follows_the_setting(share: float) -> None:
    sequences = serengeti_plan.plan_demo(3, 600, (320, 240), empty_share=share).sequences
    assert abs(np.mean([not s.species for s in sequences]) - share) < 0.03


def test_labels_are_multi_hot_and_match_the_truth(tables: dict[str, pd.DataFrame]) -> None:
    labels = pd.concat([tables["train_labels.csv"], tables["test_answers.csv"]])
    values = labels[DOCS_CLASSES]
    assert set(np.unique(values)) <= {0, 1}
    species = values.drop(columns="empty")
    assert ((labels["empty"] == 1) == (species.sum(axis=1) == 0)).all()
    truth = tables["demo_truth.csv"].drop_duplicates("seq_id").set_index("seq_id")
    for row in labels.itertuples(index=False):
        named = {c for c in DOCS_CLASSES if getattr(row, c)}
        assert named == set(truth.loc[row.seq_id, "species"].split()), row.seq_id
    assert labels.drop(columns=["seq_id", "empty"]).sum().gt(0).sum() >= 3
    assert (species.sum(axis=1) > 1).any() or len(labels) < 40  # two species in one sequence


def test_night_shots_are_grey_and_day_shots_colour(
    tiny_serengeti: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = tables["demo_truth.csv"]
    ok = truth[truth.damage.isna()]
    assert ok.night.any() and (ok.night == 0).any()
    for row in ok.itertuples():
        rgb = np.asarray(readable(tiny_serengeti / row.file_name).convert("RGB"), dtype=int)
        grey = (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
        assert grey == bool(row.night), row.file_name
        if row.night:
            above = rgb[: SIZE[1] // 4, :, 0]  # the sky is dark under the flash
            assert above.mean() < 60, row.file_name


def strip_rows(image: np.ndarray) -> int:
    """Rows of the uniform band at the bottom (white or black with text)."""
    grey = image.mean(axis=2)
    rows = 0
    for row in grey[::-1]:
        band = (np.abs(row - 255) < 40) | (row < 45)
        if band.mean() < 0.5:  # text covers up to half of a row
            break
        rows += 1
    return rows


def test_every_image_has_the_information_strip(
    tiny_serengeti: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = tables["demo_truth.csv"]
    for row in truth[truth.damage.isna()].itertuples():
        image = np.asarray(readable(tiny_serengeti / row.file_name).convert("RGB"), dtype=float)
        rows = strip_rows(image)
        assert 0.045 * SIZE[1] <= rows <= 0.08 * SIZE[1], (row.file_name, rows)
        band = image[-rows:].mean(axis=2)
        ink = (band > 60) & (band < 200) | (np.abs(band - band.mean()) > 100)
        assert ink.mean() > 0.01, "brand and timestamp are printed on the band"


def background(root: Path, files: list[str]) -> np.ndarray:
    """The write-up's background image: sum over shots of |image - mean|, clipped, grey."""
    images = [np.asarray(readable(root / f).convert("RGB"), dtype=float) for f in files]
    mean = np.mean(images, axis=0)
    return np.clip(sum(np.abs(i - mean) for i in images), 0, 255).mean(axis=2)


def box_mask(boxes: pd.Series) -> np.ndarray:
    """Pixels inside any truth box of any shot of a sequence."""
    mask = np.zeros(SIZE[::-1], dtype=bool)
    for text in boxes.dropna():
        for item in text.split(";"):
            x1, y1, x2, y2 = (float(v) for v in item.split(":")[1].split(","))
            mask[
                int(y1 * SIZE[1]) : int(y2 * SIZE[1]) + 1, int(x1 * SIZE[0]) : int(x2 * SIZE[0]) + 1
            ] = True
    return mask


def test_animals_light_up_the_background_image_and_empties_stay_dark(
    tiny_serengeti: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = tables["demo_truth.csv"]
    scene = slice(0, int(0.9 * SIZE[1]))  # above the information strip
    inside, ratio, empty = [], [], []
    for _, group in truth.groupby("seq_id"):
        if len(group) < 2 or group.damage.notna().any():
            continue
        energy = background(tiny_serengeti, group.file_name.tolist())
        if group.species.iloc[0] == "empty":
            empty.append(energy[scene].mean())
            continue
        mask = box_mask(group.boxes)
        if mask[scene].any():  # wind, cloud shadows and the flash change the rest a little
            inside.append(energy[scene][mask[scene]].mean())
            ratio.append(inside[-1] / energy[scene][~mask[scene]].mean())
    assert len(inside) >= 5 and len(empty) >= 10
    assert np.median(ratio) > 2
    assert np.median(inside) > 3 * np.median(empty)
    assert np.median(empty) < 12, "an empty scene barely changes between shots"


def test_herds_pass_neighbouring_cameras_within_minutes(tables: dict[str, pd.DataFrame]) -> None:
    truth = tables["demo_truth.csv"].drop_duplicates("seq_id")
    herds = truth[truth.event_kind == "herd"].groupby("event")
    assert herds.ngroups >= 1
    for _, herd in herds:
        assert herd.site.nunique() == len(herd) >= 2
        times = pd.to_datetime(herd.datetime)
        assert (times.max() - times.min()).total_seconds() <= 300
        main = set.intersection(*(set(s.split()) for s in herd.species))
        assert main, "the herd's species is labelled at every camera it passes"
        xy = herd[["site_x_km", "site_y_km"]].to_numpy()
        assert max(math.dist(xy[0], p) for p in xy[1:]) <= serengeti_plan.NEIGHBOUR_KM


def test_drawn_animal_stays_inside_its_truth_box() -> None:
    demo_plan = serengeti_plan.plan_demo(5, 120, (480, 360), broken_share=0.0)
    checked = 0
    for seq in (s for s in demo_plan.sequences if s.animals):
        seq = replace(seq, night=True, cloud=False)  # no ground shadows: only the animal
        for k in range(len(seq.shots)):
            drawn = np.asarray(render_shot(seq, k), dtype=int)
            bare = np.asarray(render_shot(replace(seq, animals=()), k), dtype=int)
            rows, cols = np.nonzero(np.any(drawn != bare, axis=2))
            boxes = [box for _, box in serengeti_plan.visible_boxes(seq, k)]
            if not len(rows):
                continue
            assert boxes, seq.seq_id
            inside = np.zeros(len(rows), dtype=bool)
            for x1, y1, x2, y2 in boxes:
                inside |= (cols >= x1 - 2) & (cols <= x2 + 2) & (rows >= y1 - 2) & (rows <= y2 + 2)
            assert inside.all(), seq.seq_id
            checked += 1
        if checked >= 12:
            break
    assert checked >= 12


def test_nearer_animals_look_bigger() -> None:
    camera = serengeti_plan.make_sites(1, 4, (2048, 1536))[0].camera
    for name in ("zebra", "gazellethomsons", "elephant", "guineafowl"):
        animal = Individual(name, 1.0, 1, True, BODIES[name].colour)
        heights = []
        for z in (6.0, 24.0):
            x1, y1, x2, y2 = box_of(animal_shapes(animal, Pose(0, z, 1, 0, 0.1, False), camera))
            heights.append(y2 - y1)
        assert heights[0] == pytest.approx(4 * heights[1], rel=0.05), name
    giraffe = box_of(
        animal_shapes(
            Individual("giraffe", 1.0, 1, True, (200, 170, 120)),
            Pose(0, 10, 1, 0, 0, False),
            camera,
        )
    )
    gazelle = box_of(
        animal_shapes(
            Individual("gazellethomsons", 1.0, 1, True, (200, 170, 120)),
            Pose(0, 10, 1, 0, 0, False),
            camera,
        )
    )
    assert giraffe[3] - giraffe[1] > 3 * (gazelle[3] - gazelle[1])


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tiny_serengeti: Path, tmp_path: Path) -> None:
    """Also proves that the process pool changes nothing: this copy renders serially."""
    again = tmp_path / "again"
    generate(again, workers=1, progress=False, **TINY_SERENGETI)
    assert file_digests(again) == file_digests(tiny_serengeti)
    other = tmp_path / "other"
    generate(other, progress=False, **{**TINY_SERENGETI, "seed": 8})
    for name in ("train_labels.csv", "train_metadata.csv", "demo_truth.csv"):
        assert (other / name).read_bytes() != (tiny_serengeti / name).read_bytes()
    first = pd.read_csv(other / "train_metadata.csv").file_name.iloc[0]
    if (tiny_serengeti / first).is_file():
        assert (other / first).read_bytes() != (tiny_serengeti / first).read_bytes()


def test_generate_refuses_bad_arguments_and_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        generate(tmp_path, sequences=22, image_size=(64, 48), progress=False)
    for bad in (
        {"sequences": 21},
        {"image_size": (32, 24)},
        {"empty_share": 1.5},
        {"broken_share": -0.1},
        {"seed": -1},
    ):
        with pytest.raises(ValueError):
            generate(tmp_path / "new", progress=False, **{"sequences": 22, **bad})
    assert not (tmp_path / "new").exists()


def test_ensure_names_the_folder_and_generates_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMTRAP_DATA", str(tmp_path))
    folder = demo.ensure("serengeti", seed=3, sequences=22, image_size=(96, 72))
    assert folder.name == "serengeti-seed3-n22-96x72"
    assert (folder / demo.MARKER).is_file() and (folder / "test_metadata.csv").is_file()
    monkeypatch.setattr("lib.demo.serengeti.generate", lambda *a, **k: pytest.fail("regenerated"))
    assert demo.ensure("serengeti", seed=3, sequences=22, image_size=(96, 72)) == folder
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]
    assert demo.location("serengeti", 42).name == "serengeti-seed42"
    with pytest.raises(ValueError, match="sequences"):
        demo.ensure("serengeti", seed=3, max_duration=5)
    with pytest.raises(ValueError, match="videos"):
        demo.ensure("chimpact", seed=3, sequences=30)


def test_cli_writes_a_folder_and_rejects_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    command = [
        sys.executable,
        "-m",
        "lib.demo",
        "--track",
        "serengeti",
        "--out",
        str(out),
        "--sequences",
        "22",
        "--image-size",
        "96x72",
        "--quiet",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"sequences": 22' in done.stdout and (out / "demo_info.json").is_file()
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    for extra, message in (
        (["--videos", "5"], "does not apply"),
        (["--image-size", "10x10"], "at least 64x48"),
        (["--sequences", "5"], "at least 22"),
    ):
        bad = subprocess.run(
            [*command[:3], "--track", "serengeti", "--out", str(tmp_path / "x"), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and message in bad.stderr, (extra, bad.stderr)
    wrong = subprocess.run(
        [*command[:3], "--track", "chimpact", "--sequences", "30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2 and "does not apply" in wrong.stderr
