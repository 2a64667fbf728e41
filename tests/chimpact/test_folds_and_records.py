import numpy as np
import pandas as pd
import pytest

from lib import folds, tfrecord_io


def _rows(n_videos=12, per_video=3):
    return pd.DataFrame(
        [
            {"video_id": f"v{v:02d}.mp4", "time": t, "site_id": f"s{v % 4}"}
            for v in range(n_videos)
            for t in range(per_video)
        ]
    )


@pytest.mark.parametrize(("group_by", "column"), [("video", "video_id"), ("site", "site_id")])
def test_no_group_in_two_folds(group_by, column):
    rows = _rows()
    fold = folds.assign(rows, n_splits=4, group_by=group_by, seed=1)
    assert set(fold) == {0, 1, 2, 3}
    assert (rows.assign(fold=fold).groupby(column)["fold"].nunique() == 1).all()


def test_folds_are_fixed_by_the_seed():
    rows = _rows(30)
    a = folds.assign(rows, seed=3)
    assert a.equals(folds.assign(rows, seed=3))
    assert not a.equals(folds.assign(rows, seed=4))


def test_too_few_groups_is_a_clear_error():
    with pytest.raises(ValueError, match="only 3 distinct video_id"):
        folds.assign(_rows(3), n_splits=5)


SPEC = {
    "frames": tfrecord_io.Field("bytes", 3),
    "distance": tfrecord_io.Field("float"),
    "video_id": tfrecord_io.Field("bytes"),
    "time": tfrecord_io.Field("int"),
}


def test_tfrecord_round_trip_in_count_named_shards(tmp_path):
    items = [
        {
            "frames": [bytes([i, j]) for j in range(3)],
            "distance": i / 2,
            "video_id": f"v{i}.mp4",
            "time": i,
        }
        for i in range(10)
    ]
    shards = tfrecord_io.write_shards(items, tmp_path, "fold0", SPEC, shard_size=4)
    assert [s["count"] for s in shards] == [3, 3, 4]
    assert all(tfrecord_io.record_count(s["file"]) == s["count"] for s in shards)
    back = list(tfrecord_io.read(sorted(tmp_path.glob("*.tfrec")), SPEC))
    assert [b["video_id"].decode() for b in back] == [i["video_id"] for i in items]
    assert np.allclose([b["distance"] for b in back], [i["distance"] for i in items])
    assert [list(b["frames"]) for b in back] == [i["frames"] for i in items]
    assert [int(b["time"]) for b in back] == list(range(10))


def test_existing_complete_shards_are_not_rewritten(tmp_path):
    items = [{"frames": [b"a", b"b", b"c"], "distance": 1.0, "video_id": "v", "time": 0}] * 4
    calls = []

    def make(item):
        calls.append(1)
        return item

    tfrecord_io.write_shards(items, tmp_path, "test", SPEC, shard_size=2, make=make)
    assert len(calls) == 4
    tfrecord_io.write_shards(items, tmp_path, "test", SPEC, shard_size=2, make=make)
    assert len(calls) == 4
    assert not list(tmp_path.glob(".*tmp"))


def test_serialize_rejects_a_wrong_length():
    with pytest.raises(ValueError, match="frames"):
        tfrecord_io.serialize({"frames": [b"a"], "distance": 1.0, "video_id": "v", "time": 0}, SPEC)
