"""camtrap-kaggle: shared toolbox for the camera-trap competition tracks (chimpact, serengeti)."""

__version__ = "0.1.0"

import os as _os
import warnings as _warnings

# TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX512_VNNI, AVX512_BF16
# or AMX; on AVX2-only CPUs (most laptops, many cloud VMs) it falls back to its own kernels, which
# took over twice the CPU for a demo training step (docs/benchmarks.md). Read once, when
# TensorFlow starts; TF_ENABLE_ONEDNN_OPTS=0 in the environment still turns them off.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# tqdm.auto falls back to text bars when ipywidgets is absent (papermill reports); that is
# what we want, so its "IProgress not found" warning is noise in every executed notebook.
_warnings.filterwarnings("ignore", message="IProgress not found")
