"""A whole serengeti run over a demo folder with broken images (as
test_broken_videos_run.py for chimpact).

Stages 02-06 at quick settings, called as the notebooks call them: every test sequence of one
camera roll loses all its images (zero bytes, text named .JPG, truncated) and one train image is
truncated. The run finishes; stage 02 counts each broken file by reason; the submission is
complete and valid, and the sequence with no readable image gets the documented fallback (the
class priors of the train labels, clipped) and is named in summary.json.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from lib import fileio, profiles, runs
from lib.serengeti import ensemble, extract, infer, metrics, records, schema, submission, train
from lib.serengeti.schema import CLASSES, KEY


@pytest.mark.slow
def test_broken_images_run_from_extraction_to_submission(tiny_serengeti, tmp_path, monkeypatch):
    for name in ("WORK", "RUNS", "SUBMISSIONS"):
        monkeypatch.setenv(f"CAMTRAP_{name}", str(tmp_path / name.lower()))
    data_dir = shutil.copytree(tiny_serengeti, tmp_path / "data")
    meta = pd.read_csv(data_dir / "test_metadata.csv", dtype=str)
    counts = meta.groupby(KEY).size()
    victim = str(counts[counts >= 2].index[0])  # a test sequence with several images
    names = sorted(meta.loc[meta[KEY] == victim, "file_name"])
    (data_dir / names[0]).write_bytes(b"")
    (data_dir / names[1]).write_text("not an image\n", encoding="utf-8")
    for name in names[2:]:
        raw = (data_dir / name).read_bytes()
        (data_dir / name).write_bytes(raw[: len(raw) // 3])
    train_meta = pd.read_csv(data_dir / "train_metadata.csv", dtype=str)
    train_name = sorted(train_meta["file_name"])[0]
    raw = (data_dir / train_name).read_bytes()
    (data_dir / train_name).write_bytes(raw[: len(raw) // 3])

    ctx = profiles.resolve("serengeti", "quick", str(data_dir), seed=1, workers=2)
    data = schema.load(ctx.data_dir)
    cfg = extract.ExtractConfig(image_size=tuple(ctx.profile.image_size))
    manifest = extract.run(data, ctx.work, cfg, workers=2, progress=False)
    status = dict(zip(manifest["file_name"], manifest["status"], strict=True))
    assert status[names[0]] == "truncated" and status[names[1]] == "not_an_image"
    assert all(status[n] == "truncated" for n in names[2:]) and status[train_name] == "truncated"
    summary02 = fileio.read_json(ctx.work / "extract" / "summary.json")
    bad = manifest[~manifest["status"].isin(["ok", "not_used"])]
    assert summary02["images_unreadable"] == len(bad) >= len(names) + 1
    assert sum(summary02["unreadable_by_reason"].values()) == len(bad)

    records.build(data, ctx.work, shard_size=ctx.profile.shard_size)
    for run_id in runs.planned("serengeti", "quick"):
        train.train_run(run_id, ctx, strategy_kind="default", verbose=0)
        infer.predict_test(run_id, ctx.work)
    summary = ensemble.run(ctx)

    fmt = data.submission_format
    sub = pd.read_csv(summary["submission"], dtype={KEY: str})
    submission.validate(sub, fmt)  # same rows, same order, no NaN, probabilities
    test_seqs = manifest[manifest["split"] == "test"]
    no_image = sorted(set(test_seqs[KEY]) - set(test_seqs.loc[test_seqs["status"] == "ok", KEY]))
    assert victim in no_image
    assert summary["test_sequences_priors_ids"] == no_image
    assert summary["test_sequences_priors"] == len(no_image)
    prior = metrics.class_priors(data.train_labels).reindex(list(CLASSES)).to_numpy()
    rows = sub.set_index(KEY).loc[no_image, list(CLASSES)].to_numpy()
    np.testing.assert_allclose(rows, np.broadcast_to(np.clip(prior, 1e-5, 1 - 1e-5), rows.shape))
