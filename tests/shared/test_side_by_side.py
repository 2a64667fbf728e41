"""How many training runs run_all.sh trains at once (`lib.runs.side_by_side`)."""

import pytest

from lib import runs


@pytest.fixture
def memory(monkeypatch):
    """Set the machine's available memory, in GiB."""
    return lambda gib: monkeypatch.setattr(runs, "available_memory", lambda: gib << 30)


def test_one_thread_runs_fill_the_cores_within_the_runs_there_are(memory):
    memory(64)
    assert runs.side_by_side("chimpact", "demo", cores=2) == 2
    assert runs.side_by_side("chimpact", "demo", cores=16) == 12  # the write-up's 12 runs
    assert runs.side_by_side("chimpact", "quick", cores=16) == 2
    assert runs.side_by_side("chimpact", "demo", cores=1) == 1


def test_memory_bounds_the_runs_and_there_is_always_one(memory):
    memory(7)
    assert runs.side_by_side("chimpact", "demo", cores=16) == 7 // 3
    memory(1)
    assert runs.side_by_side("chimpact", "demo", cores=16) == 1


def test_profiles_on_tensorflow_s_own_threads_train_one_run_at_a_time(memory):
    memory(64)
    assert runs.side_by_side("chimpact", "full", cores=16) == 1
    assert runs.side_by_side("serengeti", "demo", cores=16) == 1


def test_available_memory_is_in_bytes_and_within_the_machine_s():
    import os

    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert total / 100 < runs.available_memory() <= total  # this suite's machine is not full
