#!/usr/bin/env bash
# Fill bench/wheels/ (git-ignored) with what bench/device.sh installs on a GPU machine that has
# JAX or PyTorch but not Keras: Keras and its small dependencies, and pandas (lib.serengeti's
# schema needs it) with its own. Binary wheels are fetched for each CPython in $PYTHONS, since
# the GPU machine's Python is not known in advance; the folder must stay under 64 MiB, the most
# that travels to such a machine, and this script fails if it does not.
#   bash bench/fetch_wheels.sh                 # CPython 3.11, 3.12 and 3.13
#   PYTHONS="3.12" bash bench/fetch_wheels.sh  # only the one the GPU machine has
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${WHEELS:-$root/bench/wheels}"
pythons="${PYTHONS:-3.11 3.12 3.13}"
limit_mib="${WHEELS_LIMIT_MIB:-60}"  # 64 MiB travel, less the project's own files
pip=(python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dest")
# the versions the project's own environment resolves with Keras 3.15.1 (pure Python)
pure=(keras==3.15.1 namex==0.1.0 absl-py==2.5.1 rich==15.0.0 markdown-it-py==4.3.0
      mdurl==0.1.2 pygments==2.21.0 packaging==26.4 python-dateutil==4.0.0 six==1.17.0)
binary=(optree==0.20.0 ml-dtypes==0.7.0 h5py==3.14.0 pandas==3.1.1)
platforms=(--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64)
mkdir -p "$dest"
"${pip[@]}" "${pure[@]}"
for v in $pythons; do
  tag="cp${v/./}"
  "${pip[@]}" --python-version "$v" --implementation cp --abi "$tag" "${platforms[@]}" "${binary[@]}"
done
size_kib="$(du -sk "$dest" | cut -f1)"
echo "[fetch_wheels] $(ls "$dest" | wc -l) wheels, $((size_kib / 1024)) MiB in $dest"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "[fetch_wheels] $dest is over ${limit_mib} MiB: set PYTHONS to the GPU machine's Python only" >&2
  exit 1
fi
