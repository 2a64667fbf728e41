"""camtrap-kaggle: shared toolbox for the camera-trap competition tracks (chimpact, serengeti)."""

__version__ = "0.1.0"

import warnings as _warnings

# tqdm.auto falls back to text bars when ipywidgets is absent (papermill reports); that is
# what we want, so its "IProgress not found" warning is noise in every executed notebook.
_warnings.filterwarnings("ignore", message="IProgress not found")
