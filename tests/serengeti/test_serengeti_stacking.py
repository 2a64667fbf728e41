"""Stacking features (per-image slots, sentinel, medians, time), boosters both ways round,
fallbacks and priors - on score tables made here."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lib.serengeti import metrics, stacking
from lib.serengeti.schema import CLASSES

EMPTY, ZEBRA = CLASSES.index("empty"), CLASSES.index("zebra")


def _scores(rows) -> pd.DataFrame:
    """rows of (seq_id, image_index, zebra score); other classes 0.01, empty = 1 - zebra."""
    values = np.full((len(rows), 54), 0.01)
    values[:, ZEBRA] = [r[2] for r in rows]
    values[:, EMPTY] = 1 - values[:, ZEBRA]
    frame = pd.DataFrame(values, columns=list(CLASSES))
    frame.insert(0, "image_index", [r[1] for r in rows])
    frame.insert(0, "seq_id", [r[0] for r in rows])
    return frame


def test_image_features_keep_slots_and_fill_the_sentinel():
    # q1: three images; q2: image 2 unreadable (no row), so image 3 stays in slot 3
    scores = _scores(
        [("q1", 0, 0.2), ("q1", 1, 0.4), ("q1", 2, 0.9), ("q2", 0, 0.3), ("q2", 2, 0.5)]
    )
    f = stacking.image_features(scores, "m")
    assert f.loc["q1", ["m_img1_zebra", "m_img2_zebra", "m_img3_zebra"]].tolist() == [0.2, 0.4, 0.9]
    assert f.loc["q2", ["m_img1_zebra", "m_img2_zebra", "m_img3_zebra"]].tolist() == [
        0.3, stacking.SENTINEL, 0.5
    ]  # fmt: skip
    assert f.loc["q1", "m_median_zebra"] == pytest.approx(0.4)
    assert f.loc["q2", "m_median_zebra"] == pytest.approx(0.4)
    assert len(f.columns) == 4 * 54
    with pytest.raises(ValueError, match="repeat"):
        stacking.image_features(pd.concat([scores, scores.iloc[[0]]]), "m")


def test_image_mean_weights_models_and_skips_missing_ones():
    a = _scores([("q1", 0, 0.2), ("q1", 1, 0.4), ("q2", 0, 0.8)])
    b = _scores([("q1", 0, 0.9)])  # model b did not score q2
    mean = stacking.image_mean({"a": a, "b": b}, {"a": 1.0, "b": 3.0})
    assert mean.loc["q1", "zebra"] == pytest.approx((0.3 * 1 + 0.9 * 3) / 4)
    assert mean.loc["q2", "zebra"] == pytest.approx(0.8)  # only a: its weight renormalised
    with pytest.raises(ValueError, match="weights"):
        stacking.image_mean({"a": a}, {"c": 1.0})


def _sequences(ids, hours=None):
    hours = hours if hours is not None else [12] * len(ids)
    return pd.DataFrame(
        {
            "seq_id": ids,
            "datetime": [pd.Timestamp(2012, 7, 1, h) if h is not None else pd.NaT for h in hours],
            "n_images": 3,
        }
    )


def test_feature_table_columns_order_and_unscored_sequences():
    seqs = _sequences(["q2", "q1", "q3"], hours=[6, 23, None])
    img = _scores([("q1", 0, 0.2), ("q2", 0, 0.3), ("q2", 1, 0.6)])
    bg = _scores([("q1", 0, 0.7), ("q2", 0, 0.1)]).drop(columns="image_index")
    nb = pd.DataFrame({"seq_id": ["q1", "q2", "q3"], "nb_count": [0.0, 2.0, 1.0]})
    table = stacking.feature_table(seqs, {"single": img}, {"background": bg}, extra=[nb])
    assert list(table.index) == ["q2", "q1", "q3"]
    assert table.loc["q2", "hour"] == 6 and table.loc["q2", "month"] == 7
    assert np.isnan(table.loc["q3", "hour"])
    assert table["n_scored"].tolist() == [2, 1, 0]
    assert table.loc["q3", "single_img1_zebra"] == stacking.SENTINEL  # never scored
    assert table.loc["q1", "background_zebra"] == pytest.approx(0.7)
    assert np.isnan(table.loc["q3", "background_zebra"])
    assert table.loc["q2", "nb_count"] == 2
    own = stacking.columns_for(table, "zebra", "own")
    assert "single_img1_zebra" in own and "single_img1_empty" in own and "hour" in own
    assert "single_img1_impala" not in own
    assert stacking.columns_for(table, "zebra") == list(table.columns)
    with pytest.raises(ValueError, match="distinct names"):
        stacking.feature_table(seqs, {"single": img}, {"single_img1": bg.rename(columns={})})


def _season(seed: int, n: int = 240):
    """A season where the image model is informative but miscalibrated for zebra and empty."""
    rng = np.random.default_rng(seed)
    ids = [f"SER_S{seed}#A{i % 7:02d}#1#{i}" for i in range(n)]
    zebra = rng.random(n) < 0.3
    labels = np.zeros((n, 54))
    labels[:, ZEBRA] = zebra
    labels[:, EMPTY] = ~zebra
    rows = []
    for i, seq in enumerate(ids):
        for k in range(int(rng.integers(1, 4))):
            score = np.clip(0.5 * zebra[i] + 0.25 + rng.normal(0, 0.12), 0.01, 0.99)
            rows.append((seq, k, score))
    scores = _scores(rows)
    seqs = _sequences(ids, hours=list(rng.integers(0, 24, n)))
    table = stacking.feature_table(seqs, {"single": scores})
    truth = pd.DataFrame(labels, columns=list(CLASSES)).astype(int)
    truth.insert(0, "seq_id", ids)
    return table, truth, scores


CFG = stacking.StackConfig(
    classes=("empty", "zebra", "elephant"), min_data_in_leaf=10, num_boost_round=300,
    early_stopping_rounds=20, calibrate_fallback=False,
)  # fmt: skip
CAL_CFG = dataclasses.replace(CFG, calibrate_fallback=True)


def test_stack_beats_the_image_mean_and_is_deterministic():
    ta, ya, sa = _season(9)
    tb, yb, sb = _season(10)
    stack = stacking.fit(ta, ya, tb, yb, CFG)
    assert set(stack.boosters) == {("empty", "a"), ("empty", "b"), ("zebra", "a"), ("zebra", "b")}
    assert stack.skipped[("elephant", "a")].startswith("0 positive(s)")  # none in the data
    priors = metrics.class_priors(pd.concat([ya, yb]))
    fallback = stacking.image_mean({"single": sb})
    pred = stacking.predict(stack, tb, fallback, priors, directions=("a",))
    mean_pred = fallback.rename_axis("seq_id").reset_index()
    for cls in ("zebra", "empty"):
        stacked = metrics.per_class_table(yb, pred).set_index("class").loc[cls, "log_loss"]
        plain = metrics.per_class_table(yb, mean_pred).set_index("class").loc[cls, "log_loss"]
        assert stacked < plain, cls  # the booster recalibrates the mean score
    # classes without boosters keep the image mean
    assert np.allclose(pred["elephant"], fallback.loc[pred["seq_id"], "elephant"])
    again = stacking.predict(stacking.fit(ta, ya, tb, yb, CFG), tb, fallback, priors, ("a",))
    pd.testing.assert_frame_equal(pred, again)
    both = stacking.predict(stack, tb, fallback, priors)
    assert not np.allclose(both["zebra"], pred["zebra"])  # "b" is averaged in


def test_sequences_without_readable_images_get_priors():
    ta, ya, _ = _season(9)
    tb, yb, sb = _season(10)
    stack = stacking.fit(ta, ya, tb, yb, CFG)
    priors = metrics.class_priors(ya)
    dark = tb.iloc[:3].copy()
    dark["n_scored"] = 0
    dark[[c for c in dark.columns if "_img" in c]] = stacking.SENTINEL
    fallback = stacking.image_mean({"single": sb}).drop(index=dark.index)  # as if unreadable
    table = pd.concat([dark, tb.iloc[3:10]])
    pred = stacking.predict(stack, table, fallback, priors).set_index("seq_id")
    assert np.allclose(pred.loc[dark.index, list(CLASSES)].to_numpy(), priors.to_numpy())
    assert not np.allclose(pred.iloc[5][list(CLASSES)].to_numpy(), priors.to_numpy())


def test_fit_errors():
    ta, ya, _ = _season(9, 30)
    with pytest.raises(ValueError, match="no labels"):
        stacking.fit(ta, ya.iloc[1:], ta, ya, CFG)
    with pytest.raises(ValueError, match="unknown class"):
        stacking.fit(ta, ya, ta, ya, stacking.StackConfig(classes=("unicorn",)))
    with pytest.raises(ValueError, match="directions"):
        stacking.predict(stacking.Stack(CFG), ta, ta, pd.Series(dtype=float), ("c",))


def test_saved_stack_predicts_what_the_fitted_one_did(tmp_path):
    ta, ya, _ = _season(9)
    tb, yb, sb = _season(10)
    stack = stacking.fit(ta, ya, tb, yb, CFG)
    folder = stacking.save(stack, tmp_path / "stack", extra={"view": "tta"})
    loaded = stacking.load(folder)
    assert loaded.config == stack.config and loaded.skipped == stack.skipped
    assert loaded.best_iteration == stack.best_iteration
    assert stacking.read_info(folder)["extra"] == {"view": "tta"}
    priors = metrics.class_priors(ya)
    fallback = stacking.image_mean({"single": sb})
    want = stacking.predict(stack, tb, fallback, priors)
    got = stacking.predict(loaded, tb, fallback, priors)
    np.testing.assert_allclose(got[list(CLASSES)], want[list(CLASSES)], rtol=0, atol=1e-12)
    (folder / "zebra-a.txt").unlink()
    with pytest.raises(FileNotFoundError, match="zebra-a.txt"):
        stacking.load(folder)


def test_fit_calibration_recovers_a_known_overconfidence():
    rng = np.random.default_rng(0)
    logits = rng.normal(-3.0, 2.0, (4000, 6))
    truth_p = 1 / (1 + np.exp(-logits))
    labels = (rng.random(truth_p.shape) < truth_p).astype(float)
    # a network twice as confident as it should be, and biased upwards by 1 on the logit
    scores = 1 / (1 + np.exp(-(2.0 * logits + 1.0)))
    slope, intercept = stacking.fit_calibration(scores, labels)
    assert slope == pytest.approx(0.5, abs=0.05) and intercept == pytest.approx(-0.5, abs=0.15)
    raw = metrics.per_class_log_loss(labels, np.clip(scores, 1e-5, 1 - 1e-5)).mean()
    fixed = stacking.calibrate(scores, slope, intercept)
    assert metrics.per_class_log_loss(labels, np.clip(fixed, 1e-5, 1 - 1e-5)).mean() < raw
    # nothing to learn from (one label value only): scores pass unchanged
    assert stacking.fit_calibration(scores, np.zeros_like(scores)) == (1.0, 0.0)
    # perfectly separated labels: finite numbers, scores still ordered the same way
    sep_slope, sep_intercept = stacking.fit_calibration(scores, (logits > -3).astype(float))
    assert np.isfinite([sep_slope, sep_intercept]).all() and sep_slope > 0


def _with_giraffes(season: int, table, truth, scores):
    """Add an unboosted class with positives: ~8 % giraffes, whose image-mean score is loud -
    0.95 in most sequences with one, and 0.9 in a third of the sequences without one."""
    rng = np.random.default_rng(season + 100)
    truth = truth.copy()
    truth["giraffe"] = (rng.random(len(truth)) < 0.08).astype(int)
    fallback = stacking.image_mean({"single": scores})
    present = truth.set_index("seq_id").loc[fallback.index, "giraffe"].to_numpy() == 1
    alarm = rng.random(len(fallback)) < 0.33
    missed = rng.random(len(fallback)) < 0.2
    fallback["giraffe"] = np.where(present & ~missed, 0.95, np.where(alarm, 0.9, 0.002))
    return table, truth, fallback


def test_unboosted_classes_are_recalibrated_on_the_fitting_season_only(tmp_path):
    ta, ya, fa = _with_giraffes(9, *_season(9))
    tb, yb, fb = _with_giraffes(10, *_season(10))
    plain = stacking.fit(ta, ya, tb, yb, CFG)
    assert plain.calibration == {}
    stack = stacking.fit(ta, ya, tb, yb, CAL_CFG, fa, fb)
    assert set(stack.calibration) == {"a", "b"}
    assert stacking.calibrate(np.array([0.9]), *stack.calibration["a"])[0] < 0.5  # tempered
    # booster a's calibration comes from set A alone: other labels in set B do not change it
    yb_other = yb.copy()
    yb_other["giraffe"] = 1 - yb_other["giraffe"]
    other = stacking.fit(ta, ya, tb, yb_other, CAL_CFG, fa, fb)
    assert other.calibration["a"] == stack.calibration["a"]
    assert other.calibration["b"] != stack.calibration["b"]

    priors = metrics.class_priors(ya)
    pred = stacking.predict(stack, tb, fb, priors, ("a",)).set_index("seq_id")
    raw = stacking.predict(plain, tb, fb, priors, ("a",)).set_index("seq_id")
    for cls in ("empty", "zebra"):  # boosted classes are the boosters' scores either way
        np.testing.assert_allclose(pred[cls], raw[cls])
    np.testing.assert_allclose(
        pred["giraffe"], stacking.calibrate(raw["giraffe"].to_numpy(), *stack.calibration["a"])
    )
    truth = yb.set_index("seq_id").loc[pred.index].reset_index()
    assert metrics.score(truth, pred.reset_index()) < metrics.score(truth, raw.reset_index())
    with pytest.raises(ValueError, match="fallback scores of both sets"):
        stacking.fit(ta, ya, tb, yb, CAL_CFG)

    loaded = stacking.load(stacking.save(stack, tmp_path / "stack"))
    assert loaded.calibration == stack.calibration
    again = stacking.predict(loaded, tb, fb, priors).set_index("seq_id")
    both = stacking.predict(stack, tb, fb, priors).set_index("seq_id")
    np.testing.assert_allclose(again.to_numpy(), both.to_numpy(), rtol=0, atol=1e-12)
