"""The Jupyter kernel `./run_lab.sh` and `./run_all.sh` use: the project's own .venv Python,
named `python3` (the kernel every notebook's metadata asks for), with the repository on
PYTHONPATH so `import lib` works from any notebook folder.

    python -m lib.lab kernel [--prefix DIR]    # default prefix: the running environment

The spec goes into `<prefix>/share/jupyter/kernels/python3` and is rewritten only when it
differs (the command prints a line only then); run_lab.sh puts that folder first on
JUPYTER_PATH, so a `python3` kernel of the user's own (in ~/.local/share/jupyter) cannot
shadow it. The kernel logs at level ERROR: its one warning on a local machine is that the
connection to its own server is not encrypted, printed once per notebook run_all.sh executes.
It leaves output written below Python (TensorFlow's C++ start-up lines, which no setting
silences) on the kernel's own standard error instead of copying it into the notebook: the
reports stay free of it, and run_all.sh prints it once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib import paths

KERNEL_NAME = "python3"
DISPLAY_NAME = "Python 3 (camtrap .venv)"
QUIET = ("--IPKernelApp.log_level=ERROR", "--IPKernelApp.capture_fd_output=False")


def kernel_env() -> dict[str, str]:
    """What the kernel's process gets besides the server's environment: `lib` importable, and
    TensorFlow's C++ start-up lines kept out of the notebooks as run_all.sh keeps them out."""
    return {"PYTHONPATH": str(paths.ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def spec_dir(prefix: Path | None = None) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install_kernel(prefix: Path | None = None) -> Path:
    """Write the kernel spec under `prefix` (default: this Python's environment); returns it."""
    from ipykernel.kernelspec import install

    dest = install(
        prefix=str(prefix or sys.prefix), kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME,
        env=kernel_env(),
    )  # fmt: skip
    spec_path = Path(dest) / "kernel.json"
    spec = json.loads(spec_path.read_text())
    spec["argv"].extend(QUIET)
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    return Path(dest)


def current(prefix: Path | None = None) -> bool:
    """Whether the spec under `prefix` is this checkout's (same Python, same repository)."""
    path = spec_dir(prefix) / "kernel.json"
    if not path.is_file():
        return False
    spec = json.loads(path.read_text())
    argv = spec.get("argv", [""])
    quiet = all(flag in argv for flag in QUIET)
    return argv[0] == sys.executable and quiet and spec.get("env") == kernel_env()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.lab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kernel").add_argument("--prefix", type=Path, default=None)
    args = parser.parse_args(argv)
    if not current(args.prefix):
        print(f"lab: registered the project's kernel in {install_kernel(args.prefix)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
