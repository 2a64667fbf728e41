"""Checks the notebook smoke runs share: after a quick run of a track, the HTML reports, the
reports index and the generated results page agree with the files the run wrote."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def parse_html(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def markdown_table(page: str, heading: str) -> pd.DataFrame:
    """The first Markdown table after the `## heading...` line (or a `<!-- heading -->`
    marker), as strings."""
    lines = page.splitlines()
    start = next(
        i for i, line in enumerate(lines)
        if line.startswith(f"## {heading}") or line == f"<!-- {heading} -->"
    )  # fmt: skip
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append(cells)
        elif rows:
            break
    return pd.DataFrame(rows[2:], columns=rows[0])


def png_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "image/png" in out.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.get("outputs", [])
    )


def _cli(env: dict, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", *args], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


def check_reports(tmp_path: Path, track: str, reports: Path, env: dict) -> None:
    """Lay the run's stage reports out as run_all.sh does, build HTML and the index, and check
    that every index link resolves, the leaderboard is there, and each report carries its plots
    and no error output."""
    from lib import reports as rep

    stage_dir = reports / track / "quick"
    stage_dir.mkdir(parents=True)
    for nb in reports.glob("*.ipynb"):
        shutil.move(nb, stage_dir / nb.name)
    env = {**env, "CAMTRAP_REPORTS": str(reports)}
    _cli(env, "lib.reports", "track", "--track", track)
    index = reports / "index.html"
    links = parse_html(index).hrefs
    run_reports = sorted((tmp_path / "runs" / track).glob("*/04_train.ipynb"))
    stage_reports = sorted(stage_dir.glob("*.ipynb"))
    assert len(links) == len(stage_reports) + len(run_reports) > 7
    for href in links:
        assert (index.parent / href).resolve().is_file(), href
    board = pd.read_csv(tmp_path / "runs" / track / "leaderboard.csv")
    text = index.read_text()
    assert all(run in text for run in board["run_id"]), "leaderboard missing from the index"
    plotted = 0
    for nb in stage_reports + run_reports:
        page = nb.with_suffix(".html")
        assert rep.errors(nb) == [], nb
        assert "Traceback" not in page.read_text(), page
        pngs = [s for s in parse_html(page).images if s.startswith("data:image/png;base64,")]
        assert len(pngs) >= png_outputs(nb), page
        plotted += len(pngs)
    assert plotted > 0, "no report carries a plot"


def check_results_page(tmp_path: Path, track: str, env: dict) -> None:
    """`python -m lib.results` on the run: its tables are the run's leaderboard and summary."""
    out = tmp_path / "docs"
    _cli(env, "lib.results", "--track", track, "--out", str(out))
    page = (out / f"results-{track}.md").read_text()
    runs = tmp_path / "runs" / track
    summary = json.loads((runs / "summary.json").read_text())
    assert f"profile: `{summary['profile']}`" in page
    configs = [json.loads((runs / r / "config.json").read_text()) for r in summary["runs"]]
    assert all(c["git_commit"] in page for c in configs)
    heading = "Leaderboard" if track == "chimpact" else "Networks"
    table = markdown_table(page, heading)
    board = pd.read_csv(runs / "leaderboard.csv")
    assert list(table.columns) == list(board.columns)
    assert table["run_id"].tolist() == board["run_id"].tolist()
    score = "cv_mae" if track == "chimpact" else "cv_logloss"
    assert [float(v) for v in table[score]] == [round(v, 4) for v in board[score]]
    keys = markdown_table(page, "Summary")
    for key, value in zip(keys["summary.json key"], keys["value"], strict=True):
        expected = summary[key.strip("`")]
        if isinstance(expected, float):
            assert float(value) == round(expected, 4), key
        else:
            assert value == str(expected), key
