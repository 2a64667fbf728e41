"""Gradient-boosted stacking of the networks' scores (docs item 7), as the write-up did it.

Why a booster on top: a plain mean of the single-image and background models' scores was
*worse* than the single model, but LightGBM learned when to trust which (0.0038 -> 0.0028).

- Features, one row per sequence (`feature_table`): for each image model, its 54 scores on
  images 1-3 of the sequence (by file name; `SENTINEL` = -1 where the sequence has no such image
  or it could not be read) and the median over the sequence's scored images; for each
  sequence-level model (background, two-stream) its 54 scores; hour and month of the first
  image; the number of images; optional extra columns (neighbour-camera features).
- One binary booster per frequent class (`FREQUENT_CLASSES`, the write-up's 13): booster "a" is
  trained on one season (S9) and early-stopped on the other (S10); booster "b" the other way
  round; the prediction is their average. Only "a" gives an honest score on S10 ("b" has seen
  it) - the write-up's 0.0020 "second booster" row was exactly that overfit.
- The other 41 classes are too rare to boost: their score is a weighted mean over image models
  of each model's mean over the sequence's images (`image_mean`).
- Beyond the write-up (`StackConfig.calibrate_fallback`): those image-mean scores are
  recalibrated by one slope and one intercept on the logit, shared by every unboosted class and
  fitted on the same season as the boosters of that direction (`fit_calibration`). A network that
  overfits its few training sequences is overconfident on rare classes; two numbers fitted on
  hundreds of sequences x ~45 classes cannot overfit the way per-class boosters would.
- A sequence with no readable image gets the class priors.

Deterministic for a given seed: LightGBM runs with `deterministic=True`, fixed seeds and a fixed
thread count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from lib import fileio
from lib.serengeti.schema import CLASSES, KEY

FREQUENT_CLASSES: tuple[str, ...] = (
    "empty", "wildebeest", "zebra", "gazellethomsons", "buffalo", "elephant", "hartebeest",
    "impala", "gazellegrants", "giraffe", "warthog", "guineafowl", "otherbird",
)  # fmt: skip
SENTINEL = -1.0
MAX_IMAGES = 3
DIRECTIONS = ("a", "b")  # a: fit on the first season, stop on the second; b: swapped


def _check_scores(frame: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    missing = [c for c in (*needed, *CLASSES) if c not in frame.columns]
    if missing:
        raise ValueError(f"scores of {name!r} lack column(s) {missing[:5]}")


def image_features(
    scores: pd.DataFrame, name: str, max_images: int = MAX_IMAGES, sentinel: float = SENTINEL
) -> pd.DataFrame:
    """Per-image and median features of one image model, indexed by seq_id.

    `scores` has one row per scored image: seq_id, image_index (0-based place in the sequence
    by file name, from lib.serengeti.schema) and the 54 class scores. Unreadable images simply
    have no row; their slot keeps the sentinel, and the images after them keep their slots.
    """
    _check_scores(scores, name, (KEY, "image_index"))
    if scores.duplicated([KEY, "image_index"]).any():
        raise ValueError(f"scores of {name!r} repeat a (seq_id, image_index) pair")
    parts = []
    for i in range(max_images):
        one = scores.loc[scores["image_index"] == i].set_index(KEY)[list(CLASSES)]
        parts.append(one.add_prefix(f"{name}_img{i + 1}_"))
    median = scores.groupby(KEY)[list(CLASSES)].median().add_prefix(f"{name}_median_")
    out = pd.concat([*parts, median], axis=1)
    img_cols = [c for p in parts for c in p.columns]
    out[img_cols] = out[img_cols].fillna(sentinel)
    return out


def image_mean(
    image_scores: Mapping[str, pd.DataFrame], weights: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Weighted mean over image models of each model's mean over a sequence's images.

    Index seq_id, columns CLASSES; weights default to equal. A sequence scored by only some
    models is averaged over those (weights renormalised); a sequence scored by none is absent.
    """
    if not image_scores:
        raise ValueError("no image model scores given")
    weights = dict(weights) if weights is not None else {m: 1.0 for m in image_scores}
    unknown = set(weights) - set(image_scores)
    if unknown or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights must be >= 0 for the given models, sum > 0; got {weights}")
    total = None
    norm = None
    for model, frame in image_scores.items():
        _check_scores(frame, model, (KEY,))
        w = float(weights.get(model, 0.0))
        mean = frame.groupby(KEY)[list(CLASSES)].mean()
        part = mean * w
        present = pd.Series(w, index=mean.index)
        total = part if total is None else total.add(part, fill_value=0.0)
        norm = present if norm is None else norm.add(present, fill_value=0.0)
    assert total is not None and norm is not None
    return total.div(norm.where(norm > 0), axis=0).dropna(how="all")


def time_features(sequences: pd.DataFrame) -> pd.DataFrame:
    """hour and month of each sequence's datetime (NaN where unknown), indexed by seq_id."""
    when = pd.to_datetime(sequences["datetime"])
    return pd.DataFrame(
        {"hour": when.dt.hour.astype(float), "month": when.dt.month.astype(float)},
    ).set_index(sequences[KEY].to_numpy())


def feature_table(
    sequences: pd.DataFrame,
    image_scores: Mapping[str, pd.DataFrame],
    sequence_scores: Mapping[str, pd.DataFrame] | None = None,
    extra: Sequence[pd.DataFrame] = (),
    max_images: int = MAX_IMAGES,
) -> pd.DataFrame:
    """The stacking features, one row per sequence of `sequences` (in its order), index seq_id.

    `sequences` is lib.serengeti.schema.sequences(...) (seq_id, datetime, n_images);
    `image_scores` maps an image model's name to its per-image scores (see image_features);
    `sequence_scores` maps a sequence-level model's name (background, two-stream) to a table of
    seq_id + 54 scores; `extra` are more tables with a seq_id column (neighbour features).
    A column `n_scored` counts the sequence's images that any image model scored (0 = no
    readable image; those rows get priors in `predict`).
    """
    index = pd.Index(sequences[KEY].to_numpy(), name=KEY)
    if index.duplicated().any():
        raise ValueError("sequences repeat a seq_id")
    parts = [time_features(sequences), sequences.set_index(KEY)[["n_images"]].astype(float)]
    scored = pd.Series(0.0, index=index)
    img_cols: list[str] = []
    for name, frame in image_scores.items():
        feats = image_features(frame, name, max_images)
        img_cols += [c for c in feats.columns if not c.startswith(f"{name}_median_")]
        parts.append(feats)
        n = frame.groupby(KEY).size().reindex(index).fillna(0.0)
        scored = np.maximum(scored, n)
    for name, frame in (sequence_scores or {}).items():
        _check_scores(frame, name, (KEY,))
        parts.append(frame.set_index(KEY)[list(CLASSES)].add_prefix(f"{name}_"))
    for frame in extra:
        parts.append(frame.set_index(KEY))
    parts.insert(0, scored.rename("n_scored").to_frame())
    table = pd.concat([p.reindex(index) for p in parts], axis=1)
    if table.columns.duplicated().any():
        dups = list(table.columns[table.columns.duplicated()])
        raise ValueError(f"duplicate feature names {dups[:5]}: give the models distinct names")
    table[img_cols] = table[img_cols].fillna(SENTINEL)  # sequences an image model never scored
    return table


def columns_for(table: pd.DataFrame, cls: str, mode: str = "all") -> list[str]:
    """Feature columns a class's booster sees: "all" (every class's scores - lets it learn
    confusions such as Grant's vs Thomson's gazelle) or "own" (that class's scores, plus the
    `empty` scores and the non-score columns; for small data)."""
    if mode == "all":
        return list(table.columns)
    if mode != "own":
        raise ValueError(f"feature mode must be 'all' or 'own', got {mode!r}")
    keep = {cls, "empty"}
    out = []
    for col in table.columns:
        suffix = next((c for c in CLASSES if col.endswith(f"_{c}")), None)
        if suffix is None or suffix in keep:
            out.append(col)
    return out


@dataclass(frozen=True)
class StackConfig:
    classes: tuple[str, ...] = FREQUENT_CLASSES
    feature_mode: str = "all"  # see columns_for
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.5
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    num_boost_round: int = 2000
    early_stopping_rounds: int = 100
    min_positives: int = 3  # fewer positives in a fitting season: no booster that way round
    calibrate_fallback: bool = True  # see the module docstring; False: the write-up's stack
    seed: int = 42
    num_threads: int = 1

    def params(self) -> dict:
        return {
            "objective": "binary",
            "metric": "binary_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": self.lambda_l2,
            "seed": self.seed,
            "bagging_seed": self.seed,
            "feature_fraction_seed": self.seed,
            "data_random_seed": self.seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.num_threads,
            "verbose": -1,
        }


@dataclass
class Stack:
    """Fitted boosters: boosters[(class, direction)]; classes with none use the image mean."""

    config: StackConfig
    boosters: dict[tuple[str, str], lgb.Booster] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)  # features per class
    best_iteration: dict[tuple[str, str], int] = field(default_factory=dict)
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)  # why no booster
    # direction -> (slope, intercept) on the logit of the unboosted classes' image-mean scores
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)


CLIP = 1e-6
CALIBRATION_RIDGE = 1e-3


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log(p / (1 - p))


def calibrate(scores: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """sigmoid(slope * logit(scores) + intercept); NaN stays NaN."""
    return 1.0 / (1.0 + np.exp(-(slope * _logit(np.asarray(scores, np.float64)) + intercept)))


def fit_calibration(
    scores: np.ndarray, labels: np.ndarray, ridge: float = CALIBRATION_RIDGE
) -> tuple[float, float]:
    """The (slope, intercept) on the logit that minimise the summed binary log loss of `scores`
    against 0/1 `labels` (any shape, pooled over classes) plus `ridge` * squared distance from
    (1, 0), the identity: logistic regression on one feature. The ridge is tiny: it is only
    there to keep the answer finite when a small season separates positives from negatives
    perfectly (a ridge of 1 already moved the demo's fit, whose information comes from a few
    dozen positives)."""
    x = _logit(np.asarray(scores, np.float64)).ravel()
    y = np.asarray(labels, np.float64).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) == 0 or y.min() == y.max():
        return 1.0, 0.0  # nothing to learn from: leave the scores as they are

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = w[0] * x + w[1]
        loss = np.sum(np.logaddexp(0.0, z) - y * z) + ridge * ((w[0] - 1) ** 2 + w[1] ** 2)
        r = 1.0 / (1.0 + np.exp(-z)) - y
        grad = np.array([r @ x + 2 * ridge * (w[0] - 1), r.sum() + 2 * ridge * w[1]])
        return float(loss), grad

    from scipy.optimize import minimize

    res = minimize(objective, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def _labels_for(table: pd.DataFrame, labels: pd.DataFrame, what: str) -> pd.DataFrame:
    y = labels.set_index(KEY).reindex(table.index)[list(CLASSES)]
    if y.isna().any(axis=None):
        missing = y.index[y.isna().any(axis=1)]
        raise ValueError(f"{what}: {len(missing)} sequence(s) have no labels, e.g. {missing[0]!r}")
    return y.astype(np.float64)


def fit(
    features_a: pd.DataFrame,
    labels_a: pd.DataFrame,
    features_b: pd.DataFrame,
    labels_b: pd.DataFrame,
    config: StackConfig = StackConfig(),  # noqa: B008 - frozen, never mutated
    fallback_a: pd.DataFrame | None = None,
    fallback_b: pd.DataFrame | None = None,
) -> Stack:
    """Boosters per class both ways round (a: fit on A, early-stop on B; b: the reverse), and
    with `config.calibrate_fallback` the calibration of the fallback (`image_mean`) scores of
    sets A and B (index seq_id) for the classes each direction has no booster for.

    Sequences without a readable image (`n_scored == 0`) are left out: they get priors anyway.
    """
    unknown = [c for c in config.classes if c not in CLASSES]
    if unknown:
        raise ValueError(f"unknown class(es) {unknown}")
    sets = {}
    for tag, feats, labels in (("A", features_a, labels_a), ("B", features_b, labels_b)):
        keep = feats[feats["n_scored"] > 0]
        if keep.empty:
            raise ValueError(f"season set {tag} has no sequence with a readable image")
        sets[tag] = (keep, _labels_for(keep, labels, f"season set {tag}"))
    if list(features_a.columns) != list(features_b.columns):
        raise ValueError("the two feature tables have different columns")
    stack = Stack(config)
    params = config.params()
    for cls in config.classes:
        cols = columns_for(features_a, cls, config.feature_mode)
        stack.columns[cls] = cols
        ways = (("A", "B"), ("B", "A"))
        for direction, (fit_tag, stop_tag) in zip(DIRECTIONS, ways, strict=True):
            xf, yf = sets[fit_tag]
            xs, ys = sets[stop_tag]
            positives = int(yf[cls].sum())
            if positives < config.min_positives or positives == len(yf):
                stack.skipped[(cls, direction)] = (
                    f"{positives} positive(s) of {len(yf)} in set {fit_tag}"
                )
                continue
            train = lgb.Dataset(xf[cols], yf[cls], free_raw_data=False)
            valid = lgb.Dataset(xs[cols], ys[cls], reference=train, free_raw_data=False)
            booster = lgb.train(
                params,
                train,
                num_boost_round=config.num_boost_round,
                valid_sets=[valid],
                callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
            )
            stack.boosters[(cls, direction)] = booster
            stack.best_iteration[(cls, direction)] = int(booster.best_iteration)
    if config.calibrate_fallback:
        if fallback_a is None or fallback_b is None:
            raise ValueError("calibrate_fallback needs the fallback scores of both sets")
        for direction, tag, fallback in (("a", "A", fallback_a), ("b", "B", fallback_b)):
            keep, labels = sets[tag]
            unboosted = [c for c in CLASSES if (c, direction) not in stack.boosters]
            scores = fallback.reindex(keep.index)[unboosted].to_numpy(np.float64)
            stack.calibration[direction] = fit_calibration(scores, labels[unboosted].to_numpy())
    return stack


def predict(
    stack: Stack,
    features: pd.DataFrame,
    fallback: pd.DataFrame,
    priors: pd.Series,
    directions: Sequence[str] = DIRECTIONS,
) -> pd.DataFrame:
    """seq_id + 54 class probabilities for every row of `features` (in its order).

    Boosted classes: the mean of the boosters of `directions` that exist (use ("a",) for an
    honest score on the season booster "b" was fitted on). Other classes, and boosted classes
    with no booster: `fallback` (image_mean), recalibrated by each of `directions`'
    calibration (averaged) when the stack has one. Rows with no readable image: `priors`.
    """
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad or not directions:
        raise ValueError(f"directions must be a non-empty subset of {DIRECTIONS}, got {directions}")
    out = fallback.reindex(features.index)[list(CLASSES)].astype(np.float64)
    calibrations = [stack.calibration[d] for d in directions if d in stack.calibration]
    if calibrations:
        raw = out.to_numpy()
        out[:] = np.mean([calibrate(raw, *c) for c in calibrations], axis=0)
    for cls in stack.config.classes:
        preds = [
            stack.boosters[(cls, d)].predict(
                features[stack.columns[cls]], num_iteration=stack.best_iteration[(cls, d)]
            )
            for d in directions
            if (cls, d) in stack.boosters
        ]
        if preds:
            out[cls] = np.mean(preds, axis=0)
    unreadable = (features["n_scored"] <= 0).to_numpy() | out.isna().any(axis=1).to_numpy()
    prior_row = priors.reindex(list(CLASSES)).to_numpy(np.float64)
    if np.isnan(prior_row).any():
        raise ValueError("priors must have a value for each of the 54 classes")
    out.loc[unreadable, list(CLASSES)] = prior_row
    return out.rename_axis(KEY).reset_index()


STACK_JSON = "stack.json"


def save(stack: Stack, folder: str | Path, extra: dict | None = None) -> Path:
    """Write the fitted boosters as LightGBM text models plus `stack.json` (config, feature
    columns, best iterations, why some boosters were skipped, and `extra`: how the stack was
    used), atomically: 06 keeps its final stack so a model bundle can carry it unchanged.

    Text models keep every tree (not only the best iteration): `load` + `predict` cut at the
    recorded best iteration exactly as the fitted stack did.
    """
    folder = Path(folder)
    with fileio.atomic_dir(folder) as tmp:
        boosters = {}
        for (cls, direction), booster in sorted(stack.boosters.items()):
            name = f"{cls}-{direction}.txt"
            booster.save_model(str(tmp / name), num_iteration=-1)
            boosters[f"{cls}/{direction}"] = {
                "file": name,
                "best_iteration": stack.best_iteration[(cls, direction)],
            }
        info = {
            "config": asdict(stack.config),
            "columns": stack.columns,
            "boosters": boosters,
            "skipped": {f"{c}/{d}": why for (c, d), why in stack.skipped.items()},
            "calibration": {d: list(c) for d, c in stack.calibration.items()},
            "extra": extra or {},
        }
        fileio.write_json(tmp / STACK_JSON, info)  # last: its presence means complete
    return folder


def read_info(folder: str | Path) -> dict:
    """The `stack.json` of a saved stack (FileNotFoundError naming the folder if absent)."""
    path = Path(folder) / STACK_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no saved stack here; run 06_ensemble first")
    return fileio.read_json(path)


def load(folder: str | Path) -> Stack:
    """A Stack from `save`'s folder: predicts what the fitted one did."""
    folder = Path(folder)
    info = read_info(folder)
    cfg = dict(info["config"])
    cfg["classes"] = tuple(cfg["classes"])
    stack = Stack(StackConfig(**cfg))
    stack.columns = {cls: list(cols) for cls, cols in info["columns"].items()}
    for key, entry in info["boosters"].items():
        cls, direction = key.split("/")
        path = folder / entry["file"]
        if not path.is_file():
            raise FileNotFoundError(f"{path}: booster file missing; save the stack again")
        stack.boosters[(cls, direction)] = lgb.Booster(model_file=str(path))
        stack.best_iteration[(cls, direction)] = int(entry["best_iteration"])
    for key, why in info.get("skipped", {}).items():
        cls, direction = key.split("/")
        stack.skipped[(cls, direction)] = why
    for direction, (slope, intercept) in info.get("calibration", {}).items():
        stack.calibration[direction] = (float(slope), float(intercept))
    return stack
