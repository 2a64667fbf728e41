"""lib.results and lib.reports on small hand-made run folders (the notebook smoke runs check
them on real quick runs): tables equal the files, index links resolve, plots survive."""

import base64
import io
import json
import subprocess

import nbformat
import pandas as pd
import pytest
from helpers import report_checks

from lib import reports, results, runs


def _chimpact_runs(root):
    track = root / "chimpact"
    board = pd.DataFrame(
        {"run_id": ["run-a", "boxes-lgbm"], "cv_mae": [2.25914, 1.62], "cv_rmse": [3.1, None],
         "writeup_cv_mae": [1.3936, None], "source": ["down", "boxes"], "frames": [7, None]}
    )  # fmt: skip
    track.mkdir(parents=True)
    board.to_csv(track / "leaderboard.csv", index=False)
    summary = {
        "runs": ["run-a"], "profile": "quick", "data_dir": "/x/chimpact-tiny",
        "baseline_mae": 3.331, "best_single_run": "boxes-lgbm", "ensemble_cv_mae": 1.583,
    }  # fmt: skip
    (track / "summary.json").write_text(json.dumps(summary))
    (track / "run-a").mkdir()
    (track / "run-a" / "config.json").write_text(json.dumps({"git_commit": "abc123"}))
    (track / "run-a" / "metrics.json").write_text(json.dumps({"fold_mae": [2.0, 2.5]}))
    return board, summary


def test_results_page_tables_are_the_run_files(tmp_path):
    board, summary = _chimpact_runs(tmp_path / "runs")
    page = results.write("chimpact", tmp_path / "runs", tmp_path / "docs").read_text()
    assert "profile: `quick`" in page and "`abc123`" in page and "chimpact-tiny" in page
    table = report_checks.markdown_table(page, "Leaderboard")
    assert table["run_id"].tolist() == board["run_id"].tolist()
    assert table["cv_mae"].tolist() == ["2.2591", "1.6200"]
    assert table["cv_rmse"].tolist() == ["3.1000", ""]
    assert table["frames"].tolist() == ["7", ""]  # a count, though empty cells make it float
    keys = report_checks.markdown_table(page, "Summary")
    assert dict(zip(keys["summary.json key"], keys["value"], strict=True)) == {
        "`baseline_mae`": "3.3310", "`best_single_run`": "boxes-lgbm",
        "`ensemble_cv_mae`": "1.5830",
    }  # fmt: skip
    folds = report_checks.markdown_table(page, "Per-fold")
    assert folds.to_dict("records") == [{"run_id": "run-a", "fold0": "2.0000", "fold1": "2.5000"}]


def test_readme_glance_table_is_rewritten_from_the_run_and_nothing_else(tmp_path):
    _chimpact_runs(tmp_path / "runs")
    readme = tmp_path / "README.md"
    old = "intro\n<!-- glance:chimpact -->\nold numbers\n<!-- /glance:chimpact -->\nend\n"
    readme.write_text(old)
    args = ["--track", "chimpact", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "d")]
    assert results.main([*args, "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n<!-- glance:chimpact -->\n") and text.endswith("end\n")
    assert "old numbers" not in text and "commit `abc123`" in text
    table = report_checks.markdown_table(text, "glance:chimpact")
    values = dict(zip(table.iloc[:, 0], zip(table.iloc[:, 1], table.iloc[:, 2], strict=True),
                      strict=True))  # fmt: skip
    assert values["best single run of the write-up's 12"] == ("1.3936", "2.2591")
    assert values["blend with the detector-box model (the submission)"] == ("", "1.5830")
    assert values["constant median (baseline)"] == ("3.3700", "3.3310")
    readme.write_text("no markers here\n")
    with pytest.raises(results.ResultsError, match="README.md: no <!-- glance:chimpact -->"):
        results.update_readme(readme, "chimpact", tmp_path / "runs" / "chimpact")


def test_the_readme_has_a_glance_block_per_track():
    text = (results.paths.ROOT / "README.md").read_text()
    for track in results.paths.TRACKS:
        assert text.count(f"<!-- glance:{track} -->") == 1
        assert text.count(f"<!-- /glance:{track} -->") == 1


def test_results_page_without_a_finished_run_names_the_file_and_the_fix(tmp_path, capsys):
    (tmp_path / "runs" / "serengeti").mkdir(parents=True)
    assert results.main(["--track", "serengeti", "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "leaderboard.csv: not found" in err and "./run_all.sh --track serengeti" in err


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _notebook(path, error=False):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="\rbar 0%"),
        nbformat.v4.new_output("stream", name="stderr", text="\rbar 100%\n"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "fig"}),
    ]
    if error:
        cell.outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="bad",
                                                   traceback=["ValueError: bad"]))  # fmt: skip
    nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_index_links_every_report_and_reports_keep_their_plots(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMTRAP_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("CAMTRAP_RUNS", str(tmp_path / "runs"))
    _chimpact_runs(tmp_path / "runs")
    _notebook(tmp_path / "reports" / "chimpact" / "quick" / "01_eda.ipynb")
    _notebook(tmp_path / "runs" / "chimpact" / "run-a" / "04_train.ipynb")
    pages = reports.build_track("chimpact")
    assert len(pages) == 2
    index = tmp_path / "reports" / "index.html"
    links = report_checks.parse_html(index).hrefs
    assert sorted(links) == ["../runs/chimpact/run-a/04_train.html", "chimpact/quick/01_eda.html"]
    assert all((index.parent / href).is_file() for href in links)
    assert "run-a" in index.read_text() and "2.2591" in index.read_text()  # the leaderboard
    html = pages[0].read_text()
    assert "bar 100%" in html and "bar 0%" not in html  # redraws collapsed
    assert any(
        s.startswith("data:image/png;base64,") for s in report_checks.parse_html(pages[0]).images
    )
    assert reports.build_track("chimpact") == []  # up to date: nothing converted again


def test_error_outputs_are_found(tmp_path):
    _notebook(tmp_path / "bad.ipynb", error=True)
    _notebook(tmp_path / "good.ipynb")
    assert reports.errors(tmp_path / "bad.ipynb") == ["ValueError: bad"]
    assert reports.errors(tmp_path / "good.ipynb") == []


@pytest.mark.parametrize("text, shown", [("a\rb\rc\n", "c\n"), ("x\n\ry\r", "x\ny"), ("", "")])
def test_final_text_keeps_what_a_terminal_shows(text, shown):
    assert reports.final_text(text) == shown


def test_a_run_is_dirty_for_edited_code_but_not_for_the_generated_pages(tmp_path):
    """run_all.sh rewrites README.md and docs/results-*.md after the first track: the second
    track's run must still name the clean commit, and any other edit must show."""
    (tmp_path / "docs").mkdir()
    for name in ("README.md", "docs/results-chimpact.md", "docs/guide.md", "lib.py"):
        (tmp_path / name).write_text("one\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    (tmp_path / "README.md").write_text("two\n")
    (tmp_path / "docs/results-chimpact.md").write_text("two\n")
    assert runs.git_commit(tmp_path) == head.strip()
    (tmp_path / "docs/guide.md").write_text("two\n")
    assert runs.git_commit(tmp_path) == head.strip() + "-dirty"
