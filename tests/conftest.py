"""Shared fixtures: one tiny demo dataset per session, and isolated output roots."""

from __future__ import annotations

from dataclasses import asdict

import pytest

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
