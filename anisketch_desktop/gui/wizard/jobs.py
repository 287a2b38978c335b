"""The wizard's long work as plain functions ``fn(..., *, state)`` for ``workers.TaskRunner`` (no widgets).

Each one calls the dataset or training layer with ``state.progress`` and ``state.cancelled`` and reports
extra information through ``state.partial`` (log lines, loss points). The dataset/training layers (and
torch) are imported inside the functions, which only run on worker threads.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from anisketch_desktop.core.errors import AniSketchError

TASKS = ("sketch", "colorize")
TINY_MODEL = {"base_channels": 4, "depth": 2}  # for tests and quick trials: trains in seconds on a CPU
RUN_INFO = "wizard_run.json"  # next to a run's ckpt.pt: the arguments, so "Resume" rebuilds the same run
MODELS_INFO = "wizard_models.json"  # every model trained (and exported) from the dataset, oldest first


# ---------------------------------------------------------------------------------------------------- crawl
def crawl(dataset_dir: str, options, *, state):
    """``dataset.crawl.crawl`` with log lines sent as ``("log", text)`` partials; a stop by the site
    becomes a message that says what happened and that running again resumes."""
    from anisketch_desktop.dataset.crawl import crawl as run
    from anisketch_desktop.dataset.http import ChallengeError, ThrottledError

    try:
        return run(dataset_dir, options, progress=state.progress, cancel=state.cancelled,
                   log=lambda text: state.partial(("log", text)))
    except ChallengeError as exc:
        raise AniSketchError(f"Stopped: the site shows a browser check. {exc} Everything downloaded so far "
                             "is kept; press Start later to resume.") from None
    except ThrottledError as exc:
        raise AniSketchError(f"Stopped: the site is throttling us. {exc} Everything downloaded so far is "
                             "kept; press Start later (or with a longer delay) to resume.") from None


def import_folder(dataset_dir: str, folder: str, *, state):
    from anisketch_desktop.dataset.importer import import_folder as run

    return run(dataset_dir, folder, progress=state.progress, cancel=state.cancelled)


# ---------------------------------------------------------------------------------------------------- pairs
def load_sample(dataset_dir: str, image_id: str | None, max_side: int = 512, *, state):
    """``(image_id, RGB uint8 picture at most max_side px)`` of one picture (the first when id is None)."""
    import cv2

    from anisketch_desktop.core import imageio
    from anisketch_desktop.dataset.store import DatasetStore

    with DatasetStore(dataset_dir, create=False) as store:
        rows = store.images("done", where="id=?", params=[image_id]) if image_id else store.images("done")
        if not rows:
            raise AniSketchError("The dataset has no pictures yet: crawl or import some first.")
        row = rows[0]
        image = imageio.to_uint8_rgb(imageio.read_image(store.abspath(row.path)))
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    return row.id, np.ascontiguousarray(image)


def preview(image: np.ndarray, values: dict | None, speck_size: int, *, state):
    """XDoG of the sample with ``values`` (None: the auto-tuner) and its clarity score."""
    from anisketch_desktop.core import xdog

    state.check()
    params = xdog.XDoGParams.from_dict(values) if values is not None else None
    if params is None:
        params, _ = xdog.auto_tune(image, progress=state.progress, cancel=state.cancelled)
    sketch = xdog.xdog(image, params, speck_size=speck_size)
    return (np.clip(sketch * 255.0 + 0.5, 0, 255).astype(np.uint8), float(xdog.clarity_score(sketch)),
            params.to_dict())


def auto_params(image: np.ndarray, *, state) -> dict:
    from anisketch_desktop.core import xdog

    params, _ = xdog.auto_tune(image, progress=state.progress, cancel=state.cancelled)
    return params.to_dict()


def generate(dataset_dir: str, params, speck_size: int, force: bool = False, *, state):
    """``generate_pairs``; ``params``: a preset name, ``"auto"`` or a dict of XDoG parameters."""
    from anisketch_desktop.dataset.pairs import generate_pairs

    return generate_pairs(dataset_dir, params, speck_size, progress=state.progress, cancel=state.cancelled,
                          force=force)


def clarity_scores(dataset_dir: str, *, state) -> list[float]:
    from anisketch_desktop.dataset.store import DatasetStore

    with DatasetStore(dataset_dir, create=False) as store:
        rows = store.query("SELECT clarity FROM images WHERE state='done' AND clarity IS NOT NULL")
    return [float(r[0]) for r in rows]


# ---------------------------------------------------------------------------------------------------- review
def thumbnails(dataset_dir: str, ids: list[str], size: int, *, state) -> None:
    """Build (or reuse the cached) colour and sketch thumbnails of ``ids``; each goes out as a partial
    ``(id, color_path, sketch_path)`` as soon as it is ready, so the grid fills in while scrolling."""
    from anisketch_desktop.dataset.thumbnails import thumbnail_path

    for image_id in ids:
        state.check()
        try:
            color = thumbnail_path(dataset_dir, image_id, size, "color")
            sketch = thumbnail_path(dataset_dir, image_id, size, "sketch")
        except (AniSketchError, OSError, ValueError) as exc:
            state.partial((image_id, None, str(exc)))
            continue
        state.partial((image_id, str(color), str(sketch)))


def export(dataset_dir: str, out_dir: str, *, state):
    from anisketch_desktop.dataset.approval import export_dataset

    return export_dataset(dataset_dir, out_dir, progress=state.progress, cancel=state.cancelled)


# ---------------------------------------------------------------------------------------------------- train
@dataclass
class TrainPlan:
    """What the Train page asks for; saved next to each run so that Resume continues the same run."""

    tasks: list[str] = field(default_factory=lambda: ["sketch"])
    steps: int = 2000
    batch_size: int = 4
    crop: int = 256
    device: str = "auto"
    name: str = "my-model"
    model: dict = field(default_factory=dict)  # UNetConfig overrides; empty: the shipped recipe's
    lr: float = 1e-3

    @classmethod
    def tiny(cls, **kw) -> TrainPlan:
        """A model small enough to train in seconds (tests, trying the wizard out)."""
        base = {"steps": 6, "batch_size": 2, "crop": 32, "model": dict(TINY_MODEL)}
        base.update(kw)
        return cls(**base)


@dataclass
class TrainResult:
    models: dict[str, str]  # task -> exported .safetensors path
    steps: dict[str, int]
    seconds: float


def runs_dir(dataset_dir: str | Path) -> Path:
    return Path(dataset_dir) / "training"


def saved_plan(dataset_dir: str | Path) -> tuple[TrainPlan, dict[str, int]] | None:
    """The plan of an unfinished (cancelled or killed) run and the steps each task reached, or None."""
    info = runs_dir(dataset_dir) / RUN_INFO
    try:
        raw = json.loads(info.read_text())
        plan = TrainPlan(**raw["plan"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if raw.get("finished"):
        return None
    return plan, {k: int(v) for k, v in raw.get("reached", {}).items()}


def _write_info(dataset_dir, plan: TrainPlan, reached: dict[str, int], finished: bool) -> None:
    folder = runs_dir(dataset_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RUN_INFO}.tmp"
    tmp.write_text(json.dumps({"plan": asdict(plan), "reached": reached, "finished": finished}, indent=1))
    tmp.replace(folder / RUN_INFO)


def trained_models(dataset_dir: str | Path) -> list[dict]:
    """The models trained from this dataset and saved to the models folder: ``[{"task", "path", "steps",
    "at"}, ...]``, oldest first. A dataset whose last run finished before this list was kept counts with one
    entry per task of that run (``path`` None)."""
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
            plan = TrainPlan(**raw["plan"])
            return [{"task": task, "path": None, "steps": plan.steps, "at": None} for task in plan.tasks]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return []


def has_trained_model(dataset_dir: str | Path | None) -> bool:
    """True when a model has been trained from the dataset (the wizard's Train step is done)."""
    return dataset_dir is not None and bool(trained_models(dataset_dir))


def record_model(dataset_dir: str | Path, task: str, path: str | Path, steps: int) -> None:
    """Add an exported model to the dataset's list of trained models (see ``trained_models``)."""
    folder = runs_dir(dataset_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        models = json.loads((folder / MODELS_INFO).read_text())
        models = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []
    except (OSError, ValueError):
        models = []
    models.append({"task": task, "path": str(path), "steps": int(steps), "at": time.time()})
    tmp = folder / f".{MODELS_INFO}.tmp"
    tmp.write_text(json.dumps(models, indent=1))
    tmp.replace(folder / MODELS_INFO)


def model_file_name(name: str, task: str) -> str:
    """A safe file name for the exported model: ``<name>-<task>.safetensors`` (letters, digits, -_.)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.") or "my-model"
    return f"{stem}-{task}.safetensors"


def _unique(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name.removesuffix('.safetensors')}-{n}.safetensors")
        n += 1
    return candidate


class _LossTail:
    """Follows a run's ``log.jsonl`` (written by the training loop) and sends new loss points as partials."""

    def __init__(self, path: Path, task: str, state, interval: float = 0.1):
        self.path, self.task, self.state, self.interval = path, task, state, interval
        self.offset, self.last = 0, 0.0
        self.points: list[tuple[int, float]] = []

    def poll(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
        self.offset += end
        points = []
        for line in data[:end].splitlines():
            try:
                row = json.loads(line)
                points.append((int(row["step"]), float(row["loss"])))
            except (ValueError, KeyError, TypeError):
                continue
        if points:
            self.points.extend(points)
            self.state.partial(("loss", self.task, points))


def train(dataset_dir: str, plan: TrainPlan, resume: bool = False, *, state) -> TrainResult:
    """Train each task of ``plan`` on the approved pairs, then export it into the user models folder.

    Runs live in ``<dataset>/training/<task>/`` (checkpoints, logs). ``resume`` continues a cancelled run
    from its checkpoint; otherwise an old run of the same task is cleared first. Partials:
    ``("loss", task, [(step, loss), ...])`` and ``("stage", task, index, count)``.
    """
    from anisketch_desktop import paths
    from anisketch_desktop.core.model_io import save_model
    from training import data, loop

    start = time.monotonic()
    tasks = [t for t in plan.tasks if t in TASKS]
    if not tasks:
        raise AniSketchError("Choose what to train: sketch, colorize or both.")
    pairs = data.approved_pairs(dataset_dir)
    if not pairs:
        raise AniSketchError("No approved pairs yet: approve some pairs on the Review page first.")
    samples = data.load_pairs([(Path(c).name, Path(c), Path(s)) for c, s in pairs], 1.0, "dataset")
    reached: dict[str, int] = {}
    _write_info(dataset_dir, plan, reached, finished=False)
    models: dict[str, str] = {}
    for index, task in enumerate(tasks):
        run_dir = runs_dir(dataset_dir) / task
        if not resume and run_dir.exists():
            shutil.rmtree(run_dir)
        state.partial(("stage", task, index, len(tasks)))
        args = loop.TrainArgs(
            run_dir=str(run_dir), task=task, model=plan.model or _recipe_model(task), steps=plan.steps,
            batch_size=plan.batch_size, crop=plan.crop, lr=plan.lr, warmup=min(100, max(1, plan.steps // 10)),
            ckpt_every=min(200, max(10, plan.steps // 4)), log_every=1, device=plan.device,
            eval_every=10**9,
        )
        tail = _LossTail(run_dir / "log.jsonl", task, state)

        def progress(fraction: float, i=index, tail=tail) -> None:
            tail.poll()
            state.progress((i + fraction) / len(tasks))

        try:
            loop.train(args, samples, (), resume=resume, progress=progress, cancel=state.cancelled,
                       quiet=True)
        finally:
            tail.poll(force=True)
            reached[task] = tail.points[-1][0] if tail.points else 0
            _write_info(dataset_dir, plan, reached, finished=False)
        model = loop.best_model_from(run_dir)
        target = _unique(paths.user_models_dir() / model_file_name(plan.name, task))
        meta = {"name": f"{plan.name} ({task})", "description": f"Trained in the dataset wizard on "
                f"{len(samples)} approved pairs of {Path(dataset_dir).name}, {plan.steps} steps"}
        models[task] = str(save_model(model, target, meta))
        record_model(dataset_dir, task, models[task], plan.steps)
    _write_info(dataset_dir, plan, {t: plan.steps for t in tasks}, finished=True)
    return TrainResult(models, {t: plan.steps for t in tasks}, time.monotonic() - start)


def _recipe_model(task: str) -> dict:
    """The shipped recipe's model configuration for ``task`` (the sketch recipe's; colorize: defaults)."""
    try:
        from training.recipes import load_recipe

        recipe = load_recipe(task)
    except (OSError, ValueError):
        return {}
    return dict(recipe.get("model", {})) if recipe.get("task") == task else {}
