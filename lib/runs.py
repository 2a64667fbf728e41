"""Which run IDs a profile trains, per track - read by run_all.sh and notebooks 05/06."""

from __future__ import annotations

import argparse

from lib import paths, profiles


def planned(track: str, profile: str) -> list[str]:
    paths.check_track(track)
    prof = profiles.get(profile)
    if track == "chimpact":
        from lib.chimpact import runid

        return runid.quick_runs() if prof.runs == "quick" else list(runid.registry()["run_id"])
    raise NotImplementedError(f"track {track!r} has no training runs yet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.runs", description=__doc__)
    parser.add_argument("command", choices=["list"])
    parser.add_argument("--track", required=True)
    parser.add_argument("--profile", default="demo")
    args = parser.parse_args(argv)
    print("\n".join(planned(args.track, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
