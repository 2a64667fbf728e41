"""Both predict commands decode on the stage engine: a Dask cluster gives the same output as the
default threads, a decoded input whose prediction was lost is not decoded again, and a
scheduler that cannot be used is refused before any work."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.chimpact import video_frames
from lib.predict.resume import Checkpoint


def _cli(track: str, *args: str) -> int:
    from lib.predict.__main__ import main

    return main([track, *args, "--quiet"])


@pytest.mark.parametrize("track", ["chimpact", "serengeti"])
def test_a_dask_cluster_predicts_what_the_threads_predict(
    track, tiny_bundle, tiny_chimpact, tiny_serengeti_bundle, tiny_serengeti, tmp_path
):
    if track == "chimpact":
        inputs = ["--bundle", str(tiny_bundle[0]), "--videos", str(tiny_chimpact / "test_videos")]
    else:
        inputs = ["--bundle", str(tiny_serengeti_bundle[0]), "--images", str(tiny_serengeti)]
    here, dask = tmp_path / "threads.csv", tmp_path / "dask.csv"
    assert _cli(track, *inputs, "--out", str(here)) == 0
    assert _cli(track, *inputs, "--out", str(dask), "--scheduler", "local", "--workers", "2") == 0
    assert dask.read_bytes() == here.read_bytes()
    assert len(pd.read_csv(dask)) > 0


def test_a_decoded_video_whose_prediction_was_lost_is_not_decoded_again(
    tiny_bundle, tiny_chimpact, tmp_path, monkeypatch
):
    from lib.chimpact import bundle, predict_videos

    loaded = bundle.load(tiny_bundle[0])
    videos = [tiny_chimpact / "test_videos"]
    whole = predict_videos.predict(loaded, videos, progress=False)
    out = tmp_path / "pred.csv"
    real_predict = predict_videos.predict_frames

    def crash(*args, **kwargs):
        raise RuntimeError("stopped")

    monkeypatch.setattr(predict_videos, "predict_frames", crash)
    with pytest.raises(RuntimeError, match="stopped"):  # the model dies on the first video
        predict_videos.predict(loaded, videos, progress=False,
                               checkpoint=Checkpoint.open(out, {"k": 1}, every=100))  # fmt: skip
    decoded: list[str] = []
    real_decode = video_frames.decode

    def counted(job):
        decoded.append(job.path)
        return real_decode(job)

    monkeypatch.setattr(predict_videos, "predict_frames", real_predict)
    monkeypatch.setattr(video_frames, "decode", counted)
    resumed = Checkpoint.open(out, {"k": 1}, every=100)
    again = predict_videos.predict(loaded, videos, progress=False, checkpoint=resumed)
    assert len(decoded) == whole.videos - 1  # the first video's frames were kept
    pd.testing.assert_frame_equal(again.rows, whole.rows)


@pytest.mark.parametrize("track", ["chimpact", "serengeti"])
def test_an_unusable_scheduler_is_refused_before_any_work(
    track, tiny_bundle, tiny_serengeti_bundle, tmp_path, capsys
):
    bundle = tiny_bundle[0] if track == "chimpact" else tiny_serengeti_bundle[0]
    inputs = ["--videos" if track == "chimpact" else "--images", str(tmp_path)]
    out = tmp_path / "pred.csv"
    code = _cli(track, "--bundle", str(bundle), *inputs, "--out", str(out), "--scheduler", "bogus")
    assert code == 2 and "neither 'local' nor an address" in capsys.readouterr().err
    assert not out.exists()
