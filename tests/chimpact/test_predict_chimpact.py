"""Model bundles and the chimpact predict CLI, on a bundle exported from two untrained runs.

The bundle's numbers are meaningless (untrained models); what is tested is that the bundle
round-trips, that every requested second gets exactly one row in the requested order, that bad
inputs give clear errors or counted per-file failures, and the CLI's exit codes. That the CLI's
predictions equal 05_infer's is checked on trained runs in test_notebooks.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import BUNDLE_RUNS as RUNS

from lib import fileio
from lib.bundle_io import BundleError
from lib.chimpact import schema
from lib.video import frames_at_1fps


def _cli(*args: str) -> int:
    from lib.predict.__main__ import main

    return main(["chimpact", *args, "--quiet"])


def test_bundle_is_self_contained_and_round_trips(tiny_bundle, tmp_path):
    from lib.chimpact import bundle

    folder, originals = tiny_bundle
    moved = shutil.copytree(folder, tmp_path / "elsewhere")  # no runs/ folder needed
    loaded = bundle.load(moved)
    manifest = json.loads((moved / "bundle.json").read_text())
    assert [r.run_id for r in loaded.runs] == list(RUNS)
    assert [r.weight for r in loaded.runs] == list(RUNS.values())
    assert {(r.source, r.step, r.frames) for r in loaded.runs} == {("down", 1, 7), ("full", 2, 9)}
    assert manifest["preprocessing"]["gamma_filter"] == "eq=gamma=0.1"
    assert manifest["postprocessing"]["grid"] == schema.DISTANCE_GRID.tolist()
    assert manifest["environment"]["tensorflow"] and manifest["environment"]["git_commit"]
    rng = np.random.default_rng(0)
    for run in loaded.runs:
        x = rng.random((3, run.frames, 24, 24, 3), dtype=np.float32)
        got = run.predict_folds(x)
        assert got.shape == (run.folds, 3) and run.folds == len(manifest_folds(manifest, run))
        for k in range(run.folds):
            want = np.asarray(originals[(run.run_id, k)].predict_on_batch(x)).reshape(-1)
            np.testing.assert_allclose(got[k], want, rtol=1e-5, atol=1e-5)
        assert len({float(v) for v in got[:, 0]}) == run.folds  # each fold its own weights


def manifest_folds(manifest: dict, run) -> list:
    return next(e["models"] for e in manifest["runs"] if e["run_id"] == run.run_id)


def test_bundle_errors_name_the_folder(tiny_bundle, tmp_path):
    from lib.chimpact import bundle

    with pytest.raises(BundleError, match="not a model bundle"):
        bundle.load(tmp_path)
    broken = shutil.copytree(tiny_bundle[0], tmp_path / "broken")
    next((broken / "models").rglob("*.keras")).unlink()
    with pytest.raises(BundleError, match="incomplete"):
        bundle.load(broken)
    wrong = shutil.copytree(tiny_bundle[0], tmp_path / "wrong")
    manifest = json.loads((wrong / "bundle.json").read_text())
    fileio.write_json(wrong / "bundle.json", {**manifest, "track": "serengeti"})
    with pytest.raises(BundleError, match="track 'serengeti'"):
        bundle.load(wrong)


@pytest.mark.parametrize(
    "change", [{"lstm_units": 16}, {"motion": True}], ids=["lstm", "inside-the-cnn"]
)
def test_a_fold_that_does_not_fit_its_runs_network_is_refused(tiny_bundle, tmp_path, change):
    """The folds of a run share one network; a fold file of another shape is refused, also
    when the difference is inside the per-frame CNN (where Keras only warns and skips)."""
    from lib.chimpact import bundle
    from lib.chimpact.model import ModelConfig, build_model

    odd = shutil.copytree(tiny_bundle[0], tmp_path / "odd")
    entry = json.loads((odd / "bundle.json").read_text())["runs"][0]
    cfg = {"image_size": 24, "backbone": "small", "backbone_weights": None,
           "lstm_units": 8, "dense_units": 8, **change}  # fmt: skip
    build_model(ModelConfig(frames=entry["frames"], **cfg)).save(odd / entry["models"][1])
    with pytest.raises(BundleError, match=r"fold1\.keras: does not fit the network of fold0"):
        bundle.load(odd)


def test_every_second_of_a_video_gets_one_row(tiny_bundle, tiny_chimpact, tmp_path):
    video = sorted((tiny_chimpact / "test_videos").iterdir())[0]
    out = tmp_path / "pred.csv"
    assert _cli("--bundle", str(tiny_bundle[0]), "--videos", str(video), "--out", str(out)) == 0
    rows = pd.read_csv(out)
    seconds = len(frames_at_1fps(video, 10**6))
    assert list(rows.columns) == ["filepath", "time", "distance"]
    assert rows["time"].tolist() == list(range(seconds))
    assert set(rows["distance"]) <= set(schema.DISTANCE_GRID.tolist())  # snapped by default
    assert pd.read_csv(tmp_path / "pred.errors.csv").empty


def test_requested_rows_keep_their_order_and_unreadable_videos_are_reported(
    tiny_bundle, tiny_chimpact, tmp_path
):
    videos = sorted((tiny_chimpact / "test_videos").iterdir())[:2]
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    missing = tmp_path / "gone.mp4"
    want = pd.DataFrame(
        {
            "filepath": [str(videos[1]), str(text), str(videos[0]), str(missing), str(videos[1])],
            "time": [3, 1, 0, 2, 1],
        }
    )
    want.to_csv(tmp_path / "times.csv", index=False)
    out = tmp_path / "pred.csv"
    code = _cli(
        "--bundle", str(tiny_bundle[0]), "--videos", str(tmp_path), "--times",
        str(tmp_path / "times.csv"), "--out", str(out), "--no-snap",
    )  # fmt: skip
    assert code == 0  # some videos were readable
    rows = pd.read_csv(out)
    assert rows[["filepath", "time"]].equals(want)
    broken = rows["filepath"].isin([str(text), str(missing)])
    assert rows.loc[broken, "distance"].isna().all()
    assert rows.loc[~broken, "distance"].notna().all()
    errors = pd.read_csv(tmp_path / "pred.errors.csv")
    assert sorted(errors["filepath"]) == sorted([str(text), str(missing)])


def test_times_by_video_id_match_the_competition_metadata(tiny_bundle, tiny_chimpact, tmp_path):
    out = tmp_path / "pred.csv"
    args = ["--bundle", str(tiny_bundle[0]), "--videos", str(tiny_chimpact / "test_videos")]
    times = tiny_chimpact / "test_metadata.csv"
    assert _cli(*args, "--times", str(times), "--out", str(out)) == 0
    rows = pd.read_csv(out)
    meta = pd.read_csv(times)
    assert [p.rsplit("/", 1)[1] for p in rows["filepath"]] == meta["video_id"].tolist()
    assert rows["time"].tolist() == meta["time"].tolist()
    assert rows["distance"].notna().all()


@pytest.mark.parametrize(
    "table, message",
    [
        ({"video": ["a.mp4"], "time": [1]}, "needs columns time and filepath"),
        ({"video_id": ["a.mp4"], "time": [-1]}, "whole seconds"),
        ({"video_id": ["a.mp4"], "time": [1.5]}, "whole seconds"),
        ({"video_id": ["a.mp4"], "time": ["x"]}, "whole seconds"),
        ({"video_id": ["../../etc/passwd"], "time": [1]}, "outside"),
        ({"video_id": ["a.mp4", "a.mp4"], "time": [1, 1]}, "repeated rows"),
    ],
)
def test_bad_times_tables_are_refused_with_the_file_named(
    tiny_bundle, tmp_path, capsys, table, message
):
    path = tmp_path / "times.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    code = _cli(
        "--bundle", str(tiny_bundle[0]), "--videos", str(tmp_path), "--times", str(path),
        "--out", str(tmp_path / "o.csv"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(path) in err
    assert not (tmp_path / "o.csv").exists()


def test_cli_exit_codes_for_unusable_arguments(tiny_bundle, tmp_path, capsys):
    out = str(tmp_path / "o.csv")
    assert _cli("--bundle", str(tmp_path), "--videos", str(tmp_path), "--out", out) == 2
    assert "not a model bundle" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _cli("--bundle", str(tiny_bundle[0]), "--videos", str(empty), "--out", out) == 2
    assert "no video files" in capsys.readouterr().err
    assert _cli("--bundle", str(tiny_bundle[0]), "--videos", str(tmp_path / "x"), "--out", out) == 2
    assert "no such file" in capsys.readouterr().err
    (empty / "zero.mp4").write_bytes(b"")
    assert _cli("--bundle", str(tiny_bundle[0]), "--videos", str(empty), "--out", out) == 1
    assert "empty (0 bytes)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        _cli("--bundle", str(tiny_bundle[0]), "--videos", str(empty), "--out", out, "--workers=0")
    assert exc.value.code == 2
