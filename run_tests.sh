#!/usr/bin/env bash
# Run the test suite in the project's own virtual environment (created on first use).
# Extra arguments go to pytest, e.g. ./run_tests.sh -k extract -x
# The tests run in one process per core (at most 4; CAMTRAP_TEST_WORKERS=1 runs them in one):
# much of the suite waits on child processes, notebook kernels and TensorFlow start-ups, which
# leaves cores idle in a single process. A module's tests stay in one process, so its fixtures
# are built once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
cores="$(nproc 2>/dev/null || echo 1)"
workers="${CAMTRAP_TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}"
if [ "$workers" -le 1 ]; then exec python -m pytest "$@"; fi
exec python -m pytest -n "$workers" --dist loadscope "$@"
