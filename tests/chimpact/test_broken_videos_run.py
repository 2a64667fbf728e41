"""A whole run over a demo folder where 3 of 30 videos are broken: the run finishes around them.

Stages 02-06 at quick settings, called as the notebooks call them: the run finishes, stage 02
reports exactly the 3 broken videos, the train rows of the broken train video are listed as
skipped, and the submission is complete and valid, with the broken test videos' rows at the
documented fallback (the train median) and named in summary.json.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import profiles
from lib.chimpact import ensemble, extract, infer, records, schema, submission, train


@pytest.mark.slow
def test_three_broken_videos_of_thirty(tmp_path, monkeypatch):
    from lib.demo import chimpact as demo

    for name in ("WORK", "RUNS", "SUBMISSIONS"):
        monkeypatch.setenv(f"CAMTRAP_{name}", str(tmp_path / name.lower()))
    data_dir = tmp_path / "data"
    demo.generate(data_dir, seed=3, videos=30, max_duration=12, progress=False, workers=2)
    test_ids = sorted(pd.read_csv(data_dir / "test_metadata.csv")["video_id"].unique())
    train_ids = sorted(pd.read_csv(data_dir / "train_labels.csv")["video_id"].unique())
    broken = {test_ids[0], test_ids[1], train_ids[0]}
    (data_dir / "test_videos" / test_ids[0]).write_bytes(b"")  # zero bytes
    (data_dir / "test_videos_downsampled" / test_ids[1]).write_text("not a video")
    raw = (data_dir / "train_videos_downsampled" / train_ids[0]).read_bytes()
    (data_dir / "train_videos_downsampled" / train_ids[0]).write_bytes(raw[:200])  # truncated

    ctx = profiles.resolve("chimpact", "quick", str(data_dir), seed=1, workers=2)
    data = schema.load(ctx.data_dir)
    manifest = extract.run(data, ctx.work, workers=2, progress=False)
    assert len(manifest) == 30
    assert set(manifest.loc[manifest["status"] != "ok", "video_id"]) == broken
    built = records.build(data, ctx.work, n_splits=3, seed=1, shard_size=64, progress=False)
    skipped = pd.DataFrame(built["skipped"]["rows"])
    assert set(skipped["video_id"]) == broken
    assert built["skipped"]["train_rows"] == int((data.train["video_id"] == train_ids[0]).sum())

    run_id = "run-20211101-1526-down-a1p50-f7s1"
    train.train_run(run_id, ctx, strategy_kind="default", verbose=0)
    infer.predict_run(run_id, ctx.work, strategy_kind="default")
    summary = ensemble.run([run_id], ctx)

    fmt = pd.read_csv(data_dir / "submission_format.csv", dtype={"video_id": str})
    sub = pd.read_csv(summary["submission"], dtype={"video_id": str})
    submission.validate(sub, fmt)  # same rows, same order, no NaN
    assert summary["test_fallback_videos"] == sorted(broken - {train_ids[0]})
    fallback_rows = fmt["video_id"].isin(summary["test_fallback_videos"]).to_numpy()
    assert summary["test_rows_fallback"] == int(fallback_rows.sum()) > 0
    median = float(data.train["distance"].median())
    snapped = float(schema.snap_to_grid(np.array([median]))[0])
    assert (sub.loc[fallback_rows, "distance"] == snapped).all()
    assert summary["test_fallback_distance"] == median
