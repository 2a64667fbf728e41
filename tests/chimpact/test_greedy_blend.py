import numpy as np
import pytest

from lib.chimpact import greedy_blend

# Hand-checked case: labels all zero, so MAE = mean |prediction|.
Y = np.zeros(4)
RUNS = {
    "A": np.array([0.0, 0.0, 1.0, 1.0]),  # MAE 0.5
    "B": np.array([0.0, 0.0, 2.0, 2.0]),  # MAE 1.0
    "C": np.array([3.0, 3.0, 1.9, 1.9]),  # MAE 2.45
    "D": np.array([2.0, -2.0, -3.0, -3.0]),  # MAE 2.5
}
# Step 1 (A then B): c*A + (1-c)*B = [0, 0, 2-c, 2-c], MAE |2-c|/2, lowest at the grid end
#   c = 1.10 (B weight -0.1): blend [0, 0, 0.9, 0.9], MAE 0.45 (< +inf, accepted).
# Step 2 (C): with d = 1-c, blend + d*(C - blend) = [3d, 3d, 0.9+d, 0.9+d] (d >= -0.1),
#   MAE = 0.45 + (6|d| + 2d)/4 > 0.45 for every d != 0, so no c beats 0.45: skipped, c = 1.
# Step 3 (D): blend + d*(D - blend) = [2d, -2d, 0.9-3.9d, 0.9-3.9d], MAE = |d| + |0.9-3.9d|/2:
#   0.45 - 0.95d up to d = 0.9/3.9 = 0.2308, then 2.95d - 0.45. On the grid d = 0.23 (c = 0.77)
#   gives 0.2315 and d = 0.24 (c = 0.76) gives 0.258: c = 0.77, MAE 0.2315.
# Final blend 0.77*[0, 0, 0.9, 0.9] + 0.23*D = [0.46, -0.46, 0.003, 0.003].
# Weights: A 1.1*0.77 = 0.847, B -0.1*0.77 = -0.077, C 0, D 0.23.


def shuffled(d):
    return {k: d[k] for k in ("D", "C", "A", "B")}


def test_hand_checked_blend():
    blend = greedy_blend.greedy_search(shuffled(RUNS), Y)
    assert blend.order == ["A", "B", "C", "D"]
    assert blend.coefs == pytest.approx([1.10, 1.0, 0.77])
    assert blend.coefs[0] > 1  # c > 1 won: B has a negative weight
    assert blend.coefs[1] == 1.0  # C skipped
    assert blend.oof_mae == pytest.approx(0.2315)
    np.testing.assert_allclose(blend.oof, [0.46, -0.46, 0.003, 0.003], atol=1e-12)
    assert blend.weights == pytest.approx({"A": 0.847, "B": -0.077, "C": 0.0, "D": 0.23})
    assert sum(blend.weights.values()) == pytest.approx(1.0)
    assert blend.test is None


def test_order_is_by_oof_mae_and_first_pair_always_accepted():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 20, 200)
    oof = {f"r{i}": y + rng.normal(0, s, 200) for i, s in enumerate([3.0, 1.0, 2.0, 0.5, 4.0])}
    blend = greedy_blend.greedy_search(oof, y)
    maes = [greedy_blend.mae(y, oof[r]) for r in blend.order]
    assert maes == sorted(maes)
    assert blend.order[0] == "r3"
    assert blend.oof_mae <= maes[0]
    assert sum(blend.weights.values()) == pytest.approx(1.0)
    np.testing.assert_allclose(
        blend.oof, sum(w * oof[r] for r, w in blend.weights.items()), atol=1e-9
    )


def test_apply_to_test_equals_the_chain_and_the_weights():
    rng = np.random.default_rng(1)
    test = {k: rng.uniform(0, 25, 7) for k in RUNS}
    blend = greedy_blend.greedy_search(RUNS, Y, test)
    a, b, c, d = (test[k] for k in "ABCD")
    manual = 0.77 * (1.0 * (1.1 * a - 0.1 * b) + 0.0 * c) + 0.23 * d
    np.testing.assert_allclose(blend.test, manual, atol=1e-12)
    np.testing.assert_allclose(
        greedy_blend.apply(blend.coefs, blend.order, test), manual, atol=1e-12
    )
    np.testing.assert_allclose(
        blend.test, sum(w * test[r] for r, w in blend.weights.items()), atol=1e-12
    )


def test_single_run_and_input_errors():
    one = greedy_blend.greedy_search({"A": RUNS["A"]}, Y)
    assert one.order == ["A"] and one.coefs == [] and one.weights == {"A": 1.0}
    assert one.oof_mae == pytest.approx(0.5)
    with pytest.raises(ValueError, match="expected 4"):
        greedy_blend.greedy_search({"A": np.zeros(3)}, Y)
    with pytest.raises(ValueError, match="missing for run"):
        greedy_blend.greedy_search(RUNS, Y, {"A": np.zeros(2)})
    with pytest.raises(ValueError, match="3 coefficients for 2 runs"):
        greedy_blend.apply([1, 1, 1], ["A", "B"], RUNS)


def test_grid_and_writeup_chain():
    assert len(greedy_blend.COEF_GRID) == 111
    assert greedy_blend.COEF_GRID[0] == 0.0 and greedy_blend.COEF_GRID[-1] == 1.1
    assert len(greedy_blend.WRITEUP_COEFS) == 11
