"""Which models are installed: the shipped ones (``resources/models``) and the user's (``user_models_dir``).

Every model has a unique ``name`` (what ``--model NAME`` takes and ``anisketch models`` lists: the file's stem;
a user's model whose stem is taken by a shipped model is ``STEM-yours``) and a unique ``label`` (what the menus
show: the model's title, with "(yours)" for the user's). ``resolve_model`` turns a name or a path into a file;
the CLI, the GUI and the application layer all go through it.

Only the safetensors header is read (no torch import), so listing is cheap enough for the GUI's start-up.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

from anisketch_desktop import paths
from anisketch_desktop.core.architectures import ARCH_KEY, architecture
from anisketch_desktop.core.errors import ModelLoadError
from anisketch_desktop.core.model_io import read_config, read_metadata

log = logging.getLogger(__name__)
TASKS = ("sketch", "colorize")


@dataclass
class ModelInfo:
    """One installed model, as the model menus show it."""

    name: str  # unique among installed models (``--model NAME``)
    task: str
    path: Path
    shipped: bool
    description: str = ""
    title: str = ""  # the model's own title (metadata "name"); not unique
    label: str = ""  # the menus' label, unique per task: the title, "(yours)" for the user's, a number if taken


def shipped_model_path(task: str) -> Path:
    """Where the model shipped for ``task`` lives (it may be absent in a source checkout)."""
    return paths.resource_path("models", f"{task}.safetensors")


def read_info(path: str | Path, shipped: bool = False) -> ModelInfo:
    """``ModelInfo`` from a model file's metadata (``ModelLoadError`` if it is not an AniSketch model)."""
    path = Path(path)
    meta = read_metadata(path)
    arch = architecture(meta.get(ARCH_KEY), path.name)  # a model of an unknown architecture is not listed
    try:
        task = read_config(meta, path.name, arch.key)["task"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path.name}: unreadable model config ({exc})") from exc
    title = meta.get("name") or path.stem
    description = meta.get("description", "")
    return ModelInfo(name=path.stem, task=task, path=path, shipped=shipped, description=description,
                     title=title, label=title)


def _scan(folder: Path, shipped: bool, problems: list[tuple[Path, str]] | None = None) -> list[ModelInfo]:
    """The models of ``folder``, newest first; a file that cannot be listed is skipped, logged and named in
    ``problems`` -- one broken file never hides the others."""
    if not folder.is_dir():
        return []
    found = []
    files = sorted(folder.glob("*.safetensors"), key=_mtime, reverse=True)
    for path in files:  # newest first
        try:
            found.append(read_info(path, shipped))
        except Exception as exc:  # ModelLoadError, and anything a hostile file provokes
            reason = str(exc) if isinstance(exc, ModelLoadError) else f"{path.name}: {type(exc).__name__}"
            log.warning("skipping model %s: %s", path, reason)
            if problems is not None:
                problems.append((path, reason))
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # a dangling link: listed last, then skipped with its reason
        return 0.0


def skipped_models() -> list[tuple[Path, str]]:
    """``(file, reason)`` for every ``.safetensors`` file in the model folders that is not listed."""
    problems: list[tuple[Path, str]] = []
    _scan(paths.resource_path("models"), True, problems)
    _scan(paths.user_models_dir(), False, problems)
    return problems


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Shipped models first (each task's default, ``TASK.safetensors``, before the others), then the user's
    newest first; only ``task``'s when given."""
    shipped = sorted(_scan(paths.resource_path("models"), True),
                     key=lambda m: (m.path.name != f"{m.task}.safetensors", m.path.name))
    models = _unique(shipped + _scan(paths.user_models_dir(), False))
    return [m for m in models if task is None or m.task == task]


def _unique(models: list[ModelInfo]) -> list[ModelInfo]:
    """Give every model a name no other model has and a label no other model of its task (one menu) has; the
    shipped ones (listed first) keep theirs."""
    names: set[str] = set()
    labels: dict[str, set[str]] = {}
    for info in models:
        stem = info.name
        firsts = [stem] if info.shipped else [stem, f"{stem}-yours"]
        info.name = _claim(firsts, f"{firsts[-1]}-{{}}", names)
        label = info.title if info.shipped else f"{info.title} (yours)"
        info.label = _claim([label], f"{label} {{}}", labels.setdefault(info.task, set()))
    return models


def _claim(firsts: list[str], numbered: str, taken: set[str]) -> str:
    """The first of ``firsts``, then of ``numbered`` with 2, 3…, that is not ``taken`` (ignoring case)."""
    for candidate in itertools.chain(firsts, (numbered.format(n) for n in itertools.count(2))):
        if candidate.casefold() not in taken:
            taken.add(candidate.casefold())
            return candidate
    raise AssertionError("unreachable")


def resolve_model(model: str | Path | None, task: str | None = None) -> Path:
    """The model file for ``model``: None or "" = ``task``'s default; an existing file; or a name from
    ``list_models`` (``ModelLoadError`` naming the installed ones if there is no such model, or if it is a model
    for another task)."""
    if model is None or str(model) == "":
        if task is None:
            raise ValueError("resolve_model needs a task to choose the default model")
        return default_model(task)
    path = Path(model)
    if path.is_file():
        return path
    text = str(model)
    found = {info.name.casefold(): info for info in list_models()}
    info = found.get(text.casefold())
    if info is None:
        if path.suffix or len(path.parts) > 1:  # meant as a path
            raise ModelLoadError(f"Model file not found: {path}")
        names = ", ".join(m.name for m in list_models(task)) or "none"
        kind = f"{task} models" if task else "models"
        raise ModelLoadError(f"No model named {text!r}. Installed {kind}: {names}.")
    if task is not None and info.task != task:
        raise ModelLoadError(f"{info.name} is a {info.task} model; this needs a {task} model.")
    return info.path


def default_model(task: str) -> Path:
    """The shipped model for ``task`` if present, else the user's newest one; ``ModelLoadError`` if none."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    shipped = shipped_model_path(task)
    if shipped.is_file():
        return shipped
    for info in list_models(task):
        return info.path
    hint = "choose a model file, or use the XDoG filter" if task == "sketch" else "choose a model file"
    fix = {"engine": "xdog", "model": "PATH"} if task == "sketch" else {"model": "PATH"}
    raise ModelLoadError(
        f"No {task} model installed: none in {paths.resource_path('models')} or {paths.user_models_dir()}; "
        f"train one in the dataset wizard, or {hint}.",
        fix=fix,  # the faces word these: "--engine xdog or --model PATH", "Sketch (XDoG)"
    )
