"""Run bookkeeping shared by the tracks: which run IDs a profile trains and how many of them
run_all.sh trains at once (read by run_all.sh and notebooks 05/06), and the git commit each run
folder records."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
from pathlib import Path

from lib import paths, profiles


def planned(track: str, profile: str) -> list[str]:
    """The run IDs `profile` trains on `track`: `lib.<track>.runid.planned(profile.runs)`.

    Every track's `runid` module defines `planned(runs)`; it is found by the track's name, one
    of lib.paths.TRACKS, so this module names no track."""
    paths.check_track(track)
    prof = profiles.get(profile, track)
    return importlib.import_module(f"lib.{track}.runid").planned(prof.runs)


RUN_MEMORY = 3 << 30  # bytes allowed per CPU training run (a demo run held 1.3 GiB)


def side_by_side(track: str, profile: str, cores: int | None = None) -> int:
    """How many of `profile`'s runs run_all.sh trains at once: one when the profile leaves
    TensorFlow its default threads (every core for one run, or one accelerator); one per core
    when it pins them (`train_threads`: the small CPU model, whose step keeps about one core
    busy whatever its threads), within the memory there is and the runs there are."""
    prof = profiles.get(profile, track)
    threads = getattr(prof, "train_threads", 0)  # a track whose profiles never pin threads
    if threads <= 0:
        return 1
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    room = available_memory() // RUN_MEMORY
    return max(1, min(cores or 1, room, len(planned(track, profile))))


def available_memory() -> int:
    """Bytes the machine can give without swapping (MemAvailable: free memory and the page cache
    it can drop), or all of its memory where /proc/meminfo is missing (macOS)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def finished(track: str, run_ids: list[str], ctx: profiles.Context) -> list[str]:
    """Runs among `run_ids` whose folder says they finished on this data folder with this
    profile (config.json and metrics.json present, data_dir and profile matching)."""
    from lib import fileio

    done = []
    for run in run_ids:
        folder = paths.runs_root() / track / run
        cfg_path, met_path = folder / "config.json", folder / "metrics.json"
        if not (cfg_path.is_file() and met_path.is_file()):
            continue
        cfg = fileio.read_json(cfg_path)
        if cfg.get("data_dir") == str(ctx.data_dir) and cfg.get("profile") == ctx.profile.name:
            done.append(run)
    return done


def start(out: Path, config: dict) -> None:
    """Open a run folder for `config`: a folder left by another configuration is emptied first
    (its weights would otherwise be resumed as this run's), papermill's notebook being written
    now is kept; then config.json is written with the git commit (which alone may differ)."""
    from lib import fileio

    config_path = out / "config.json"
    if config_path.is_file():
        old = {k: v for k, v in fileio.read_json(config_path).items() if k != "git_commit"}
        if old != config:
            print(f"{out}: earlier run used another configuration; starting this run afresh")
            for item in out.iterdir():
                if item.suffix != ".ipynb":
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
    out.mkdir(parents=True, exist_ok=True)
    fileio.write_json(config_path, {**config, "git_commit": git_commit()})


# Pages run_all.sh rewrites from runs/: a run made after another track rewrote them is still
# a run of the clean commit.
GENERATED = (":(exclude)README.md", ":(exclude,glob)docs/results-*.md")


def git_commit(root: Path = paths.ROOT) -> str:
    """HEAD of the checkout, with "-dirty" for uncommitted changes outside the generated pages;
    "unknown" outside git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *GENERATED],
            cwd=root, capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        return (
            out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.runs", description=__doc__)
    parser.add_argument("command", choices=["list", "jobs"])
    parser.add_argument("--track", required=True)
    parser.add_argument("--profile", default="demo")
    args = parser.parse_args(argv)
    if args.command == "jobs":
        print(side_by_side(args.track, args.profile))
    else:
        print("\n".join(planned(args.track, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
