import numpy as np
import pandas as pd
import pytest

from lib.chimpact import submission
from lib.chimpact.submission import SubmissionError


@pytest.fixture
def fmt():
    return pd.DataFrame(
        {
            "video_id": ["aany.mp4", "aany.mp4", "bbcd.avi", "zzz1.mp4", "zzz1.mp4"],
            "time": [0, 10, 4, 2, 60],
            "distance": [1.0] * 5,
        }
    )


@pytest.fixture
def sub(fmt):
    out = fmt.copy()
    out["distance"] = [0.5, 3.0, 13.5, 25.0, 0.0]
    return out


def test_valid_submission_passes(sub, fmt):
    submission.validate(sub, fmt)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.rename(columns={"distance": "dist"}), "columns must be exactly"),
        (lambda s: s[["video_id", "distance", "time"]], "columns must be exactly"),
        (lambda s: s.drop(index=2).reset_index(drop=True), "has 4 rows but the format has 5"),
        (
            lambda s: pd.concat([s, s.iloc[[0]]], ignore_index=True),
            "has 6 rows but the format has 5",
        ),
        (
            lambda s: s.iloc[[1, 0, 2, 3, 4]].reset_index(drop=True),
            "in a different order: first difference at row 0",
        ),
        (lambda s: s.assign(time=[0, 10, 4, 2, 58]), "1 (video_id, time) key(s) not in the"),
        (lambda s: s.assign(distance=[0.5, np.nan, 1, 1, 1]), "missing, non-numeric or infinite"),
        (lambda s: s.assign(distance=[0.5, np.inf, 1, 1, 1]), "missing, non-numeric or infinite"),
        (lambda s: s.assign(distance=[0.5, 1, -0.2, 1, 1]), "1 distance value(s) are negative"),
    ],
)
def test_validation_errors(sub, fmt, change, message):
    with pytest.raises(SubmissionError) as err:
        submission.validate(change(sub), fmt)
    assert message in str(err.value)


def test_make_joins_by_keys_not_order(fmt):
    pred = pd.DataFrame(
        {
            "video_id": ["zzz1.mp4", "aany.mp4", "extra.mp4", "bbcd.avi", "zzz1.mp4", "aany.mp4"],
            "time": [60.0, 10.0, 3.0, 4.0, 2.0, 0.0],  # float times still match by value
            "distance": [20.0, 3.0, 9.0, 13.5, 25.0, 0.5],
        }
    )
    out = submission.make(pred, fmt, snap=False)
    assert list(out.columns) == ["video_id", "time", "distance"]
    pd.testing.assert_frame_equal(out[["video_id", "time"]], fmt[["video_id", "time"]])
    assert out["distance"].tolist() == [0.5, 3.0, 13.5, 25.0, 20.0]


def test_make_names_missing_keys(fmt):
    pred = fmt.iloc[[0, 2, 3]].assign(distance=2.0)
    with pytest.raises(SubmissionError, match=r"2 of 5 format row\(s\) have no prediction") as err:
        submission.make(pred, fmt)
    assert "aany.mp4@10s" in str(err.value) and "zzz1.mp4@60s" in str(err.value)


def test_make_rejects_duplicate_predictions(fmt):
    pred = pd.concat([fmt, fmt.iloc[[1]]], ignore_index=True)
    with pytest.raises(SubmissionError, match="repeat 2"):
        submission.make(pred, fmt)


def test_make_snaps_to_the_distance_grid(fmt):
    pred = fmt.assign(distance=[-0.3, 8.4, 13.3, 24.6, 12.74])
    out = submission.make(pred, fmt)
    # 8.4 -> 8.0 (next value is 9), 13.3 -> 13.5, 12.74 -> 13.0, negatives -> 0.
    assert out["distance"].tolist() == [0.0, 8.0, 13.5, 25.0, 13.0]
    with pytest.raises(SubmissionError, match="negative"):
        submission.make(pred, fmt, snap=False)


def test_make_keeps_nan_predictions_as_errors(fmt):
    pred = fmt.assign(distance=[1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(SubmissionError, match="aany.mp4@10s"):
        submission.make(pred, fmt)


def test_write_validates_then_writes(tmp_path, sub, fmt):
    path = tmp_path / "out" / "submission.csv"
    submission.write(sub, fmt, path)
    back = pd.read_csv(path)
    pd.testing.assert_frame_equal(back, sub)
    with pytest.raises(SubmissionError):
        submission.write(sub.iloc[:3], fmt, tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()
