"""Both tracks' stage 02 on a Dask cluster of two worker processes: outputs byte-identical to
the local process pool, a worker killed mid-run loses and duplicates nothing, a rerun skips
everything (and starts nothing)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from helpers.procs import file_bytes

from lib import executors, fileio
from lib.chimpact import extract as chextract
from lib.serengeti import extract as seextract
from lib.serengeti import schema

distributed = pytest.importorskip("distributed")

SIZE = (16, 20)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes, reached by its tcp:// address."""
    with executors.local_cluster(2) as local:
        yield local


def outputs(work: Path) -> dict[str, bytes]:
    """Frames, arrays and manifests: what must not depend on where the items ran."""
    found = file_bytes(work, (".jpg", ".npz"))
    for name in ("manifest.csv", "errors.csv"):
        found[name] = (work / "extract" / name).read_bytes()
    return found


def records(work: Path, folder: str) -> list[Path]:
    return sorted((work / "extract" / folder).rglob("*.json"))


def test_chimpact_on_two_dask_workers_equals_the_local_pool(tiny_extracted, cluster, tmp_path):
    data, pool_work, _ = tiny_extracted
    work = tmp_path / "dask"
    chextract.run(data, work, scheduler=cluster.scheduler_address, progress=False)
    assert outputs(work) == outputs(pool_work)
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["engine"]["backend"].startswith("dask tcp://")
    again = chextract.run(data, work, scheduler=cluster.scheduler_address, progress=False)
    engine = fileio.read_json(work / "extract" / "summary.json")["engine"]
    assert engine["ran"] == 0 and engine["skipped_unchanged"] == len(again)
    assert engine["backend"] == "nothing to do"  # a rerun does not even reach the cluster


def test_serengeti_on_two_dask_workers_equals_the_local_pool(tiny_serengeti, cluster, tmp_path):
    data = schema.load(tiny_serengeti)
    cfg = seextract.ExtractConfig(image_size=SIZE)
    seextract.run(data, tmp_path / "pool", cfg, workers=2, progress=False)
    seextract.run(data, tmp_path / "dask", cfg, scheduler=cluster.scheduler_address,
                  progress=False)  # fmt: skip
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "pool")
    seextract.run(data, tmp_path / "dask", cfg, scheduler=cluster.scheduler_address,
                  progress=False)  # fmt: skip
    engine = fileio.read_json(tmp_path / "dask" / "extract" / "summary.json")["engine"]
    # every finished sequence skipped; only the demo's one without a readable image is retried
    assert engine["skipped_unchanged"] == engine["ok"] == engine["items"] - engine["failed"]
    assert engine["ran"] == engine["failed"] == engine["failed_by_reason"][seextract.NO_IMAGE]


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(tiny_extracted, tmp_path):
    data, pool_work, manifest = tiny_extracted
    work = tmp_path / "killed"
    killed: list[int] = []
    with executors.local_cluster(2) as local, distributed.Client(local) as client:

        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy and records(work, "videos"):  # one video done, others under way
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.05)

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        result = chextract.run(data, work, scheduler=local.scheduler_address, progress=False)
        killer.join()
    assert killed, "no worker was busy to kill"
    assert (result["status"] == "ok").all() and len(result) == len(manifest)
    assert sorted(result["video_id"]) == sorted(set(result["video_id"]))  # none twice
    assert len(records(work, "videos")) == len(manifest)
    assert outputs(work) == outputs(pool_work)
    assert not [p for p in work.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_workers_with_dasks_malloc_trim_are_named_and_ours_run_without(caplog):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which slows the stages' array work; the clusters
    the project starts leave it unset, and workers started elsewhere with it are warned about."""
    started_with = os.environ.pop(executors.TRIM_VARIABLE, None)
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as default, distributed.Client(default) as client:  # fmt: skip
            with caplog.at_level("WARNING", "lib.executors"):
                trimming = executors.warn_if_trimming(client)
            assert set(trimming) == set(default.scheduler_info["workers"])
            assert "2 of the cluster's workers run with MALLOC_TRIM_THRESHOLD_" in caplog.text
            assert executors.WORKER_ENV in caplog.text  # the fix, ready to paste
            # the default nanny copied the variable into this process's os.environ; glibc
            # reads the environment a process starts with, and that is what counts
            assert os.environ.get(executors.TRIM_VARIABLE) == "65536"
            assert executors.trim_at_start() == started_with
            with executors.local_cluster(1) as ours, distributed.Client(ours) as mine:
                assert executors.warn_if_trimming(mine) == []
                assert set(mine.run(os.environ.get, "OMP_NUM_THREADS").values()) == {"1"}
    finally:  # later tests' child processes must not inherit it
        os.environ.pop(executors.TRIM_VARIABLE, None)
        if started_with is not None:
            os.environ[executors.TRIM_VARIABLE] = started_with


def test_a_cluster_without_workers_is_said_before_the_items_wait(caplog):
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        with caplog.at_level("WARNING", "lib.executors"):
            with executors.open_executor(empty.scheduler_address, jobs=3) as (_, where):
                assert where == f"dask {empty.scheduler_address}"
    assert f"no worker is connected to {empty.scheduler_address} yet" in caplog.text
    assert f"`dask worker {empty.scheduler_address}`" in caplog.text
