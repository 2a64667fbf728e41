"""Serengeti predictions scored against a demo's hidden answers, for 07_predict and the tests.

How well folders and capture times rebuilt the demo's sequences, the competition's mean log
loss beside the class priors' alone, and how often the top class is a true one. `examples`
picks sequences to show on their first image.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.serengeti import metrics
from lib.serengeti.schema import CLASSES, KEY


def score_sequences(result, true_seq: pd.Series, answers: pd.DataFrame, priors: pd.Series) -> dict:
    """Sequence rebuilding and log losses against a demo's answers.

    `true_seq` maps file names to the demo's seq_id; `answers` has one row per true seq_id and
    the 54 class columns; `priors` the bundle's class priors."""
    img = result.images.assign(true_seq=result.images["file"].map(true_seq))
    whole = img.groupby("true_seq")[KEY].nunique().eq(1)
    pure = img.groupby(KEY)["true_seq"].nunique().eq(1)
    rows = result.rows.assign(true_seq=result.rows["first_file"].map(true_seq))
    rows = rows[rows["true_seq"].notna()]
    y = answers.loc[rows["true_seq"]].to_numpy(np.float64)
    p = rows[list(CLASSES)].to_numpy(np.float64)
    prior = np.tile(priors.to_numpy(), (len(y), 1))
    hit = y[np.arange(len(y)), [CLASSES.index(c) for c in rows["top_class"]]]
    return {
        "sequences rebuilt": len(result.rows),
        "true sequences": int(true_seq.nunique()),
        "true sequences kept whole": f"{int(whole.sum())} of {len(whole)}",
        "rebuilt sequences holding one true sequence": f"{int(pure.sum())} of {len(pure)}",
        "mean log loss (54 classes)": round(metrics.mean_log_loss(y, p), 4),
        "class priors alone": round(metrics.mean_log_loss(y, prior), 4),
        "top class is a true class": f"{hit.mean():.1%}",
    }


def examples(result, truth: tuple[pd.Series, pd.DataFrame] | None, count: int = 6):
    """(image, title, caption) of the most confident sequences, at most four of them not empty
    and the rest empty ones, each on its first readable image with the demo's answer if known."""
    from lib import images

    ok = result.images[result.images["status"] == "ok"].drop_duplicates(KEY).set_index(KEY)
    ranked = result.rows[result.rows[KEY].isin(ok.index)]
    ranked = ranked.sort_values("top_score", ascending=False)
    empty = ranked["top_class"] == "empty"
    chosen = pd.concat([ranked[~empty].head(4), ranked[empty]]).head(count)
    out = []
    for row in chosen.itertuples():
        answer = ""
        if truth is not None and row.first_file in truth[0].index:
            true_row = truth[1].loc[truth[0][row.first_file]]
            answer = f"; answer: {', '.join(true_row.index[true_row == 1])}"
        title = f"{row.seq_id} ({row.n_images} images{answer})"
        caption = f"{row.top_class} {row.top_score:.2f}"
        out.append((images.read_array(ok.loc[row.seq_id, "path"]), title, caption))
    return out
