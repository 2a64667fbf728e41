#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv.
# Reinstalls only when pyproject.toml changed since the last successful install (stamp file),
# so repeated ./run_all.sh and ./run_tests.sh calls cost nothing.
# CAMTRAP_TF=gpu installs tensorflow[and-cuda] instead of tensorflow-cpu.
# CAMTRAP_EXTRAS=lab also installs pyproject.toml's `lab` extra (./run_lab.sh sets it); extras
# installed once are kept on later refreshes, so running the other commands never removes them.
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
want="$(sha1sum < pyproject.toml | cut -c1-40)-$tf_extra"
# the stamp's first line is the pyproject hash + TensorFlow flavour, the second the extras
have="$(sed -n 1p "$stamp" 2>/dev/null || true)"
have_extras="$(sed -n 2p "$stamp" 2>/dev/null || true)"
requested="${CAMTRAP_EXTRAS:-}"
extras="dev"
for extra in ${have_extras//,/ } ${requested//,/ }; do
  case ",$extras," in *",$extra,"*) ;; *) extras="$extras,$extra" ;; esac
done
if [ "$have" = "$want" ] && [ "$have_extras" = "$extras" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
echo "[bootstrap] installing the project into $venv (first run takes about a minute)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
log="$venv/.camtrap-install.log"
# pip's and the build backend's messages go to the log; a failed install prints it (without the
# "Location ... is ignored" lines some machines' pip index settings add) and stops here.
if ! { "$venv/bin/python" -m pip install --quiet --upgrade pip &&
       "$venv/bin/python" -m pip install --quiet -e ".[$tf_extra,$extras]"; } >"$log" 2>&1; then
  grep -v "^WARNING: Location '.*' is ignored" "$log" >&2 || true
  echo "[bootstrap] install failed; pip's full output is in $log" >&2
  exit 1
fi
printf '%s\n%s\n' "$want" "$extras" > "$stamp"
echo "[bootstrap] done" >&2
