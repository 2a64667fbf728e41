"""Run profiles: one name (quick, demo, full) fixes data size, parallelism and model scale for
every stage of a track, and the context a stage notebook runs in.

Each track defines its profiles in `lib.<track>.profile` (`ChimpactProfile`,
`SerengetiProfile`); notebooks receive only the profile's name and look the numbers up there, so
the parameters cell stays literal and the numbers live in one place. `resolve` only names the
folders; `prepare` also generates the built-in demo data when it is the data asked for and is
not there yet.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import paths

NAMES = ("quick", "demo", "full")


def table(track: str) -> dict[str, Any]:
    """The track's profiles by name (`lib.<track>.profile.PROFILES`)."""
    paths.check_track(track)
    return importlib.import_module(f"lib.{track}.profile").PROFILES


def get(name: str, track: str = "chimpact") -> Any:
    """The named profile of a track (chimpact's and serengeti's settings differ in kind)."""
    profiles = table(track)
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(profiles)}")
    return profiles[name]


@dataclass(frozen=True)
class Context:
    """Everything a stage notebook needs to find its inputs and outputs."""

    track: str
    profile: Any  # the track's profile class
    data_dir: Path
    work: Path
    seed: int
    workers: int
    is_demo: bool


def resolve(
    track: str, profile: str, data_dir: str = "", seed: int = 42, workers: int = 0
) -> Context:
    """The context of a run: the given data folder, or the demo folder of this profile and seed
    when `data_dir` is empty (named, not generated: `prepare` generates it)."""
    from lib import demo

    prof = get(profile, track)
    is_demo = not data_dir
    if is_demo:
        root = demo.location(track, seed, **prof.demo_options())
    else:
        root = Path(data_dir).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"data folder {root} not found (given as --data {data_dir!r})")
    return Context(
        track=track,
        profile=prof,
        data_dir=root,
        work=paths.work_dir(track, root),
        seed=seed,
        workers=workers or (os.cpu_count() or 1),
        is_demo=is_demo,
    )


def prepare(
    track: str, profile: str, data_dir: str = "", seed: int = 42, workers: int = 0
) -> Context:
    """`resolve`, and the demo data generated first when it is the data asked for and missing:
    what every stage notebook and command calls before it reads its inputs."""
    ctx = resolve(track, profile, data_dir, seed, workers)
    if ctx.is_demo:
        from lib import demo

        demo.ensure(track, seed, **ctx.profile.demo_options())
    return ctx
