"""The Jupyter kernel `./run_lab.sh` registers: the project's own .venv Python, named `python3`
(the kernel every notebook's metadata and `run_all.sh` ask for), with the repository on
PYTHONPATH so `import lib` works from any notebook folder.

    python -m lib.lab kernel [--prefix DIR]    # default prefix: the running environment

The spec goes into `<prefix>/share/jupyter/kernels/python3`; run_lab.sh puts that folder first
on JUPYTER_PATH, so a `python3` kernel of the user's own (in ~/.local/share/jupyter) cannot
shadow it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib import paths

KERNEL_NAME = "python3"
DISPLAY_NAME = "Python 3 (camtrap .venv)"


def kernel_env() -> dict[str, str]:
    """What the kernel's process gets besides the server's environment: `lib` importable, and
    TensorFlow's C++ start-up lines kept out of the notebooks as run_all.sh keeps them out."""
    return {"PYTHONPATH": str(paths.ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def install_kernel(prefix: Path | None = None) -> Path:
    """Write the kernel spec under `prefix` (default: this Python's environment); returns it."""
    from ipykernel.kernelspec import install

    dest = install(
        prefix=str(prefix or sys.prefix), kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME,
        env=kernel_env(),
    )  # fmt: skip
    return Path(dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.lab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kernel").add_argument("--prefix", type=Path, default=None)
    args = parser.parse_args(argv)
    print(f"lab: kernel spec {install_kernel(args.prefix)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
