"""Training sessions (``training.session``), the one code path of ``anisketch train --dataset`` and the wizard:
runs tied to their dataset and data (issue 13 item 2: training B after A must not export A's weights), resume
and fresh starts said out loud, progress and cancel callbacks, the engine's device choice, model cards that
describe the user's data, and validation through the app's own engine."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from anisketch_desktop.core import pipeline
from anisketch_desktop.core.errors import Cancelled, DeviceError
from anisketch_desktop.core.model_io import load_model, read_metadata, save_model
from training import card, session
from training.session import TrainingSession, TrainOptions


def _pair(rng: np.random.Generator, size=(96, 128)):
    h, w = size
    color = np.full((h, w, 3), 235, np.uint8)
    sketch = np.full((h, w), 255, np.uint8)
    for _ in range(5):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        center = (int(rng.integers(15, w - 15)), int(rng.integers(15, h - 15)))
        r = int(rng.integers(8, 25))
        cv2.circle(color, center, r, c, -1)
        cv2.circle(sketch, center, r, 0, 2)
    return color, sketch


def _pairs_folder(root, seed: int, count: int = 3, start: int = 0):
    """An exported-pairs dataset (color/ + sketch/), which ``anisketch train --dataset`` accepts."""
    (root / "color").mkdir(parents=True, exist_ok=True)
    (root / "sketch").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(start, start + count):
        color, sketch = _pair(rng)
        cv2.imwrite(str(root / "color" / f"p{i}.png"), color[..., ::-1])
        cv2.imwrite(str(root / "sketch" / f"p{i}.png"), sketch)
    return root


def _options(**kw):
    return TrainOptions.tiny(crop=48, **kw)


class _Events:
    def __init__(self):
        self.all: list[session.TrainProgress] = []

    def __call__(self, event):
        self.all.append(event)

    @property
    def messages(self):
        return [e.message for e in self.all if e.message]

    @property
    def steps(self):
        return [e.step for e in self.all if e.loss is not None]


def _weights(path):
    model, _ = load_model(path)
    return torch.cat([t.flatten().float() for t in model.state_dict().values()])


def test_training_b_after_a_trains_b_and_saves_b_s_own_model(tmp_path, _isolated_home):
    a = _pairs_folder(tmp_path / "A", seed=1)
    b = _pairs_folder(tmp_path / "B", seed=2)
    first = TrainingSession(a, _options(name="A")).run(progress=_Events())
    events = _Events()
    second = TrainingSession(b, _options(name="B")).run(progress=events)
    assert events.steps == list(range(1, 7))  # B's run actually trained, every step
    assert second.resumed == {"sketch": False}
    assert any("from the start" in m for m in events.messages)
    assert not torch.equal(_weights(first.models["sketch"]), _weights(second.models["sketch"]))
    assert (b / "training" / "sketch" / "ckpt.pt").is_file() and (a / "training" / "sketch" / "ckpt.pt").is_file()
    assert not (tmp_path / "runs").exists()


def test_cli_train_b_after_a_is_not_a_s_model(tmp_path, _isolated_home, monkeypatch, capsys):
    """The attack run's reproduction through the command line (there runs were shared in ./runs)."""
    from anisketch_desktop import cli

    monkeypatch.chdir(tmp_path)
    a = _pairs_folder(tmp_path / "A", seed=1)
    b = _pairs_folder(tmp_path / "B", seed=2)
    recipe = tmp_path / "tiny.json"
    recipe.write_text('{"name": "tiny", "task": "sketch", "model": {"base_channels": 4, "depth": 2}, '
                      '"stages": [{"name": "only", "train": {"steps": 3, "batch_size": 2, "crop": 48}}]}')
    assert cli.main(["train", "--dataset", str(a), "--recipe", str(recipe)]) == 0
    assert cli.main(["train", "--dataset", str(b), "--recipe", str(recipe)]) == 0
    err = capsys.readouterr().err
    assert err.count("from the start") == 2 and "Resuming" not in err
    models = _isolated_home / "models"
    weights_a, weights_b = _weights(models / "A-sketch.safetensors"), _weights(models / "B-sketch.safetensors")
    assert not torch.equal(weights_a, weights_b)
    assert "A" in read_metadata(models / "A-sketch.safetensors")["name"]


def test_more_approved_pairs_start_fresh_and_same_pairs_resume(tmp_path, _isolated_home):
    a = _pairs_folder(tmp_path / "A", seed=1)
    TrainingSession(a, _options()).run()
    same = _Events()
    again = TrainingSession(a, _options()).run(progress=same)
    assert again.resumed == {"sketch": True} and same.steps == []  # nothing left to train: saved again
    assert any("already finished" in m for m in same.messages)

    _pairs_folder(a, seed=9, count=2, start=3)  # two more approved pairs
    grown = _Events()
    fresh = TrainingSession(a, _options()).run(progress=grown)
    assert fresh.resumed == {"sketch": False} and grown.steps == list(range(1, 7))
    assert any("approved pairs or the options changed" in m for m in grown.messages)

    other = _Events()  # other options: also a new run, never a continuation of this one
    TrainingSession(a, _options(lr=5e-4)).run(progress=other)
    assert other.steps == list(range(1, 7))


def test_cancel_keeps_the_checkpoint_and_resume_continues(tmp_path, _isolated_home):
    a = _pairs_folder(tmp_path / "A", seed=1)
    options = _options(steps=20)
    seen = _Events()
    with pytest.raises(Cancelled):
        TrainingSession(a, options).run(progress=seen, cancel=lambda: len(seen.steps) >= 12)
    assert session.saved_options(a)[0] == options
    assert not session.trained_models(a)
    resumed = _Events()
    result = TrainingSession(a, options).run(progress=resumed)
    assert result.resumed == {"sketch": True}
    assert resumed.steps[0] > 1 and resumed.steps[-1] == 20  # continued from the checkpoint (every 10 steps)
    assert any(m.startswith("Resuming the sketch model at step") for m in resumed.messages)
    assert session.saved_options(a) is None  # finished


def test_every_model_gets_a_card_about_the_users_data(tmp_path, _isolated_home):
    a = _pairs_folder(tmp_path / "MyCharacter", seed=1)
    result = TrainingSession(a, _options(tasks=["sketch", "colorize"], name="mine")).run()
    assert set(result.models) == {"sketch", "colorize"}
    for task in ("sketch", "colorize"):
        text = (_isolated_home / "models" / f"mine-{task}.md").read_text()
        assert result.cards[task].endswith(f"mine-{task}.md")
        assert "3 approved pairs of the dataset MyCharacter" in text
        assert card.SHIPPED_DATA not in text and "132" not in text
        meta = read_metadata(result.models[task])
        assert meta["name"] == f"mine ({task})" and "MyCharacter" in meta["dataset"]
    assert [m["task"] for m in session.trained_models(a)] == ["sketch", "colorize"]


def test_the_device_is_the_engines_choice(tmp_path, _isolated_home, monkeypatch):
    a = _pairs_folder(tmp_path / "A", seed=1)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA"):
            TrainingSession(a, _options(device="cuda")).run()
    from anisketch_desktop.core import engine

    real = engine.resolve_device
    asked = []

    def fake(name="auto"):
        asked.append(name)
        device, _ = real("cpu")
        return device, "GPU not used: it failed a test kernel; running on the CPU" if name == "auto" else None

    monkeypatch.setattr(engine, "resolve_device", fake)
    events = _Events()
    TrainingSession(a, _options()).run(progress=events)
    assert asked[0] == "auto" and "GPU not used" in events.messages[0]


def test_wizard_job_receives_progress_losses_and_messages(tmp_path, _isolated_home):
    from anisketch_desktop.gui.wizard import jobs

    class State:
        def __init__(self):
            self.partials, self.fractions = [], []

        def partial(self, value):
            self.partials.append(value)

        def progress(self, fraction):
            self.fractions.append(fraction)

        def cancelled(self):
            return False

    a = _pairs_folder(tmp_path / "A", seed=1)
    state = State()
    result = jobs.train(str(a), _options(), False, state=state)
    points = [p for kind, *rest in state.partials if kind == "loss" for p in rest[1]]
    assert [step for step, _ in points] == list(range(1, 7))
    assert ("stage", "sketch", 0, 1) in state.partials
    assert any(kind == "message" and "Saved the sketch model" in rest[0] for kind, *rest in state.partials)
    assert state.fractions == sorted(state.fractions) and state.fractions[-1] == 1.0
    assert result.models["sketch"].endswith("my-model-sketch.safetensors")


def test_validation_runs_the_apps_engine(tiny_sketch_model, tmp_path):
    """What training scores is what the app draws: the same network gives the same pixels both ways."""
    from training.predict import validation_runner

    model, _ = load_model(tiny_sketch_model)
    model.config.min_megapixels = 0.02  # the working size of small pictures applies in both
    saved = save_model(model, tmp_path / "full.safetensors", half=False)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    picture = np.random.default_rng(0).integers(0, 255, (90, 130, 3), dtype=np.uint8)
    ours = validation_runner(model)(picture)
    app = pipeline.sketch(picture, model=saved, device="cpu")
    assert ours.shape == app.shape == (90, 130)
    assert np.abs(ours.astype(int) - app.astype(int)).max() <= 1
    assert ours.std() > 0  # a real drawing, not a blank page both ways
    # the network being trained is left as it was (a copy runs, with its BatchNorm folded)
    assert model.training and any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_colorize_validation_runs_the_apps_guided_colorize(tiny_flats_model, tmp_path):
    from training.predict import validation_runner

    model, _ = load_model(tiny_flats_model)
    model.config.min_megapixels = 0.5  # the app's proposal drops the upscale: so must validation
    saved = save_model(model, tmp_path / "full.safetensors", half=False)
    lines = np.full((80, 120), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (100, 60), 0, 2)
    ours = validation_runner(model)(lines)
    app = pipeline.colorize(lines, model=saved, device="cpu")
    assert ours.shape == app.shape == (80, 120, 3)
    assert np.abs(ours.astype(int) - app.astype(int)).max() <= 1


def test_colorize_training_goes_on_after_a_validation_through_the_engine(tiny_flats_model):
    """Validation runs the engine under torch.inference_mode; tensors it caches must not break the next
    training step's backward pass (the colour bins are shared)."""
    from anisketch_desktop.core import color
    from training import losses
    from training.predict import validation_runner

    color._centers_cpu.cache_clear()
    model, _ = load_model(tiny_flats_model)
    validation_runner(model)(np.full((40, 60), 255, np.uint8))  # first use of the bins: inference mode
    model.train()
    raw = model(torch.rand(2, 1, 32, 32))
    loss, _ = losses.colorize_loss(raw, torch.rand(2, 3, 32, 32), rebalance=None, rgb_weight=1.0,
                                   to_image=model.to_image)
    loss.backward()
    assert model.head.conv.weight.grad.abs().sum() > 0
