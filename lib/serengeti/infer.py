"""Stage 05: each serengeti run's test scores, both views (original and flipped).

The network is loaded from the run's own folder and its config.json, so inference does not
depend on the profile the notebook was started with. `test_pred.csv` is kept while its key
(`test_pred.key.json`: the run's config, a digest of its weights, the test shards' content-keyed
names) is unchanged, so a rerun after nothing changed predicts nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lib import content_keys, fileio
from lib.serengeti import input_pipeline, records, train

PREDICTION_VERSION = 1


def predict_test(run_id: str, work: str | Path) -> pd.DataFrame:
    """The run's test scores, both views (flip TTA = their mean): test_pred.csv.

    Kept while `test_pred.key.json` (config, weights digest, test shard names) is unchanged."""
    out = train.run_dir(run_id)
    if not (out / "metrics.json").is_file():
        raise FileNotFoundError(f"{out}: run not finished (no metrics.json); train it with 04")
    config = fileio.read_json(out / "config.json")
    key = {
        "version": PREDICTION_VERSION,
        "config": content_keys.digest({k: v for k, v in config.items() if k != "git_commit"}),
        "weights": content_keys.file_digest(train.weights_path(run_id)),
        "test": records.input_key(work, ("test",)),
    }
    key_path = out / "test_pred.key.json"
    if (out / "test_pred.csv").is_file() and key_path.is_file():
        if fileio.read_json(key_path) == fileio.jsonable(key):
            return train.read_pred(run_id, "test_pred.csv")  # made from these inputs already
    model = train.load_model(run_id)
    pred = input_pipeline.predict(model, train.datasets(config, Path(work), "test", False, 0))
    fileio.write_csv(out / "test_pred.csv", pred)
    fileio.write_json(key_path, key)  # after the predictions it vouches for
    return pred
