"""The user's guide: a README that answers the first questions on its first screen, and links
into docs/ that resolve (files and #anchors)."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FIRST_SCREEN = 40  # lines


def pages() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "README.md", "CHANGELOG.md", "docs/*.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [ROOT / p for p in tracked if (ROOT / p).is_file()]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#+ (.+)$", page.read_text(), flags=re.M)}


def test_readme_is_short_and_answers_the_first_questions():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    first = "\n".join(lines[:FIRST_SCREEN])
    assert "./run_all.sh" in first and "./run_tests.sh" in first  # how do I run it
    assert "--data" in first and "docs/real-data.md" in first  # ... on the real data
    assert "Deep Chimpact" in first and "Hakuna Ma-data" in first  # what is this


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_local_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_guide_pages_exist():
    docs = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {"chimpact.md", "serengeti.md", "real-data.md", "benchmarks.md"} <= docs
