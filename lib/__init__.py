"""camtrap-kaggle: shared toolbox for the camera-trap competition tracks (chimpact, serengeti)."""

__version__ = "0.1.0"
