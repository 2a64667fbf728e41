"""Per-frame CNN applied with `TimeDistributed` vs with the time axis folded into the batch.

For each backbone, both forms of `lib.chimpact.model.build_model` (`time_distributed=True`
or False) are built, compiled as training compiles them and stepped on an in-memory batch:
time to the first step (model build + compile + graph trace + one step: what every fold pays
before training starts) and steady sequences/s (median of repeated blocks). The two forms are
alternated within each repetition so that a slow spell on a shared machine hits both.

    python -m bench.train_step [--quick]
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import common


def _cases(quick: bool) -> dict[str, tuple[Any, int]]:
    from lib import profiles
    from lib.chimpact.model import ModelConfig

    demo = profiles.get("demo")
    if quick:  # just enough to run both code paths
        small = common.demo_model(image_size=32, lstm_units=16, dense_units=8)
        return {"small_cnn_32px": (small, 4)}
    small = common.demo_model()
    effnet = ModelConfig(
        frames=7,
        image_size=96,
        backbone="efficientnet_b0",
        backbone_weights=None,
        lstm_units=256,
        dense_units=64,
    )
    return {
        f"small_cnn_{demo.image_size}px": (small, demo.batch_size),
        "efficientnet_b0_96px": (effnet, 8),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Both forms per backbone; `faster_default` says whether the default is the faster form."""
    import dataclasses

    import keras

    from lib.chimpact.model import ModelConfig

    reps, steps, blocks = (1, 1, 1) if quick else (2, 5, 3)
    common.train_step_rate(  # warm-up: imports, kernels, allocator (not recorded)
        ModelConfig(
            frames=3,
            image_size=16,
            backbone="small",
            backbone_weights=None,
            lstm_units=4,
            dense_units=4,
        ),
        2,
        1,
        1,
    )
    result: dict[str, Any] = {"cases": {}, "default_form": _default_form()}
    for name, (cfg, batch) in _cases(quick).items():
        forms: dict[str, list[dict]] = {"folded": [], "time_distributed": []}
        for rep in range(reps):
            order = list(forms) if rep % 2 == 0 else list(reversed(forms))
            for form in order:
                keras.backend.clear_session()
                c = dataclasses.replace(cfg, time_distributed=form == "time_distributed")
                forms[form].append(common.train_step_rate(c, batch, steps, blocks, seed=rep))
        case: dict[str, Any] = {
            "image_size": cfg.image_size,
            "backbone": cfg.backbone,
            "batch_size": batch,
            "frames": cfg.frames,
        }
        for form, runs in forms.items():
            case[form] = {
                "first_step_s": statistics.median(r["first_step_s"] for r in runs),
                "seq_per_s": statistics.median(r["seq_per_s"]["median"] for r in runs),
                "cpu_ms_per_seq": statistics.median(r["cpu_ms_per_seq"] for r in runs),
                "params": runs[0]["params"],
            }
        f, t = case["folded"], case["time_distributed"]
        case["td_over_folded_first_step"] = t["first_step_s"] / f["first_step_s"]
        case["folded_over_td_seq_per_s"] = f["seq_per_s"] / t["seq_per_s"]
        case["td_over_folded_cpu_ms"] = t["cpu_ms_per_seq"] / f["cpu_ms_per_seq"]
        case["faster_steady"] = "folded" if f["seq_per_s"] >= t["seq_per_s"] else "time_distributed"
        case["faster_first_step"] = (
            "folded" if f["first_step_s"] <= t["first_step_s"] else "time_distributed"
        )
        result["cases"][name] = case
    cases = result["cases"].values()
    folded_wins = all(c["folded_over_td_seq_per_s"] >= 1 for c in cases) and all(
        c["td_over_folded_first_step"] >= 1 for c in cases
    )
    result["faster_form"] = "folded" if folded_wins else "mixed"
    result["faster_default"] = folded_wins and result["default_form"] == "folded"
    result["quick"] = quick
    return result


def _default_form() -> str:
    from lib.chimpact.model import ModelConfig

    return "time_distributed" if ModelConfig().time_distributed else "folded"


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name, c in result["cases"].items():
        for form in ("folded", "time_distributed"):
            rows.append(
                (
                    f"train_step.{name}.{form}",
                    f"{c[form]['seq_per_s']:.1f} seq/s "
                    f"({c[form]['cpu_ms_per_seq']:.1f} CPU-ms/seq),"
                    f" first step {c[form]['first_step_s']:.1f} s"
                    f" (batch {c['batch_size']})",
                )
            )
        rows.append(
            (
                f"train_step.{name}.folded_advantage",
                f"{c['folded_over_td_seq_per_s']:.2f}x seq/s, "
                f"{c['td_over_folded_cpu_ms']:.2f}x less CPU per seq, "
                f"{c['td_over_folded_first_step']:.2f}x faster first step",
            )
        )
    rows.append(
        ("train_step.default_form", f"{result['default_form']} ({result['faster_form']} is faster)")
    )
    return rows


main = common.main_for("python -m bench.train_step", __doc__, run, table)


if __name__ == "__main__":
    raise SystemExit(main())
