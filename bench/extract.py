"""Frame extraction: our span-seeking extractor vs the write-up's way vs a full decode.

On videos this benchmark makes (deterministic, cached under the work folder): 60 s of
1280x720 at 30 fps, H.264 in .mp4 and MPEG-4 part 2 in .avi at a camera-like ~15 MB/min, with a
keyframe every 2 s (`GOP_S`), a textured static scene, sensor noise, flicker and moving shapes,
so every P-frame carries real residuals. Each benchmark item is one video with the label times
of a real video drawn from the competition's train_labels.csv, and the seconds all four
datasets need (windows of up to 9 frames at steps 1 and 2: `needed_seconds`). Per item:

  (a) ours     - `lib.video.frames_at_seconds` (PyAV in-process: keyframe index + span decode,
                 one thread) and the needed JPEGs written to a folder, as stage 02 does;
  (b) write-up - ffmpeg writes every second of the video as JPEG (fps=1) to disk, then the
                 needed files are read back;
  (c) floor    - ffmpeg decodes the whole video through fps=1 and writes nothing (-f null).

All three decode on one thread at the same JPEG quality ((b) and (c) with the ffmpeg binary).
The three are interleaved within each repetition (their order rotates), so a burst of load
from other users of a shared machine hits all of them alike; each item's figure is the median
over repetitions, and the headline is the median over items of the seconds per video. CPU
seconds (ffmpeg plus this process) are reported beside the wall seconds: on a shared machine
they are the steadier one.
Batch throughput: ~20 items extracted by a process pool of 1 and of 2 workers (one ffmpeg
thread each), as videos per second; `scaling_2_over_1` is the ratio of their medians.

    python -m bench.extract [--quick] [--reps N]   (prints a table, updates latest.json)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib import fileio, paths
from lib.chimpact.windows import needed_seconds
from lib.video import ffmpeg_exe, frames_at_seconds

CODECS = ("mp4", "avi")
GOP_S = 2.0  # keyframe interval of the generated videos
QUALITY = 2  # ffmpeg mjpeg -q:v, as stage 02 stores frames
LABELS_ENV = "CAMTRAP_CHIMPACT_LABELS"  # path of the real train_labels.csv, if elsewhere
RESULTS = paths.ROOT / "bench" / "results" / "latest.json"
TARGETS = {"writeup_over_ours": 3.0, "ours_over_floor": 0.40, "scaling_2_over_1": 1.7}


@dataclass(frozen=True)
class Settings:
    seconds: int
    width: int
    height: int
    fps: int
    videos_per_codec: int  # distinct generated files per codec
    items_per_codec: int  # (video, label pattern) pairs timed per codec
    batch_items: int  # items in the throughput batch (half per codec)
    reps: int
    bitrate: int = 2000  # kbit/s: ~15 MB per minute at 720p, as camera-trap originals
    seed: int = 5


FULL = Settings(60, 1280, 720, 30, videos_per_codec=3, items_per_codec=10, batch_items=20, reps=3)
QUICK = Settings(
    12, 320, 180, 30, videos_per_codec=1, items_per_codec=2, batch_items=4, reps=1, bitrate=250
)


# ---------------------------------------------------------------- inputs


def find_labels() -> Path | None:
    """The real competition label table: $CAMTRAP_CHIMPACT_LABELS, or shared/data/deep-chimpact/
    beside the checkout or one of its parents (the workspace layout)."""
    env = os.environ.get(LABELS_ENV)
    if env:
        return Path(env) if Path(env).is_file() else None
    for folder in (paths.ROOT, *paths.ROOT.parents):
        path = folder / "shared" / "data" / "deep-chimpact" / "train_labels.csv"
        if path.is_file():
            return path
    return None


def label_patterns(count: int, seed: int, seconds: int) -> tuple[list[list[int]], str]:
    """Label time sets of `count` real train videos (a seeded draw), kept to the clip's length;
    returns them and where they came from.

    Without the real table (a fresh clone elsewhere) the demo generator's label-time model,
    fitted to the real table's statistics, stands in, and the result says so.
    """
    labels = find_labels()
    out: list[list[int]] = []
    if labels is not None:
        rng = random.Random(seed)
        table = pd.read_csv(labels, usecols=["video_id", "time"])
        groups = [sorted(int(t) for t in g) for _, g in table.groupby("video_id")["time"]]
        while len(out) < count:
            times = [t for t in rng.choice(groups) if t <= seconds]
            if times:
                out.append(times)
        return out, str(labels)
    from lib.demo.chimpact_plan import draw_row_count, label_times

    gen = np.random.default_rng(seed)
    while len(out) < count:
        out.append(sorted(set(label_times(gen, draw_row_count(gen), last=seconds))))
    return out, "lib.demo label-time model (real table not found)"


def _background(width: int, height: int, seed: int) -> np.ndarray:
    """A static camera-trap-like scene: octaves of smooth colour noise (foliage, litter)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    total = np.zeros((height, width, 3), np.float32)
    for octave, weight in enumerate((0.4, 0.3, 0.2, 0.1)):
        cells = 6 * 2**octave
        small = rng.random((max(2, cells * height // width), cells, 3), dtype=np.float32)
        img = Image.fromarray((small * 255).astype(np.uint8)).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        total += weight * np.asarray(img, np.float32)
    tint = np.array([0.55, 0.75, 0.45], np.float32)  # greenish understory
    return np.clip(total * tint + 15, 0, 255).astype(np.uint8)


def _encode_args(codec: str, s: Settings) -> list[str]:
    gop = str(int(round(GOP_S * s.fps)))
    rate = s.bitrate
    common = ["-b:v", f"{rate}k", "-maxrate", f"{rate * 5 // 4}k", "-bufsize", f"{rate * 2}k"]
    common += ["-g", gop]
    if codec == "mp4":
        return ["-c:v", "libx264", "-preset", "veryfast", *common, "-f", "mp4"]
    return ["-c:v", "mpeg4", "-vtag", "XVID", *common, "-f", "avi"]


def make_video(folder: Path, codec: str, number: int, s: Settings) -> Path:
    """Generate (or reuse) one benchmark video; the name hashes everything that shapes it."""
    spec = json.dumps(
        [codec, number, s.seconds, s.width, s.height, s.fps, s.seed, GOP_S, s.bitrate, 1],
    )
    name = hashlib.sha1(spec.encode(), usedforsecurity=False).hexdigest()[:12]
    path = folder / f"{codec}-{number}-{s.width}x{s.height}-{s.seconds}s-{name}.{codec}"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    seed = s.seed * 1000 + number
    bg = folder / f".bg-{name}.png"
    from PIL import Image

    Image.fromarray(_background(s.width, s.height, seed)).save(bg)
    w, h = s.width, s.height
    aw, ah = max(16, w // 6), max(12, h // 6)
    # two "animals" (textured blobs) crossing the scene, leaves flickering, sensor noise
    graph = (
        f"[0:v]format=yuv420p,eq=brightness='0.03*sin(2*PI*t/5)':eval=frame,"
        f"noise=alls=5:allf=t:all_seed={seed}[bg];"
        f"color=c=0x4a3b2a:s={aw}x{ah}:r={s.fps},format=yuv420p,"
        f"noise=alls=40:all_seed={seed + 1}[a];"
        f"color=c=0x2d2a26:s={aw // 2}x{ah // 2}:r={s.fps},format=yuv420p,"
        f"noise=alls=30:all_seed={seed + 2}[b];"
        f"[bg][a]overlay=x='mod(t*{w / 9:.1f},{w + aw})-{aw}':"
        f"y='{h * 0.55:.0f}+{h * 0.05:.0f}*sin(t*1.7)':shortest=1[ba];"
        f"[ba][b]overlay=x='{w * 0.9:.0f}-mod(t*{w / 14:.1f},{w})':"
        f"y='{h * 0.7:.0f}+{h * 0.03:.0f}*sin(t*3.1)':shortest=1[v]"
    )
    with fileio.atomic_path(path) as tmp:
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
             "-loop", "1", "-framerate", str(s.fps), "-i", str(bg),
             "-filter_complex", graph, "-map", "[v]", "-t", str(s.seconds),
             *_encode_args(codec, s), "-threads", "1", "-fflags", "+bitexact",
             "-flags:v", "+bitexact", str(tmp)],
            check=True,
        )  # fmt: skip
    bg.unlink(missing_ok=True)
    return path


@dataclass(frozen=True)
class Item:
    codec: str
    video: str
    times: tuple[int, ...]
    needed: tuple[int, ...]


def make_items(folder: Path, s: Settings, count: int, seed: int) -> list[Item]:
    """`count` items per codec, cycling over the codec's generated videos; both codecs get the
    same label patterns, so their figures compare the codecs, not two draws of labels."""
    jobs = [(c, n) for c in CODECS for n in range(s.videos_per_codec)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two single-threaded encoders at once
        videos = list(pool.map(lambda cn: make_video(folder, cn[0], cn[1], s), jobs))
    by_codec = {c: [v for (cc, _), v in zip(jobs, videos, strict=True) if cc == c] for c in CODECS}
    items = []
    patterns, _ = label_patterns(count, seed, s.seconds)
    for codec in CODECS:
        for i, times in enumerate(patterns):
            video = by_codec[codec][i % len(by_codec[codec])]
            needed = tuple(needed_seconds(times))
            items.append(Item(codec, str(video), tuple(times), needed))
    return items


# ---------------------------------------------------------------- the three ways


def ours(item: Item, out: Path) -> dict[str, Any]:
    """(a): span-seeking extraction of the needed seconds, written as stage 02 writes them."""
    got = frames_at_seconds(item.video, item.needed, quality=QUALITY, threads=1)
    out.mkdir(parents=True, exist_ok=True)
    for second, data in got.frames.items():
        (out / f"{second:03d}.jpg").write_bytes(data)
    plan = got.plan
    return {
        "frames": len(got.frames),
        "decoded_s": plan.decoded_seconds,
        "one_pass_s": plan.one_pass_seconds,
        "seeks": plan.seeks,
        "one_pass": plan.one_pass,
        "fallback": got.fallback,
    }


def writeup(item: Item, out: Path) -> dict[str, Any]:
    """(b): every second to a JPEG file (fps=1), then read back the needed ones."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-threads", "1",
         "-i", item.video, "-map", "0:v:0", "-vf", "fps=1", "-q:v", str(QUALITY),
         "-threads", "1", "-start_number", "0", str(out / "%03d.jpg")],
        check=True,
    )  # fmt: skip
    files = sorted(out.glob("*.jpg"))
    last = len(files) - 1
    frames = {min(s, last): (out / f"{min(s, last):03d}.jpg").read_bytes() for s in item.needed}
    return {"frames": len(frames), "written": len(files)}


def floor(item: Item, out: Path) -> dict[str, Any]:
    """(c): the whole video decoded through fps=1, nothing written."""
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-threads", "1",
         "-i", item.video, "-map", "0:v:0", "-vf", "fps=1", "-f", "null", "-"],
        check=True,
    )  # fmt: skip
    return {}


WAYS: dict[str, Callable[[Item, Path], dict[str, Any]]] = {
    "ours": ours,
    "writeup": writeup,
    "floor": floor,
}


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(way: str, item: Item, scratch: Path) -> tuple[float, float, dict[str, Any]]:
    out = Path(tempfile.mkdtemp(prefix=f"{way}-", dir=scratch))
    try:
        cpu, start = _cpu(), time.perf_counter()
        info = WAYS[way](item, out)
        return time.perf_counter() - start, _cpu() - cpu, info
    finally:
        shutil.rmtree(out, ignore_errors=True)  # not timed: the write-up's files would stay


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def per_video(items: list[Item], reps: int, scratch: Path) -> dict[str, Any]:
    """Seconds per video of the three ways, interleaved, median over reps then over items."""
    wall = {(i, w): [] for i in range(len(items)) for w in WAYS}
    cpu = {(i, w): [] for i in range(len(items)) for w in WAYS}
    info: dict[int, dict[str, Any]] = {}
    for item in items:  # warm the page cache and the code paths once, untimed
        _timed("floor", item, scratch)
    ways = list(WAYS)
    for rep in range(reps):
        for i, item in enumerate(items):
            order = ways[(i + rep) % 3 :] + ways[: (i + rep) % 3]
            for way in order:
                seconds, cpu_s, extra = _timed(way, item, scratch)
                wall[i, way].append(seconds)
                cpu[i, way].append(cpu_s)
                if way == "ours":
                    info[i] = extra
    out: dict[str, Any] = {}
    for codec in CODECS:
        idx = [i for i, item in enumerate(items) if item.codec == codec]
        section: dict[str, Any] = {}
        for way in WAYS:
            section[f"{way}_s"] = _median([_median(wall[i, way]) for i in idx])
            section[f"{way}_cpu_s"] = _median([_median(cpu[i, way]) for i in idx])
            section[f"{way}_total_s"] = float(sum(_median(wall[i, way]) for i in idx))
        section["writeup_over_ours"] = section["writeup_s"] / section["ours_s"]
        section["ours_over_floor"] = section["ours_s"] / section["floor_s"]
        section["writeup_over_ours_cpu"] = section["writeup_cpu_s"] / section["ours_cpu_s"]
        section["ours_over_floor_cpu"] = section["ours_cpu_s"] / section["floor_cpu_s"]
        section["videos"] = len(idx)
        section["file_mb"] = float(
            np.mean([Path(items[i].video).stat().st_size / 2**20 for i in idx])
        )
        section["seconds_needed_mean"] = float(np.mean([info[i]["frames"] for i in idx]))
        section["seconds_decoded_mean"] = float(np.mean([info[i]["decoded_s"] for i in idx]))
        section["seconds_one_pass_mean"] = float(np.mean([info[i]["one_pass_s"] for i in idx]))
        section["items"] = [
            {
                "video": Path(items[i].video).name,
                "times": list(items[i].times),
                **{f"{w}_s": _median(wall[i, w]) for w in WAYS},
                **{f"{w}_cpu_s": _median(cpu[i, w]) for w in WAYS},
                **info[i],
            }
            for i in idx
        ]
        out[codec] = section
    return out


def _extract_job(item: Item, out: str) -> int:
    """One batch job in a worker process (one ffmpeg thread)."""
    return ours(item, Path(out))["frames"]


def _spin(n: int) -> int:
    """Single-threaded CPU work of a fixed size: no I/O, no helper threads."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def machine_scaling(jobs: int, size: int, reps: int) -> float:
    """Throughput of `jobs` pure-Python jobs on 2 workers over 1: what this machine gives two
    single-threaded processes at all (2.0 on two free cores; less when the two vCPUs are
    hyperthreads of one core or other load shares them). The extractor's scaling is read
    against it."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(reps):
        for workers in (1, 2):
            rates[workers].append(_pool_rate(workers, _spin, [(size,)] * jobs))
    return _median(rates[2]) / _median(rates[1])


def _pool_rate(workers: int, job, args: list[tuple], warm: list[tuple] | None = None) -> float:
    """Jobs per second of `job` over `args` on a pool of `workers` processes, timed after each
    worker has run one `warm` job (default: the first `workers` of `args`), so process start
    and imports are not counted."""
    warm = warm if warm is not None else args[:workers]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(job, *zip(*warm, strict=True)))  # start the workers
        start = time.perf_counter()
        list(pool.map(job, *zip(*args, strict=True)))
        return len(args) / (time.perf_counter() - start)


def batch(items: list[Item], reps: int, scratch: Path) -> dict[str, Any]:
    """Videos per second over the batch with 1 and 2 workers, alternating, median over reps."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(reps):
        for workers in (1, 2):
            out = Path(tempfile.mkdtemp(prefix=f"batch{workers}-", dir=scratch))
            try:
                cpu_start = _cpu()
                args = [(item, str(out / f"{k}")) for k, item in enumerate(items)]
                # warm-up output goes elsewhere: a timed job must not find its frames done
                warm = [(item, str(out / "warm")) for item in items[:workers]]
                rates[workers].append(_pool_rate(workers, _extract_job, args, warm))
                # CPU of the pool's processes and their ffmpegs (counted once they have exited)
                cpu[workers].append((_cpu() - cpu_start) / (len(items) + workers))
            finally:
                shutil.rmtree(out, ignore_errors=True)
    one, two = _median(rates[1]), _median(rates[2])
    cpu_s = {str(k): _median(v) for k, v in cpu.items()}
    return {
        "videos": len(items),
        "workers_1_videos_per_s": one,
        "workers_2_videos_per_s": two,
        "rates": {str(k): v for k, v in rates.items()},
        # CPU seconds per video: equal for 1 and 2 workers means nothing is lost to running two
        # at once, and a scaling below 2 is other load on the machine, not the extractor
        "cpu_s_per_video": cpu_s,
        # cores one worker keeps busy (its ffmpeg pipelines demux/decode/filter/encode in
        # threads even with -threads 1): two workers on two cores can reach 2 / this at most
        "cores_per_worker": cpu_s["1"] * one,
        "scaling_2_over_1": two / one,
    }


def machine_info() -> dict[str, Any]:
    """The host (no TensorFlow import: it would slow the workers) and the ffmpeg build."""
    from bench.common import host_info

    version = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, check=False)
    return {**host_info(), "ffmpeg": version.stdout.decode("utf-8", "replace").split("\n", 1)[0]}


def run(quick: bool = False, *, cache: Path | None = None, reps: int | None = None) -> dict:
    """The whole benchmark; `quick` makes a few short small videos (checks it runs, not speed)."""
    s = QUICK if quick else FULL
    reps = reps or s.reps
    cache = Path(cache) if cache else paths.work_root() / "bench" / "extract"
    started = time.perf_counter()
    machine = machine_info()
    timed_items = make_items(cache / "videos", s, s.items_per_codec, seed=s.seed)
    batch_items = make_items(cache / "videos", s, s.batch_items // 2, seed=s.seed + 100)
    scratch = cache / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = per_video(timed_items, reps, scratch)
    result["batch"] = batch(batch_items, reps, scratch)
    result["scaling_2_over_1"] = result["batch"]["scaling_2_over_1"]
    spin = 200_000 if quick else 4_000_000  # ~0.01 s | ~0.2 s of CPU per job
    result["batch"]["machine_scaling_2_over_1"] = machine_scaling(
        max(4, len(batch_items)), spin, reps
    )
    machine["load_avg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result["machine"] = machine
    result["settings"] = {
        **asdict(s),
        "reps": reps,
        "gop_s": GOP_S,
        "jpeg_quality": QUALITY,
        "labels": label_patterns(1, 0, s.seconds)[1],
    }
    result["targets"] = TARGETS
    result["quick"] = quick
    result["wall_s"] = time.perf_counter() - started
    return result


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable rows (name, value) for this benchmark's part of the table."""
    rows = []
    for codec in CODECS:
        r = result[codec]
        rows.append(
            (
                f"extract.{codec} s/video ours | write-up | floor",
                f"{r['ours_s']:.2f} | {r['writeup_s']:.2f} | {r['floor_s']:.2f}   "
                f"(CPU {r['ours_cpu_s']:.2f} | {r['writeup_cpu_s']:.2f} | {r['floor_cpu_s']:.2f})",
            )
        )
        rows.append(
            (
                f"extract.{codec} write-up/ours | ours/floor",
                f"{r['writeup_over_ours']:.2f} (>= {TARGETS['writeup_over_ours']}) | "
                f"{r['ours_over_floor']:.2f} (<= {TARGETS['ours_over_floor']})   "
                f"(CPU {r['writeup_over_ours_cpu']:.2f} | {r['ours_over_floor_cpu']:.2f})",
            )
        )
        rows.append(
            (
                f"extract.{codec} seconds needed | decoded | one pass",
                f"{r['seconds_needed_mean']:.1f} | {r['seconds_decoded_mean']:.1f} | "
                f"{r['seconds_one_pass_mean']:.1f}  (mean per video, {r['file_mb']:.1f} MB files)",
            )
        )
    b = result["batch"]
    rows.append(
        (
            f"extract.batch {b['videos']} videos/s 1 | 2 workers",
            f"{b['workers_1_videos_per_s']:.2f} | {b['workers_2_videos_per_s']:.2f}   "
            f"scaling {result['scaling_2_over_1']:.2f} (>= 1.7)   CPU s/video "
            f"{b['cpu_s_per_video']['1']:.2f} | {b['cpu_s_per_video']['2']:.2f}",
        )
    )
    rows.append(
        (
            "extract.batch cores per worker | machine 2/1",
            f"{b['cores_per_worker']:.2f} cores busy with 1 worker | two pure-Python jobs "
            f"{b['machine_scaling_2_over_1']:.2f}x one",
        )
    )
    m, s = result["machine"], result["settings"]
    rows.append(
        (
            "extract.machine",
            f"{m['cpu']}, {m['cores']} cores, load {m['load_avg'][0]:.1f} -> "
            f"{m['load_avg_end'][0]:.1f}; {s['seconds']} s {s['width']}x{s['height']} "
            f"{s['fps']} fps, GOP {s['gop_s']:g} s, {s['reps']} reps",
        )
    )
    return rows


def save(result: dict[str, Any], path: Path = RESULTS) -> None:
    """Merge this section into latest.json under `extract`, keeping the other benchmarks'."""
    data = fileio.read_json(path) if path.is_file() else {}
    data["extract"] = result
    fileio.write_json(path, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.extract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny videos: checks that it runs")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    parser.add_argument("--no-save", action="store_true", help="do not update latest.json")
    args = parser.parse_args(argv)
    result = run(args.quick, reps=args.reps)
    for name, value in table(result):
        print(f"{name:48s} {value}")
    if not args.no_save:
        save(result)
        print(f"saved under 'extract' in {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
