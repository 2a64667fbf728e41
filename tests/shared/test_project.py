"""Project hygiene: pins agree, notebooks are committed clean and have a literal parameters cell."""

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb"))


def _pins(lines):
    out = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([^\s;]+)\s*", line)
        if m:
            out[m.group(1).lower()] = m.group(3)
    return out


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins(project["dependencies"])
    for extra in ("cpu", "lab", "dev"):
        pins.update(_pins(project["optional-dependencies"][extra]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_python = next(
        d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python=")
    )
    assert _pins(pip_section) == pins
    assert conda_python == "python=3.11"


def test_every_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [
        d for v in project["optional-dependencies"].values() for d in v
    ]
    assert all("==" in d for d in deps), [d for d in deps if "==" not in d]


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_eda.ipynb", "02_extract.ipynb", "03_tfrecords.ipynb"} <= names


def test_committed_notebooks_carry_no_outputs():
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    paths = [str(ROOT / p) for p in tracked] or [str(p) for p in NOTEBOOKS]
    proc = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *paths], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_cell_holds_literals_only(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    for node in tree.body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)  # raises if the value is not a literal
    names = {t.id for n in tree.body for t in n.targets}
    assert {"profile", "data_dir", "seed", "workers"} <= names
