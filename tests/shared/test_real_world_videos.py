"""Videos like the ones field cameras write, made here with the bundled ffmpeg: ASF with the
Microsoft MPEG-4 codec, MPEG-4 AVI and H.264 MP4, 1 fps and 30 fps, 80x60 up to 320x180, in
folders whose names have spaces, dots and non-ASCII letters (real examples: zamba's test clips
in ../shared/data/real-videos, checked at the end when that folder exists)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from lib.video import VideoError, ffmpeg_exe, frames_at_1fps, frames_at_seconds, index_video, probe

SHARED_CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-videos"

# (relative path, codec, fps, width x height, seconds)
CLIPS = [
    ("chimpandsee/Trip_5/card 1.2_location/PICT0074.ASF", "msmpeg4", 1, "80x60", 12),
    ("noemie/Videos_All/Taï_T124/Taï_cam61 2016/f4636736.avi", "mpeg4", 1, "106x60", 9),
    ("dzanga sangha/T10/Second visit/01170043.MP4", "libx264", 1, "106x60", 6),
    ("savanna/Grumeti Tanzania/K38_check3/09190048_Hyëna.AVI", "mpeg4", 30, "90x60", 4),
    ("chimp_320x180_30fps.mp4", "libx264", 30, "320x180", 5),
]


def _make(path: Path, codec: str, fps: int, size: str, seconds: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "lavfi",
        "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
        "-c:v", codec, "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def field_clips(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("field videos")
    for rel, codec, fps, size, seconds in CLIPS:
        _make(root / rel, codec, fps, size, seconds)
    return root


@pytest.mark.parametrize("rel, codec, fps, size, seconds", CLIPS)
def test_probe_and_frames_of_field_like_clips(field_clips, rel, codec, fps, size, seconds):
    info = probe(field_clips / rel)
    assert f"{info.width}x{info.height}" == size
    assert info.fps == pytest.approx(fps, rel=0.01)
    assert info.duration == pytest.approx(seconds, abs=1.01)
    frames = frames_at_1fps(field_clips / rel, 1000)
    assert abs(len(frames) - seconds) <= 1 and all(f[:2] == b"\xff\xd8" for f in frames)


def test_predict_cli_reads_every_field_clip(field_clips, tiny_bundle, tmp_path):
    from lib.predict.__main__ import main

    out = tmp_path / "field.csv"
    code = main(["chimpact", "--bundle", str(tiny_bundle[0]), "--videos", str(field_clips),
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    rows = pd.read_csv(out)
    assert pd.read_csv(tmp_path / "field.errors.csv").empty
    per_video = rows.groupby("filepath")["time"].agg(["min", "max", "count"])
    assert len(per_video) == len(CLIPS)
    assert (per_video["min"] == 0).all() and (per_video["count"] == per_video["max"] + 1).all()
    assert rows["distance"].notna().all()
    assert any("Taï_cam61 2016" in p for p in per_video.index)


@pytest.mark.skipif(not SHARED_CLIPS.is_dir(), reason="real clips are not in this checkout")
def test_real_camera_trap_clips_probe_and_decode():
    clips = sorted(p for p in SHARED_CLIPS.rglob("*") if p.is_file() and p.suffix.lower() in
                   (".avi", ".mp4", ".asf"))  # fmt: skip
    assert len(clips) >= 20
    failures, dropped = {}, 0
    for clip in clips:
        try:
            info = probe(clip)
            reference = frames_at_1fps(clip, 1000)
            assert len(reference) >= int(info.duration) - 1
        except VideoError as exc:
            failures[str(clip)] = str(exc)
            continue
        needed = [*range(1, len(reference), 3), len(reference) + 2]  # seeks, drops, the end
        index = index_video(clip)
        got = frames_at_seconds(clip, needed, index=index, seek_cost=0, one_pass_share=9)
        assert not got.fallback, clip
        assert [got.frames[min(k, got.last)] for k in needed] == [
            reference[min(k, len(reference) - 1)] for k in needed
        ], clip
        dropped += got.frames_decoded < index.frames
    assert not failures
    assert dropped >= 3  # the clips with B-frames (H.264 High profile) decode fewer frames
