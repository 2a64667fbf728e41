"""Tables and plots for 01_eda: class frequencies, where a prior-only model loses its score,
images per sequence, seasons, and example mean/background images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lib import plots
from lib.serengeti import background, metrics, schema
from lib.serengeti.schema import CLASSES, KEY


def overview(data: schema.Dataset) -> pd.DataFrame:
    rows = {}
    for split in ("train", "test"):
        images = data.images(split)
        seqs = schema.sequences(images)
        rows[split] = {
            "sequences": len(seqs),
            "images": len(images),
            "seasons": ", ".join(f"S{s}" for s in sorted(seqs["season"].unique())),
            "sites": seqs["site"].nunique(),
            "images/sequence (mean)": round(seqs["n_images"].mean(), 2),
            "no datetime": int(seqs["datetime"].isna().sum()),
        }
    return pd.DataFrame(rows)


def class_frequencies(data: schema.Dataset) -> pd.DataFrame:
    """Sequences per class (train, and test where answers exist), most frequent first."""
    table = pd.DataFrame({"train": data.train_labels[list(CLASSES)].sum()})
    table["train_share"] = table["train"] / len(data.train_labels)
    if data.test_labels is not None:
        table["test"] = data.test_labels[list(CLASSES)].sum()
    return table.sort_values("train", ascending=False)


def prior_contributions(data: schema.Dataset) -> pd.DataFrame:
    """Per-class log loss of the prior-only model (train frequencies scored on train): which
    classes the metric's mean is made of."""
    labels = data.train_labels
    pred = metrics.prior_predictions(labels[KEY], metrics.class_priors(labels))
    return metrics.per_class_table(labels, pred)


def plot_classes(freq: pd.DataFrame, contrib: pd.DataFrame, top: int = 25):
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    f = freq[freq["train"] > 0].head(top)
    axes[0].barh(f.index, f["train"], color="tab:blue")
    axes[0].set_xscale("log")
    axes[0].invert_yaxis()
    axes[0].set_xlabel("train sequences (log scale)")
    axes[0].set_title(f"class frequencies ({int((freq['train'] == 0).sum())} classes never seen)")
    c = contrib.head(top)
    axes[1].barh(c["class"], c["share"], color="tab:red")
    axes[1].invert_yaxis()
    axes[1].set_xlabel("share of the prior-only model's mean log loss")
    axes[1].set_title(f"where the baseline loses (mean {contrib['log_loss'].mean():.4f})")
    fig.tight_layout()
    return fig


def plot_sequences(data: schema.Dataset):
    seqs = schema.sequences(data.train_images)
    labels = data.train_labels.set_index(KEY)
    seqs["empty"] = labels.reindex(seqs[KEY])["empty"].to_numpy() == 1
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
    counts = seqs["n_images"].value_counts().sort_index()
    axes[0].bar(counts.index.astype(str), counts.to_numpy())
    axes[0].set_xlabel("images per sequence")
    axes[0].set_ylabel("sequences")
    per_season = seqs.groupby("season")["empty"].agg(["size", "mean"])
    axes[1].bar(per_season.index.astype(str), per_season["size"], color="tab:gray")
    ax2 = axes[1].twinx()
    ax2.plot(per_season.index.astype(str), per_season["mean"], "o-", c="tab:red")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("empty share", color="tab:red")
    axes[1].set_xlabel("season")
    axes[1].set_title("sequences per season (S9, S10: stacking)")
    hour = seqs["datetime"].dt.hour
    axes[2].hist(
        [hour[seqs["empty"]].dropna(), hour[~seqs["empty"]].dropna()],
        bins=24, range=(0, 24), stacked=True, label=["empty", "animal"],
    )  # fmt: skip
    axes[2].set_xlabel("hour of the first image")
    axes[2].legend()
    fig.tight_layout()
    return fig


def example_sequences(data: schema.Dataset, n: int = 3, seed: int = 0) -> pd.DataFrame:
    """Up to n empty and n animal train sequences with three images (for the mean/background
    figure), chosen reproducibly."""
    seqs = schema.sequences(data.train_images)
    seqs = seqs[seqs["n_images"] >= 3]
    labels = data.train_labels.set_index(KEY).reindex(seqs[KEY])
    seqs = seqs.assign(empty=labels["empty"].to_numpy() == 1)
    seqs["species"] = [", ".join(c for c in CLASSES if row[c] == 1) for _, row in labels.iterrows()]
    rng = np.random.default_rng(seed)
    picks = []
    for empty in (True, False):
        group = seqs[seqs["empty"] == empty]
        if len(group):
            picks.append(group.iloc[rng.choice(len(group), min(n, len(group)), replace=False)])
    return pd.concat(picks) if picks else seqs.head(0)


def plot_mean_background(data: schema.Dataset, examples: pd.DataFrame, size=(192, 256)):
    """Per example row: its (flow-resized) images, the mean and the background."""
    load = background.loader(data.root, size)
    rows = []
    titles = []
    for _, ex in examples.iterrows():
        res = background.sequence_images(ex["file_names"], load)
        if res.mean is None:
            continue
        frames = [load(name) for name in res.used]
        rows.append([*frames, res.mean, res.background])
        titles.append(f"{ex['species']}\n{ex[KEY]}")
    if not rows:
        return None
    names = [f"image {k + 1}" for k in range(len(rows[0]) - 2)] + ["mean", "background"]
    return plots.frame_grid(rows, titles, names, width=2.6)
