"""A training session: models trained on a dataset's approved pairs, task by task, each saved with its card.

``anisketch train --dataset`` and the dataset wizard's Train page both run a ``TrainingSession``:

    result = TrainingSession(dataset_dir, TrainOptions(tasks=["sketch"], steps=2000)).run(progress, cancel)

Runs live inside the dataset (``<dataset>/training/<task>/``), never in a folder shared with other datasets.
Each checkpoint keeps a fingerprint of what it learns from (the approved pairs' pixels and the options): a run
resumes only when the fingerprint matches; otherwise it starts fresh and says so, so a model is never exported
from weights trained on other data. The device is the app engine's choice (``core.engine.resolve_device``).
No Qt and no torch at import: the GUI imports this module when it starts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from anisketch_desktop.core.errors import AniSketchError, Cancelled

log = logging.getLogger(__name__)
TASKS = ("sketch", "colorize")
TINY_MODEL = {"base_channels": 4, "depth": 2}  # for tests and quick trials: trains in seconds on a CPU
RUNS_FOLDER = "training"  # inside the dataset
RUN_INFO = "wizard_run.json"  # the options of the latest session and the steps reached: Resume continues it
MODELS_INFO = "wizard_models.json"  # every model trained (and saved) from the dataset, oldest first


@dataclass
class TrainOptions:
    """What to train. Saved with each session so that Resume continues the same run."""

    tasks: list[str] = field(default_factory=lambda: ["sketch"])
    steps: int = 2000
    batch_size: int = 4
    crop: int = 256
    device: str = "auto"
    name: str = "my-model"  # the models are saved as <name>-<task>.safetensors (a free name)
    model: dict = field(default_factory=dict)  # network config overrides; empty: the shipped recipe's
    lr: float = 1e-3
    recipe: str = ""  # a recipe (name or file): its network and stages instead of steps/batch/crop/lr/model
    steps_scale: float = 1.0  # with a recipe: multiplies every stage's steps
    output: str = ""  # the model file (one task only); default: a free name in the user's models folder

    @classmethod
    def tiny(cls, **kw) -> TrainOptions:
        """A model small enough to train in seconds (tests, trying the wizard out)."""
        base: dict[str, Any] = {"steps": 6, "batch_size": 2, "crop": 32, "model": dict(TINY_MODEL)}
        base.update(kw)
        return cls(**base)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class TrainProgress:
    """One report of a running session: ``fraction`` of the whole session; ``loss`` after a step;
    ``message`` a line worth showing (resumed / started fresh / saved)."""

    fraction: float
    task: str = ""
    stage: str = ""
    step: int = 0
    steps: int = 0
    loss: float | None = None
    message: str = ""


@dataclass
class TrainResult:
    models: dict[str, str]  # task -> saved .safetensors
    cards: dict[str, str]  # task -> its model card (.md)
    steps: dict[str, int]  # task -> steps trained in all (over every stage)
    resumed: dict[str, bool]  # task -> whether its last stage continued an earlier run
    seconds: float


@dataclass
class _Stage:
    task: str
    name: str
    run_dir: Path
    train: dict  # TrainArgs overrides
    model: dict


# ------------------------------------------------------------------------------------------- bookkeeping
def runs_dir(dataset_dir: str | Path) -> Path:
    return Path(dataset_dir) / RUNS_FOLDER


def saved_options(dataset_dir: str | Path) -> tuple[TrainOptions, dict[str, int]] | None:
    """The options of an unfinished (cancelled or killed) session and the steps each task reached, or None."""
    try:
        raw = json.loads((runs_dir(dataset_dir) / RUN_INFO).read_text())
        options = TrainOptions.from_dict(raw["plan"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if raw.get("finished"):
        return None
    return options, {k: int(v) for k, v in raw.get("reached", {}).items()}


def write_run_info(dataset_dir, options: TrainOptions, reached: dict[str, int], finished: bool) -> None:
    folder = runs_dir(dataset_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RUN_INFO}.tmp"
    tmp.write_text(json.dumps({"plan": asdict(options), "reached": reached, "finished": finished}, indent=1))
    tmp.replace(folder / RUN_INFO)


def trained_models(dataset_dir: str | Path) -> list[dict]:
    """The models trained from this dataset and saved: ``[{"task", "path", "steps", "at"}, ...]``, oldest
    first. A dataset whose last run finished before this list was kept counts with one entry per task of that
    run (``path`` None)."""
    folder = runs_dir(dataset_dir)
    try:
        models = json.loads((folder / MODELS_INFO).read_text())
        if isinstance(models, list):
            return [m for m in models if isinstance(m, dict)]
    except (OSError, ValueError):
        pass
    try:
        raw = json.loads((folder / RUN_INFO).read_text())
        if raw.get("finished"):
            options = TrainOptions.from_dict(raw["plan"])
            return [{"task": task, "path": None, "steps": options.steps, "at": None} for task in options.tasks]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return []


def record_model(dataset_dir: str | Path, task: str, path: str | Path, steps: int) -> None:
    """Add a saved model to the dataset's list of trained models (see ``trained_models``)."""
    folder = runs_dir(dataset_dir)
    folder.mkdir(parents=True, exist_ok=True)
    models = trained_models(dataset_dir) if (folder / MODELS_INFO).is_file() else []
    models.append({"task": task, "path": str(path), "steps": int(steps), "at": time.time()})
    tmp = folder / f".{MODELS_INFO}.tmp"
    tmp.write_text(json.dumps(models, indent=1))
    tmp.replace(folder / MODELS_INFO)


def model_file_name(name: str, task: str) -> str:
    """A safe file name for a saved model: ``<name>-<task>.safetensors`` (letters, digits, -_.)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.") or "my-model"
    return f"{stem}-{task}.safetensors"


def free_path(path: Path) -> Path:
    """``path``, or ``stem-2``, ``stem-3``… when taken: a new model never replaces one the user already has."""
    candidate, n = path, 2
    while candidate.exists() or candidate.with_suffix(".md").exists():
        candidate = path.with_name(f"{path.name.removesuffix('.safetensors')}-{n}.safetensors")
        n += 1
    return candidate


def data_fingerprint(samples) -> str:
    """A digest of the training pictures' names and pixels (the approved pairs as they are now)."""
    digest = hashlib.blake2b(digest_size=16)
    for sample in sorted(samples, key=lambda s: s.name):
        digest.update(sample.name.encode("utf-8", "surrogateescape") + b"\0")
        for array in (sample.color, sample.sketch):
            digest.update(repr(array.shape).encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def _stage_fingerprint(data: str, stage: _Stage, before: str) -> str:
    spec = json.dumps({"data": data, "task": stage.task, "stage": stage.name, "train": stage.train,
                       "model": stage.model, "after": before}, sort_keys=True, default=str)
    return hashlib.blake2b(spec.encode(), digest_size=16).hexdigest()


def _recipe_model(task: str) -> dict:
    """The shipped recipe's network config for ``task`` (empty when there is none)."""
    from training.recipes import load_recipe

    try:
        recipe = load_recipe(task)
    except (OSError, ValueError):
        return {}
    return dict(recipe.get("model", {})) if recipe.get("task") == task else {}


# ------------------------------------------------------------------------------------------------ session
class TrainingSession:
    """Train ``options`` on the approved pairs of ``dataset_dir`` (a wizard dataset or an exported pairs
    folder with ``color/`` and ``sketch/``). ``source`` says in the model card how it was started."""

    def __init__(self, dataset_dir: str | Path, options: TrainOptions, source: str = ""):
        self.dataset_dir = Path(dataset_dir)
        self.options = options
        self.source = source or "AniSketch training session"
        self.recipe = self._load_recipe()
        self.tasks = [self.recipe["task"]] if self.recipe else [t for t in options.tasks if t in TASKS]
        if not self.tasks:
            raise AniSketchError("Choose what to train: sketch, colorize or both.")
        if options.output and len(self.tasks) > 1:
            raise AniSketchError("One output file cannot hold two models: train one task, or leave out the "
                                 "output file (the models folder gets both).")

    def _load_recipe(self) -> dict:
        if not self.options.recipe:
            return {}
        from training.recipes import load_recipe

        try:
            return load_recipe(self.options.recipe)
        except (OSError, ValueError) as exc:
            raise AniSketchError(f"Cannot read the recipe {self.options.recipe!r}: {exc}") from exc

    def stages(self) -> list[_Stage]:
        """Every stage of every task, in the order they train."""
        opts, root = self.options, runs_dir(self.dataset_dir)
        if self.recipe:
            task, recipe_stages = self.recipe["task"], self.recipe["stages"]
            out = []
            for stage in recipe_stages:
                train = dict(stage.get("train", {}))
                train["steps"] = max(1, int(train.get("steps", 1000) * opts.steps_scale))
                run_dir = root / task if len(recipe_stages) == 1 else root / task / stage["name"]
                out.append(_Stage(task, stage["name"], run_dir, train, dict(self.recipe.get("model", {}))))
            return out
        return [
            _Stage(task, "train", root / task, {
                "steps": opts.steps, "batch_size": opts.batch_size, "crop": opts.crop, "lr": opts.lr,
                "warmup": min(100, max(1, opts.steps // 10)), "ckpt_every": min(200, max(10, opts.steps // 4)),
                "log_every": 1, "eval_every": 10**9,
            }, dict(opts.model) or _recipe_model(task))
            for task in self.tasks
        ]

    def run(self, progress: Callable[[TrainProgress], None] | None = None,
            cancel: Callable[[], bool] | None = None, resume: bool = True, quiet: bool = True) -> TrainResult:
        """Train every stage (resuming a matching earlier run when ``resume``), then save each task's model
        and card. ``Cancelled`` keeps the checkpoints: running again with ``resume`` continues."""
        from anisketch_desktop.core.engine import resolve_device
        from training import data, loop

        start = time.monotonic()
        report = progress or (lambda event: None)

        def say(message: str, fraction: float, task: str = "", stage: str = "") -> None:
            log.info("%s", message)
            report(TrainProgress(fraction, task, stage, message=message))

        device, note = resolve_device(self.options.device)
        pairs = data.approved_pairs(self.dataset_dir)
        if not pairs:
            raise AniSketchError(f"{self.dataset_dir.name} has no approved pairs yet: approve some pairs first.")
        samples = data.load_pairs([(Path(c).name, Path(c), Path(s)) for c, s in pairs], 1.0, "dataset")
        fingerprint = data_fingerprint(samples)
        say(f"Training on {len(samples):,} approved pairs of {self.dataset_dir.name}, on {device}"
            + (f" ({note})" if note else "") + ".", 0.0)
        stages = self.stages()
        total = sum(s.train["steps"] for s in stages)
        done = 0
        reached: dict[str, int] = {}
        resumed: dict[str, bool] = {}
        summaries: dict[str, dict] = {}
        before: dict[str, str] = {}
        init: dict[str, str] = {}
        write_run_info(self.dataset_dir, self.options, reached, finished=False)
        for stage in stages:
            stage_fp = _stage_fingerprint(fingerprint, stage, before.get(stage.task, ""))
            before[stage.task] = stage_fp
            steps = stage.train["steps"]
            resumed[stage.task] = self._announce(stage, stage_fp, resume, say, done / total)
            args = loop.TrainArgs(run_dir=str(stage.run_dir), task=stage.task, model=stage.model,
                                  device=str(device), fingerprint=stage_fp, init_from=init.get(stage.task, ""),
                                  **stage.train)

            def on_step(step: int, loss: float, stage=stage, base=done) -> None:
                reached[stage.task] = step
                report(TrainProgress((base + step) / total, stage.task, stage.name, step, stage.train["steps"], loss))

            try:
                summaries.setdefault(stage.task, {})[stage.name] = loop.train(
                    args, samples, (), resume=resumed[stage.task], cancel=cancel, quiet=quiet, on_step=on_step,
                    log=lambda line: log.info("%s", line))
            finally:
                write_run_info(self.dataset_dir, self.options, reached, finished=False)
            init[stage.task] = str(stage.run_dir / "ckpt.pt")
            done += steps
        models, cards = {}, {}
        for task in self.tasks:
            if cancel is not None and cancel():
                raise Cancelled("Training cancelled before the model was saved (the checkpoint is kept).")
            task_stages = [s for s in stages if s.task == task]
            models[task], cards[task] = self._save(task, task_stages, summaries[task], len(samples), fingerprint)
            record_model(self.dataset_dir, task, models[task], sum(s.train["steps"] for s in task_stages))
            say(f"Saved the {task} model as {models[task]} (card: {Path(cards[task]).name}).", 1.0, task)
        steps = {t: sum(s.train["steps"] for s in stages if s.task == t) for t in self.tasks}
        write_run_info(self.dataset_dir, self.options, steps, finished=True)
        return TrainResult(models, cards, steps, resumed, time.monotonic() - start)

    @staticmethod
    def _announce(stage: _Stage, fingerprint: str, resume: bool, say, fraction: float) -> bool:
        """Decide whether ``stage`` continues its earlier run and say which; returns True to resume."""
        from training import loop

        what = f"the {stage.task} model" + ("" if stage.name == "train" else f" (stage {stage.name})")
        info = loop.checkpoint_info(stage.run_dir)
        steps = stage.train["steps"]
        if info is None:
            say(f"Training {what} from the start ({steps:,} steps).", fraction, stage.task, stage.name)
            return False
        if not resume:
            say(f"Training {what} from the start ({steps:,} steps); the earlier run is discarded.", fraction,
                stage.task, stage.name)
            return False
        if info["fingerprint"] != fingerprint:
            say(f"Training {what} from the start: the approved pairs or the options changed since its last run "
                "(that run is discarded).", fraction, stage.task, stage.name)
            return False
        if info["step"] >= steps:
            say(f"The run of {what} already finished on these pairs with these options; saving it again.",
                fraction, stage.task, stage.name)
        else:
            say(f"Resuming {what} at step {info['step']:,} of {steps:,} (same pairs and options).", fraction,
                stage.task, stage.name)
        return True

    def _save(self, task: str, stages: list[_Stage], summary: dict, pairs: int, fingerprint: str):
        from anisketch_desktop import paths
        from anisketch_desktop.core.unet_model import count_parameters
        from training import card, export, loop

        last = stages[-1]
        model = loop.best_model_from(last.run_dir, self.recipe.get("export", "best") if self.recipe else "best")
        if self.options.output:
            target = Path(self.options.output)
        else:
            name = self.options.name or self.dataset_dir.name
            target = free_path(paths.user_models_dir() / model_file_name(name, task))
        steps = sum(s.train["steps"] for s in stages)
        where = f"{pairs:,} approved pairs of the dataset {self.dataset_dir.name}"
        data_text = (f"{where} (`{self.dataset_dir}`), as they were when it was trained "
                     f"(fingerprint `{fingerprint[:16]}`). No validation split: check the model on pictures it "
                     "has not seen.")
        recipe = {"name": target.stem, "task": task, "model": json.loads(model.config.to_json()),
                  "stages": [{"name": s.name, "data": {"dataset": 1.0}, "train": s.train} for s in stages]}
        export.export(model, target, recipe=recipe, summary=summary, command=self.source,
                      name=f"{self.options.name or self.dataset_dir.name} ({task})",
                      description=f"Trained on {where}, {steps:,} steps", dataset=where)
        card_path = card.write(target, recipe, summary, self.source, count_parameters(model), data=data_text)
        return str(target), str(card_path)
