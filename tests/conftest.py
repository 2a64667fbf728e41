"""Shared fixtures: one tiny demo dataset per session, and isolated output roots."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TINY = {"seed": 7, "videos": 10, "max_duration": 14, "overexposed_share": 0.3}
TINY_SERENGETI = {"seed": 7, "sequences": 60, "image_size": (320, 240)}


@pytest.fixture(scope="session")
def tiny_chimpact(tmp_path_factory):
    """A small demo folder in the real competition layout with some overexposed videos."""
    from lib.demo import chimpact

    out = tmp_path_factory.mktemp("demo") / "chimpact-tiny"
    chimpact.generate(out, progress=False, workers=2, **TINY)
    return out


@pytest.fixture(scope="session")
def tiny_extracted(tiny_chimpact, tmp_path_factory):
    """The tiny demo after stage 02: (dataset, work folder, manifest)."""
    from lib.chimpact import extract, schema

    data = schema.load(tiny_chimpact)
    work = tmp_path_factory.mktemp("work")
    manifest = extract.run(data, work, workers=2, progress=False)
    return data, work, manifest


BUNDLE_RUNS = {"run-20211101-1526-down-a1p50-f7s1": 0.75, "run-20211113-1642-full-a1p50-f9s2": 0.25}


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """Export two untrained runs (2 folds each) as a bundle; returns (bundle folder, models)."""
    import keras

    from lib import fileio
    from lib.chimpact import bundle, runid
    from lib.chimpact.model import ModelConfig, build_model

    runs_root = tmp_path_factory.mktemp("runs")
    originals = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAMTRAP_RUNS", str(runs_root))
        from lib.chimpact.train import run_dir, weights_path

        for i, run_id in enumerate(BUNDLE_RUNS):
            spec = runid.parse(run_id)
            mcfg = ModelConfig(
                frames=spec.frames, image_size=24, backbone="small", backbone_weights=None,
                lstm_units=8, dense_units=8,
            )  # fmt: skip
            run_dir(run_id).mkdir(parents=True)
            fileio.write_json(
                run_dir(run_id) / "config.json", {"model": asdict(mcfg), "n_splits": 2}
            )
            fileio.write_json(run_dir(run_id) / "metrics.json", {"run_id": run_id, "cv_mae": 3.0})
            for k in range(2):
                keras.utils.set_random_seed(10 * i + k)
                model = build_model(mcfg)
                model.save_weights(weights_path(run_id, k))
                originals[(run_id, k)] = model
        summary = {
            "ensemble_weights": BUNDLE_RUNS, "ensemble_cv_mae": 2.5, "test_fallback_distance": 6.0,
            "profile": "quick", "data_dir": "tiny",
        }  # fmt: skip
        extract_config = {"size": None, "quality": 2, "white_value": 250, "white_share": 0.95}
        out = bundle.export(summary, extract_config, tmp_path_factory.mktemp("b") / "bundle")
    return out, originals


@pytest.fixture(scope="session")
def tiny_serengeti(tmp_path_factory):
    """A small Serengeti demo folder in the real competition layout: 60 sequences over
    S1-S11 at 320x240, with herd events, night shots and a few damaged files."""
    from lib.demo import serengeti

    out = tmp_path_factory.mktemp("demo") / "serengeti-tiny"
    serengeti.generate(out, progress=False, workers=2, **TINY_SERENGETI)
    return out


SER_BUNDLE_RUNS = {
    "single": "run-20191219-1000-single-irv2-sigmoid-flow",
    "background": "run-20191226-1000-background-irv2-sigmoid-flow",
    "twostream": "run-20200105-1000-twostream-irv2-sigmoid-flow",
}
SER_BUNDLE_SIZE = (48, 64)


def _synthetic_season(season: int, rng, n: int = 160):
    """Stack inputs of one season with random network scores, where zebra is present exactly
    when the *other* cameras' zebra scores around the sequence are high: a booster can only
    learn it from the neighbour-camera feature."""
    import numpy as np
    import pandas as pd

    from lib.serengeti import ensemble, neighbors
    from lib.serengeti.schema import CLASSES, KEY

    ids = [f"SER_S{season}#C{i % 5:02d}#1#{i}" for i in range(n)]
    when = pd.Timestamp(f"2012-0{season - 7}-01 06:00") + pd.to_timedelta(
        np.sort(rng.integers(0, 6 * 3600, n)), unit="s"
    )
    seqs = pd.DataFrame(
        {KEY: ids, "season": season, "site": [f"C{i % 5:02d}" for i in range(n)],
         "datetime": when, "n_images": rng.integers(1, 4, n)}
    )  # fmt: skip
    image = pd.DataFrame(
        [(s, k) for s, m in zip(ids, seqs["n_images"], strict=True) for k in range(m)],
        columns=[KEY, "image_index"],
    )
    image[list(CLASSES)] = rng.random((len(image), len(CLASSES))) * 0.2
    image["zebra"] = rng.random(len(image))
    sequence = {}
    for model in ("background", "twostream"):
        frame = pd.DataFrame(rng.random((n, len(CLASSES))) * 0.2, columns=list(CLASSES))
        frame.insert(0, KEY, ids)
        sequence[model] = frame
    inp = ensemble.Inputs(seqs, {"single": image}, sequence)
    per = image.groupby(KEY)[list(CLASSES)].mean().reindex(ids).reset_index()
    nb = neighbors.neighbor_features(seqs.merge(per, on=KEY), 120.0, classes=["zebra"])
    zebra = nb["nb_mean_zebra"].fillna(0).to_numpy() > 0.5
    labels = pd.DataFrame(0, index=range(n), columns=list(CLASSES))
    labels["zebra"] = zebra.astype(int)
    labels["empty"] = (~zebra).astype(int)
    labels.insert(0, KEY, ids)
    return inp, labels


@pytest.fixture(scope="session")
def tiny_serengeti_bundle(tmp_path_factory):
    """A serengeti bundle from untrained networks (small CNN, 48x64) and a LightGBM stack fitted
    on synthetic scores with the neighbour-camera feature on; returns (bundle folder, networks
    by role). Its numbers mean nothing; bundle format, plumbing and grouping are what it tests."""
    import keras
    import numpy as np
    import pandas as pd

    from lib import fileio
    from lib.serengeti import bundle, ensemble, metrics, stacking
    from lib.serengeti.model import ModelConfig, build_model

    runs_root = tmp_path_factory.mktemp("serengeti-runs")
    networks = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAMTRAP_RUNS", str(runs_root))
        from lib.serengeti.train import run_dir, weights_path

        for i, (role, run_id) in enumerate(SER_BUNDLE_RUNS.items()):
            mcfg = ModelConfig(
                model=role, backbone="small", image_size=SER_BUNDLE_SIZE, backbone_weights=None,
                small_width=4, fusion_filters=8,
            )  # fmt: skip
            run_dir(run_id).mkdir(parents=True)
            fileio.write_json(run_dir(run_id) / "config.json", {"model": asdict(mcfg)})
            fileio.write_json(
                run_dir(run_id) / "metrics.json",
                {"run_id": run_id, "cv_logloss": 0.1, "backbone_used": "small(width 4)"},
            )
            keras.utils.set_random_seed(i)
            model = build_model(mcfg)
            model.save_weights(weights_path(run_id))
            networks[role] = model
        rng = np.random.default_rng(3)
        (inp_a, y_a), (inp_b, y_b) = _synthetic_season(9, rng), _synthetic_season(10, rng)
        prior = metrics.class_priors(pd.concat([y_a, y_b]))
        models = ("background", "twostream")
        fa = ensemble.features(inp_a, models, prior, 120.0)
        fb = ensemble.features(inp_b, models, prior, 120.0)
        cfg = stacking.StackConfig(
            classes=("empty", "zebra"), feature_mode="own", min_data_in_leaf=5,
            num_boost_round=60, early_stopping_rounds=20,
        )  # fmt: skip
        fitted = stacking.fit(
            fa, y_a, fb, y_b, cfg, ensemble.fallback_scores(inp_a), ensemble.fallback_scores(inp_b)
        )
        assert set(fitted.calibration) == {"a", "b"}  # the bundle carries the calibration too
        stack_dir = ensemble.save_stack(
            fitted, SER_BUNDLE_RUNS, models, fb, True, 120.0, prior, prior
        )
        summary = {"stack_dir": str(stack_dir), "profile": "quick", "data_dir": "synthetic"}
        extract_config = {"version": 1, "image_size": list(SER_BUNDLE_SIZE),
                          "strip_fraction": 0.066, "max_images": 3}  # fmt: skip
        out = bundle.export(summary, extract_config, tmp_path_factory.mktemp("sb") / "bundle")
    return out, networks


class NotebookRunner:
    """Runs one track's notebooks with papermill into throwaway output roots (quick profile).

    The kernel starts in notebooks/<track>/, so PYTHONPATH names this checkout: the kernel
    imports this checkout's lib whatever the environment's editable install points at.
    """

    def __init__(self, track: str, data_dir: Path, tmp_path: Path) -> None:
        import os
        import sys

        self.notebooks = ROOT / "notebooks" / track
        self.env = {
            **os.environ,
            "CAMTRAP_WORK": str(tmp_path / "work"),
            "CAMTRAP_RUNS": str(tmp_path / "runs"),
            "CAMTRAP_SUBMISSIONS": str(tmp_path / "submissions"),
            "CAMTRAP_DATA": str(tmp_path / "data"),  # 07's fresh demo
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.params = ["-p", "profile", "quick", "-p", "data_dir", str(data_dir),
                       "-p", "workers", "2"]  # fmt: skip

    def execute(self, name: str, out: Path, *extra: str) -> None:
        import subprocess
        import sys

        proc = subprocess.run(
            [sys.executable, "-m", "papermill", str(self.notebooks / name), str(out),
             "--cwd", str(self.notebooks), "--kernel", "python3", "--no-progress-bar",
             *self.params, *extra],
            env=self.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-4000:]}"


@pytest.fixture
def notebook_runner(tmp_path):
    """notebook_runner(track, data_dir) -> a NotebookRunner writing under tmp_path."""
    return lambda track, data_dir: NotebookRunner(track, Path(data_dir), tmp_path)
