"""Both predict CLIs killed mid-run (SIGKILL) continue from their checkpoint: the rerun's
output equals an uninterrupted run's, and the rerun says how many finished files it skipped.
A finished output is never replaced without --overwrite."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers.procs import kill_when

from lib.predict.resume import folder_for

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _argv(track: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "lib.predict", track, *args, "--quiet"]


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=900)


def _parts(out) -> int:
    return len(list(folder_for(out).glob("part-*.json")))


def _kill_and_resume(tmp_path, track: str, inputs: list[str], every: str) -> tuple[str, str]:
    """(stderr of the resumed run, after checking its output equals an uninterrupted run's)."""
    whole = tmp_path / "whole.csv"
    # the same chunks as the killed run: network scores differ in the last digits by batch
    uninterrupted = _argv(track, *inputs, "--out", str(whole), "--checkpoint-every", every)
    assert _run(uninterrupted).returncode == 0
    out = tmp_path / "pred.csv"
    kill_when(_argv(track, *inputs, "--out", str(out), "--checkpoint-every", every),
              lambda: _parts(out) >= 1, timeout=600, env=ENV)  # fmt: skip
    assert not out.exists() and _parts(out) >= 1
    resumed = _run(_argv(track, *inputs, "--out", str(out), "--checkpoint-every", every))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert out.read_bytes() == whole.read_bytes()
    assert not folder_for(out).exists()  # a complete output needs no checkpoint
    return resumed.stderr, str(out)


def test_chimpact_cli_resumes_after_sigkill(tiny_bundle, tiny_chimpact, tmp_path):
    inputs = ["--bundle", str(tiny_bundle[0]), "--videos", str(tiny_chimpact / "train_videos"),
              str(tiny_chimpact / "test_videos")]  # fmt: skip
    err, out = _kill_and_resume(tmp_path, "chimpact", inputs, every="1")
    skipped = re.search(r"(\d+) finished videos skipped", err)
    assert skipped and 1 <= int(skipped.group(1)) < 10, err[-2000:]
    again = _run(_argv("chimpact", *inputs, "--out", out))
    assert again.returncode == 2 and "--overwrite" in again.stderr  # finished: never replaced


def test_serengeti_cli_resumes_after_sigkill(tiny_serengeti_bundle, tiny_serengeti, tmp_path):
    inputs = ["--bundle", str(tiny_serengeti_bundle[0]), "--images", str(tiny_serengeti)]
    err, out = _kill_and_resume(tmp_path, "serengeti", inputs, every="4")
    skipped = re.search(r"(\d+) finished sequences skipped", err)
    assert skipped and int(skipped.group(1)) % 4 == 0 and int(skipped.group(1)) >= 4, err[-2000:]
    again = _run(_argv("serengeti", *inputs, "--out", out))
    assert again.returncode == 2 and "--overwrite" in again.stderr


@pytest.mark.parametrize("track", ["chimpact", "serengeti"])
def test_overwrite_replaces_a_finished_output_and_a_folder_is_refused(
    track, tiny_bundle, tiny_serengeti_bundle, tiny_chimpact, tmp_path, capsys
):
    from lib.predict.__main__ import main

    if track == "chimpact":
        video = sorted((tiny_chimpact / "test_videos").iterdir())[0]
        args = ["chimpact", "--bundle", str(tiny_bundle[0]), "--videos", str(video)]
    else:
        image = tmp_path / "cam" / "a.jpg"
        image.parent.mkdir()
        from PIL import Image

        Image.new("RGB", (64, 48), (90, 120, 60)).save(image)
        args = ["serengeti", "--bundle", str(tiny_serengeti_bundle[0]), "--images", str(image)]
    out = tmp_path / "pred.csv"
    out.write_text("an earlier, finished result\n")
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and str(out) in err
    assert out.read_text() == "an earlier, finished result\n"
    assert main([*args, "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert out.read_text().startswith("filepath" if track == "chimpact" else "seq_id")
    assert main([*args, "--out", str(tmp_path), "--quiet"]) == 2
    assert "is a folder" in capsys.readouterr().err
