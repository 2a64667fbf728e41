#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv.
# Reinstalls only when pyproject.toml changed since the last successful install (stamp file),
# so repeated ./run_all.sh and ./run_tests.sh calls cost nothing.
# CAMTRAP_TF=gpu installs tensorflow[and-cuda] instead of tensorflow-cpu.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${CAMTRAP_VENV:-$root/.venv}"
tf_extra="${CAMTRAP_TF:-cpu}"
case "$tf_extra" in cpu|gpu) ;; *) echo "CAMTRAP_TF must be cpu or gpu, got '$tf_extra'" >&2; exit 2;; esac
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
  echo "Python 3.11 or 3.12 is needed; '$py' is $("$py" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 2
fi
stamp="$venv/.camtrap-installed"
want="$(cat pyproject.toml | sha1sum | cut -c1-40)-$tf_extra"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
echo "[bootstrap] installing the project into $venv (first run takes about a minute)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[$tf_extra,dev]"
echo "$want" > "$stamp"
echo "[bootstrap] done" >&2
