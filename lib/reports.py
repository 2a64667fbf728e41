"""Reports a person can open without Jupyter: each executed notebook as a self-contained HTML
file beside its .ipynb (plots embedded as base64 PNGs), and `reports/index.html` with each
track's leaderboard and a link to every report.

    python -m lib.reports html NOTEBOOK.ipynb...     # one HTML file beside each notebook
    python -m lib.reports track --track T            # every report of track T, then the index
    python -m lib.reports index                      # the index alone

`run_all.sh` calls `track` at the end of each track and `html` on a notebook that failed.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from pathlib import Path

import nbformat
import pandas as pd

from lib import fileio, paths


def reports_root() -> Path:
    """Where run_all.sh keeps executed notebooks: `reports/<track>/<profile>/`."""
    return Path(os.environ.get("CAMTRAP_REPORTS", paths.ROOT / "reports")).resolve()


def errors(notebook: Path) -> list[str]:
    """`ename: evalue` of every error output in an executed notebook (empty when it ran clean)."""
    nb = nbformat.read(notebook, as_version=4)
    return [
        f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def final_text(text: str) -> str:
    """What a terminal shows of a stream that redraws lines with carriage returns: for each
    line, the last thing drawn (a progress bar's final state instead of every redraw)."""
    lines = []
    for line in text.split("\n"):
        drawn = [part for part in line.split("\r") if part]
        lines.append(drawn[-1] if drawn else "")
    return "\n".join(lines)


def merged_streams(outputs: list) -> list:
    """Consecutive outputs of one stream joined into one and redraws collapsed, as a notebook
    front end shows them (papermill stores each progress-bar redraw as its own output)."""
    merged: list = []
    for out in outputs:
        if out.get("output_type") != "stream":
            merged.append(out)
        elif (
            merged
            and merged[-1].get("output_type") == "stream"
            and (merged[-1]["name"] == out["name"])
        ):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(nbformat.from_dict(dict(out)))
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = final_text(out["text"])
    return merged


def to_html(notebook: Path) -> Path:
    """Write NOTEBOOK.html beside NOTEBOOK.ipynb (JupyterLab's look, images embedded)."""
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    out = notebook.with_suffix(".html")
    fileio.write_text(out, body)
    return out


def track_notebooks(track: str) -> list[Path]:
    """Every executed notebook of a track in stage order: each profile's stage reports, with
    each run's 04 report (kept in the run's folder) in its place."""
    stages = list((reports_root() / track).glob("*/[0-9][0-9]_*.ipynb"))
    runs = list((paths.runs_root() / track).glob("*/04_train.ipynb"))
    return sorted(stages + runs, key=lambda p: (p.stem, str(p)))


def _link(target: Path, index_dir: Path) -> str:
    """A relative link when the target shares a root with the index, else a file:// URI."""
    try:
        return Path(os.path.relpath(target, index_dir)).as_posix()
    except ValueError:
        return target.resolve().as_uri()


def _leaderboard(track: str) -> str:
    board_path = paths.runs_root() / track / "leaderboard.csv"
    if not board_path.is_file():
        return f"<p>No leaderboard yet ({html.escape(str(board_path))}).</p>"
    from lib import results

    board = results.shown(pd.read_csv(board_path)).map(lambda v: v.replace("\\|", "|"))
    summary_path = board_path.with_name("summary.json")
    stamp = ""
    if summary_path.is_file():
        info = results.stamp(board_path.parent, fileio.read_json(summary_path))
        stamp = html.escape(f"profile {info['profile']}, data {info['data']}, "
                            f"commit {info['commit']}, written {info['date']}")  # fmt: skip
        stamp = f"<p>{stamp}</p>"
    # a wide board scrolls in its own box instead of running off the page
    return f'{stamp}<div class="board">{board.to_html(index=False, border=0)}</div>'


def _report_list(track: str, index_dir: Path) -> str:
    items = []
    for nb in track_notebooks(track):
        page = nb.with_suffix(".html")
        if not page.is_file():
            continue
        label = f"{nb.stem} ({nb.parent.name})"
        items.append(f'<li><a href="{html.escape(_link(page, index_dir))}">{html.escape(label)}'
                     "</a></li>")  # fmt: skip
    return "<ul>\n" + "\n".join(items) + "\n</ul>" if items else "<p>No reports yet.</p>"


STYLE = """body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;font-size:90%}td,th{padding:2px 8px;border-bottom:1px solid #ddd}
th{background:#f3f3f3;text-align:left}td:first-child{white-space:nowrap}
.board{overflow-x:auto}"""


def write_index() -> Path:
    """reports/index.html: per track with outputs, its leaderboard and links to its reports."""
    root = reports_root()
    parts = []
    for track in paths.TRACKS:
        if not track_notebooks(track) and not (paths.runs_root() / track).is_dir():
            continue
        parts += [f"<h2>{track}</h2>", "<h3>Leaderboard</h3>", _leaderboard(track),
                  "<h3>Reports</h3>", _report_list(track, root)]  # fmt: skip
    page = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>camtrap-kaggle reports"
            f"</title><style>{STYLE}</style></head><body><h1>camtrap-kaggle reports</h1>\n"
            + "\n".join(parts) + "\n</body></html>\n")  # fmt: skip
    out = root / "index.html"
    fileio.write_text(out, page)
    return out


def build_track(track: str) -> list[Path]:
    """HTML for every executed notebook of `track` that is newer than its HTML, then the index."""
    written = []
    for nb in track_notebooks(track):
        page = nb.with_suffix(".html")
        if not page.is_file() or page.stat().st_mtime < nb.stat().st_mtime:
            written.append(to_html(nb))
    write_index()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("html").add_argument("notebooks", nargs="+", type=Path)
    sub.add_parser("track").add_argument("--track", required=True, choices=paths.TRACKS)
    sub.add_parser("index")
    args = parser.parse_args(argv)
    if args.command == "html":
        missing = [str(p) for p in args.notebooks if not p.is_file()]
        if missing:
            print(f"python -m lib.reports: no such notebook: {', '.join(missing)}", file=sys.stderr)
            return 2
        for nb in args.notebooks:
            print(f"reports: wrote {to_html(nb)}")
    elif args.command == "track":
        pages = build_track(args.track)
        index = reports_root() / "index.html"
        print(f"reports: {len(pages)} HTML report(s) for {args.track}; index {index}")
    else:
        print(f"reports: wrote {write_index()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
