"""What both tracks' run-ID grammars share: the date/time parts and the wrong-part-count message.

Each track keeps its own parts, values and rules (lib/chimpact/runid.py, lib/serengeti/runid.py);
this module only holds the checks whose wording must not drift apart between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

Part = tuple[str, str, "re.Pattern[str]"]  # (name, shape shown to the user, loose pattern)


def count_problem(parts: list[str], expected: Sequence[Part], last: str) -> str:
    """Explain a wrong number of parts: name the missing kinds, or the extra trailing parts."""
    found = f"found {len(parts)} '-'-separated parts {parts}, expected {len(expected)}"
    if len(parts) > len(expected):
        return f"{found}: unexpected extra part(s) {parts[len(expected) :]} after the {last} part"
    missing, i = [], 0
    for name, shape, loose in expected:
        if i < len(parts) and loose.match(parts[i]):
            i += 1
        else:
            missing.append(f"{name} ({shape})")
    if i == len(parts) and missing:
        return f"{found}: missing {', '.join(missing)}"
    return found


def parse_when(day: str, hhmm: str, fail: Callable[[str], Exception]) -> datetime:
    """YYYYMMDD and HHMM parts -> datetime; `fail(problem)` builds the track's error."""
    if not re.fullmatch(r"\d{8}", day):
        raise fail(f"date {day!r} must be 8 digits YYYYMMDD")
    try:
        date = datetime.strptime(day, "%Y%m%d")
    except ValueError:
        raise fail(
            f"date {day!r} is not a real calendar date (year {day[:4]}, month {day[4:6]}, "
            f"day {day[6:]})"
        ) from None
    if not re.fullmatch(r"\d{4}", hhmm):
        raise fail(f"time {hhmm!r} must be 4 digits HHMM")
    hour, minute = int(hhmm[:2]), int(hhmm[2:])
    if hour > 23:
        raise fail(f"time {hhmm!r} is not a valid HHMM time (hour {hour} > 23)")
    if minute > 59:
        raise fail(f"time {hhmm!r} is not a valid HHMM time (minute {minute} > 59)")
    return date.replace(hour=hour, minute=minute)


def split(
    run_id: object, expected: Sequence[Part], last: str, fail: Callable[[str], Exception]
) -> tuple[list[str], datetime]:
    """A run ID's parts and time after the checks both grammars make: a string, the right
    number of parts, the `run` prefix, a real date and time. `fail(problem)` builds the
    track's error."""
    if not isinstance(run_id, str):
        raise fail(f"a run ID must be a string, got {type(run_id).__name__}")
    parts = run_id.split("-")
    if len(parts) != len(expected):
        raise fail(count_problem(parts, expected, last))
    if parts[0] != "run":
        raise fail(f"must start with 'run-', found {parts[0]!r}")
    return parts, parse_when(parts[1], parts[2], fail)
