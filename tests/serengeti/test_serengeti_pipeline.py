"""Serengeti stages 02-03 and the stacking inputs on real pipeline outputs: resumable, atomic
extraction with documented skips; records and the tf.data flip; stacking features and
neighbour windows built from the extracted tiny demo; submission validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lib import fileio
from lib.serengeti import (
    ensemble,
    extract,
    input_pipeline,
    neighbors,
    records,
    schema,
    stacking,
    submission,
)
from lib.serengeti.schema import CLASSES, KEY

SIZE = (24, 32)


def _folder(tmp_path):
    """A tiny competition folder: 4 train sequences over S1, S9, S10 and 1 test sequence;
    one image is a truncated JPEG and one test sequence has only that broken image."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    seqs = [("SER_S1#A01#1#1", 3), ("SER_S1#A02#1#1", 2), ("SER_S9#A01#1#2", 1),
            ("SER_S10#A01#1#3", 3)]  # fmt: skip
    for seq_id, n in seqs:
        season, site, roll, cap = schema.SEQ_ID.fullmatch(seq_id).groups()
        for i in range(n):
            shot = f"S{season}_{site}_R{roll}_PICT{int(cap) * 10 + i:04d}.JPG"
            name = f"S{season}/{site}/{site}_R{roll}/{shot}"
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
            rows.append((seq_id, name, f"2012-07-{int(season):02d} 10:00:0{i}"))
        labels.append([seq_id] + [int(c == "empty") for c in CLASSES])
    broken = "S1/A02/A02_R1/S1_A02_R1_PICT0011.JPG"  # second image of a train sequence
    (tmp_path / broken).write_bytes((tmp_path / broken).read_bytes()[:300])
    test_name = "S11/A01/A01_R1/S11_A01_R1_PICT0001.JPG"
    (tmp_path / test_name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / test_name).write_bytes(b"")  # empty file: the test sequence has no image
    pd.DataFrame(rows, columns=schema.METADATA_COLUMNS).to_csv(
        tmp_path / "train_metadata.csv", index=False
    )
    test_rows = [("SER_S11#A01#1#1", test_name, "2013-01-01 10:00:00")]
    test_meta = pd.DataFrame(test_rows, columns=schema.METADATA_COLUMNS)
    test_meta.to_csv(tmp_path / "test_metadata.csv", index=False)
    pd.DataFrame(labels, columns=schema.LABEL_COLUMNS).to_csv(
        tmp_path / "train_labels.csv", index=False
    )
    fmt = pd.DataFrame([["SER_S11#A01#1#1"] + [0.0] * 54], columns=schema.LABEL_COLUMNS)
    fmt.to_csv(tmp_path / "submission_format.csv", index=False)
    return schema.load(tmp_path)


def test_extraction_resumes_skips_unreadable_images_and_redoes_changed_settings(tmp_path):
    data = _folder(tmp_path / "data")
    work = tmp_path / "work"
    cfg = extract.ExtractConfig(image_size=SIZE)
    first = extract.run(data, work, cfg, workers=1, progress=False, limit=2)
    assert (first["status"] == "pending").sum() > 0  # stopped midway, like a killed run
    stamps = {p: p.stat().st_mtime_ns for p in (work / "extract" / "arrays").rglob("*.npz")}
    assert len(stamps) == 2
    manifest = extract.run(data, work, cfg, workers=2, progress=False)
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["sequences_skipped_finished"] == 2  # the finished ones were not redone
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert summary["images_unreadable"] == 2 and summary["sequences_no_image"] == 1
    assert summary["unreadable_by_reason"] == {"truncated": 2}
    assert (
        manifest.loc[
            manifest["file_name"] == "S1/A02/A02_R1/S1_A02_R1_PICT0011.JPG", "status"
        ].item()
        == "truncated"
    )
    assert not list(work.rglob(".*.tmp"))  # atomic: no leftovers
    arr = extract.load_arrays(work, "train", "SER_S1#A02#1#1")  # 1 of its 2 images readable
    assert arr["flow"].shape == (1, *SIZE, 3) and arr["naive"].shape == (1, *SIZE, 3)
    assert arr["image_index"].tolist() == [0]
    assert not arr["background"].any()  # one image: nothing moved
    arr3 = extract.load_arrays(work, "train", "SER_S1#A01#1#1")
    assert arr3["flow"].shape[0] == 3 and arr3["background"].max() > 0
    assert not extract.arrays_path(work, "test", "SER_S11#A01#1#1").exists()
    # other settings: everything is redone
    extract.run(data, work, extract.ExtractConfig(image_size=(16, 20)), workers=1, progress=False)
    assert fileio.read_json(work / "extract" / "summary.json")["sequences_skipped_finished"] == 0
    assert extract.load_arrays(work, "train", "SER_S1#A01#1#1")["flow"].shape == (3, 16, 20, 3)


@pytest.fixture(scope="module")
def tiny_work(tiny_serengeti, tmp_path_factory):
    data = schema.load(tiny_serengeti)
    work = tmp_path_factory.mktemp("serengeti-work")
    extract.run(data, work, extract.ExtractConfig(image_size=SIZE), workers=2, progress=False)
    manifest = records.build(data, work, shard_size=64)
    return data, work, manifest


def test_records_cover_every_readable_sequence_and_flip_both_streams_alike(tiny_work):
    data, work, manifest = tiny_work
    seqs = records.sequences(work)
    for part in records.PARTS:
        entry = manifest["parts"][part]
        n = sum(s["count"] for s in entry["sequences"])
        assert n + entry["sequences_without_image"] == entry["sequences_total"]
        assert n == int(((seqs["part"] == part) & seqs["readable"]).sum())
    files = records.files(work, "sequences", "fit")

    def examples(**kw):
        ds = (
            input_pipeline.dataset(files, "twostream", SIZE, 512, **kw)
            .unbatch()
            .as_numpy_iterator()
        )
        return [(k[KEY].decode(), x) for x, _, k in ds]

    plain = dict(examples())
    flipped = 0
    for seq_id, x in examples(training=True, seed=3):
        ref = plain[seq_id]
        same = [np.allclose(x[s], ref[s]) for s in ("mean", "background")]
        mirrored = [np.allclose(x[s], ref[s][:, ::-1]) for s in ("mean", "background")]
        assert all(same) or all(mirrored)  # never one stream flipped and the other not
        flipped += all(mirrored) and not all(same)
    assert flipped > 0


def _fake_scores(work, part, rng, per_image=True):
    """Scores shaped like 04/05's files for every example of a part (random, seeded)."""
    kind = "images" if per_image else "sequences"
    keys = [(k[KEY].decode(), int(k["image_index"])) for *_, k in input_pipeline.dataset(
        records.files(work, kind, part), "single" if per_image else "background", SIZE, 256
    ).unbatch().as_numpy_iterator()]  # fmt: skip
    frame = pd.DataFrame(rng.random((len(keys), 54)) * 0.5, columns=list(CLASSES))
    frame.insert(0, "image_index", [i for _, i in keys])
    frame.insert(0, KEY, [s for s, _ in keys])
    return frame


def test_stacking_features_and_neighbour_windows_on_pipeline_outputs(tiny_work):
    data, work, _ = tiny_work
    rng = np.random.default_rng(1)
    seqs = records.sequences(work)
    part = "s10"
    inp = ensemble.Inputs(
        seqs[seqs["part"] == part].sort_values(KEY)[[KEY, "season", "site", "datetime", "n_images"]]
    )
    inp.image["single"] = _fake_scores(work, part, rng)
    inp.sequence["background"] = _fake_scores(work, part, rng, False).drop(columns="image_index")
    prior = pd.Series(0.01, index=list(CLASSES))
    window = 600.0
    table = ensemble.features(inp, ("background",), prior, window)
    assert list(table.index) == list(inp.sequences[KEY])  # every sequence, in order
    n_ok = inp.image["single"].groupby(KEY).size()
    assert (table["n_scored"] == n_ok.reindex(table.index).fillna(0)).all()
    first = inp.image["single"][inp.image["single"]["image_index"] == 0].set_index(KEY)
    assert np.allclose(table.loc[first.index, "single_img1_zebra"], first["zebra"])
    assert {"hour", "month", "background_empty", "nb_count", "nb_mean_empty"} <= set(table.columns)
    # neighbour counts against a brute-force reading of the same sequences
    when = inp.sequences.set_index(KEY)
    for seq_id, row in when.iterrows():
        other = when[(when["site"] != row["site"]) & (when["season"] == row["season"])]
        gap = (other["datetime"] - row["datetime"]).abs().dt.total_seconds()
        assert table.loc[seq_id, "nb_count"] == int((gap <= window).sum()), seq_id
    # the window is a parameter: zero seconds finds (almost) nobody, a day finds more
    narrow = ensemble.features(inp, ("background",), prior, 0.0)["nb_count"].sum()
    wide = ensemble.features(inp, ("background",), prior, 86400.0)["nb_count"].sum()
    assert narrow <= table["nb_count"].sum() <= wide
    assert stacking.columns_for(table, "zebra", "own")  # the booster's view of one class


def test_neighbor_features_skip_own_camera_and_respect_the_window_edges():
    t0 = pd.Timestamp("2012-07-01 10:00:00")
    table = pd.DataFrame(
        {
            KEY: ["a", "b", "c", "d"],
            "season": [1, 1, 1, 2],
            "site": ["X", "X", "Y", "Z"],
            "datetime": [t0, t0, t0 + pd.Timedelta(seconds=60), t0],
            **{c: [0.1, 0.2, 0.9, 0.5] for c in CLASSES},
        }
    )
    f = neighbors.neighbor_features(table, 60).set_index(KEY)
    assert f.loc["a", "nb_count"] == 1 and f.loc["a", "nb_mean_zebra"] == pytest.approx(0.9)
    assert f.loc["c", "nb_count"] == 2  # both X sequences, exactly 60 s away
    assert f.loc["d", "nb_count"] == 0  # another season is never a neighbour
    assert neighbors.neighbor_features(table, 59).set_index(KEY).loc["c", "nb_count"] == 0


def _fmt():
    return pd.DataFrame(
        [[s] + [0.0] * 54 for s in ("q1", "q2", "q3")], columns=schema.LABEL_COLUMNS
    )


def test_submission_is_joined_by_seq_id_clipped_and_validated(tmp_path):
    fmt = _fmt()
    pred = fmt.iloc[::-1].copy()  # other order: joined by key
    pred[list(CLASSES)] = 0.0
    pred.loc[pred[KEY] == "q2", "zebra"] = 1.0
    sub = submission.make(pred, fmt)
    assert sub[KEY].tolist() == ["q1", "q2", "q3"]
    assert sub.loc[1, "zebra"] == pytest.approx(1 - 1e-5) and sub[list(CLASSES)].min().min() == 1e-5
    submission.write(sub, fmt, tmp_path / "s.csv")
    assert pd.read_csv(tmp_path / "s.csv").shape == (3, 55)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda s: s.drop(columns="zebra"), "missing"),
        (lambda s: s[[KEY, *reversed(CLASSES)]], "wrong order"),
        (lambda s: s.iloc[[1, 0, 2]].reset_index(drop=True), "different order"),
        (lambda s: s.iloc[:2], "rows"),
        (lambda s: s.assign(zebra=[0.1, np.nan, 0.2]), "missing, non-numeric"),
        (lambda s: s.assign(zebra=[0.1, 1.5, 0.2]), "outside"),
        (lambda s: s.assign(seq_id=["q1", "q2", "q9"]), "not in the format"),
    ],
)
def test_bad_submissions_are_rejected(breakage, message):
    fmt = _fmt()
    good = fmt.copy()
    good[list(CLASSES)] = 0.5
    submission.validate(good, fmt)
    with pytest.raises(submission.SubmissionError, match=message):
        submission.validate(breakage(good), fmt)


def test_make_refuses_missing_or_repeated_predictions():
    fmt = _fmt()
    pred = fmt.copy()
    pred[list(CLASSES)] = 0.5
    with pytest.raises(submission.SubmissionError, match="no prediction"):
        submission.make(pred.iloc[:2], fmt)
    with pytest.raises(submission.SubmissionError, match="repeat"):
        submission.make(pd.concat([pred, pred.iloc[[0]]]), fmt)


def test_serengeti_profiles_resolve_alongside_chimpact():
    from lib import profiles, runs

    demo = profiles.get("demo", "serengeti")
    assert demo.backbone_for("irv2")[0] == "small" and profiles.get(
        "full", "serengeti"
    ).backbone_for("irv2") == ("irv2", 0)
    assert profiles.get("demo").demo_videos == 120  # chimpact's unchanged
    assert runs.planned("serengeti", "quick") and len(runs.planned("serengeti", "demo")) == 6
    json.dumps(demo.__dict__)  # plain values only


def test_a_naive_run_reuses_the_weights_of_its_identically_trained_flow_sibling(
    tmp_path, monkeypatch
):
    from lib.serengeti import train

    monkeypatch.setenv("CAMTRAP_RUNS", str(tmp_path))
    base = {"profile": "demo", "model": {"backbone": "small"}, "epochs": 3, "train_resize": "flow"}
    flow = "run-20191219-1000-single-irv2-sigmoid-flow"
    naive = "run-20191212-1000-single-irv2-sigmoid-naive"
    other = "run-20191205-1000-single-mnv2-sigmoid-naive"
    for run, resize in ((flow, "flow"), (other, "naive")):
        (train.run_dir(run) / "train").mkdir(parents=True)
        fileio.write_json(
            train.run_dir(run) / "config.json", {**base, "run_id": run, "eval_resize": resize}
        )
        fileio.write_json(train.run_dir(run) / "train" / "done.json", {"epochs": 3})
        train.weights_path(run).write_bytes(b"w")
    mine = {**base, "run_id": naive, "eval_resize": "naive"}
    assert train.trained_sibling(naive, mine, [other, flow, naive]) == flow  # not mnv2
    assert train.trained_sibling(naive, {**mine, "epochs": 4}, [flow]) is None
    train._copy_training(flow, naive)
    assert train.weights_path(naive).read_bytes() == b"w"
    assert (train.run_dir(naive) / "train" / "done.json").is_file()
