"""Which models are installed: the shipped ones (``resources/models``) and the user's (``user_models_dir``).

Only the safetensors header is read (no torch import), so listing is cheap enough for the GUI's start-up.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from anisketch_desktop import paths
from anisketch_desktop.core.errors import ModelLoadError
from anisketch_desktop.core.model_io import CONFIG_KEY, read_metadata

log = logging.getLogger(__name__)
TASKS = ("sketch", "colorize")


@dataclass
class ModelInfo:
    """One installed model, as the model menus show it."""

    name: str
    task: str
    path: Path
    shipped: bool
    description: str = ""


def shipped_model_path(task: str) -> Path:
    """Where the model shipped for ``task`` lives (it may be absent in a source checkout)."""
    return paths.resource_path("models", f"{task}.safetensors")


def read_info(path: str | Path, shipped: bool = False) -> ModelInfo:
    """``ModelInfo`` from a model file's metadata (``ModelLoadError`` if it is not an AniSketch model)."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        task = json.loads(meta[CONFIG_KEY])["task"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path.name}: unreadable model config ({exc})") from exc
    name = meta.get("name") or path.stem
    description = meta.get("description", "")
    return ModelInfo(name=name, task=task, path=path, shipped=shipped, description=description)


def _scan(folder: Path, shipped: bool) -> list[ModelInfo]:
    if not folder.is_dir():
        return []
    found = []
    files = sorted(folder.glob("*.safetensors"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:  # newest first
        try:
            found.append(read_info(path, shipped))
        except ModelLoadError as exc:
            log.warning("skipping %s: %s", path, exc)
    return found


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Shipped models first (each task's default, ``TASK.safetensors``, before the others), then the user's
    newest first; only ``task``'s when given."""
    shipped = sorted(_scan(paths.resource_path("models"), True),
                     key=lambda m: (m.path.name != f"{m.task}.safetensors", m.path.name))
    models = shipped + _scan(paths.user_models_dir(), False)
    return [m for m in models if task is None or m.task == task]


def default_model(task: str) -> Path:
    """The shipped model for ``task`` if present, else the user's newest one; ``ModelLoadError`` if none."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    shipped = shipped_model_path(task)
    if shipped.is_file():
        return shipped
    for info in list_models(task):
        return info.path
    hint = "use --engine xdog or --model PATH" if task == "sketch" else "use --model PATH"
    raise ModelLoadError(
        f"No {task} model installed: none in {paths.resource_path('models')} or {paths.user_models_dir()}; "
        f"train one in the dataset wizard, or {hint}."
    )
