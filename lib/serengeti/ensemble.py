"""Stage 06: the write-up's ladder measured on one season, the stack, the submission, summary.

Every number of the ladder is the competition metric on the same sequences: every sequence of
season S10 (a sequence without a readable image gets the class priors of S1-S8, in every rung).
The rungs, in the write-up's order:

  softmax control, MobileNetV2 + sigmoid, InceptionResNetV2, resize fix  - one network each
      (per sequence: mean of its images' scores, no TTA); `logloss_flow` is the same network
      scored through the training resize (flow), so the loss and backbone rungs can be read
      without the resize mismatch the `naive` runs carry;
  background     - the resize-fix model with its `empty` column taken from the background
                   model (the write-up "ensembled the empty class");
  boosting       - LightGBM stack of the single and background models (booster "a": fitted on
                   S9, early-stopped on S10 - as the write-up; the only honest booster on S10);
  two-stream     - the stack with the two-stream model's scores added;
  second booster - "a" averaged with "b" (fitted on S10 itself: optimistic, as the write-up's
                   0.0020 was; flagged `honest: false`);
  flip TTA       - the same with every network's scores averaged over the image and its mirror;

and beyond the write-up: `neighbour cameras` - the honest stack (booster "a", TTA) with the
other cameras' scores within ±window seconds; `calibrated rare classes` - the honest stack
without neighbours, the unboosted classes' image-mean scores recalibrated on S9
(`stacking.fit_calibration`). `stacked_logloss` / `stacked_neighbor_logloss` in summary.json are
the project's honest stacks (with that calibration) without / with the neighbour feature;
`..._writeup` are the same without the calibration.

The submission uses both boosters (the write-up's final setting), flip TTA, and the neighbour
feature when it lowered the honest S10 score; predictions are clipped and validated against
submission_format.csv before writing. The fitted stack behind it is kept in
`runs/serengeti/stack/` (`save_stack`), which the model bundle (lib.serengeti.bundle) carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio, paths, profiles
from lib.serengeti import (
    input_pipeline,
    metrics,
    neighbors,
    records,
    runid,
    schema,
    stacking,
    submission,
)
from lib.serengeti.profile import SerengetiProfile
from lib.serengeti.schema import CLASSES, KEY
from lib.serengeti.train import finished_runs, part_truth, priors, read_pred, run_dir, track_dir

SCORE_PART = "s10"


def pick(run_ids: list[str], model: str, backbone: str | None = None, head: str = "sigmoid",
         resize: str = "flow") -> str | None:  # fmt: skip
    """The latest finished run of a kind (backbone None: irv2 preferred, then any)."""
    specs = [runid.parse(r) for r in run_ids]
    cands = [
        s for s in specs
        if s.model == model and s.head == head and s.resize == resize
        and (backbone is None or s.backbone == backbone)
    ]  # fmt: skip
    if not cands:
        return None
    best_bb = [s for s in cands if s.backbone == "irv2"] if backbone is None else cands
    return max(best_bb or cands, key=lambda s: (s.date, s.run_id)).run_id


def leaderboard(run_ids: list[str]) -> pd.DataFrame:
    """run_id, cv_logloss (S10) and the write-up's score where the run mirrors a registry row."""
    reg = runid.registry().set_index("run_id")
    rows = []
    for run in run_ids:
        m = fileio.read_json(run_dir(run) / "metrics.json")
        spec = runid.parse(run)
        ref = reg.loc[run] if run in reg.index else None
        rows.append(
            {
                "run_id": run,
                "cv_logloss": m["cv_logloss"],
                "cv_logloss_tta": m["cv_logloss_tta"],
                "cv_logloss_flow": m.get("cv_logloss_train_resize", m["cv_logloss"])
                if spec.resize == "naive"
                else m["cv_logloss"],
                "empty_logloss": m["empty_logloss_s10"],
                "logloss_s9": m["logloss_s9"],
                "step": ref["step"] if ref is not None else "",
                "writeup_public_logloss": ref["writeup_public_logloss"]
                if ref is not None
                else np.nan,
                "writeup_empty_logloss": ref["writeup_empty_logloss"]
                if ref is not None
                else np.nan,
                "model": spec.model,
                "backbone": spec.backbone,
                "backbone_used": m.get("backbone_used", ""),
                "head": spec.head,
                "resize": spec.resize,
            }
        )
    board = pd.DataFrame(rows)
    fileio.write_csv(track_dir() / "leaderboard.csv", board)
    return board


@dataclass
class Inputs:
    """Everything the stack reads for one part (season or test)."""

    sequences: pd.DataFrame  # seq_id, season, site, datetime, n_images (every sequence)
    image: dict[str, pd.DataFrame] = field(default_factory=dict)  # per-image scores by model
    sequence: dict[str, pd.DataFrame] = field(default_factory=dict)  # per-sequence scores


def _part_scores(run: str, part: str, which: str) -> pd.DataFrame:
    pred = read_pred(run, "test_pred.csv" if part == "test" else "val_pred.csv")
    if part != "test":
        pred = pred[pred["part"] == part].drop(columns="part")
    return input_pipeline.view(pred, which)


def load_inputs(work, part: str, which: str, main: dict[str, str | None]) -> Inputs:
    seqs = records.sequences(work)
    chosen = seqs[seqs["part"] == part].sort_values(KEY).reset_index(drop=True)
    inp = Inputs(chosen[[KEY, "season", "site", "datetime", "n_images"]])
    inp.image["single"] = _part_scores(main["single"], part, which)
    for model in ("background", "twostream"):
        if main.get(model):
            scores = _part_scores(main[model], part, which).drop(columns="image_index")
            inp.sequence[model] = scores
    return inp


def features(inp: Inputs, models: tuple[str, ...], prior: pd.Series, window_s: float | None,
             nb_classes=stacking.FREQUENT_CLASSES) -> pd.DataFrame:  # fmt: skip
    """The stacking feature table of one part: the single model's per-image scores, the chosen
    sequence models' scores, and (window_s not None) the neighbour-camera features."""
    extra = []
    if window_s is not None:
        per_seq = _per_sequence(inp, prior)
        table = inp.sequences[[KEY, "season", "site", "datetime"]].merge(per_seq, on=KEY)
        extra.append(neighbors.neighbor_features(table, window_s, classes=list(nb_classes)))
    return stacking.feature_table(
        inp.sequences,
        {"single": inp.image["single"]},
        {m: inp.sequence[m] for m in models if m in inp.sequence},
        extra=extra,
    )


def _per_sequence(inp: Inputs, prior: pd.Series) -> pd.DataFrame:
    per = (
        input_pipeline.per_sequence(inp.image["single"]).set_index(KEY).reindex(inp.sequences[KEY])
    )
    return per.fillna(prior).rename_axis(KEY).reset_index()


def fallback_scores(inp: Inputs) -> pd.DataFrame:
    """The unboosted classes' scores before calibration: the single model's image mean."""
    return stacking.image_mean({"single": inp.image["single"]})


def _model_pred(inp: Inputs, model: str, prior: pd.Series) -> pd.DataFrame:
    """A network's per-sequence scores for every sequence of the part (priors if unscored)."""
    if model == "single":
        per = input_pipeline.per_sequence(inp.image["single"])
    else:
        per = inp.sequence[model]
    out = per.set_index(KEY).reindex(inp.sequences[KEY]).fillna(prior)
    return out.rename_axis(KEY).reset_index()


def _score(truth: pd.DataFrame, pred: pd.DataFrame) -> float:
    return metrics.score(truth, pred)


def stack_config(prof: SerengetiProfile, seed: int) -> stacking.StackConfig:
    return stacking.StackConfig(
        feature_mode=prof.stack_feature_mode,
        min_data_in_leaf=prof.stack_min_data_in_leaf,
        num_leaves=prof.stack_num_leaves,
        learning_rate=prof.stack_learning_rate,
        seed=seed,
    )


def run(ctx: profiles.Context, name: str | None = None) -> dict:
    """Leaderboard, ladder, stacks, submission and summary.json (see the module docstring)."""
    prof = ctx.profile
    assert isinstance(prof, SerengetiProfile)
    data = schema.load(ctx.data_dir)
    nets = _networks(ctx, prof)
    leaderboard(nets.done)
    prior = priors(data)
    truth = {p: part_truth(data, ctx.work, p) for p in ("s9", "s10")}
    y10 = truth[SCORE_PART]
    baseline = metrics.baseline_log_loss(
        data.train_labels[schema.season_of(data.train_labels[KEY]).isin(records.FIT_SEASONS)],
        y10,
    )
    inputs = {
        (part, which): load_inputs(ctx.work, part, which, nets.main)
        for part in ("s9", "s10")
        for which in ("orig", "tta")
    }
    cfg = stack_config(prof, ctx.seed)
    window = prof.neighbor_window_s
    stacker = _Stacker(inputs, truth, prior, replace(cfg, calibrate_fallback=False))

    ladder = _Ladder(runid.registry())
    _network_rungs(ladder, nets.done)
    empty = _background_rung(ladder, inputs[(SCORE_PART, "orig")], nets.main, prior, y10)
    _stack_rungs(ladder, stacker, y10)
    honest = _honest_stacks(ladder, stacker, cfg, window, y10)

    sub = _submit(ctx, data, nets.main, honest, prior, window, name)
    per_class = metrics.per_class_table(y10, honest.pred)
    fileio.write_csv(track_dir() / "per_class_s10.csv", per_class)
    summary = {
        **_score_summary(baseline, ladder, empty, honest, window),
        **_output_summary(ctx, nets, truth, honest, sub),
        **_demo_test_summary(data, sub.rows),
    }
    fileio.write_json(track_dir() / "summary.json", summary)
    return summary


_STACK_MODELS = ("background", "twostream")  # the sequence models of every stack from two-stream on


@dataclass(frozen=True)
class _Networks:
    """The profile's finished runs, and per stack role the run the stack reads (None: none
    finished); the submission, its saved stack and summary.json all name the same ones."""

    done: list[str]
    main: dict[str, str | None]


def _networks(ctx: profiles.Context, prof: SerengetiProfile) -> _Networks:
    """Pick the stack's networks among the profile's finished runs; without a single-image
    network there is nothing to stack, so stage 06 stops and names the stages to run first."""
    planned = runid.model_runs() if prof.runs != "quick" else runid.quick_runs()
    done = finished_runs(planned, ctx)
    main = {m: pick(done, m) for m in ("single", "background", "twostream")}
    if main["single"] is None:
        raise FileNotFoundError(
            f"no finished single-image sigmoid/flow run for {ctx.data_dir} (profile {prof.name}); "
            "run 04_train and 05_infer first"
        )
    return _Networks(done, main)


@dataclass
class _Stacker:
    """The S9 and S10 inputs, labels and fill priors every stack of the ladder is built from:
    each is fitted on S9 and early-stopped and scored on S10, whatever models, view, neighbour
    window and settings its rung asks for."""

    inputs: dict[tuple[str, str], Inputs]
    truth: dict[str, pd.DataFrame]
    prior: pd.Series
    writeup: stacking.StackConfig  # the write-up's settings: no fallback calibration

    def stack(
        self,
        models: tuple[str, ...],
        which: str,
        window_s: float | None = None,
        directions: tuple[str, ...] = ("a",),
        config: stacking.StackConfig | None = None,
    ) -> tuple[stacking.Stack, pd.DataFrame]:
        """The fitted stack and its S10 predictions (`config` None: the write-up's settings)."""
        config = self.writeup if config is None else config
        fa = features(self.inputs[("s9", which)], models, self.prior, window_s)
        fb = features(self.inputs[("s10", which)], models, self.prior, window_s)
        fallback = {part: fallback_scores(self.inputs[(part, which)]) for part in ("s9", "s10")}
        fitted = stacking.fit(
            fa, self.truth["s9"], fb, self.truth["s10"], config, fallback["s9"], fallback["s10"]
        )
        pred = stacking.predict(fitted, fb, fallback["s10"], self.prior, directions)
        return fitted, pred


@dataclass
class _Ladder:
    """The ladder's rows in the order they are measured, each beside the write-up's public
    score for its step (from the registry), so the two read side by side."""

    reg: pd.DataFrame
    rows: list[dict] = field(default_factory=list)

    def rung(
        self,
        step: str,
        value: float | None,
        honest: bool = True,
        note: str = "",
        flow: float | None = None,
    ) -> None:
        """Add one step; `value` None keeps a step that could not be measured in the table."""
        ref = self.reg.loc[self.reg["step"] == step, "writeup_public_logloss"]
        self.rows.append(
            {
                "step": step,
                "logloss": None if value is None else float(value),
                "logloss_flow": None if flow is None else float(flow),
                "honest": honest,
                "writeup_public_logloss": (
                    None if ref.empty or pd.isna(ref.iloc[0]) else float(ref.iloc[0])
                ),
                "note": note,
            }
        )


_NETWORK_STEPS = ("softmax control", "MobileNetV2 + sigmoid", "InceptionResNetV2", "resize fix")


def _network_rungs(ladder: _Ladder, done: list[str]) -> None:
    """The one-network rungs, as each run's metrics.json scored it; a rung whose run is not
    trained stays in the ladder, empty, so the table keeps the write-up's steps."""
    reg = ladder.reg
    for step in _NETWORK_STEPS:
        run_id = reg.loc[reg["step"] == step, "run_id"].iloc[0]
        value = flow = None
        if run_id in done:
            m = fileio.read_json(run_dir(run_id) / "metrics.json")
            value, flow = m["cv_logloss"], m.get("cv_logloss_train_resize", m["cv_logloss"])
        ladder.rung(
            step, value, note=run_id if run_id in done else f"{run_id} not trained", flow=flow
        )


def _background_rung(
    ladder: _Ladder, s10: Inputs, main: dict[str, str | None], prior: pd.Series, y10: pd.DataFrame
) -> tuple[float, float | None]:
    """The background rung (the single model with its `empty` column from the background
    model) and the `empty` class's S10 loss of each model - the class the background model is
    for; without a background run the rung is empty and its loss None."""
    single = _model_pred(s10, "single", prior)
    empty_single = float(
        metrics.per_class_log_loss(y10[["empty"]], _align(y10, single)[["empty"]])[0]
    )
    if not main["background"]:
        ladder.rung("background", None, note="no background run")
        return empty_single, None
    bg = _model_pred(s10, "background", prior)
    combo = single.copy()
    combo["empty"] = bg.set_index(KEY).reindex(single[KEY])["empty"].to_numpy()
    empty_bg = float(metrics.per_class_log_loss(y10[["empty"]], _align(y10, bg)[["empty"]])[0])
    ladder.rung(
        "background",
        _score(y10, combo),
        note="resize-fix model, `empty` from the background model",
    )
    return empty_single, empty_bg


def _stack_rungs(ladder: _Ladder, stacker: _Stacker, y10: pd.DataFrame) -> None:
    """The write-up's stacking rungs, each adding one thing to the rung before: boosting, the
    two-stream scores, the second booster (fitted on S10: not honest), flip TTA."""
    _, p = stacker.stack(("background",), "orig")
    ladder.rung("boosting", _score(y10, p), note="booster a (S9 -> stop on S10)")
    _, p = stacker.stack(_STACK_MODELS, "orig")
    ladder.rung("two-stream", _score(y10, p), note="booster a, + two-stream scores")
    _, p = stacker.stack(_STACK_MODELS, "orig", directions=("a", "b"))
    ladder.rung("second booster", _score(y10, p), honest=False, note="a + b; b was fitted on S10")
    _, p = stacker.stack(_STACK_MODELS, "tta", directions=("a", "b"))
    ladder.rung(
        "flip TTA", _score(y10, p), honest=False, note="a + b, flip TTA; b was fitted on S10"
    )


@dataclass(frozen=True)
class _Honest:
    """The honest S10 stacks (booster a, flip TTA) without and with the neighbour feature, at
    the write-up's settings and at the project's; the project's pair decides the submission,
    which takes the neighbour feature only where it lowered the S10 score."""

    writeup: float
    writeup_nb: float
    stacked: float
    stacked_nb: float
    use_nb: bool
    fitted: stacking.Stack  # the submission's stack
    pred: pd.DataFrame  # its S10 predictions


def _honest_stacks(
    ladder: _Ladder,
    stacker: _Stacker,
    cfg: stacking.StackConfig,
    window: float,
    y10: pd.DataFrame,
) -> _Honest:
    """Fit the honest stacks, add their rungs beyond the write-up, and choose the submission's."""
    _, p_writeup = stacker.stack(_STACK_MODELS, "tta")
    _, p_writeup_nb = stacker.stack(_STACK_MODELS, "tta", window_s=window)
    ladder.rung(
        "neighbour cameras",
        _score(y10, p_writeup_nb),
        note=f"booster a, flip TTA, ±{window:g} s (not in the write-up's ladder)",
    )
    # the project's stack: the write-up's, with the unboosted classes' scores recalibrated
    fitted_plain, p_plain = stacker.stack(_STACK_MODELS, "tta", config=cfg)
    fitted_nb, p_nb = stacker.stack(_STACK_MODELS, "tta", window_s=window, config=cfg)
    stacked, stacked_nb = _score(y10, p_plain), _score(y10, p_nb)
    if cfg.calibrate_fallback:
        ladder.rung(
            "calibrated rare classes",
            stacked,
            note="booster a, flip TTA, unboosted classes recalibrated on S9 (beyond the write-up)",
        )
    use_nb = stacked_nb < stacked
    return _Honest(
        writeup=_score(y10, p_writeup),
        writeup_nb=_score(y10, p_writeup_nb),
        stacked=stacked,
        stacked_nb=stacked_nb,
        use_nb=use_nb,
        fitted=fitted_nb if use_nb else fitted_plain,
        pred=p_nb if use_nb else p_plain,
    )


@dataclass(frozen=True)
class _Submission:
    """The written submission, the test features it was predicted from (which rows had no
    scored image) and the saved stack behind it."""

    path: Path
    rows: pd.DataFrame
    features: pd.DataFrame
    stack_dir: Path


def _submit(
    ctx: profiles.Context,
    data: schema.Dataset,
    main: dict[str, str | None],
    honest: _Honest,
    fill_prior: pd.Series,
    window: float,
    name: str | None,
) -> _Submission:
    """Predict the test sequences with the chosen stack and both boosters, keep that stack
    (`save_stack`) and write the validated submission. Sequences without a readable image
    get the priors of all training labels; neighbour features fill with `fill_prior`."""
    test_inp = load_inputs(ctx.work, "test", "tta", main)
    test_feats = features(test_inp, _STACK_MODELS, fill_prior, window if honest.use_nb else None)
    test_prior = metrics.class_priors(data.train_labels)
    test_pred = stacking.predict(
        honest.fitted, test_feats, fallback_scores(test_inp), test_prior, ("a", "b")
    )
    stack_dir = save_stack(
        honest.fitted,
        main,
        _STACK_MODELS,
        test_feats,
        honest.use_nb,
        window,
        test_prior,
        fill_prior,
    )
    fmt = data.submission_format
    sub = submission.make(test_pred, fmt)
    sub_path = paths.submissions_root() / "serengeti" / f"{name or f'stack-{ctx.profile.name}'}.csv"
    submission.write(sub, fmt, sub_path)
    return _Submission(sub_path, sub, test_feats, stack_dir)


def _score_summary(
    baseline: float,
    ladder: _Ladder,
    empty: tuple[float, float | None],
    honest: _Honest,
    window: float,
) -> dict:
    """summary.json's scores: the baseline, the ladder and the honest stacks."""
    return {
        "baseline_logloss": float(baseline),
        "ladder": ladder.rows,
        "ladder_on": "S10: every sequence (no readable image -> S1-S8 class priors)",
        "empty_logloss_single": empty[0],
        "empty_logloss_background": empty[1],
        "stacked_logloss": float(honest.stacked),
        "stacked_neighbor_logloss": float(honest.stacked_nb),
        "stacked_logloss_writeup": float(honest.writeup),
        "stacked_neighbor_logloss_writeup": float(honest.writeup_nb),
        "fallback_calibration": {d: list(c) for d, c in honest.fitted.calibration.items()},
        "stacked_over_baseline": float(honest.stacked / baseline),
        "neighbor_window_s": float(window),
        "submission_uses_neighbors": bool(honest.use_nb),
    }


def _output_summary(
    ctx: profiles.Context,
    nets: _Networks,
    truth: dict[str, pd.DataFrame],
    honest: _Honest,
    sub: _Submission,
) -> dict:
    """summary.json's record of what was written and from what: submission, runs, stack,
    sequence counts and the test sequences that fell back to priors."""
    no_image = (sub.features["n_scored"] <= 0).to_numpy()
    return {
        "submission": str(sub.path),
        "runs": nets.done,
        "stack_models": nets.main,
        "stack_dir": str(sub.stack_dir),
        "boosters": sorted(f"{c}/{d}" for c, d in honest.fitted.boosters),
        "boosters_skipped": {f"{c}/{d}": why for (c, d), why in honest.fitted.skipped.items()},
        "sequences_s9": int(len(truth["s9"])),
        "sequences_s10": int(len(truth[SCORE_PART])),
        "test_sequences": int(len(sub.rows)),
        "test_sequences_priors": int(no_image.sum()),
        # named, so a user can see which rows are the fallback (no readable image)
        "test_sequences_priors_ids": sorted(str(s) for s in sub.features.index[no_image]),
        "profile": ctx.profile.name,
        "data_dir": str(ctx.data_dir),
    }


def _demo_test_summary(data: schema.Dataset, sub: pd.DataFrame) -> dict:
    """The submission's test score, where the data folder has test labels (demo data only)."""
    if data.test_labels is None:
        return {"demo_test_logloss": None}
    return {
        "demo_test_logloss": float(metrics.score(data.test_labels, sub)),
        "demo_test_baseline_logloss": float(
            metrics.baseline_log_loss(data.train_labels, data.test_labels)
        ),
    }


STACK_DIR = "stack"


def save_stack(
    fitted: stacking.Stack,
    main: dict[str, str | None],
    models: tuple[str, ...],
    test_feats: pd.DataFrame,
    use_nb: bool,
    window: float,
    test_prior: pd.Series,
    fill_prior: pd.Series,
) -> Path:
    """Keep the submission's stack in `runs/serengeti/stack/` with everything that decided its
    test predictions (which networks, view, boosters, neighbour setting, priors), so a model
    bundle can repeat them on new images (lib.serengeti.bundle)."""
    extra = {
        "image_models": {"single": main["single"]},
        "sequence_models": {m: main[m] for m in models if main.get(m)},
        "view": "tta",
        "directions": list(stacking.DIRECTIONS),
        "neighbors": {
            "used": bool(use_nb),
            "window_s": float(window),
            "classes": list(stacking.FREQUENT_CLASSES),
            "fill": "S1-S8 class priors for sequences without a scored image",
        },
        "feature_columns": list(test_feats.columns),
        "priors": {c: float(test_prior[c]) for c in CLASSES},
        "neighbor_fill_priors": {c: float(fill_prior[c]) for c in CLASSES},
        "clip": list(metrics.SUBMISSION_CLIP),
    }
    return stacking.save(fitted, track_dir() / STACK_DIR, extra)


def _align(truth: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """Predictions in the labels' row order (by seq_id)."""
    return pred.set_index(KEY).reindex(truth[KEY]).reset_index()


def model_table(summary: dict) -> pd.DataFrame:
    """The ladder as a table (for the notebook and README)."""
    return pd.DataFrame(summary["ladder"])


def class_losses(work, ctx_data: schema.Dataset, run_ids: list[str]) -> pd.DataFrame:
    """Per-class S10 log loss of each run (orig view): rows classes, columns runs."""
    prior = priors(ctx_data)
    truth = part_truth(ctx_data, work, SCORE_PART)
    cols = {}
    for run in run_ids:
        val = read_pred(run, "val_pred.csv")
        val = val[val["part"] == SCORE_PART].drop(columns="part")
        per = (
            input_pipeline.per_sequence(input_pipeline.view(val, "orig"))
            .set_index(KEY)
            .reindex(truth[KEY])
        )
        pred = per.fillna(prior).rename_axis(KEY).reset_index()
        cols[run] = metrics.per_class_table(truth, pred).set_index("class")["log_loss"]
    return pd.DataFrame(cols).reindex(list(CLASSES))


def prior_class_losses(work, ctx_data: schema.Dataset) -> pd.Series:
    """Per-class S10 log loss of the S1-S8 class priors (the baseline), index CLASSES."""
    truth = part_truth(ctx_data, work, SCORE_PART)
    pred = metrics.prior_predictions(truth[KEY], priors(ctx_data))
    return (
        metrics.per_class_table(truth, pred).set_index("class")["log_loss"].reindex(list(CLASSES))
    )
