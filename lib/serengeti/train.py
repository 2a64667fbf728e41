"""Stage 04: train one run ID into `runs/serengeti/<run_id>/`, stage 05: its test scores.

The run ID says *what* (model, backbone, head, resize of validation/test images); the profile
says *how big* (image size, the backbone a run-ID backbone maps to, epochs, batch). Seasons, as
the write-up: the networks train on S1-S8 (`fit`), the best epoch is chosen on S9's loss, and
`cv_logloss` is the competition metric (mean binary log loss over the 54 classes) on **S10**,
per sequence (mean of its images' scores; no flip TTA - that is a later rung, reported as
`cv_logloss_tta`). S10 is the season every rung of the ladder is scored on.

- single: trained on the `flow` pixels of S1-S8 images (all of a sequence's first three, or the
  first only: profile `train_images`), each with its sequence's labels; validation and test
  images go through the run's resize chain (`naive` reproduces the write-up's mismatch).
- background: starts from the single model's best weights (parent: `runid.parent_of`) and is
  fine-tuned on background images with the same 54-way head.
- twostream: mean stream from the single model's backbone, background stream from the
  background model's; fusion conv and head start fresh.

Progressive resizing (write-up: 240x320 -> 360x480 -> 384x512; profile `progressive_sizes`):
a single-image model first trains at each smaller size (`train/stage<i>-<h>x<w>/`, images
shrunk from the stored ones by the flow's Lanczos filter), each stage starting from the best
weights of the one before; the last stage is the profile's `image_size`, the size inference
uses. Every layer is size-agnostic (convolutions, global max pooling), so the weights carry over
unchanged. Background and two-stream models start from trained parents and train at one size.

Files: `config.json` (resolved settings, parents, git commit), `train/history.csv`,
`<run_id>-best.weights.h5`, `val_pred.csv` (S9 and S10 scores, both views, per image or per
sequence), `metrics.json`; 05 adds `test_pred.csv`. A rerun resumes (lib.training.fit:
BackupAndRestore, finished training skipped).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from lib import fileio, paths, profiles, runs
from lib.serengeti import input_pipeline, metrics, records, runid, schema
from lib.serengeti.model import ModelConfig, build_model, init_twostream, load_parent_weights
from lib.serengeti.profile import SerengetiProfile
from lib.serengeti.schema import CLASSES, KEY

CHECKPOINT_PART = "s9"
SCORE_PART = "s10"
VAL_PARTS = ("s9", "s10")


def track_dir() -> Path:
    return paths.runs_root() / "serengeti"


def run_dir(run_id: str) -> Path:
    return track_dir() / run_id


def weights_path(run_id: str) -> Path:
    return run_dir(run_id) / f"{run_id}-best.weights.h5"


def model_config(spec: runid.RunSpec, prof: SerengetiProfile) -> ModelConfig:
    backbone, width = prof.backbone_for(spec.backbone)
    return ModelConfig(
        model=spec.model,
        backbone=backbone,
        head=spec.head,
        image_size=tuple(prof.image_size),
        backbone_weights=prof.backbone_weights if backbone != "small" else None,
        fusion_filters=prof.fusion_filters,
        small_width=width or 32,
    )


def parents(run_id: str, candidates: list[str]) -> dict[str, str]:
    spec = runid.parse(run_id)
    return {kind: runid.parent_of(run_id, kind, candidates) for kind in spec.parents}


def resolve(run_id: str, ctx: profiles.Context, candidates: list[str] | None = None) -> dict:
    """The run's full configuration (what config.json holds, less the git commit)."""
    spec = runid.parse(run_id)
    prof = ctx.profile
    if not isinstance(prof, SerengetiProfile):
        raise TypeError("a serengeti run needs a serengeti profile")
    candidates = candidates if candidates is not None else runs.planned("serengeti", prof.name)
    finetune = spec.model != "single"
    return fileio.jsonable(
        {
            "run_id": run_id,
            "spec": asdict(spec),
            "profile": prof.name,
            "model": asdict(model_config(spec, prof)),
            "backbone_used": model_config(spec, prof).backbone
            + (
                f"(width {model_config(spec, prof).small_width})"
                if model_config(spec, prof).backbone == "small"
                else ""
            ),
            "parents": parents(run_id, candidates),
            "train_seasons": list(records.FIT_SEASONS),
            "train_resize": spec.train_resize,
            "eval_resize": spec.resize,
            "train_images": prof.train_images if spec.model == "single" else "sequences",
            "checkpoint_on": "S9 validation loss (through the training resize)",
            "cv_logloss_on": (
                "S10, per sequence (mean of its images), mean binary log loss over the 54 "
                "classes, no TTA"
            ),
            "epochs": prof.finetune_epochs if finetune else prof.epochs,
            "stages": training_stages(spec, prof),
            "augment": prof.augment,
            "batch_size": prof.batch_size,
            "learning_rate": prof.finetune_learning_rate if finetune else prof.learning_rate,
            "seed": ctx.seed,
            "data_dir": str(ctx.data_dir),
            "work": str(ctx.work),
            # the shards training reads (fit, and S9 to pick the best epoch by), content-keyed:
            # a changed label or image there retrains the run; S10 and test rows do not
            "records": records.input_key(ctx.work, ("fit", CHECKPOINT_PART)),
        }
    )


def training_stages(spec: runid.RunSpec, prof: SerengetiProfile) -> list[dict]:
    """[{"size": [h, w], "epochs": n}, ...] in training order; the last is `image_size`."""
    finetune = spec.model != "single"
    final = {
        "size": list(prof.image_size),
        "epochs": prof.finetune_epochs if finetune else prof.epochs,
    }
    if finetune or not prof.progressive_sizes:
        return [final]
    if prof.progressive_epochs < 1:
        raise ValueError(
            f"profile {prof.name!r}: progressive_sizes {prof.progressive_sizes} need "
            f"progressive_epochs >= 1, got {prof.progressive_epochs}"
        )
    backbone, _ = prof.backbone_for(spec.backbone)
    sizes = [tuple(s) for s in prof.progressive_sizes] + [tuple(prof.image_size)]
    for small, big in zip(sizes, sizes[1:], strict=False):
        if small == big or small[0] > big[0] or small[1] > big[1]:
            raise ValueError(
                f"profile {prof.name!r}: progressive sizes must grow toward image_size "
                f"{prof.image_size} without repeating a size, got {prof.progressive_sizes}"
            )
    try:  # the model's own size rule, checked now rather than when the stage trains
        ModelConfig(backbone=backbone, image_size=sizes[0], backbone_weights=None)
    except ValueError as err:
        raise ValueError(f"profile {prof.name!r}: progressive stage: {err}") from err
    early = [{"size": list(size), "epochs": prof.progressive_epochs} for size in sizes[:-1]]
    return [*early, final]


def stage_dir(run_id: str, index: int, size: list[int] | tuple[int, int]) -> Path:
    """`train/stage<i>-<h>x<w>/`: one progressive-resizing stage (history, backup, weights)."""
    return run_dir(run_id) / "train" / f"stage{index}-{size[0]}x{size[1]}"


TRAINING_KEYS_IGNORED = ("run_id", "spec", "eval_resize", "git_commit", "cv_logloss_on")


def training_key(config: dict) -> dict:
    """What decides a run's weights: its config less the run ID and the evaluation resize
    (a `naive` run trains exactly like its `flow` sibling - the write-up's mismatch was only at
    inference)."""
    return {k: v for k, v in config.items() if k not in TRAINING_KEYS_IGNORED}


def trained_sibling(run_id: str, config: dict, candidates: list[str]) -> str | None:
    """A finished run among `candidates` whose training is identical to this one's."""
    spec = runid.parse(run_id)
    for other in candidates:
        if other == run_id:
            continue
        o = runid.parse(other)
        if (o.model, o.backbone, o.head) != (spec.model, spec.backbone, spec.head):
            continue
        cfg_path = run_dir(other) / "config.json"
        if not (run_dir(other) / "train" / "done.json").is_file() or not cfg_path.is_file():
            continue
        if not weights_path(other).is_file():
            continue
        if training_key(fileio.read_json(cfg_path)) == training_key(config):
            return other
    return None


def _copy_training(source: str, run_id: str) -> None:
    """Take over a sibling's finished training: weights first, then the `train/` folder (with
    its done.json) renamed into place whole, so a kill midway never leaves a done.json without
    the weights it vouches for."""
    out = run_dir(run_id)
    with fileio.atomic_path(weights_path(run_id)) as tmp:
        shutil.copyfile(weights_path(source), tmp)
    with fileio.atomic_dir(out / "train") as tmp:
        shutil.copytree(
            run_dir(source) / "train",
            tmp,
            ignore=shutil.ignore_patterns("backup"),
            dirs_exist_ok=True,
        )


def datasets(
    config: dict, work: Path, part: str, training: bool, seed: int, resize=None, size=None
):
    spec = runid.parse(config["run_id"])
    mcfg = ModelConfig(**{**config["model"], "image_size": tuple(config["model"]["image_size"])})
    kind = input_pipeline.SOURCES[spec.model][0]
    return input_pipeline.dataset(
        records.files(work, kind, part),
        spec.model,
        mcfg.image_size,
        config["batch_size"],
        resize=resize or (config["train_resize"] if training else config["eval_resize"]),
        training=training,
        seed=seed,
        first_only=training and config["train_images"] == "first",
        softmax=spec.head == "softmax",
        output_size=None if size is None else tuple(size),
        augment=config.get("augment", "flip"),
    )


def init_head_bias(model: keras.Model, prior: pd.Series, head: str) -> None:
    """Start the output layer at the class priors (logit for sigmoid, log for softmax), so a
    fresh network begins at the baseline instead of 0.5 for 54 mostly absent classes - on small
    data the rare classes otherwise take most of the training to unlearn."""
    p = np.clip(prior.reindex(list(CLASSES)).to_numpy(np.float64), 1e-5, 1 - 1e-5)
    bias = np.log(p / (1 - p)) if head == "sigmoid" else np.log(p / p.sum())
    layer = model.get_layer("scores")
    kernel, _ = layer.get_weights()
    layer.set_weights([kernel, bias.astype(np.float32)])


def _build(
    config: dict,
    prior: pd.Series | None = None,
    size: list[int] | None = None,
    start_from: Path | None = None,
):
    """The run's model at `size` (default: its image size); a later progressive stage starts
    from the previous stage's best weights (`start_from`) instead of fresh weights."""
    size = tuple(size or config["model"]["image_size"])
    mcfg = ModelConfig(**{**config["model"], "image_size": size})
    parent = config["parents"]

    def build() -> keras.Model:
        model = build_model(mcfg)
        if start_from is not None:
            load_parent_weights(model, start_from)
        elif mcfg.model == "single" and prior is not None:
            init_head_bias(model, prior, mcfg.head)
        if mcfg.model == "background":
            load_parent_weights(model, weights_path(parent["single"]))
        elif mcfg.model == "twostream":
            init_twostream(
                model,
                mcfg,
                weights_path(parent["single"]),
                weights_path(parent["background"]),
            )
        return model

    return mcfg, build


def load_model(run_id: str) -> keras.Model:
    """A run's best model, rebuilt from its own config.json (05 and reports use it)."""
    config = fileio.read_json(run_dir(run_id) / "config.json")
    mcfg = ModelConfig(**{**config["model"], "image_size": tuple(config["model"]["image_size"])})
    model = build_model(mcfg)
    model.load_weights(weights_path(run_id))
    return model


def priors(data: schema.Dataset) -> pd.Series:
    """Class priors of the fit seasons S1-S8 (what the networks saw)."""
    labels = data.train_labels
    seasons = schema.season_of(labels[KEY])
    return metrics.class_priors(labels[seasons.isin(records.FIT_SEASONS).to_numpy()])


def sequence_scores(pred: pd.DataFrame, seq_ids, prior: pd.Series, which: str) -> pd.DataFrame:
    """seq_id + 54 scores for every sequence in `seq_ids` (its order): the mean over its images
    of the chosen view; sequences with no scored image get `prior`."""
    per = input_pipeline.per_sequence(input_pipeline.view(pred, which)).set_index(KEY)
    out = per.reindex(list(seq_ids))
    out = out.fillna(prior)
    return out.rename_axis(KEY).reset_index()


def train_run(
    run_id: str, ctx: profiles.Context, strategy_kind: str = "auto", verbose: int = 2
) -> dict:
    """Train one run (resuming if interrupted), score S9/S10, write metrics.json."""
    from lib import training

    config = resolve(run_id, ctx)
    out = run_dir(run_id)
    _require_parents(run_id, config)
    runs.start(out, config)

    strategy = training.select_strategy(strategy_kind)
    precision = training.set_precision(strategy)
    data = schema.load(ctx.data_dir)
    records.check_current(data, ctx.work)  # scored on these labels: trained on the same ones
    prior = priors(data)
    sibling = _reuse_sibling(run_id, config, ctx)
    trained = _train_stages(run_id, config, ctx, prior, _Fit(strategy, verbose))
    with strategy.scope():
        model = build_model(trained.mcfg)
    model.load_weights(weights_path(run_id))
    result = _score_parts(run_id, model, config, ctx, data)
    metrics_out = {
        "run_id": run_id,
        **result,
        "train": trained.info,
        "precision": precision,
        "profile": ctx.profile.name,
        "backbone_used": config["backbone_used"],
        "weights_from": sibling or run_id,
    }
    fileio.write_json(out / "metrics.json", metrics_out)
    return metrics_out


def _require_parents(run_id: str, config: dict) -> None:
    """Refuse to start a fine-tuned run before its parents finished: it would start from
    missing or half-trained weights."""
    for kind, parent in config["parents"].items():
        if not (run_dir(parent) / "metrics.json").is_file():
            raise FileNotFoundError(
                f"{run_id} starts from its {kind} parent {parent}, which has not finished; "
                "train it first (run_all.sh trains the registry in order)"
            )


def _reuse_sibling(run_id: str, config: dict, ctx: profiles.Context) -> str | None:
    """The planned run this one trains exactly like, if any; its finished training is copied
    in (unless this run's own training already finished), so a `naive` run costs no training."""
    sibling = trained_sibling(run_id, config, runs.planned("serengeti", ctx.profile.name))
    if sibling is not None and not (run_dir(run_id) / "train" / "done.json").is_file():
        print(
            f"{run_id}: trains exactly like {sibling} (only the evaluation resize differs); "
            "reusing its weights"
        )
        _copy_training(sibling, run_id)
    return sibling


@dataclass(frozen=True)
class _Fit:
    """How every stage of a run is fitted: one strategy and verbosity for all its stages."""

    strategy: object  # tf.distribute.Strategy
    verbose: int


@dataclass(frozen=True)
class _Stage:
    """Where one training stage trains and keeps its files: an early progressive stage at its
    own smaller size in `train/stage<i>-<h>x<w>/`, the last at the model size in `train/`, its
    best weights being the run's own."""

    size: list[int] | None  # None: the model's image size
    epochs: int
    folder: Path
    best: Path


def _stage(run_id: str, index: int, stage: dict, last: bool) -> _Stage:
    """Stage `index` (1-based) of config.json: an early stage keeps its best weights in its
    own folder for the next stage to start from; the last stage's best weights are the run's,
    the ones stage 05 and the bundle load."""
    if last:
        return _Stage(None, stage["epochs"], run_dir(run_id) / "train", weights_path(run_id))
    folder = stage_dir(run_id, index, stage["size"])
    return _Stage(stage["size"], stage["epochs"], folder, folder / "best.weights.h5")


@dataclass(frozen=True)
class _Trained:
    """What the training stages leave for scoring: the last stage's model config (the size
    inference uses) and the fit record metrics.json keeps under "train"."""

    mcfg: ModelConfig
    info: dict


def _train_stages(
    run_id: str, config: dict, ctx: profiles.Context, prior: pd.Series, fit: _Fit
) -> _Trained:
    """Train the stages in order, each starting from the previous stage's best weights (the
    first from fresh or parent weights); a run of several stages records each one's fit."""
    stages = config["stages"]
    start_from, infos = None, []
    for index, stage in enumerate(stages, 1):
        place = _stage(run_id, index, stage, last=index == len(stages))
        mcfg, build = _build(config, prior, place.size, start_from)
        if len(stages) > 1:
            print(f"stage {index}/{len(stages)}: {stage['size'][0]}x{stage['size'][1]}")
        info = _fit_stage(config, ctx, place, mcfg, build, fit)
        infos.append({"size": stage["size"], **info})
        start_from = place.best
    if len(stages) > 1:
        info = {**info, "stages": infos}
    return _Trained(mcfg, info)


def _fit_stage(
    config: dict,
    ctx: profiles.Context,
    place: _Stage,
    mcfg: ModelConfig,
    build: Callable[[], keras.Model],
    fit: _Fit,
) -> dict:
    """One stage's fit, resumable in its folder; the seed is set afresh for every stage, so
    each stage's stream and initial weights depend on the run seed only."""
    from lib import training

    keras.utils.set_random_seed(ctx.seed)
    train_ds = datasets(config, ctx.work, "fit", True, ctx.seed, size=place.size)
    # the best epoch is chosen on S9 through the training resize (the write-up validated
    # on the same resized copy it trained on); the run's own resize is used for its scores
    val_ds = datasets(
        config, ctx.work, CHECKPOINT_PART, False, ctx.seed, config["train_resize"], place.size
    )
    return training.fit(
        build,
        input_pipeline.without_keys(train_ds),
        input_pipeline.without_keys(val_ds),
        place.folder,
        place.best,
        epochs=place.epochs,
        learning_rate=config["learning_rate"],
        strategy=fit.strategy,
        seed=ctx.seed,
        verbose=fit.verbose,
        loss=build_loss(mcfg),
        metrics=lambda: [],
        resume_same_stream=True,  # decoded images are cached: skipping epochs costs little
    )


def _score_parts(
    run_id: str, model: keras.Model, config: dict, ctx: profiles.Context, data: schema.Dataset
) -> dict:
    """S9/S10 predictions (val_pred.csv) and their metrics through the run's own resize; a run
    whose evaluation resize is not its training resize is scored through the training resize
    too, which separates what the resize mismatch costs from what the backbone or loss does
    (the ladder shows both)."""
    out = run_dir(run_id)
    val = _predict_parts(model, config, ctx)
    fileio.write_csv(out / "val_pred.csv", val)
    result = evaluate(val, data, ctx.work)
    if config["eval_resize"] != config["train_resize"]:
        flow = _predict_parts(model, config, ctx, config["train_resize"])
        fileio.write_csv(out / "val_pred_train_resize.csv", flow)
        other = evaluate(flow, data, ctx.work)
        result["cv_logloss_train_resize"] = other["cv_logloss"]
        result["empty_logloss_s10_train_resize"] = other["empty_logloss_s10"]
    return result


def _predict_parts(
    model: keras.Model, config: dict, ctx: profiles.Context, resize: str | None = None
) -> pd.DataFrame:
    """Both views of every S9 and S10 element (column `part`), through `resize` (default: the
    run's evaluation resize)."""
    preds = []
    for part in VAL_PARTS:
        ds = datasets(config, ctx.work, part, False, ctx.seed, resize)
        preds.append(input_pipeline.predict(model, ds).assign(part=part))
    return pd.concat(preds, ignore_index=True)


def build_loss(mcfg: ModelConfig):
    from lib.serengeti.model import loss

    return loss(mcfg)


def part_truth(data: schema.Dataset, work: str | Path, part: str) -> pd.DataFrame:
    """Labels of every sequence of a stacking season (readable or not), seq_id order."""
    seqs = records.sequences(work)
    ids = seqs.loc[seqs["part"] == part, KEY]
    labels = data.train_labels.set_index(KEY).loc[sorted(ids)]
    return labels.rename_axis(KEY).reset_index()


def evaluate(val: pd.DataFrame, data: schema.Dataset, work: str | Path) -> dict:
    """cv_logloss (S10, orig view), its flip-TTA value, S9's, and the `empty` class's."""
    prior = priors(data)
    out = {}
    for part in VAL_PARTS:
        truth = part_truth(data, work, part)
        for which in ("orig", "tta"):
            pred = sequence_scores(val[val["part"] == part], truth[KEY], prior, which)
            table = metrics.per_class_table(truth, pred).set_index("class")
            suffix = "" if which == "orig" else "_tta"
            out[f"logloss_{part}{suffix}"] = float(table["log_loss"].mean())
            out[f"empty_logloss_{part}{suffix}"] = float(table.loc["empty", "log_loss"])
    out["cv_logloss"] = out[f"logloss_{SCORE_PART}"]
    out["cv_logloss_tta"] = out[f"logloss_{SCORE_PART}_tta"]
    out["cv_on"] = "S10"
    return out


def history(run_id: str) -> pd.DataFrame:
    """Every epoch of the run in training order: progressive stages first. `epoch` counts
    across stages; `stage` and `size` ("48x64") say which stage a row belongs to."""
    config_path = run_dir(run_id) / "config.json"
    stages = fileio.read_json(config_path).get("stages", []) if config_path.is_file() else []
    folders = [stage_dir(run_id, i, s["size"]) for i, s in enumerate(stages[:-1], 1)]
    folders.append(run_dir(run_id) / "train")
    sizes = [f"{s['size'][0]}x{s['size'][1]}" for s in stages] or [""]
    frames = [
        pd.read_csv(folder / "history.csv").assign(stage=index, size=size)
        for index, (folder, size) in enumerate(zip(folders, sizes, strict=True), 1)
        if (folder / "history.csv").is_file()
    ]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out["epoch"] = np.arange(len(out))
    return out


def finished_runs(run_ids: list[str], ctx: profiles.Context) -> list[str]:
    """Runs among `run_ids` that finished on this data folder with this profile."""
    from lib import runs

    return runs.finished("serengeti", run_ids, ctx)


def read_pred(run_id: str, name: str) -> pd.DataFrame:
    return pd.read_csv(run_dir(run_id) / name, dtype={KEY: str})
