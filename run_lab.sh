#!/usr/bin/env bash
# Start JupyterLab on the project's environment, opened in notebooks/.
# First use installs the `lab` extra (JupyterLab, ipywidgets) into .venv and registers the
# .venv's Python as the `python3` kernel with `lib` importable; later starts reuse both.
# Extra arguments go to `jupyter lab`, e.g. ./run_lab.sh --no-browser --port 8890
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
CAMTRAP_EXTRAS=lab "$root/scripts/bootstrap.sh"
venv="${CAMTRAP_VENV:-$root/.venv}"
export PATH="$venv/bin:$PATH"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export JUPYTER_PATH="$venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
python -m lib.lab kernel --prefix "$venv"
exec jupyter lab --notebook-dir="$root/notebooks" "$@"
