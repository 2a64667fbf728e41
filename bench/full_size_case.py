"""One measurement of `bench/full_size.py`, run in a process of its own.

A case is one model at one batch size, precision and compile mode. It runs alone in a fresh
process because the mixed-precision policy is process-wide, the device's peak memory counter
only ever grows, and an out-of-memory error can leave an accelerator runtime unusable: the
parent reads one `RESULT {json}` line from stdout, or the error, and goes on.

Only Keras, numpy and the project's model modules are imported (no TensorFlow, no bench
helpers that need it), so this runs on a JAX or PyTorch machine that has no TensorFlow.

    python -m bench.full_size_case '{"track": "chimpact", ...}'
    python -m bench.full_size_case --configs    # the model configs of the full profiles (JSON)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import asdict, replace
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULT = "RESULT "
OOM_MARKERS = ("RESOURCE_EXHAUSTED", "out of memory", "Out of memory", "OOM", "MemoryError")


def chimpact_config(frames: int, tiny: bool) -> Any:
    """The full profile's CNN-LSTM as lib.chimpact.train.model_config builds it.

    Backbone weights are left out (`None`): they change the numbers, not the speed, and the
    machines this runs on cannot download ImageNet weights. `tiny` shrinks only the frames
    (32 px, EfficientNet-B0's smallest input) so that a CPU can run it in seconds.
    """
    from lib import profiles

    prof = profiles.get("full", "chimpact")
    cfg = replace(prof.model, frames=frames, backbone_weights=None)
    return replace(cfg, image_size=32) if tiny else cfg


def serengeti_config(model: str, run_backbone: str, tiny: bool) -> Any:
    """The full profile's network as lib.serengeti.train.model_config builds it (no weights).

    `tiny` shrinks the images to the backbone's smallest input (75 px for InceptionResNetV2).
    """
    from lib import profiles
    from lib.serengeti.model import MIN_SIZE, ModelConfig

    prof = profiles.get("full", "serengeti")
    backbone, width = prof.backbone_for(run_backbone)
    cfg = ModelConfig(
        model=model,
        backbone=backbone,
        head="sigmoid",
        image_size=tuple(prof.image_size),
        backbone_weights=None,
        fusion_filters=prof.fusion_filters,
        small_width=width or 32,
    )
    if tiny:
        side = max(MIN_SIZE[backbone], 32)
        cfg = replace(cfg, image_size=(side, side))
    return cfg


def _config(case: dict[str, Any]) -> Any:
    if case["track"] == "chimpact":
        return chimpact_config(case["frames"], case["tiny"])
    return serengeti_config(case["model"], case["backbone"], case["tiny"])


def _inputs(case: dict[str, Any], cfg: Any, batch: int) -> tuple[Any, Any]:
    """A deterministic random batch, placed on the device once (the model alone is timed)."""
    import keras

    rng = np.random.default_rng(0)
    if case["track"] == "chimpact":
        s = cfg.image_size
        x: Any = rng.random((batch, cfg.frames, s, s, 3), dtype=np.float32)
        y = rng.uniform(0, 25, (batch, 1)).astype(np.float32)
    else:
        shape = (batch, *cfg.image_size, 3)
        x = rng.random(shape, dtype=np.float32)
        if cfg.model == "twostream":
            x = {"mean": x, "background": rng.random(shape, dtype=np.float32)}
        y = (rng.random((batch, cfg.n_classes)) < 0.05).astype(np.float32)
    to_device = keras.ops.convert_to_tensor
    x = {k: to_device(v) for k, v in x.items()} if isinstance(x, dict) else to_device(x)
    return x, to_device(y)


def _compiled(case: dict[str, Any], cfg: Any) -> Any:
    """The model compiled as lib.training compiles it for this track (Adam, the track's loss)."""
    import keras

    from lib import profiles

    prof = profiles.get("full", case["track"])
    if case["track"] == "chimpact":
        from lib.chimpact.model import build_model

        loss, metrics = "mae", [keras.metrics.RootMeanSquaredError("rmse")]
    else:
        from lib.serengeti.model import build_model
        from lib.serengeti.model import loss as track_loss

        loss, metrics = track_loss(cfg), []
    model = build_model(cfg)
    model.compile(
        optimizer=keras.optimizers.Adam(prof.learning_rate),
        loss=loss,
        metrics=metrics,
        jit_compile=case["jit"],
    )
    return model


def peak_memory() -> dict[str, Any]:
    """Peak memory of this process on its device: accelerator counter, else the host's RSS."""
    import keras

    backend = keras.backend.backend()
    peak = None
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
    elif backend == "torch":
        import torch

        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    elif backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    if peak is not None:
        return {"peak_device_gib": round(peak / 2**30, 3), "memory_source": f"{backend} device"}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak_device_gib": round(rss / 2**30, 3), "memory_source": "host max RSS"}


def _timed_steps(fn, steps: int) -> float:
    """Seconds per call of `fn` over `steps` calls (each returns host values, so it syncs)."""
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def measure(case: dict[str, Any]) -> dict[str, Any]:
    """First-step time, steady training and inference rates, and peak memory of one case."""
    import keras

    keras.mixed_precision.set_global_policy(case["precision"])
    keras.utils.set_random_seed(0)
    cfg = _config(case)
    batch = case["batch"]
    start = time.perf_counter()
    x, y = _inputs(case, cfg, batch)
    model = _compiled(case, cfg)
    model.train_on_batch(x, y)
    first = time.perf_counter() - start
    model.train_on_batch(x, y)  # warm-up beyond the first step
    step_s = _timed_steps(lambda: model.train_on_batch(x, y), case["steps"])
    out: dict[str, Any] = {
        "first_step_s": round(first, 3),
        "step_s": round(step_s, 4),
        "train_per_s": round(batch / step_s, 3),
        "params": int(model.count_params()),
        "image_size": list(np.atleast_1d(cfg.image_size).tolist()),
    }
    if case.get("infer"):
        model.predict_on_batch(x)  # traces and compiles the predict function
        infer_s = _timed_steps(lambda: np.asarray(model.predict_on_batch(x)), case["steps"])
        out["infer_per_s"] = round(batch / infer_s, 3)
    return {**out, **peak_memory()}


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """`measure` with its failure kept as data: "oom" when the batch did not fit, else "error"."""
    import keras

    base = {"backend": keras.backend.backend(), "devices": _devices()}
    try:
        return {**base, "status": "ok", **measure(case)}
    except Exception as exc:  # the parent records why a case failed and goes on
        text = f"{type(exc).__name__}: {exc}"
        status = "oom" if any(m in text for m in OOM_MARKERS) else "error"
        return {**base, "status": status, "error": text[-2000:]}


def _devices() -> list[str]:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    if keras.backend.backend() == "torch":
        import torch

        return [torch.cuda.get_device_name(0)] if torch.cuda.is_available() else ["cpu"]
    return []


def configs() -> dict[str, Any]:
    """The model configs this benchmark builds at full size, as plain dicts (for tests)."""
    return {
        "chimpact_f7": asdict(chimpact_config(7, False)),
        "chimpact_f9": asdict(chimpact_config(9, False)),
        "serengeti_single_irv2": asdict(serengeti_config("single", "irv2", False)),
        "serengeti_twostream_irv2": asdict(serengeti_config("twostream", "irv2", False)),
    }


def main(argv: list[str]) -> int:
    if argv == ["--configs"]:
        print(json.dumps(configs()))
        return 0
    if len(argv) != 1:
        print("usage: python -m bench.full_size_case CASE_JSON | --configs", file=sys.stderr)
        return 2
    print(RESULT + json.dumps(run_case(json.loads(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
