"""Progressive resizing of the single-image model (write-up: 240x320 -> 360x480 -> 384x512):
the stages a profile asks for, the shrunk training images, weights carried from one stage to
the next, and a quick-profile run that trains every stage and resumes stage by stage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from helpers.serengeti_records import one_image_record

from lib import fileio, profiles
from lib.serengeti import extract, input_pipeline, records, runid, schema, train
from lib.serengeti.model import ModelConfig, build_model

SINGLE = "run-20191219-1000-single-irv2-sigmoid-flow"
BACKGROUND = "run-20191226-1000-background-irv2-sigmoid-flow"


def test_full_profile_stages_are_the_writeups_sizes_ending_at_the_model_size():
    full = profiles.get("full", "serengeti")
    stages = train.training_stages(runid.parse(SINGLE), full)
    assert [s["size"] for s in stages] == [[240, 320], [360, 480], [384, 512]]
    assert [s["epochs"] for s in stages] == [full.progressive_epochs] * 2 + [full.epochs]
    # fine-tuned models start from trained parents: one stage at the model size
    assert train.training_stages(runid.parse(BACKGROUND), full) == [
        {"size": [384, 512], "epochs": full.finetune_epochs}
    ]
    no_stages = dataclasses.replace(full, progressive_sizes=())
    assert train.training_stages(runid.parse(SINGLE), no_stages) == [
        {"size": [384, 512], "epochs": full.epochs}
    ]


@pytest.mark.parametrize(
    ("sizes", "epochs", "message"),
    [
        (((360, 480), (240, 320)), 2, "must grow toward image_size"),
        (((384, 512),), 2, "without repeating a size"),
        (((400, 320),), 2, "must grow toward image_size"),
        (((60, 80),), 2, "too small for backbone 'irv2'"),
        (((240, 320),), 0, "progressive_epochs >= 1"),
    ],
)
def test_bad_progressive_settings_are_refused_by_name(sizes, epochs, message):
    full = dataclasses.replace(
        profiles.get("full", "serengeti"), progressive_sizes=sizes, progressive_epochs=epochs
    )
    with pytest.raises(ValueError, match=message) as err:
        train.training_stages(runid.parse(SINGLE), full)
    assert "'full'" in str(err.value)


def test_a_stage_reads_the_stored_images_shrunk_with_the_flows_filter(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (72, 96, 3), dtype=np.uint8)
    path = tmp_path / "one-00-n0001.tfrec"
    one_image_record(path, image)
    x, _, _ = next(
        iter(input_pipeline.dataset([path], "single", (72, 96), 1, output_size=(48, 64)))
    )
    expected = tf.cast(
        tf.clip_by_value(
            tf.round(tf.image.resize(image, (48, 64), method="lanczos3", antialias=True)), 0, 255
        ),
        tf.uint8,
    )
    assert x.shape == (1, 48, 64, 3)
    np.testing.assert_allclose(x[0].numpy(), expected.numpy() / 255.0, atol=1e-6)
    full, _, _ = next(iter(input_pipeline.dataset([path], "single", (72, 96), 1)))
    np.testing.assert_allclose(full[0].numpy(), image / 255.0, atol=1e-6)
    with pytest.raises(ValueError, match="larger than the stored"):
        input_pipeline.dataset([path], "single", (72, 96), 1, output_size=(96, 128))


def test_the_next_stage_starts_from_the_previous_stages_best_weights(tmp_path):
    cfg = ModelConfig(backbone="small", image_size=(36, 48), backbone_weights=None, small_width=4)
    small = build_model(cfg)
    small.save_weights(str(tmp_path / "stage1.weights.h5"))
    config = {
        "model": dataclasses.asdict(dataclasses.replace(cfg, image_size=(48, 64))),
        "parents": {},
    }
    _, build = train._build(config, None, None, tmp_path / "stage1.weights.h5")
    big = build()
    assert big.input_shape == (None, 48, 64, 3)
    for a, b in zip(small.get_weights(), big.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    _, fresh = train._build(config, None)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(small.get_weights(), fresh().get_weights(), strict=True)
    )


@pytest.mark.slow
def test_a_quick_run_trains_each_stage_and_a_rerun_trains_nothing(
    tiny_serengeti, tmp_path, monkeypatch
):
    monkeypatch.setenv("CAMTRAP_RUNS", str(tmp_path / "runs"))
    prof = profiles.get("quick", "serengeti")
    assert prof.progressive_sizes  # the quick profile exercises the stages
    data = schema.load(tiny_serengeti)
    work = tmp_path / "work"
    extract.run(data, work, extract.ExtractConfig(image_size=prof.image_size), progress=False)
    records.build(data, work, shard_size=32)
    ctx = profiles.Context("serengeti", prof, tiny_serengeti, work, 3, 1, False)
    metrics = train.train_run(SINGLE, ctx, strategy_kind="default", verbose=0)

    stages = fileio.read_json(train.run_dir(SINGLE) / "config.json")["stages"]
    assert [s["size"] for s in stages] == [list(s) for s in prof.progressive_sizes] + [
        list(prof.image_size)
    ]
    first = train.stage_dir(SINGLE, 1, stages[0]["size"])
    assert (first / "done.json").is_file() and (first / "best.weights.h5").is_file()
    assert [s["size"] for s in metrics["train"]["stages"]] == [s["size"] for s in stages]
    hist = train.history(SINGLE)
    assert list(hist["epoch"]) == list(range(sum(s["epochs"] for s in stages)))
    assert list(hist["size"].unique()) == [f"{h}x{w}" for h, w in (s["size"] for s in stages)]

    before = {p: p.stat().st_mtime_ns for p in train.run_dir(SINGLE).rglob("*.h5")}
    again = train.train_run(SINGLE, ctx, strategy_kind="default", verbose=0)
    assert again["cv_logloss"] == metrics["cv_logloss"]
    assert {p: p.stat().st_mtime_ns for p in train.run_dir(SINGLE).rglob("*.h5")} == {
        p: t for p, t in before.items()
    }
