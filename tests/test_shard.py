"""`--shard i/N`: parsing, a stable partition, and sharded extraction equal to a single run."""

import shutil

import pandas as pd
import pytest

from lib import fileio, shard
from lib.chimpact import extract, extract_cli, schema


@pytest.mark.parametrize(
    ("spec", "expected"), [("0/1", (0, 1)), ("1/4", (1, 4)), (" 3 / 4 ", (3, 4))]
)
def test_parse_reads_index_and_count(spec, expected):
    s = shard.parse(spec)
    assert (s.index, s.count) == expected
    assert str(s) == f"{expected[0]}/{expected[1]}"


def test_no_spec_is_the_whole():
    assert shard.parse(None) == shard.parse("") == shard.WHOLE
    assert shard.WHOLE.whole and not shard.parse("0/2").whole


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
    with pytest.raises(shard.ShardError, match=message):
        shard.parse(spec)


def test_every_key_is_in_exactly_one_shard_and_stays_there():
    keys = [f"train/v{i:04d}.mp4" for i in range(500)]
    for count in (1, 2, 3, 7):
        parts = [shard.Shard(i, count).select(keys, key=str) for i in range(count)]
        assert sorted(k for p in parts for k in p) == sorted(keys)
        assert sum(len(p) for p in parts) == len(keys)
        if count > 1:  # roughly balanced
            assert min(len(p) for p in parts) > len(keys) / count * 0.7
    # a key's shard does not depend on which other keys exist
    alone = [shard.assign(k, 3) for k in keys[:10]]
    assert alone == [shard.assign(k, 3) for k in keys][:10]
    assert shard.assign("train/aany.mp4", 4) == shard.assign("train/aany.mp4", 4)


# ---------------------------------------------------------------- sharded extraction


def _frames(work):
    root = work / "frames"
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.jpg"))}


def _comparable(manifest):
    return manifest.drop(columns=["seconds"]).reset_index(drop=True)


def test_two_shards_in_one_folder_equal_a_single_run(tiny_chimpact, tiny_extracted, tmp_path):
    data, single_work, single = tiny_extracted
    work = tmp_path / "work"
    first = extract.run(data, work, workers=1, progress=False, shard=shard.parse("0/2"))
    assert not (work / "extract" / "manifest.csv").exists()  # half the videos are missing
    second = extract.run(data, work, workers=1, progress=False, shard=shard.parse("1/2"))
    assert len(first) and len(second)
    assert not set(first["video_id"]) & set(second["video_id"])
    # the last shard to finish assembled the global manifest: equal to the single run's
    merged = extract.load_manifest(work)
    pd.testing.assert_frame_equal(_comparable(merged), _comparable(single), check_dtype=False)
    assert _frames(work) == _frames(single_work)
    summary = fileio.read_json(work / "extract" / "summary.json")
    assert summary["videos"] == len(single) and summary["ok"] == len(single)
    per_shard = work / "extract" / "shards"
    assert {p.name for p in per_shard.iterdir()} == {"0-of-2", "1-of-2"}


def test_shards_in_separate_folders_merge_after_copying(tiny_extracted, tmp_path):
    data, single_work, single = tiny_extracted
    works = [tmp_path / f"w{i}" for i in range(2)]
    for i, work in enumerate(works):
        extract.run(data, work, workers=2, progress=False, shard=shard.Shard(i, 2))
    union = tmp_path / "union"
    for work in works:
        for part in ("frames", "extract/videos"):
            shutil.copytree(work / part, union / part, dirs_exist_ok=True)
    assert extract_cli.main(["--data", str(data.root), "--work", str(union), "--merge"]) == 0
    merged = extract.load_manifest(union)
    pd.testing.assert_frame_equal(_comparable(merged), _comparable(single), check_dtype=False)
    assert _frames(union) == _frames(single_work)


def test_merge_reports_missing_videos(tiny_extracted, tmp_path, capsys):
    data, _, _ = tiny_extracted
    work = tmp_path / "work"
    extract.run(data, work, workers=1, progress=False, shard=shard.parse("1/3"))
    code = extract_cli.main(["--data", str(data.root), "--work", str(work), "--merge"])
    assert code == 1
    assert "have no finished entry" in capsys.readouterr().err


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
    assert code == 0
    owned = shard.parse("0/2").select(extract.plan(data), key=extract.job_key)
    out = capsys.readouterr().out
    assert '"shard": "0/2"' in out and f'"videos": {len(owned)}' in out
