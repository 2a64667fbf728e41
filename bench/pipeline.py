"""Input pipeline vs training step: does tf.data keep the model fed?

Supply: sequences/s of `lib.chimpact.input_pipeline.dataset` alone (read TFRecords, parse,
decode 7 JPEG frames, resize, augment a4 p=0.5, batch), on records this benchmark writes from
deterministic synthetic 480x270 frames (the demo's commonest native size) with the project's own
writer.
Demand: sequences/s one compiled training step consumes on an in-memory batch.

Epochs are timed two ways: *cold* (a fresh dataset: every JPEG decoded, what each epoch costs
when decoded frames are not cached) and *cached* (later epochs read the in-memory cache of
decoded frames). The headline `supply_over_demand` uses the cold epoch, the worst case. The
pipeline's first version (`_before_dataset`, kept verbatim) runs in the same process
so the speed-up is measured side by side. Process CPU time per sequence is reported too: on a
shared machine it is steadier than wall time.

    python -m bench.pipeline [--quick]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import common
from lib.demo import synthetic_records

POLICY, PROB = "a4", 0.5  # the best write-up run's augmentation (blur is the costliest op)


def _before_dataset(
    files, frames, image_size, batch_size, training=False, augment=None, prob=0.0, seed=42
):
    """The first version of lib/chimpact/input_pipeline.py's dataset, kept verbatim for the
    side-by-side."""
    import tensorflow as tf

    from lib import augment as aug
    from lib import tfrecord_io
    from lib.chimpact.records import SPEC
    from lib.chimpact.windows import middle

    def decode(frames_, size):
        def one(jpeg):
            img = tf.io.decode_jpeg(jpeg, channels=3)
            img = tf.image.resize(img, (size, size), antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

        spec = tf.TensorSpec((size, size, 3), tf.uint8)
        return tf.map_fn(one, frames_, fn_output_signature=spec)

    files = [str(f) for f in files]
    sel = middle(frames)
    n = sum(tfrecord_io.record_count(f) for f in files)
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))
    ds = ds.apply(tf.data.experimental.assert_cardinality(n))

    def parse(raw):
        ex = tfrecord_io.parse(raw, SPEC)
        seq = decode(ex["frames"][sel], image_size)
        return seq, ex["distance"], {"video_id": ex["video_id"], "time": ex["time"]}

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).cache()
    if training:
        ds = ds.shuffle(2048, seed=seed, reshuffle_each_iteration=True)
    to_float = aug.make_augmenter(augment, prob) if training and augment else None

    def finish(seq, y, keys):
        x = tf.cast(seq, tf.float32) / 255.0
        if to_float is not None:
            x = to_float(x)
        return x, y, keys

    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _epoch(ds) -> tuple[int, float, float]:
    """(sequences, wall seconds, process CPU seconds) of one full pass."""
    n, cpu0, start = 0, common.cpu_seconds(), time.perf_counter()
    for x, _y, _k in ds:
        n += int(x.shape[0])
    return n, time.perf_counter() - start, common.cpu_seconds() - cpu0


def _size_case(
    folder: Path,
    image_size: int,
    sequences: int,
    models: dict,
    reps: int,
    steps: int,
    epochs: int,
    smooth: bool = False,
    quick: bool = False,
) -> dict[str, Any]:
    """Supply of each pipeline variant and demand of each model at one image size.

    Each repetition times every pipeline (one cold epoch on a fresh dataset, then two cached
    epochs) and right after it every model's training step, so a ratio is taken between
    numbers measured moments apart; the reported ratios are medians of per-repetition ratios.
    A training run's supply is `epochs` epochs: the first cold, the others from the cache.
    """
    from lib.chimpact import input_pipeline

    files = synthetic_records.write_records(folder / f"s{image_size}", sequences)
    batch = 32
    base = {"frames": 7, "image_size": image_size, "batch_size": batch}
    train = {**base, "training": True, "augment": POLICY, "prob": PROB, "seed": 1}
    pipelines: dict[str, Callable[[], Any]] = {
        "ours": lambda: input_pipeline.dataset(files, **train),
        "ours_nondeterministic": lambda: input_pipeline.dataset(
            files, deterministic=False, **train
        ),
        "ours_no_augment": lambda: input_pipeline.dataset(files, **base),
        "before": lambda: _before_dataset(files, **train),
    }
    if quick:  # only the two that the headline compares
        pipelines = {k: pipelines[k] for k in ("ours", "before")}
    elif smooth:  # smoother frames, ~13 KB: nearer the demo's rendered ones (2-7 KB)
        smooth_files = synthetic_records.write_records(
            folder / f"s{image_size}-smooth", sequences, noise=0.0, grid=120
        )
        pipelines["ours_smooth_frames"] = lambda: input_pipeline.dataset(smooth_files, **train)
    steppers = {name: common.TrainStep(cfg, bs) for name, (cfg, bs) in models.items()}
    for make in pipelines.values() if not quick else ():
        _epoch(make())  # warm-up: page cache, kernel registration, first tracing
    supply: dict[str, dict[str, list[float]]] = {
        k: {"cold": [], "cold_cpu": [], "cached": [], "cached_cpu": [], "run": []}
        for k in pipelines
    }
    demand: dict[str, dict[str, list[float]]] = {k: {"rate": [], "cpu": []} for k in models}
    ratios: dict[str, list[float]] = {
        k: [] for k in ("run", "cold", "cached", "before_run", "before_cold", "cpu_cold")
    }
    main_model = next(iter(models))
    for _ in range(reps):
        for name, make in pipelines.items():
            ds = make()
            n, cold_s, cpu = _epoch(ds)
            supply[name]["cold"].append(n / cold_s)
            supply[name]["cold_cpu"].append(1000 * cpu / n)
            cached_s = []
            for _ in range(1 if quick else 2):
                n, wall, cpu = _epoch(ds)
                cached_s.append(wall)
                supply[name]["cached"].append(n / wall)
                supply[name]["cached_cpu"].append(1000 * cpu / n)
            run_s = cold_s + (epochs - 1) * statistics.median(cached_s)
            supply[name]["run"].append(epochs * n / run_s)
        for name, step in steppers.items():
            rate, cpu = step.block(steps)
            demand[name]["rate"].append(rate)
            demand[name]["cpu"].append(cpu)
        need = demand[main_model]["rate"][-1]
        ours, before = supply["ours"], supply["before"]
        ratios["run"].append(ours["run"][-1] / need)
        ratios["cold"].append(ours["cold"][-1] / need)
        ratios["cached"].append(statistics.median(ours["cached"][-len(cached_s) :]) / need)
        ratios["before_run"].append(before["run"][-1] / need)
        ratios["before_cold"].append(before["cold"][-1] / need)
        ratios["cpu_cold"].append(demand[main_model]["cpu"][-1] / ours["cold_cpu"][-1])
    med = statistics.median
    ours, before = supply["ours"], supply["before"]
    return {
        "image_size": image_size,
        "source_frame": list(synthetic_records.SOURCE_SIZE),
        "sequences": sequences,
        "batch_size": batch,
        "epochs_per_run": epochs,
        "augment": f"{POLICY}p{int(PROB * 100)}",
        "supply": {
            name: {
                "cold_seq_per_s": common.median_spread(v["cold"]),
                "cached_seq_per_s": common.median_spread(v["cached"]),
                "run_seq_per_s": common.median_spread(v["run"]),
                "cold_cpu_ms_per_seq": med(v["cold_cpu"]),
                "cached_cpu_ms_per_seq": med(v["cached_cpu"]),
            }
            for name, v in supply.items()
        },
        "demand": {
            name: {
                "first_step_s": steppers[name].first_step_s,
                "seq_per_s": common.median_spread(v["rate"]),
                "cpu_ms_per_seq": med(v["cpu"]),
                "batch_size": steppers[name].batch_size,
            }
            for name, v in demand.items()
        },
        "demand_model": main_model,
        "supply_over_demand": med(ratios["run"]),
        "supply_over_demand_cold": med(ratios["cold"]),
        "supply_over_demand_cached": med(ratios["cached"]),
        "before_supply_over_demand": med(ratios["before_run"]),
        "before_supply_over_demand_cold": med(ratios["before_cold"]),
        "demand_cpu_over_supply_cpu_cold": med(ratios["cpu_cold"]),
        "cold_speedup_vs_before": med(ours["cold"]) / med(before["cold"]),
        "cold_cpu_ratio_before_over_ours": med(before["cold_cpu"]) / med(ours["cold_cpu"]),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Both sizes; quick: tiny sizes and one repetition (checks that it runs, not speed)."""
    from lib import profiles
    from lib.chimpact.model import ModelConfig

    demo = profiles.get("demo")

    def small(size: int) -> ModelConfig:
        return common.demo_model(image_size=size)

    reps, steps = (1, 1) if quick else (3, 8)
    batch = 2 if quick else demo.batch_size
    sizes = {
        demo.model.image_size: (
            {"small_cnn": (small(demo.model.image_size), batch)},
            16 if quick else 512,
        ),
        224: ({"small_cnn": (small(224), batch)}, 8 if quick else 192),
    }
    if not quick:  # the write-up's backbone at 224 px (slow to build; batch 8)
        effnet = ModelConfig(frames=7, image_size=224, backbone_weights=None)
        sizes[224][0]["efficientnet_b0_batch8"] = (effnet, 8)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        details = {
            str(size): _size_case(
                Path(tmp),
                size,
                n,
                cfgs,
                reps,
                steps,
                demo.epochs,
                smooth=size == demo.model.image_size,
                quick=quick,
            )
            for size, (cfgs, n) in sizes.items()
        }
    headline = details[str(demo.model.image_size)]
    keys = (
        "supply_over_demand",
        "supply_over_demand_cold",
        "supply_over_demand_cached",
        "before_supply_over_demand",
        "before_supply_over_demand_cold",
        "demand_cpu_over_supply_cpu_cold",
    )
    return {
        **{k: headline[k] for k in keys},
        "demo_image_size": demo.model.image_size,
        "sizes": details,
        "quick": quick,
    }


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable rows for run_bench's table."""
    r = result
    epochs = next(iter(r["sizes"].values()))["epochs_per_run"] if r.get("sizes") else None
    fold = f"1 cold + {epochs - 1} cached epochs" if epochs else "a demo fold"
    rows = [
        (
            f"pipeline.supply_over_demand (demo: {fold})",
            f"{r['supply_over_demand']:.2f} (first version: {r['before_supply_over_demand']:.2f})",
        ),
        (
            "pipeline.supply_over_demand_cold (every JPEG decoded)",
            f"{r['supply_over_demand_cold']:.2f} (before: {r['before_supply_over_demand_cold']:.2f}"
            f"; by CPU time {r['demand_cpu_over_supply_cpu_cold']:.2f})",
        ),
        ("pipeline.supply_over_demand_cached", f"{r['supply_over_demand_cached']:.2f}"),
    ]
    for size, d in sorted(r["sizes"].items(), key=lambda item: int(item[0])):
        for name, s in d["supply"].items():
            rows.append(
                (
                    f"pipeline.{size}px.{name}",
                    f"cold {s['cold_seq_per_s']['median']:.0f} seq/s "
                    f"({s['cold_cpu_ms_per_seq']:.1f} CPU-ms/seq), "
                    f"cached {s['cached_seq_per_s']['median']:.0f}, "
                    f"{d['epochs_per_run']}-epoch run {s['run_seq_per_s']['median']:.0f}",
                )
            )
        for name, m in d["demand"].items():
            rows.append(
                (
                    f"pipeline.{size}px.train_step.{name}",
                    f"{m['seq_per_s']['median']:.1f} seq/s ({m['cpu_ms_per_seq']:.1f} CPU-ms/seq,"
                    f" batch {m['batch_size']}, first step {m['first_step_s']:.1f} s)",
                )
            )
        rows.append(
            (
                f"pipeline.{size}px.cold_speedup_vs_before",
                f"{d['cold_speedup_vs_before']:.2f}x wall, "
                f"{d['cold_cpu_ratio_before_over_ours']:.2f}x less CPU",
            )
        )
    return rows


main = common.main_for("python -m bench.pipeline", __doc__, run, table)


if __name__ == "__main__":
    raise SystemExit(main())
