"""bench/step_profile.py: the traced ops of a demo-model step land in the groups they belong to."""

import pytest

from bench import step_profile


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("gradient_tape/cnn_lstm_small_1/small_cnn_1/conv2d_1/convolution/"
         "Conv2DBackpropFilter:_MklNativeConv2DBackpropFilter", "conv"),
        ("cnn_lstm_small_1/small_cnn_1/batch_normalization_1/moments/SquaredDifference:"
         "SquaredDifference", "batchnorm"),
        ("cnn_lstm_small_1/small_cnn_1/max_pooling2d/MaxPool:_MklMaxPool", "maxpool"),
        ("cnn_lstm_small_1/lstm_1/while/MatMul:MatMul", "lstm"),
        ("cnn_lstm_small_1/concat:ConcatV2", "input channels"),
        ("adam/Sub_3:Sub", "optimizer"),
        ("AddN_7:AddN", "other"),
    ],
)  # fmt: skip
def test_ops_are_grouped_by_their_scope_and_kind(op, expected):
    assert step_profile.group(op) == expected


@pytest.mark.slow
def test_a_traced_step_is_shared_out_among_the_model_s_parts():
    small = {"image_size": 32, "lstm_units": 16, "dense_units": 8}
    result = step_profile.profile(
        ["pool_stem", "pool_first"], steps=2, reps=2, batch_size=4, **small
    )
    assert result["reps"] == 2 and set(result["layouts"]) == {"pool_stem", "pool_first"}
    for layout in result["layouts"].values():
        groups = layout["ms_per_step"]
        assert set(groups) == set(step_profile.GROUPS)
        for part in ("conv", "batchnorm", "maxpool", "lstm", "input channels"):
            assert groups[part] > 0, part
        assert groups["other"] < 0.5 * layout["ops_ms_per_step"]
        assert 0 < layout["ops_ms_per_step"] and 0 < layout["wall_ms_per_step"]
