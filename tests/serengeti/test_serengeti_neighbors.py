"""Neighbour-camera features on a hand-made table, and against a brute-force loop."""

import numpy as np
import pandas as pd
import pytest

from lib.serengeti import neighbors

T0 = pd.Timestamp("2012-03-04 05:06:00")


def _table(rows):
    frame = pd.DataFrame(rows, columns=["seq_id", "season", "site", "seconds", "zebra", "empty"])
    frame["datetime"] = T0 + pd.to_timedelta(frame.pop("seconds"), unit="s")  # None -> NaT
    return frame


HAND = _table(
    [
        ("s1", 1, "A", 0, 0.9, 0.0),
        ("s2", 1, "B", 5, 0.5, 0.2),
        ("s3", 1, "A", 3, 0.1, 0.8),  # same camera as s1: never its neighbour
        ("s4", 1, "C", 15, 0.2, 0.6),  # exactly 10 s after s2: inside a 10 s window
        ("s5", 1, "C", 16, 0.7, 0.3),  # 11 s after s2: outside
        ("s6", 2, "B", 0, 1.0, 0.0),  # same clock time as s1, other season: never mixed
        ("s7", 1, "D", None, 0.3, 0.3),  # no datetime
    ]
)


def test_hand_made_table():
    out = neighbors.neighbor_features(HAND, window_s=10, classes=["zebra", "empty"])
    assert list(out.columns) == [
        "seq_id", "nb_count", "nb_mean_zebra", "nb_mean_empty", "nb_max_zebra", "nb_max_empty"
    ]  # fmt: skip
    out = out.set_index("seq_id")
    count = out["nb_count"]
    assert count[["s1", "s2", "s3", "s4", "s5", "s6"]].tolist() == [1, 3, 1, 1, 0, 0]
    assert np.isnan(count["s7"])
    assert out.loc["s1", "nb_mean_zebra"] == pytest.approx(0.5)  # only s2
    assert out.loc["s2", "nb_mean_zebra"] == pytest.approx((0.9 + 0.1 + 0.2) / 3)
    assert out.loc["s2", "nb_max_zebra"] == pytest.approx(0.9)
    assert out.loc["s2", "nb_max_empty"] == pytest.approx(0.8)
    assert out.loc["s4", "nb_mean_empty"] == pytest.approx(0.2)  # s2 at the window edge
    for seq in ("s5", "s6", "s7"):  # nobody around, or no time: missing, not a fake score
        assert out.loc[seq, ["nb_mean_zebra", "nb_max_zebra"]].isna().all()


def test_zero_window_means_same_second_only():
    table = HAND.copy()
    table.loc[table["seq_id"] == "s3", "site"] = "E"
    table.loc[table["seq_id"] == "s3", "datetime"] = T0  # same second as s1, other camera
    out = neighbors.neighbor_features(table, 0, classes=["zebra", "empty"]).set_index("seq_id")
    assert out.loc["s1", "nb_count"] == 1 and out.loc["s1", "nb_mean_zebra"] == pytest.approx(0.1)
    assert out.loc["s2", "nb_count"] == 0


def test_matches_a_brute_force_loop():
    rng = np.random.default_rng(3)
    n = 300
    table = pd.DataFrame(
        {
            "seq_id": [f"q{i}" for i in range(n)],
            "season": rng.integers(1, 3, n),
            "site": rng.choice(list("ABCDEFG"), n),
            "datetime": T0 + pd.to_timedelta(rng.integers(0, 600, n), unit="s"),
            "zebra": rng.random(n),
            "empty": rng.random(n),
        }
    )
    table.loc[rng.choice(n, 10, replace=False), "datetime"] = pd.NaT
    window = 30
    out = neighbors.neighbor_features(table, window, classes=["zebra", "empty"])
    t = table["datetime"]
    for i in range(n):
        if pd.isna(t[i]):
            assert np.isnan(out.loc[i, "nb_count"])
            continue
        dt = (t - t[i]).dt.total_seconds().abs()
        mask = (
            (table["season"] == table["season"][i])
            & (table["site"] != table["site"][i])
            & (dt <= window)
        ).to_numpy()
        assert out.loc[i, "nb_count"] == mask.sum()
        if mask.any():
            assert out.loc[i, "nb_mean_zebra"] == pytest.approx(table["zebra"][mask].mean())
            assert out.loc[i, "nb_max_empty"] == pytest.approx(table["empty"][mask].max())
        else:
            assert np.isnan(out.loc[i, "nb_mean_zebra"])
    assert list(out["seq_id"]) == list(table["seq_id"])  # input order kept


def test_bad_input():
    with pytest.raises(ValueError, match="window_s"):
        neighbors.neighbor_features(HAND, -1, classes=["zebra"])
    with pytest.raises(ValueError, match="lacks column"):
        neighbors.neighbor_features(HAND.drop(columns="site"), 5, classes=["zebra"])
    with pytest.raises(ValueError, match="finite"):
        neighbors.neighbor_features(HAND.assign(zebra=np.nan), 5, classes=["zebra"])
