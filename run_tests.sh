#!/usr/bin/env bash
# Run the test suite in the project's own virtual environment (created on first use).
# Extra arguments go to pytest, e.g. ./run_tests.sh -k extract -x
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec python -m pytest "$@"
