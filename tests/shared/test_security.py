"""Security hygiene: the code that reads data we do not control (CSVs, images, videos, bundles)
never hands it to a shell or an evaluator, and never unpickles it.

The check parses the source (lib/, bench/, scripts/ and the notebooks' code cells) rather than
grepping, so `ast.literal_eval(` or a docstring that mentions `eval(` does not count, and an
aliased call like `subprocess.run(cmd, shell=True)` does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("lib", "bench", "scripts")
# module.function calls that execute or deserialise arbitrary input
BANNED_CALLS = {
    ("pickle", "load"), ("pickle", "loads"), ("marshal", "load"), ("marshal", "loads"),
    ("os", "system"), ("os", "popen"), ("yaml", "load"), ("yaml", "unsafe_load"),
}  # fmt: skip
BANNED_BUILTINS = {"eval", "exec"}


def problems(source: str, where: str) -> list[str]:
    """`where:line: what` for every risky construct in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in BANNED_BUILTINS:
            found.append(f"{where}:{node.lineno}: {func.id}()")
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in BANNED_CALLS
        ):
            found.append(f"{where}:{node.lineno}: {func.value.id}.{func.attr}()")
        for kw in node.keywords:
            if kw.arg in ("shell", "allow_pickle") and not (
                isinstance(kw.value, ast.Constant) and kw.value.value is False
            ):
                found.append(f"{where}:{node.lineno}: {kw.arg}={ast.unparse(kw.value)}")
    return found


def _sources() -> list[tuple[str, str]]:
    out = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                code = "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                )
                out.append((f"{path.relative_to(ROOT)}#cell{i}", code))
    return out


def test_no_shell_eval_exec_or_unpickling_in_project_code():
    sources = _sources()
    assert any(name.startswith("lib/serengeti/") for name, _ in sources)
    found = [p for name, text in sources for p in problems(text, name)]
    assert not found, "risky calls (use argument lists, literal parsing, JSON):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "code",
    [
        "import subprocess\nsubprocess.run('ls ' + name, shell=True)",
        "subprocess.Popen(cmd, shell=flag)",
        "value = eval(text)",
        "exec(code)",
        "import pickle\nobj = pickle.load(open(path, 'rb'))",
        "arr = np.load(path, allow_pickle=True)",
        "os.system('rm ' + path)",
        "cfg = yaml.load(text)",
    ],
)
def test_the_check_catches_each_kind(code):
    assert problems(code, "x.py")


def test_the_check_lets_safe_look_alikes_pass():
    safe = (
        "ast.literal_eval(text)\nmodel.eval()\nsubprocess.run(['ls', name], check=False)\n"
        "np.load(path)\nnp.load(path, allow_pickle=False)\nyaml.safe_load(text)\n"
        "'''eval( in a docstring'''"
    )
    assert problems(safe, "x.py") == []
