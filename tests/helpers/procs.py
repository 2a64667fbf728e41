"""Helpers the interruption tests share: SIGKILL a child at a chosen moment, snapshot outputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def kill_when(
    child: str | list[str],
    ready: Callable[[], bool],
    timeout: float = 120,
    env: dict | None = None,
) -> None:
    """Start `child` (Python code, or a full argv) and SIGKILL it as soon as `ready()` is true."""
    env = env or {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [sys.executable, "-c", textwrap.dedent(child)] if isinstance(child, str) else child
    proc = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"the child finished (exit {proc.returncode}) before it was killed")
            if time.monotonic() > deadline:
                pytest.fail("the child never reached the point where it should be killed")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def file_bytes(root: Path, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """Every file under `root` with one of `suffixes`: relative path -> bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in suffixes
    }
