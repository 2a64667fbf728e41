"""The stage engine: a resumable map of one per-item function over a stage's items.

Every stage that turns many inputs into many outputs (videos into frames, sequences into
arrays, prediction inputs into pixels) does the same things, so they are done once, here:

- each item has a unique work name and a key made of what it is made from (its rows of the
  input tables, each input file's identity, the stage's settings and format version);
- a finished item is skipped on a rerun only if its stored record carries the same key (and its
  outputs are on disk); failed items are always retried;
- the per-item function runs on any `concurrent.futures.Executor` (a local process pool by
  default, a Dask cluster through `lib.executors`), or inline for one worker;
- each finished item's record is written atomically by the driver as soon as it arrives, so a
  worker killed mid-item (or a retried Dask task) never leaves a half or a double record;
- failures are counted by reason (in the user's words), listed in `errors.csv`, and the stage's
  `manifest.csv` and `summary.json` are written once, at the end, only when every item has a
  record for its current key (a stopped or sharded run leaves none for the next stage to trust).

`Shard` is a thin selection of items (`--shard i/N`) for batch-array users; the engine itself
writes the manifest once every shard's items are finished, so there is no merge step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pandas as pd
from tqdm.auto import tqdm

from lib import executors, fileio, inputs

log = logging.getLogger(__name__)

FORMAT = 1  # layout of the engine's records; part of every key
NOT_VISIBLE = "not visible on the worker"
WORKER_LOST = "worker lost"
UNEXPECTED = "unexpected error"
IN_FLIGHT = 512  # items submitted ahead of the results: bounded memory on a 6.6 M-item stage

T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """One unit of work: `job` goes to the per-item function, the rest stays with the engine."""

    name: str  # unique work name, a relative path such as "train/PICT0001.AVI"
    job: Any
    rows: Any  # its rows of the input tables (times, file names...), JSON-able
    files: tuple[str, ...] = ()  # input files: their identities join the key; workers must see them
    outputs: tuple[str, ...] = ()  # paths a finished item must have left on disk


@dataclass(frozen=True)
class Stage:
    """Where a stage keeps its records and reports, and what its items' keys share."""

    folder: Path  # records, manifest.csv, summary.json, errors.csv
    settings: Mapping[str, Any]
    version: int
    records: str = "items"  # subfolder of `folder` holding one JSON record per item
    unit: str = "item"  # for the progress bar
    scratch: tuple[Path, ...] = ()  # folders whose leftovers of killed runs are removed

    def record_path(self, name: str) -> Path:
        return Path(self.folder) / self.records / f"{quote(name, safe='/-_.~')}.json"

    def made_from(self, item: Item) -> dict:
        """Everything the item's outputs depend on; any change redoes the item."""
        return {
            "format": FORMAT,
            "version": self.version,
            "settings": self.settings,
            "rows": item.rows,
            "files": [inputs.identity(p) for p in item.files],  # by place: a moved folder is kept
        }


def digest(made_from: Mapping[str, Any]) -> str:
    text = json.dumps(made_from, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Report:
    """What a run found and did; `records` holds one engine record per item that has one.

    `counts()["digest"]` changes whenever any item's key does: a later stage can key on it."""

    items: list[Item]
    records: dict[str, dict] = field(default_factory=dict)
    selected: int = 0
    ran: int = 0
    skipped: int = 0
    backend: str = "inline"

    @property
    def pending(self) -> list[str]:
        return [it.name for it in self.items if it.name not in self.records]

    @property
    def complete(self) -> bool:
        return not self.pending

    def results(self) -> list[Any]:
        """The per-item results, in item order (items without a record are left out)."""
        return [self.records[it.name]["result"] for it in self.items if it.name in self.records]

    def failures(self) -> list[dict]:
        return [r for r in self.records.values() if r["status"] != "ok"]

    def counts(self) -> dict:
        reasons: dict[str, int] = {}
        for rec in self.failures():
            reasons[rec["reason"]] = reasons.get(rec["reason"], 0) + 1
        return {
            "items": len(self.items),
            "selected": self.selected,
            "ran": self.ran,
            "skipped_unchanged": self.skipped,
            "ok": sum(r["status"] == "ok" for r in self.records.values()),
            "failed": sum(reasons.values()),
            "failed_by_reason": dict(sorted(reasons.items())),
            "pending": len(self.pending),
            "backend": self.backend,
            "digest": digest({n: r["key"] for n, r in sorted(self.records.items())}),
        }


def run(
    stage: Stage,
    fn: Callable[[Any], Any],
    items: Sequence[Item],
    blank: Callable[[Any, str, str], Any],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    shard: Shard | None = None,
    limit: int | None = None,
    progress: bool = True,
    on_record: Callable[[Item, dict], None] | None = None,
) -> Report:
    """Map `fn` over the items that are not finished under their current key.

    `fn(job)` returns the item's result (a dataclass or dict whose `status` is "ok", or else a
    failure whose `reason` or `status` names why); `blank(job, reason, error)` makes the result
    of an item whose function never returned (not visible on a worker, worker lost, crashed).
    Without `executor`, one is opened from `scheduler`/`workers` (see `lib.executors`) only if
    there is work. `shard` selects this run's items; `limit` stops after that many (tests).
    `on_record(item, record)` runs in this process for every item of this run that has a record
    (the skipped ones first, then each as it finishes): a consumer, such as a model that predicts
    from decoded inputs, works while the executor goes on decoding.
    """
    _check_names(items)
    _prepare(stage)
    chosen = (shard or WHOLE).select(items, key=lambda it: it.name)
    report = Report(items=list(items), selected=len(chosen))
    made = {it.name: stage.made_from(it) for it in chosen}
    todo = []
    for item in chosen:
        rec = _stored(stage, item, digest(made[item.name]))
        if rec is not None and rec["status"] == "ok" and _outputs_exist(item):
            report.records[item.name] = rec
        else:
            todo.append(item)
    report.skipped = len(report.records)
    for item in chosen:
        if on_record is not None and item.name in report.records:
            on_record(item, report.records[item.name])
    if limit is not None:
        todo = todo[:limit]
    bar = tqdm(total=len(chosen), initial=report.skipped, desc=stage.unit + "s", unit=stage.unit,
               disable=not progress)  # fmt: skip
    with executors.open_executor(scheduler, workers, len(todo), executor) as (pool, backend):
        report.backend = backend
        for item, rec in _map(fn, todo, pool, str(stage.folder), made):
            rec = _complete(rec, item, made[item.name], blank)
            fileio.write_json(stage.record_path(item.name), rec)
            report.records[item.name] = rec
            report.ran += 1
            bar.update()
            if on_record is not None:
                on_record(item, rec)
    bar.close()
    _others(stage, items, chosen, report)
    return report


def finish(stage: Stage, report: Report, manifest: pd.DataFrame, summary: dict) -> bool:
    """Write errors.csv, manifest.csv and summary.json (with the engine's counts), once, if every
    item has a record for its current key; otherwise write nothing and say what is left."""
    if not report.complete:
        left = report.pending
        log.warning(
            "%s: %d of %d items are not finished yet (e.g. %s); the manifest is written when "
            "they are (rerun the stage, or the other shards)", stage.folder, len(left),
            len(report.items), left[0],
        )  # fmt: skip
        return False
    folder = Path(stage.folder)
    errors = pd.DataFrame(
        [
            {"name": r["name"], "reason": r["reason"], "error": r["error"]}
            for r in report.failures()
        ],
        columns=["name", "reason", "error"],
    ).sort_values("name")
    fileio.write_csv(folder / "errors.csv", errors)
    fileio.write_csv(folder / "manifest.csv", manifest)
    fileio.write_json(folder / "summary.json", {**summary, "engine": report.counts()})
    return True


def print_outcome(folder: str | Path, mine: dict, shard: Shard | None) -> int:
    """A stage command line's report: this run's counts, and whether the stage is complete.

    Returns the exit code: 0 only when the stage is complete and no item failed."""
    mine = {k: v for k, v in mine.items() if k != "config"}
    done = Path(folder) / "summary.json"
    whole = fileio.read_json(done) if done.is_file() else None
    print(
        json.dumps({"shard": str(shard or WHOLE), **mine, "stage_complete": bool(whole)}, indent=2)
    )
    if whole is None:
        return 1
    return 0 if not whole["engine"]["failed"] else 1


def load_errors(folder: str | Path) -> pd.DataFrame:
    """The failed items of a finished stage: name, reason, error."""
    return pd.read_csv(Path(folder) / "errors.csv", dtype=str, keep_default_na=False)


# ---------------------------------------------------------------- steps of `run`


def _check_names(items: Sequence[Item]) -> None:
    seen: set[str] = set()
    for it in items:
        parts = it.name.split("/")
        if not it.name or it.name.startswith("/") or ".." in parts or "" in parts:
            raise ValueError(f"work name {it.name!r} must be a relative path without '..'")
        if it.name in seen:
            raise ValueError(f"two items share the work name {it.name!r}; names must be unique")
        seen.add(it.name)


def _prepare(stage: Stage) -> None:
    """Check the folder can be written before any work, drop a killed run's leftovers and the
    previous run's reports (they must not describe outputs this run is about to change)."""
    inputs.check_writable(stage.folder, "work folder")
    for folder in (Path(stage.folder), *stage.scratch):
        fileio.remove_stale_temps(folder)
    for name in ("manifest.csv", "summary.json", "errors.csv"):
        (Path(stage.folder) / name).unlink(missing_ok=True)


def _stored(stage: Stage, item: Item, key: str) -> dict | None:
    path = stage.record_path(item.name)
    try:
        rec = fileio.read_json(path)
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and rec.get("key") == key else None


def _outputs_exist(item: Item) -> bool:
    return all(os.path.exists(p) for p in item.outputs)


def _others(stage: Stage, items: Sequence[Item], chosen: list[Item], report: Report) -> None:
    """Records of the items other shards own, if finished under their current key."""
    if len(chosen) == len(items):
        return
    mine = {it.name for it in chosen}
    for item in items:
        if item.name not in mine:
            rec = _stored(stage, item, digest(stage.made_from(item)))
            if rec is not None:
                report.records[item.name] = rec


def _map(
    fn: Callable[[Any], Any],
    todo: list[Item],
    pool: Executor | None,
    folder: str,
    made: Mapping[str, dict],
) -> Iterator[tuple[Item, dict]]:
    """(item, attempt) as each finishes; at most IN_FLIGHT items are submitted ahead."""

    def visible(item: Item) -> tuple[str, ...]:  # files the driver could read: workers must too
        seen = made[item.name]["files"]
        return (*(p for p, f in zip(item.files, seen, strict=True) if "problem" not in f), folder)

    if pool is None:
        for item in todo:
            yield item, attempt(fn, item.job, item.name, visible(item))
        return
    queue = iter(todo)
    running: dict[Future, Item] = {}
    while True:
        for item in queue:
            running[pool.submit(attempt, fn, item.job, item.name, visible(item))] = item
            if len(running) >= IN_FLIGHT:
                break
        if not running:
            return
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in done:
            item = running.pop(fut)
            yield item, _outcome(fut, item)


def _outcome(fut: Future, item: Item) -> dict:
    """The attempt a future holds, or a `worker lost` failure if its process died."""
    try:
        return fut.result()
    except Exception as err:  # noqa: BLE001 - a dead worker must not lose the whole run
        text = f"{type(err).__name__}: {err}".strip()
        return _failed(WORKER_LOST, f"{item.name}: its worker stopped ({text}); rerun to retry it")


def _failed(reason: str, error: str, seconds: float = 0.0) -> dict:
    return {
        "status": "failed",
        "reason": reason,
        "error": error,
        "result": None,
        "seconds": seconds,
    }


def _complete(rec: dict, item: Item, made: dict, blank: Callable[[Any, str, str], Any]) -> dict:
    result = rec["result"]
    if result is None:
        result = _plain(blank(item.job, rec["reason"], rec["error"]))
    made = fileio.jsonable(made)
    return {**rec, "name": item.name, "key": digest(made), "made_from": made, "result": result}


# ---------------------------------------------------------------- on the worker


def attempt(fn: Callable[[Any], Any], job: Any, name: str, expect: tuple[str, ...]) -> dict:
    """Run one item where the executor put it; every outcome is a record, never an exception.

    `expect` are the paths the driver saw (inputs and the work folder): a worker that does not
    see one is on another filesystem, and says so instead of failing deep in a decoder."""
    started = time.perf_counter()
    missing = next((p for p in expect if not os.path.exists(p)), None)
    if missing is not None:
        return _failed(
            NOT_VISIBLE,
            f"{missing}: not found on worker {worker_name()}; every worker must see the data and "
            "work folders at the same paths (a shared filesystem, see docs/cluster.md)",
        )
    try:
        result = _plain(fn(job))
    except Exception as err:  # noqa: BLE001 - recorded with its traceback, retried next run
        tail = traceback.format_exc(limit=-3).strip().splitlines()[-4:]
        return _failed(UNEXPECTED, f"{name}: {type(err).__name__}: {err} | {' | '.join(tail)}")
    seconds = round(time.perf_counter() - started, 3)
    status = result.get("status", "ok")
    if status == "ok":
        return {"status": "ok", "reason": "", "error": "", "result": result, "seconds": seconds}
    reason = str(result.get("reason") or status)
    return {**_failed(reason, str(result.get("error", "")), seconds), "result": result}


def _plain(result: Any) -> dict:
    return asdict(result) if is_dataclass(result) else dict(result)


def worker_name() -> str:
    """The Dask worker's address (on a cluster) or this process, with the host name."""
    host = socket.gethostname()
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            return f"{get_worker().address} ({host})"
        except ValueError:  # not inside a Dask task
            pass
    return f"process {os.getpid()} on {host}"


# ---------------------------------------------------------------- --shard i/N

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed shard specification; the message says what a valid one looks like."""


@dataclass(frozen=True)
class Shard:
    """Items whose name hashes to `index` of `count` (numbered from 0): every item is in exactly
    one shard, and an item's shard never changes when others are added or removed."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ShardError(f"shard count must be at least 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ShardError(
                f"shard index must be between 0 and {self.count - 1} for {self.count} shards, "
                f"got {self.index} (shards are numbered from 0: 0/{self.count} .. "
                f"{self.count - 1}/{self.count})"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, key: str) -> bool:
        return assign(key, self.count) == self.index

    def select(self, items: Iterable[T], key: Callable[[T], str]) -> list[T]:
        """The items of this shard, in their original order."""
        return [item for item in items if self.whole or self.owns(key(item))]


WHOLE = Shard(0, 1)
ALL = WHOLE


def assign(key: str, count: int) -> int:
    """The shard of a key: SHA-1 (not the per-process salted hash()), first 8 bytes, mod count."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(spec: str | Shard | None) -> Shard:
    """`"i/N"` (0 <= i < N) to a Shard; None or "" is the whole."""
    if isinstance(spec, Shard):
        return spec
    if spec is None or not str(spec).strip():
        return WHOLE
    match = _SPEC.match(str(spec))
    if not match:
        raise ShardError(
            f"shard must look like i/N with whole numbers 0 <= i < N (e.g. 0/4), got {spec!r}"
        )
    return Shard(int(match.group(1)), int(match.group(2)))
