"""Same machine, same seed: identical OOF predictions and CV, quiet or loaded.

A small chimpact run (quick profile, tiny demo, two folds) is trained twice, each in a fresh
process as a user's rerun would be: once alone, once with a busy-looping process per core
beside it. The thread scheduling changes; the numbers must not (docs/reliability.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lib.chimpact import repeat_run


@contextmanager
def cpu_hogs(count: int) -> Iterator[list[subprocess.Popen]]:
    """`count` processes spinning on a core each; ended (by their own handles) on exit."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_one_small_run_trained_quiet_and_loaded_is_identical(tmp_path):
    data_dir, work = repeat_run.prepare(tmp_path, n_splits=2)
    quiet = repeat_run.train_in_child(data_dir, work, tmp_path / "quiet", {})
    with cpu_hogs(os.cpu_count() or 2) as hogs:
        loaded = repeat_run.train_in_child(data_dir, work, tmp_path / "loaded", {})
        assert all(p.poll() is None for p in hogs)  # they really ran beside it
    assert quiet["oof"].count("\n") > 10
    assert loaded["oof"] == quiet["oof"]  # every OOF prediction, to the last digit written
    assert loaded["cv_mae"] == quiet["cv_mae"]
