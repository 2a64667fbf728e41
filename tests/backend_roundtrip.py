"""Child process of tests/test_backends.py: build, train, save or load the models on one backend.

Keras picks its backend once, at import, from KERAS_BACKEND; so each backend gets a process.

    python tests/backend_roundtrip.py train FOLDER   # one train step per model, save weights
    python tests/backend_roundtrip.py load FOLDER    # load another backend's weights, compare

`train` writes, per model, its weights, the batch it predicted on and the predictions;
`load` builds the same model, loads those weights and prints the largest difference from the
saved predictions. Both print one `RESULT {json}` line. Configs are the profiles' own, with
images shrunk so a CPU builds and steps them in seconds (the layers are the same).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def chimpact_models() -> dict:
    from lib import profiles
    from lib.chimpact import runid
    from lib.chimpact.train import model_config

    spec = runid.parse("run-20211101-1526-down-a1p50-f7s1")
    demo = model_config(spec, profiles.get("demo"))
    full = model_config(spec, profiles.get("full"))
    return {
        "chimpact_demo": replace(demo, frames=3, image_size=32, lstm_units=16, dense_units=8),
        "chimpact_full": replace(full, frames=2, image_size=32, backbone_weights=None),
    }


def serengeti_models() -> dict:
    from lib import profiles
    from lib.serengeti import runid
    from lib.serengeti.train import model_config

    def cfg(run_id: str, profile: str, size: tuple[int, int], **kw):
        spec = runid.parse(run_id)
        base = model_config(spec, profiles.get(profile, "serengeti"))
        return replace(base, image_size=size, backbone_weights=None, **kw)

    return {
        "serengeti_demo_single": cfg(
            "run-20191219-1000-single-small-sigmoid-flow", "demo", (32, 48)
        ),
        "serengeti_demo_twostream": cfg(
            "run-20191219-1000-twostream-small-sigmoid-flow", "demo", (32, 48)
        ),
        "serengeti_full_single_irv2": cfg(
            "run-20191219-1000-single-irv2-sigmoid-flow", "full", (75, 75)
        ),
        "serengeti_full_twostream_mnv2": cfg(
            "run-20191219-1000-twostream-mnv2-sigmoid-flow", "full", (32, 32), fusion_filters=32
        ),
    }


def build(name: str, cfg) -> tuple:
    """(model compiled as training compiles it, one batch of inputs, targets)."""
    import keras

    rng = np.random.default_rng(0)
    if name.startswith("chimpact"):
        from lib.chimpact.model import build_model

        s = cfg.image_size
        x = rng.random((2, cfg.frames, s, s, 3), dtype=np.float32)
        y = np.array([[3.0], [12.0]], np.float32)
        loss = "mae"
    else:
        from lib.serengeti.model import build_model
        from lib.serengeti.model import loss as track_loss

        shape = (2, *cfg.image_size, 3)
        x = rng.random(shape, dtype=np.float32)
        if cfg.model == "twostream":
            x = {"mean": x, "background": rng.random(shape, dtype=np.float32)}
        y = (rng.random((2, cfg.n_classes)) < 0.1).astype(np.float32)
        loss = track_loss(cfg)
    model = build_model(cfg)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    return model, x, y


def _batch_file(folder: Path, name: str) -> Path:
    return folder / f"{name}.npz"


def train(folder: Path) -> dict:
    """One train step per model: its loss must be finite and its weights must move."""
    out = {}
    for name, cfg in {**chimpact_models(), **serengeti_models()}.items():
        model, x, y = build(name, cfg)
        before = [np.array(w) for w in model.trainable_weights]
        logs = model.train_on_batch(x, y, return_dict=True)
        moved = max(
            float(np.abs(np.array(w) - b).max())
            for w, b in zip(model.trainable_weights, before, strict=True)
        )
        pred = np.asarray(model.predict_on_batch(x), np.float32)
        model.save_weights(str(folder / f"{name}.weights.h5"))
        xs = x if isinstance(x, dict) else {"x": x}
        np.savez(_batch_file(folder, name), pred=pred, **xs)
        out[name] = {"loss": float(logs["loss"]), "moved": moved}
    return out


def load(folder: Path) -> dict:
    """Each model with the other backend's weights: largest difference in its predictions."""
    out = {}
    for name, cfg in {**chimpact_models(), **serengeti_models()}.items():
        model, _, _ = build(name, cfg)
        model.load_weights(str(folder / f"{name}.weights.h5"))
        saved = dict(np.load(_batch_file(folder, name)))
        want = saved.pop("pred")
        x = saved["x"] if "x" in saved else saved
        got = np.asarray(model.predict_on_batch(x), np.float32)
        out[name] = {
            "max_abs_diff": float(np.abs(got - want).max()),
            "scale": float(np.abs(want).max()),
        }
    return out


def main(argv: list[str]) -> int:
    import keras

    action, folder = argv[0], Path(argv[1])
    result = train(folder) if action == "train" else load(folder)
    info = {
        "backend": keras.backend.backend(),
        "tensorflow_imported": "tensorflow" in sys.modules,
        "models": result,
    }
    print("RESULT " + json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
