from datetime import datetime

import pytest

from lib.chimpact import runid
from lib.chimpact.runid import RunIdError, make, parse

# The write-up's table of runs and their CV MAE.
PUBLISHED = {
    "run-20211101-1526-down-a1p50-f7s1": 1.4054,
    "run-20211101-2141-down-a1p50-f9s1": 1.4302,
    "run-20211103-1552-down-a2p50-f7s1": 1.3936,
    "run-20211103-1744-down-a2p80-f7s1": 1.4306,
    "run-20211103-1749-down-a1p80-f7s1": 1.4645,
    "run-20211104-1815-down-a4p50-f7s1": 1.3861,
    "run-20211107-0019-down-a4p50-f7s2": 1.4173,
    "run-20211113-1639-full-a1p50-f7s1": 1.3903,
    "run-20211113-1642-full-a1p50-f9s1": 1.3874,
    "run-20211113-1645-full-a2p50-f7s1": 1.3588,
    "run-20211113-1648-full-a4p50-f7s1": 1.3382,
    "run-20211113-1847-full-a4p50-f7s2": 1.3806,
}


def test_registry_is_the_writeup_table():
    table = runid.registry()
    assert list(table.columns) == ["run_id", "writeup_cv_mae"]
    assert dict(zip(table["run_id"], table["writeup_cv_mae"], strict=True)) == PUBLISHED
    assert runid.WRITEUP_RUNS == tuple(PUBLISHED.items())


@pytest.mark.parametrize("run_id", list(PUBLISHED))
def test_registry_ids_parse_and_round_trip(run_id):
    spec = parse(run_id)
    assert make(spec.source, spec.policy, spec.prob, spec.frames, spec.step, spec.date) == run_id


def test_parse_fields():
    spec = parse("run-20211113-1847-full-a4p80-f9s2")
    assert spec.date == datetime(2021, 11, 13, 18, 47)
    assert (spec.source, spec.policy, spec.prob, spec.frames, spec.step) == (
        "full",
        "a4",
        0.8,
        9,
        2,
    )
    assert spec.dataset == "full-s2"
    assert parse("run-20211101-1526-down-a1p50-f7s1").dataset == "down-s1"


def test_quick_runs():
    assert runid.quick_runs() == [
        "run-20211104-1815-down-a4p50-f7s1",
        "run-20211113-1648-full-a4p50-f7s1",
    ]


GOOD = "run-20211101-1526-down-a1p50-f7s1"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("rum-20211101-1526-down-a1p50-f7s1", "must start with 'run-', found 'rum'"),
        ("run-20211101-1526-dwn-a1p50-f7s1", "source 'dwn' is not one of down, full"),
        ("run-20211101-1526-down-a3p50-f7s1", "augmentation policy 'a3' is not one of a1, a2, a4"),
        ("run-20211101-1526-down-a1p60-f7s1", "augmentation probability 'p60' is not one of"),
        ("run-20211101-1526-down-a1p50-f8s1", "frame count 'f8' is not one of f7, f9"),
        ("run-20211101-1526-down-a1p50-f7s3", "time step 's3' is not one of s1, s2"),
        ("run-20211301-1526-down-a1p50-f7s1", "date '20211301' is not a real calendar date"),
        ("run-20211101-1561-down-a1p50-f7s1", "(minute 61 > 59)"),
        ("run-20211101-2460-down-a1p50-f7s1", "(hour 24 > 23)"),
        ("run-20211101-1526-a1p50-f7s1", "missing source (down|full)"),
        ("run-1526-down-a1p50-f7s1", "missing date (YYYYMMDD)"),
        ("run-20211101-1526-down-a1p50-f7s1-x", "unexpected extra part(s) ['x']"),
        ("run-20211101-1526-down-a1p50-f7s1x", "time step 's1x' is not one of s1, s2"),
        ("run-20211101-1526-down-x1p50-f7s1", "augmentation part 'x1p50' must look like"),
        ("run-2021110-1526-down-a1p50-f7s1", "date '2021110' must be 8 digits"),
    ],
)
def test_malformed_ids_name_the_bad_part(bad, message):
    with pytest.raises(RunIdError) as err:
        parse(bad)
    text = str(err.value)
    assert text.startswith(bad + ": ")
    assert message in text
    assert runid.PATTERN in text  # the full expected pattern is always shown


def test_parse_rejects_non_strings():
    with pytest.raises(RunIdError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]


def test_make_validates_and_defaults_to_now():
    run = make("full", "a2", 0.5, 9, 1)
    assert parse(run).source == "full"
    when = datetime(2024, 2, 29, 7, 5)
    assert make("down", "a4", 0.8, 7, 2, when) == "run-20240229-0705-down-a4p80-f7s2"
    for kwargs, message in [
        ({"source": "half"}, "source 'half'"),
        ({"policy": "a3"}, "augmentation policy 'a3'"),
        ({"prob": 0.6}, "probability 0.6"),
        ({"frames": 8}, "frame count 8"),
        ({"step": True}, "time step True"),
    ]:
        args = {"source": "down", "policy": "a1", "prob": 0.5, "frames": 7, "step": 1} | kwargs
        with pytest.raises(RunIdError, match=message):
            make(**args, when=when)
