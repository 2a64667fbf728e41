"""The benchmark tests run `python -m bench.run --quick` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick(out: Path, sections: list[str], work: Path | None = None) -> tuple[dict, str]:
    """Run the quick sections into `out` (work files under `work` when given); returns the
    results file and the printed table, after checking the command succeeded."""
    env = {**os.environ, **({"CAMTRAP_WORK": str(work)} if work else {})}
    only = [arg for name in sections for arg in ("--only", name)]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", *only, "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout
