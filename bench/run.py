"""Run every benchmark module present, print one table, write `bench/results/latest.json`.

Each module in `SECTIONS` that exists has `run(quick: bool) -> dict` (and optionally
`table(result) -> [(name, value)]` for readable rows). Results are merged into the existing
JSON file, so `--only pipeline` refreshes one section and keeps the others; each section
records when, how long and in which mode it ran, and the file says what machine it was. The
file is written atomically: a killed run never leaves half a JSON behind.

    python -m bench.run [--quick] [--only NAME ...] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from lib import fileio

SECTIONS = ("extract", "engine", "pipeline", "train_step", "infer")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def available() -> list[str]:
    """Sections whose module exists (bench/extract.py comes from the extraction work)."""
    return [name for name in SECTIONS if importlib.util.find_spec(f"bench.{name}") is not None]


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flatten(f"{prefix}.{k}", v)]
    if isinstance(value, float):
        return [(prefix, f"{value:.4g}")]
    if isinstance(value, (int, str, bool)) or value is None:
        return [(prefix, str(value))]
    return []


def rows(name: str, result: dict[str, Any]) -> list[tuple[str, str]]:
    if "error" in result:
        return [(f"{name}.error", result["error"].splitlines()[-1])]
    if importlib.util.find_spec(f"bench.{name}") is not None:
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "table"):
            return module.table(result)
    return _flatten(name, result)


def run_sections(
    names: list[str] | None = None, quick: bool = False, out: str | Path = DEFAULT_OUT
) -> dict[str, Any]:
    """Run the sections (all available by default), merge into `out`, return the whole file."""
    from bench import common

    names = names or available()
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; expected some of {list(SECTIONS)}")
    out = Path(out)
    results: dict[str, Any] = fileio.read_json(out) if out.is_file() else {}
    results["machine"] = common.machine_info()
    results.setdefault("runs", {})
    for name in names:
        if importlib.util.find_spec(f"bench.{name}") is None:
            results[name] = {"error": f"bench/{name}.py is not there"}
            continue
        print(f"[bench] {name}{' (quick)' if quick else ''} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            results[name] = importlib.import_module(f"bench.{name}").run(quick)
        except Exception:  # a broken section must not lose the others' numbers
            results[name] = {"error": traceback.format_exc()}
        results["runs"][name] = {
            "seconds": round(time.perf_counter() - start, 1),
            "quick": quick,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        fileio.write_json(out, results)  # after every section: a late crash keeps the rest
    return results


def print_table(results: dict[str, Any], names: list[str]) -> None:
    m = results["machine"]
    print(
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"TF {m['tensorflow']}, {m['date']} (load {m['load_avg_1m']})"
    )
    table = [row for name in names if name in results for row in rows(name, results[name])]
    width = max((len(k) for k, _ in table), default=10)
    for key, value in table:
        print(f"  {key:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run_bench.sh", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run this section")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results JSON to merge into")
    args = parser.parse_args(argv)
    names = args.only or available()
    results = run_sections(names, args.quick, args.out)
    print_table(results, names)
    print(f"results: {args.out}")
    failed = [n for n in names if "error" in results.get(n, {})]
    if failed:
        print(json.dumps({n: results[n]["error"] for n in failed}, indent=1), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
