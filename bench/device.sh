#!/usr/bin/env bash
# bench/full_size.py on a GPU machine that has JAX with CUDA but no TensorFlow, in one call.
# What is missing there (Keras and its small dependencies, pandas) is installed from the wheels
# in bench/wheels/ (bash bench/fetch_wheels.sh fills it; git-ignored, it travels with the work
# tree) into bench/.device-site/, never into the machine's own Python. Results go to $OUT:
# full_size.json (rewritten after every case), env.txt and device.log. The whole script, the
# installs included, stays within $DEVICE_BUDGET_S (480 s: 8 minutes).
#   OUT=/path bash bench/device.sh             # full size on the GPU, Keras on JAX
#   OUT=/tmp/out bash bench/device.sh --cpu-tiny   # every step at tiny sizes on a CPU
set -euo pipefail
start=$SECONDS
total="${DEVICE_BUDGET_S:-480}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:?set OUT to the folder that receives the results}"
mkdir -p "$out"
exec > >(tee -a "$out/device.log") 2>&1
py="${PYTHON:-python3}"
wheels="$root/bench/wheels"
site="$root/bench/.device-site"
mode=(); export JAX_PLATFORMS="${JAX_PLATFORMS:-}"
case "${1:-}" in
  --cpu-tiny) mode=(--tiny); export JAX_PLATFORMS=cpu ;;
  "") ;;
  *) echo "usage: OUT=DIR bash bench/device.sh [--cpu-tiny]" >&2; exit 2 ;;
esac
say() { echo "[device] $(( SECONDS - start ))s $*"; }

"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  say "the project needs Python >= 3.11; $py is $("$py" -V 2>&1) (set PYTHON=...)"; exit 2; }
"$py" -c 'import jax' || { say "$py cannot import jax: this script runs Keras on JAX"; exit 2; }

# module:wheel pairs; a module the machine already imports is left as it is, except Keras,
# which is always the project's pinned version (3.15.1), ahead of any other on the path
needed=(keras:keras namex:namex optree:optree absl:absl-py rich:rich markdown_it:markdown-it-py
        mdurl:mdurl pygments:pygments packaging:packaging ml_dtypes:ml-dtypes h5py:h5py
        pandas:pandas dateutil:python-dateutil six:six)
install=()
for pair in "${needed[@]}"; do
  mod="${pair%%:*}" pkg="${pair##*:}"
  if [ "$mod" = keras ] || ! "$py" -c "import $mod" 2>/dev/null; then install+=("$pkg"); fi
done
if [ ! -d "$wheels" ]; then say "no $wheels: run bash bench/fetch_wheels.sh first"; exit 2; fi
say "installing from $wheels: ${install[*]}"
"$py" -m pip install --quiet --no-index --find-links "$wheels" --no-deps --upgrade \
  --target "$site" "${install[@]}"
export PYTHONPATH="$site:$root"
export KERAS_BACKEND=jax
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.95}"
export TF_CPP_MIN_LOG_LEVEL=2

{
  "$py" -V
  "$py" -c 'import jax, keras; print("jax", jax.__version__, jax.devices()); print("keras", keras.__version__, keras.backend.backend())'
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  nproc
} > "$out/env.txt" 2>&1
cat "$out/env.txt"

left=$(( total - (SECONDS - start) ))
say "bench/full_size.py with ${left}s left"
rc=0
timeout --signal=KILL "$(( left - 5 ))" "$py" -m bench.full_size "${mode[@]}" \
  --budget-s "$(( left - 25 ))" --out "$out/full_size.json" || rc=$?
say "done (exit $rc); results in $out/full_size.json"
exit "$rc"
