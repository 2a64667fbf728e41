import pytest

from lib.chimpact.windows import LENGTH, middle, needed_seconds, window


def test_window_in_the_middle_of_a_video():
    assert window(20, 1, 59) == list(range(15, 26))
    assert window(20, 2, 59) == list(range(10, 31, 2))


def test_edges_repeat_the_first_and_last_frame():
    assert window(1, 2, 30) == [0, 0, 0, 0, 0, 1, 3, 5, 7, 9, 11]
    assert window(28, 1, 29) == [23, 24, 25, 26, 27, 28, 29, 29, 29, 29, 29]


def test_target_past_the_end_is_clamped_to_the_last_frame():
    seq = window(62, 1, 59)
    assert seq[5] == 59 and max(seq) == 59 and seq[0] == 57


def test_single_frame_video():
    assert window(0, 2, 0) == [0] * LENGTH


def test_needed_seconds_cover_every_window_of_both_steps():
    needed = set(needed_seconds([0, 30]))
    for t in (0, 30):
        for step in (1, 2):
            assert set(window(t, step, 10_000)) <= needed
    assert min(needed) == 0 and max(needed) == 40
    assert 39 not in needed  # only even offsets beyond +5 with step 2


@pytest.mark.parametrize(
    ("frames", "expected"), [(7, slice(2, 9)), (9, slice(1, 10)), (11, slice(0, 11))]
)
def test_middle_frames(frames, expected):
    assert middle(frames) == expected
    assert list(range(LENGTH))[middle(frames)][len(range(frames)) // 2] == 5  # target stays centred


def test_middle_rejects_even_counts():
    with pytest.raises(ValueError, match="odd"):
        middle(8)
