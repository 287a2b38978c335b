"""The wizard's long work as plain functions ``fn(..., *, state)`` for ``workers.TaskRunner`` (no widgets).

Each one calls the dataset or training layer with ``state.progress`` and ``state.cancelled`` and reports
extra information through ``state.partial`` (log lines, loss points). The dataset layer and torch are
imported inside the functions, which only run on worker threads (``training.session`` imports no torch).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from anisketch_desktop.core.errors import AniSketchError
from training import session


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


def rebuild_manifest(dataset_dir: str, *, state):
    """``dataset.rebuild.rebuild_manifest``: a new manifest from the pictures of a damaged dataset."""
    from anisketch_desktop.dataset.rebuild import rebuild_manifest as run

    return run(dataset_dir, progress=state.progress, cancel=state.cancelled)


# ---------------------------------------------------------------------------------------------------- pairs
def load_sample(dataset_dir: str, image_id: str | None, max_side: int = 512, *, state):
    """``(image_id, RGB uint8 picture at most max_side px)`` of one picture (the first when id is None)."""
    import cv2

    from anisketch_desktop.core import imageio
    from anisketch_desktop.dataset.store import DatasetStore

    with DatasetStore(dataset_dir, create=False) as store:
        found = store.image(image_id) if image_id else None
        rows = [found] if found is not None and found.state == "done" else ([] if image_id else store.images())
        if not rows:
            raise AniSketchError("The dataset has no pictures yet: crawl or import some first." if not image_id
                                 else f"Picture {image_id} is not in the dataset (any more).")
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
    params = xdog.resolve_params(values) if values is not None else None
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


# ---------------------------------------------------------------------------------------------------- review
def export(dataset_dir: str, out_dir: str, *, state):
    from anisketch_desktop.dataset.approval import export_dataset

    return export_dataset(dataset_dir, out_dir, progress=state.progress, cancel=state.cancelled)


# ---------------------------------------------------------------------------------------------------- train
# The Train page runs a training.session.TrainingSession, as `anisketch train --dataset` does.
TrainPlan = session.TrainOptions
TINY_MODEL = session.TINY_MODEL
TrainResult = session.TrainResult
saved_plan = session.saved_options
_write_info = session.write_run_info
trained_models = session.trained_models
record_model = session.record_model


def has_trained_model(dataset_dir: str | Path | None) -> bool:
    """True when a model has been trained from the dataset (the wizard's Train step is done)."""
    return dataset_dir is not None and bool(session.trained_models(dataset_dir))


class _LossBatcher:
    """Collects the session's loss points and sends them as ``("loss", task, points)`` partials at most every
    ``interval`` seconds (a step can take a millisecond; the page redraws a few times a second)."""

    def __init__(self, state, interval: float = 0.1):
        self.state, self.interval = state, interval
        self.task, self.points, self.last = "", [], 0.0

    def add(self, task: str, step: int, loss: float) -> None:
        if task != self.task:
            self.flush()
            self.task = task
        self.points.append((step, loss))
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.points:
            self.state.partial(("loss", self.task, self.points))
        self.points, self.last = [], time.monotonic()


def train(dataset_dir: str, plan: session.TrainOptions, resume: bool = False, *, state) -> session.TrainResult:
    """Train each task of ``plan`` on the approved pairs and save it (with its card) into the models folder.

    ``resume`` continues the dataset's earlier run where its pairs and options are unchanged (otherwise it
    starts fresh, and says so). Partials: ``("loss", task, [(step, loss), ...])``, ``("stage", task, index,
    count)`` when a task starts, ``("message", text)`` for what the session says (resumed, fresh, saved).
    """
    run = session.TrainingSession(dataset_dir, plan, source=f"AniSketch dataset wizard (Train page): {plan}")
    losses = _LossBatcher(state)
    tasks: list[str] = []

    def on_progress(event: session.TrainProgress) -> None:
        if event.task and event.task not in tasks:
            losses.flush()
            tasks.append(event.task)
            state.partial(("stage", event.task, run.tasks.index(event.task), len(run.tasks)))
        if event.loss is not None:
            losses.add(event.task, event.step, event.loss)
        if event.message:
            state.partial(("message", event.message))
        state.progress(event.fraction)

    try:
        return run.run(progress=on_progress, cancel=state.cancelled, resume=resume)
    finally:
        losses.flush()
