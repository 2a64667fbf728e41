"""The project describes what it is, not how it was built: no tracked file outside CHANGELOG.md
speaks of work sessions, numbered issues, lettered comparison runs or who wrote the code.
CHANGELOG.md is the one place for history, by version."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["README.md", "docs", "lib", "tests", "bench", "notebooks", "scripts", "*.sh", ".ci"]
SKIPPED = {"tests/shared/test_no_history.py"}  # its patterns are regular expressions of the words


def _join(*words: str) -> str:
    """A sentence from its words. The sentences each pattern must catch are assembled here, so
    that this file itself reads as what it checks for: no history."""
    return " ".join(words)


# Each pattern with a sentence it must catch and one it must let through.
PATTERNS = {
    "numbered work session": (
        re.compile(r"\bsessions?[ -]?\d+\b", re.I),
        _join("timings from", "session", "4"),
        "a session-scoped fixture",
    ),
    "a work session in the past": (
        re.compile(r"\b(this|that|earlier|previous|last|development|later|next) sessions?\b", re.I),
        _join("before", "this", "session"),
        "keras.backend.clear_session()",
    ),
    "numbered issue": (
        re.compile(r"\bissues?\s*#?\d+", re.I),
        _join("as before", "issue", "5"),
        "issues the request",
    ),
    "issue reference like #12": (
        re.compile(r"(?:^|[\s(\[,;])#[1-9]\d{0,3}\b"),
        _join("fixed in", "(#" + "12)"),
        "Input #0, mov from | SER_S1#B04#1#1 | # 1 = all",
    ),
    "lettered comparison run": (
        re.compile(r"\bruns? [A-E](?![\w-])"),
        _join("measured in", "run", "C"),
        "run_all runs A_E; run a4p50",
    ),
    "who wrote it": (
        re.compile(r"\bsub-?agents?\b|\b(?:AI|coding|LLM) (?:agent|assistant)s?\b", re.I),
        _join("a", "sub" + "agent", "measured"),
        "user agent string",
    ),
    "commit hash as a date": (
        re.compile(r"\bcommits? [0-9a-f]{7,40}\b"),
        _join("measured on", "commit", "96b52b1"),
        "the commit it was measured on",
    ),
}


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--", *SCANNED], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / p for p in out if p not in SKIPPED and (ROOT / p).is_file()]


@pytest.mark.parametrize("name", PATTERNS)
def test_patterns_catch_history_and_spare_ordinary_words(name):
    pattern, history, ordinary = PATTERNS[name]
    assert pattern.search(history), f"{name}: misses {history!r}"
    assert not pattern.search(ordinary), f"{name}: flags {ordinary!r}"


def test_tracked_files_carry_no_development_history():
    found = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for name, (pattern, _, _) in PATTERNS.items():
                if m := pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{lineno}: {name}: {m.group(0)!r}")
    assert not found, "reword these (history belongs in CHANGELOG.md):\n" + "\n".join(found)


def test_the_scan_sees_the_project():
    names = {p.relative_to(ROOT).as_posix() for p in tracked_files()}
    assert {"README.md", "run_all.sh", "lib/paths.py"} <= names
