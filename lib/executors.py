"""Where a stage's items run: inline, a local process pool, or a Dask cluster.

`scheduler` (or the CAMTRAP_SCHEDULER environment variable when it is not given):
- "" (default): a `ProcessPoolExecutor` of `workers` processes on this machine (all cores by
  default), or inline in this process for one worker - no start-up cost;
- "local": a Dask `LocalCluster` of `workers` single-threaded processes on this machine; its
  dashboard address is printed;
- "tcp://HOST:PORT": an existing Dask cluster (`dask scheduler` + `dask worker tcp://...`, or
  dask-jobqueue); workers must see the data and work folders at the same paths.

Dask is imported only when asked for, so the default path never pays for it. A Dask client's
`get_executor()` is a `concurrent.futures.Executor`, so the engine does not know which it has.

Dask's nanny starts each worker with `MALLOC_TRIM_THRESHOLD_=65536`, which turns off glibc's
growing mmap threshold: every array over 128 KiB is then mapped and unmapped afresh, and the
page faults cost serengeti's stage 02 about 1.4x its time on one core (sys time 2.4 -> 6.5 s on
80 demo sequences). The clusters started here leave it unset; workers of a cluster started
elsewhere are checked, and a warning says how to start them without it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ENV = "CAMTRAP_SCHEDULER"
CONNECT_TIMEOUT_S = 20
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
# what to export before `dask worker` so that its nanny does not set TRIM_VARIABLE
WORKER_ENV = "DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON=\"{'MALLOC_TRIM_THRESHOLD_': None}\""

log = logging.getLogger(__name__)


class SchedulerError(ValueError):
    """A scheduler that cannot be used; the message names it and what to do."""


def resolve(scheduler: str | None) -> str:
    """The scheduler to use: the argument, else CAMTRAP_SCHEDULER, else "" (local pool)."""
    value = (scheduler if scheduler is not None else os.environ.get(ENV, "")).strip()
    if value and value != "local" and "://" not in value:
        raise SchedulerError(
            f"scheduler {value!r} is neither 'local' nor an address such as tcp://HOST:8786 "
            f"(from {'--scheduler' if scheduler is not None else ENV})"
        )
    return value


def default_workers(workers: int | None) -> int:
    return max(1, workers or os.cpu_count() or 1)


@contextmanager
def open_executor(
    scheduler: str | None = None,
    workers: int | None = None,
    jobs: int = 2,
    executor: Executor | None = None,
) -> Iterator[tuple[Executor | None, str]]:
    """(executor or None for inline, a description of it) for `jobs` items of work.

    A given `executor` is used as it is (and not shut down). Nothing is started when there is
    no work, and the local pool is skipped for one worker or one job.
    """
    if executor is not None:
        yield executor, type(executor).__name__
        return
    where = resolve(scheduler)
    n = default_workers(workers)
    if jobs == 0:
        yield None, "nothing to do"
    elif not where:
        if n == 1 or jobs == 1:
            yield None, "inline"
        else:
            with ProcessPoolExecutor(max_workers=n) as pool:
                yield pool, f"local pool of {n} processes"
    else:
        with dask_client(where, n) as client:
            yield client.get_executor(pure=False), f"dask {client.scheduler.address}"


@contextmanager
def dask_client(where: str, workers: int) -> Iterator[object]:
    """A connected Dask client: to `where`, or to a fresh LocalCluster for "local"."""
    try:
        from distributed import Client
    except ImportError as err:
        raise SchedulerError(
            f"--scheduler {where} needs dask and distributed ({err}); run ./scripts/bootstrap.sh"
        ) from None
    if where == "local":
        with local_cluster(workers) as cluster, Client(cluster) as client:
            print(f"dask LocalCluster of {workers} workers; dashboard: {client.dashboard_link}")
            yield client
        return
    try:
        client = Client(where, timeout=CONNECT_TIMEOUT_S)
    except OSError as err:
        raise SchedulerError(
            f"no Dask scheduler answers at {where} ({err}); start one with `dask scheduler` and "
            f"workers with `dask worker {where}` (docs/cluster.md)"
        ) from None
    with client:
        if not client.scheduler_info().get("workers"):
            log.warning(
                "no worker is connected to %s yet: the items wait until one joins "
                "(`dask worker %s` on a machine that sees the data and work folders)",
                where, where,
            )  # fmt: skip
        warn_if_trimming(client)
        yield client


def local_cluster(workers: int):
    """A LocalCluster of `workers` single-threaded processes started without glibc's malloc
    trim threshold (see the module's docstring). A nanny also copies its variables into the
    starting process's own environment, so one started earlier leaves it there: it is taken
    out while the workers spawn and put back after."""
    import dask
    from distributed import LocalCluster

    inherited = os.environ.pop(TRIM_VARIABLE, None)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{TRIM_VARIABLE}": None}):
            return LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
    finally:
        if inherited is not None:
            os.environ[TRIM_VARIABLE] = inherited


def trim_at_start() -> str | None:
    """MALLOC_TRIM_THRESHOLD_ as this process was started with it: glibc reads it then, so a
    later change of os.environ (a Dask worker sets it again from its config) does not count.
    None off Linux, where the C library is not glibc."""
    try:
        entries = Path("/proc/self/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = f"{TRIM_VARIABLE}=".encode()
    found = [e[len(prefix) :].decode() for e in entries if e.startswith(prefix)]
    return found[0] if found else None


def warn_if_trimming(client) -> list[str]:
    """The addresses of the cluster's workers that run with MALLOC_TRIM_THRESHOLD_ set, after
    one warning naming them and the fix."""
    trimming = sorted(
        address for address, value in client.run(trim_at_start).items() if value is not None
    )
    if trimming:
        log.warning(
            "%d of the cluster's workers run with %s set (Dask's default), which makes the data "
            "stages up to 1.4x slower (e.g. %s); start the workers after `export %s`",
            len(trimming), TRIM_VARIABLE, trimming[0], WORKER_ENV,
        )  # fmt: skip
    return trimming
