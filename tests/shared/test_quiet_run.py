"""A first run prints only the project's own lines: papermill understands every parameters cell
(no "Unable to parse" / "Passed unknown parameter"), and the install is silent unless it fails."""

import logging
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb"))


def parameters_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


def run_all_parameters() -> set[str]:
    """Every `-p NAME` run_all.sh passes to papermill."""
    return set(re.findall(r"-p (\w+) ", (ROOT / "run_all.sh").read_text()))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_papermill_reads_every_parameter_without_a_warning(path, caplog):
    from papermill.translators import PythonTranslator

    cell = parameters_cell(path)
    with caplog.at_level(logging.WARNING, logger="papermill"):
        found = {p.name for p in PythonTranslator.inspect(cell)}
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assigned = set(re.findall(r"^(\w+) =", cell.source, flags=re.M))
    assert found == assigned
    for line in cell.source.splitlines():
        assert line.startswith("#") or "#" not in line, f"{path.name}: trailing comment: {line}"
    needed = run_all_parameters() - ({"run_id"} if path.name != "04_train.ipynb" else set())
    assert needed <= found, f"{path.name} lacks {needed - found}, which run_all.sh passes"


def test_run_all_passes_the_parameters_the_scan_expects():
    assert {"profile", "data_dir", "seed", "workers", "run_id"} <= run_all_parameters()


def test_license_is_an_spdx_string():
    """A TOML-table license makes setuptools print a deprecation block on every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str)


def test_bootstrap_hides_pip_output_unless_the_install_fails(tmp_path):
    """The bootstrap logs pip's messages to a file and shows them only on failure (here: a
    pyproject.toml whose pin cannot be met), without the index-location noise."""
    fake = tmp_path / "project"
    (fake / "scripts").mkdir(parents=True)
    (fake / "scripts" / "bootstrap.sh").write_text((ROOT / "scripts/bootstrap.sh").read_text())
    (fake / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\ndependencies = ["no-such-package-camtrap==0.0.1"]\n'
        "[project.optional-dependencies]\ncpu = []\ndev = []\n"
    )
    env = {**os.environ, "CAMTRAP_VENV": str(tmp_path / "venv"), "PYTHON": sys.executable}
    proc = subprocess.run(
        ["bash", str(fake / "scripts" / "bootstrap.sh")], capture_output=True, text=True,
        env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "install failed" in proc.stderr and "no-such-package-camtrap" in proc.stderr
    assert "is ignored: it is neither a file nor a directory" not in proc.stderr
