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

from lib import fileio
from lib.chimpact import extract as chextract
from lib.serengeti import extract as seextract
from lib.serengeti import schema

distributed = pytest.importorskip("distributed")

SIZE = (16, 20)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes, reached by its tcp:// address."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:  # fmt: skip
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
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local, distributed.Client(local) as client:  # fmt: skip

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
