"""The package layout, read from the source (ast; nothing of lib is imported).

- No two modules of lib/ import each other, at top level or inside a function: the lower one
  holds what both need.
- A shared module's name is not reused anywhere in lib/ (the two tracks' stage modules share
  their stage's name: 02 extract, 03 records, 04 train, 05 infer, 06 ensemble), and no module
  of lib/ renames what it imports from lib/ (`import ... as`).
- No function of lib/ outside the demo generators is longer than MAX_FUNCTION_LINES.
- The shared modules (directly in lib/ and lib/predict/) name no track in an import statement;
  they reach a track's module through `importlib.import_module(f"lib.{track}.<module>")` for a
  track of `lib.paths.TRACKS`, or take the track's function from their caller.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "lib" / "__init__.py").is_file())
LIB = ROOT / "lib"
TRACK_PACKAGES = ("lib.chimpact", "lib.serengeti")
# folders whose modules may import the tracks: the tracks themselves and the demo generators
TRACK_SIDE = ("chimpact", "serengeti", "demo")
MAX_FUNCTION_LINES = 80
# the demo generators draw animals and scenes in long straight-line recipes; they are exempt
LONG_FUNCTIONS_ALLOWED = ("lib/demo/",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(LIB.rglob("*.py"))}


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """Modules of lib that `path` imports anywhere in its body (static import statements).

    `from pkg import name` imports `pkg.name` when that is a module, else `pkg` itself (a name
    defined in its __init__)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m == "lib" or m.startswith("lib.")} - {name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(path, known) for name, path in known.items()}


def test_the_import_scan_sees_package_and_submodule_imports():
    edges = graph()
    assert "lib.predict.__main__" in edges and "lib.demo" in edges
    assert "lib.fileio" in edges["lib.demo"]  # `from lib.fileio import atomic_dir`
    assert "lib.demo" in edges["lib.demo.__main__"]  # `from lib.demo import MARKER, ensure`


def test_no_two_modules_import_each_other():
    edges = graph()
    pairs = sorted(
        f"{a} <-> {b}"
        for a, targets in edges.items()
        for b in targets
        if a < b and a in edges.get(b, ())
    )
    assert not pairs, "modules that import each other:\n" + "\n".join(pairs)


def test_shared_modules_do_not_import_the_tracks():
    known = modules()
    bad = []
    for path in known.values():
        rel = path.relative_to(ROOT).as_posix()
        inside = path.relative_to(LIB).parts
        if len(inside) > 1 and inside[0] in TRACK_SIDE:
            continue
        tracks = sorted(
            m for m in imported(path, known)
            if any(m == t or m.startswith(t + ".") for t in TRACK_PACKAGES)
        )  # fmt: skip
        if tracks:
            bad.append(f"{rel}: {', '.join(tracks)}")
    assert not bad, "shared modules that import a track:\n" + "\n".join(bad)


def _shared(path: Path) -> bool:
    inside = path.relative_to(LIB).parts
    return not (len(inside) > 1 and inside[0] in TRACK_SIDE)


def test_shared_module_names_are_used_once():
    names: dict[str, list[str]] = {}
    for path in modules().values():
        if path.name not in ("__init__.py", "__main__.py"):
            names.setdefault(path.stem, []).append(path.relative_to(ROOT).as_posix())
    reused = sorted(
        f"{stem}: {', '.join(paths)}"
        for stem, paths in names.items()
        if len(paths) > 1 and any(_shared(ROOT / p) for p in paths)
    )
    assert not reused, "shared module names used again:\n" + "\n".join(reused)


def test_the_tracks_name_each_stage_alike():
    for track in ("chimpact", "serengeti"):
        for stage in ("extract", "records", "train", "infer", "ensemble"):
            assert (LIB / track / f"{stage}.py").is_file(), f"lib/{track}/{stage}.py"


def test_no_module_renames_what_it_imports_from_lib():
    renamed = []
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or ""
                for alias in node.names:
                    target = module or alias.name
                    if alias.asname not in (None, alias.name) and (
                        target == "lib" or target.startswith("lib.")
                    ):
                        renamed.append(f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}")
    assert not renamed, "imports from lib/ under another name:\n" + "\n".join(renamed)


def test_functions_are_short_enough_to_read_at_once():
    long = []
    for path in modules().values():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(LONG_FUNCTIONS_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over the limit:\n" + "\n".join(long)
