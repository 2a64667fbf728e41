"""`--shard i/N`: parsing, a stable partition, and sharded extraction equal to a single run
(the stage engine selects each shard's items; the last shard to finish writes the manifest)."""

import pandas as pd
import pytest

from lib import fileio, stages
from lib.chimpact import extract, extract_cli, schema


@pytest.mark.parametrize(
    ("spec", "expected"), [("0/1", (0, 1)), ("1/4", (1, 4)), (" 3 / 4 ", (3, 4))]
)
def test_parse_reads_index_and_count(spec, expected):
    s = stages.parse_shard(spec)
    assert (s.index, s.count) == expected
    assert str(s) == f"{expected[0]}/{expected[1]}"


def test_no_spec_is_the_whole():
    assert stages.parse_shard(None) == stages.parse_shard("") == stages.WHOLE
    assert stages.WHOLE.whole and not stages.parse_shard("0/2").whole


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("4/4", "between 0 and 3"),
        ("5/4", "between 0 and 3"),
        ("0/0", "at least 1"),
        ("a/b", "i/N"),
        ("1", "i/N"),
        ("-1/4", "i/N"),
        ("1/4/2", "i/N"),
        ("1.5/4", "i/N"),
    ],
)
def test_malformed_specs_are_refused_clearly(spec, message):
    with pytest.raises(stages.ShardError, match=message):
        stages.parse_shard(spec)


def test_every_key_is_in_exactly_one_shard_and_stays_there():
    keys = [f"train/v{i:04d}.mp4" for i in range(500)]
    for count in (1, 2, 3, 7):
        parts = [stages.Shard(i, count).select(keys, key=str) for i in range(count)]
        assert sorted(k for p in parts for k in p) == sorted(keys)
        assert sum(len(p) for p in parts) == len(keys)
        if count > 1:  # roughly balanced
            assert min(len(p) for p in parts) > len(keys) / count * 0.7
    # a key's shard does not depend on which other keys exist
    alone = [stages.assign(k, 3) for k in keys[:10]]
    assert alone == [stages.assign(k, 3) for k in keys][:10]
    assert stages.assign("train/aany.mp4", 4) == stages.assign("train/aany.mp4", 4)


# ---------------------------------------------------------------- sharded extraction


def _frames(work):
    root = work / "frames"
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.jpg"))}


def _comparable(manifest):
    return manifest.reset_index(drop=True)


def test_two_shards_in_one_folder_equal_a_single_run(tiny_chimpact, tiny_extracted, tmp_path):
    data, single_work, single = tiny_extracted
    work = tmp_path / "work"
    first = extract.run(data, work, workers=1, progress=False, shard=stages.parse_shard("0/2"))
    assert not (work / "extract" / "manifest.csv").exists()  # half the videos are missing
    second = extract.run(data, work, workers=1, progress=False, shard=stages.parse_shard("1/2"))
    assert len(first) < len(second) == len(single)  # the second sees the first's records too
    # the last shard to finish wrote the global manifest: equal to the single run's
    merged = extract.load_manifest(work)
    pd.testing.assert_frame_equal(_comparable(merged), _comparable(single), check_dtype=False)
    assert _frames(work) == _frames(single_work)
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["videos"] == len(single) and summary["ok"] == len(single)
    assert summary["engine"]["selected"] == len(single) - len(first)


@pytest.mark.parametrize("spec", ["4/4", "a/b"])
def test_the_command_line_refuses_a_bad_shard(tiny_chimpact, tmp_path, capsys, spec):
    with pytest.raises(SystemExit) as exc:
        extract_cli.main(["--data", str(tiny_chimpact), "--work", str(tmp_path), "--shard", spec])
    assert exc.value.code == 2
    assert "--shard" in capsys.readouterr().err


def test_the_command_line_runs_a_shard(tiny_chimpact, tmp_path, capsys):
    data = schema.load(tiny_chimpact)
    code = extract_cli.main(
        ["--data", str(tiny_chimpact), "--work", str(tmp_path), "--shard", "0/2", "--quiet"]
    )
    assert code == 1  # the other half is still to do
    owned = stages.parse_shard("0/2").select(extract.items(extract.plan(data), tmp_path),
                                            key=lambda it: it.name)  # fmt: skip
    out = capsys.readouterr().out
    assert '"shard": "0/2"' in out and f'"videos": {len(owned)}' in out
    assert '"stage_complete": false' in out
