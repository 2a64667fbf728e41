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
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

ENV = "CAMTRAP_SCHEDULER"
CONNECT_TIMEOUT_S = 20


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
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise SchedulerError(
            f"--scheduler {where} needs dask and distributed ({err}); run ./scripts/bootstrap.sh"
        ) from None
    if where == "local":
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster, Client(cluster) as client:  # fmt: skip
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
        yield client
