"""The stage engine's backends on one batch: chimpact stage 02 over a small demo folder.

Three ways, alternated within each repetition so that load on the (shared) machine falls on all
of them alike: the local process pool of 2 workers (the default backend), and Dask clusters of
1 and of 2 single-threaded worker processes on this machine, reached by their tcp:// address as
a remote cluster would be. The clusters are started before timing (a real cluster is already
running); the pool is started inside the timed run, as the default backend does. Every run
extracts into a fresh work folder, so nothing is skipped.

- Dask scaling: videos/s on 2 Dask workers / on 1, read against the machine's own scaling of two
  pure-Python processes over one (bench.extract.machine_scaling): 1.0 means Dask loses nothing.
- Dask overhead: seconds of the batch on 2 Dask workers / on the 2-process local pool, minus 1.

The clusters are `lib.executors.local_cluster`s, as `--scheduler local` starts them: their
workers run without Dask's MALLOC_TRIM_THRESHOLD_ (see lib/executors.py).

    python -m bench.engine [--quick] [--reps N]   (prints a table, updates latest.json)
    python -m bench.run --only engine             (the same, as a section of ./run_bench.sh)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lib import executors, fileio, paths

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
DEMO = {"seed": 3, "videos": 60, "max_duration": 40, "overexposed_share": 0.3}
QUICK = {"seed": 3, "videos": 4, "max_duration": 8, "overexposed_share": 0.5}


def demo_folder(quick: bool) -> Path:
    """The benchmark's demo videos, generated once into the work root, in a folder named for
    what they were generated from."""
    from lib.demo import chimpact

    spec = QUICK if quick else DEMO
    name = "seed{seed}-n{videos}-d{max_duration}-o{overexposed_share}".format(**spec)
    folder = paths.work_root() / "bench" / "engine" / name
    if not (folder / "train_labels.csv").is_file():
        chimpact.generate(folder, progress=False, workers=2, **spec)
    return folder


def timed_run(data, scratch: Path, **where: Any) -> float:
    """Seconds of one full stage 02 into a fresh work folder."""
    from lib.chimpact import extract

    work = Path(tempfile.mkdtemp(prefix="engine-", dir=scratch))
    try:
        start = time.perf_counter()
        manifest = extract.run(data, work, progress=False, **where)
        seconds = time.perf_counter() - start
        if not (manifest["status"] == "ok").all():
            raise RuntimeError(f"{work}: some videos failed; the timing would not be comparable")
        return seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(quick: bool = False, *, reps: int | None = None) -> dict[str, Any]:
    from bench.extract import machine_scaling
    from lib.chimpact import schema

    reps = reps or (1 if quick else 3)
    data = schema.load(demo_folder(quick))
    scratch = paths.work_root() / "bench" / "engine" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {"pool2": [], "dask1": [], "dask2": []}
    machine = []
    with executors.local_cluster(1) as one, executors.local_cluster(2) as two:
        timed_run(data, scratch, scheduler=two.scheduler_address)  # imports on every worker
        timed_run(data, scratch, scheduler=one.scheduler_address)
        where = {
            "pool2": {"workers": 2, "scheduler": ""},
            "dask1": {"scheduler": one.scheduler_address},
            "dask2": {"scheduler": two.scheduler_address},
        }
        for rep in range(reps):
            for name in list(where) if rep % 2 == 0 else reversed(where):
                times[name].append(timed_run(data, scratch, **where[name]))
            machine.append(machine_scaling(jobs=8, size=300_000 if quick else 3_000_000, reps=1))
    med = {k: statistics.median(v) for k, v in times.items()}
    dask_scaling = med["dask1"] / med["dask2"]
    machine_2_over_1 = statistics.median(machine)
    return {
        "videos": int(sum(data.rows(s)["video_id"].nunique() for s in schema.SPLITS)),
        "reps": reps,
        "seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "dask_scaling_2_over_1": round(dask_scaling, 3),
        "machine_scaling_2_over_1": round(machine_2_over_1, 3),
        "dask_scaling_vs_machine": round(dask_scaling / machine_2_over_1, 3),
        "dask_overhead_vs_pool": round(med["dask2"] / med["pool2"] - 1, 3),
    }


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    m = result["median_s"]
    return [
        ("engine.batch videos | reps", f"{result['videos']} | {result['reps']}"),
        ("engine.batch s: pool 2 | dask 1 | dask 2",
         f"{m['pool2']:.2f} | {m['dask1']:.2f} | {m['dask2']:.2f}"),
        ("engine.scaling 2/1: dask | machine | ratio",
         f"{result['dask_scaling_2_over_1']:.2f} | {result['machine_scaling_2_over_1']:.2f} | "
         f"{result['dask_scaling_vs_machine']:.2f}"),
        ("engine.dask overhead vs local pool", f"{100 * result['dask_overhead_vs_pool']:+.1f} %"),
    ]  # fmt: skip


def save(result: dict[str, Any], path: Path = RESULTS) -> None:
    """Merge this section into latest.json under `engine`, keeping the other benchmarks'."""
    data = fileio.read_json(path) if path.is_file() else {}
    data["engine"] = result
    fileio.write_json(path, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.engine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="4 short videos: checks that it runs")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    parser.add_argument("--no-save", action="store_true", help="do not update latest.json")
    args = parser.parse_args(argv)
    result = run(args.quick, reps=args.reps)
    for name, value in table(result):
        print(f"{name:48s} {value}")
    if not args.no_save:
        save(result)
        print(f"saved under 'engine' in {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
