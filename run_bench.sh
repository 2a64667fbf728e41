#!/usr/bin/env bash
# Run the benchmark suite (bench/) in the project's own virtual environment (created on first
# use); prints a table and merges the results into bench/results/latest.json.
#   ./run_bench.sh            full benchmarks (several minutes on a 2-core machine)
#   ./run_bench.sh --quick    tiny sizes: checks that every benchmark runs
#   ./run_bench.sh --only pipeline [--only infer]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec python -m bench.run "$@"
