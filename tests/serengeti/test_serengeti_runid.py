from datetime import datetime

import pytest

from lib import runs
from lib.serengeti import runid
from lib.serengeti.runid import RunIdError, make, parse

# The write-up's public leaderboard ladder, in its order.
LADDER = [
    ("MobileNetV2 + sigmoid", 0.0060),
    ("InceptionResNetV2", 0.0045),
    ("resize fix", 0.0038),
    ("boosting", 0.0028),
    ("two-stream", 0.0027),
    ("second booster", 0.0020),
    ("flip TTA", 0.0022),
]


def test_registry_lists_the_ladder_with_the_writeup_scores():
    table = runid.registry()
    assert list(table.columns) == runid.REGISTRY_COLUMNS
    scored = table.dropna(subset=["writeup_public_logloss"])
    assert list(zip(scored["step"], scored["writeup_public_logloss"], strict=True)) == LADDER
    empty = table.dropna(subset=["writeup_empty_logloss"]).set_index("step")
    assert empty["writeup_empty_logloss"].to_dict() == {"resize fix": 0.045, "background": 0.035}


def test_each_network_step_is_a_run_id():
    steps = runid.registry().set_index("step")["run_id"]
    kinds = {step: parse(r) for step, r in steps.items() if r}
    assert set(kinds) == {
        "softmax control", "MobileNetV2 + sigmoid", "InceptionResNetV2", "resize fix",
        "background", "two-stream",
    }  # fmt: skip

    def parts(step):
        s = kinds[step]
        return (s.model, s.backbone, s.head, s.resize)

    assert parts("softmax control") == ("single", "mnv2", "softmax", "naive")
    assert parts("MobileNetV2 + sigmoid") == ("single", "mnv2", "sigmoid", "naive")
    assert parts("InceptionResNetV2") == ("single", "irv2", "sigmoid", "naive")
    assert parts("resize fix") == ("single", "irv2", "sigmoid", "flow")
    assert parts("background") == ("background", "irv2", "sigmoid", "flow")
    assert parts("two-stream") == ("twostream", "irv2", "sigmoid", "flow")
    assert not steps["boosting"] and not steps["flip TTA"]  # not one network
    assert runid.model_runs() == [r for r in steps if r]


@pytest.mark.parametrize("run_id", runid.model_runs())
def test_registry_ids_round_trip(run_id):
    s = parse(run_id)
    assert make(s.model, s.backbone, s.head, s.resize, s.date) == run_id


def test_parse_fields_and_parents():
    s = parse("run-20200105-0930-twostream-small-sigmoid-flow")
    assert s.date == datetime(2020, 1, 5, 9, 30)
    assert (s.model, s.backbone, s.head, s.resize, s.train_resize) == (
        "twostream", "small", "sigmoid", "flow", "flow"
    )  # fmt: skip
    assert s.parents == ("single", "background")
    assert parse("run-20200105-0930-single-mnv2-sigmoid-naive").train_resize == "flow"


def test_quick_runs_and_parent_lookup():
    quick = runid.quick_runs()
    assert [parse(r).model for r in quick] == ["single", "background", "twostream"]
    assert runs.planned("serengeti", "quick") == quick
    assert runs.planned("serengeti", "demo") == runid.model_runs()
    cands = [
        *runid.model_runs(),
        "run-20191230-1000-single-irv2-sigmoid-flow",  # a later single run wins
        "run-20191231-1000-single-mnv2-sigmoid-flow",  # other backbone: ignored
    ]
    bg = "run-20191226-1000-background-irv2-sigmoid-flow"
    assert runid.parent_of(bg, "single", cands) == "run-20191230-1000-single-irv2-sigmoid-flow"
    two = "run-20200105-1000-twostream-irv2-sigmoid-flow"
    assert runid.parent_of(two, "background", cands) == bg
    with pytest.raises(ValueError, match="no single-small-sigmoid-flow run"):
        runid.parent_of("run-20200105-1000-background-small-sigmoid-flow", "single", cands)
    with pytest.raises(ValueError, match="has no 'background' parent"):
        runid.parent_of(bg, "background", cands)


GOOD = "run-20191219-1000-single-irv2-sigmoid-flow"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("rum-20191219-1000-single-irv2-sigmoid-flow", "must start with 'run-', found 'rum'"),
        ("run-20191219-1000-double-irv2-sigmoid-flow", "model 'double' is not one of single"),
        ("run-20191219-1000-single-resnet-sigmoid-flow", "backbone 'resnet' is not one of"),
        ("run-20191219-1000-single-irv2-relu-flow", "head 'relu' is not one of softmax, sigmoid"),
        ("run-20191219-1000-single-irv2-sigmoid-bicubic", "resize 'bicubic' is not one of"),
        ("run-20191319-1000-single-irv2-sigmoid-flow", "date '20191319' is not a real calendar"),
        ("run-20191219-2400-single-irv2-sigmoid-flow", "(hour 24 > 23)"),
        ("run-20191219-1060-single-irv2-sigmoid-flow", "(minute 60 > 59)"),
        ("run-2019121-1000-single-irv2-sigmoid-flow", "date '2019121' must be 8 digits"),
        ("run-20191219-1000-irv2-sigmoid-flow", "missing model (single|background|twostream)"),
        ("run-20191219-1000-single-irv2-flow", "missing head (softmax|sigmoid)"),
        ("run-20191219-1000-single-irv2-sigmoid", "missing resize (naive|flow)"),
        ("run-20191219-1000-single-irv2-sigmoid-flow-tta", "unexpected extra part(s) ['tta']"),
        ("run-20191219-1000-background-irv2-softmax-flow", "softmax' is only for the single"),
        (
            "run-20191219-1000-twostream-irv2-sigmoid-naive",
            "needs head 'sigmoid' and resize 'flow'",
        ),
    ],
)
def test_malformed_ids_name_the_bad_part(bad, message):
    with pytest.raises(RunIdError) as err:
        parse(bad)
    text = str(err.value)
    assert text.startswith(bad + ": ")
    assert message in text
    assert runid.PATTERN in text


def test_parse_rejects_non_strings_and_make_validates():
    with pytest.raises(RunIdError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]
    assert parse(make("single", "small", "sigmoid", "flow")).backbone == "small"
    when = datetime(2024, 2, 29, 7, 5)
    assert make("background", "irv2", "sigmoid", "flow", when) == (
        "run-20240229-0705-background-irv2-sigmoid-flow"
    )
    with pytest.raises(RunIdError, match="backbone 'vgg'"):
        make("single", "vgg", "sigmoid", "flow", when)
    with pytest.raises(RunIdError, match="only for the single model"):
        make("twostream", "irv2", "softmax", "flow", when)
