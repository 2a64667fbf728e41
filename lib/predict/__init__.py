"""Predict with an exported model bundle on new data: `python -m lib.predict <track> ...`."""
