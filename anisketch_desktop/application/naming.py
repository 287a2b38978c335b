"""Output file names: the name template, its fields, and the one function that turns (input, options) into
the output's path. Both faces call it; a bad template gives the same readable message in both.

Fields: ``{stem}`` the input's name without extension, ``{ext}`` its extension (png, jpg...), ``{mode}``
sketch / color / style, ``{model}`` the model's name (``sketch``, ``sketch_hq``, ``xdog``, a user model's
file name; style: ``sketch+colorize``), ``{variant}`` nothing with the default model(s) and ``-{model}``
otherwise, ``{settings}`` six characters that change with every setting that changes the result.

The default, ``{stem}_{mode}{variant}``, keeps models apart: the default sketch model writes ``a_sketch.png``,
``sketch_hq`` ``a_sketch-sketch_hq.png``, XDoG ``a_sketch-xdog.png``, so re-running a folder with another
model does not skip. The output kind's extension (``.png`` for pictures) is added when the name has none of
its extensions (a ``.png`` template for an SVG mode becomes ``.svg``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import string
from pathlib import Path
from typing import TYPE_CHECKING

from anisketch_desktop.application.modes import OUTPUT_KINDS, Mode, get_mode, model_path
from anisketch_desktop.core.errors import InvalidOptionError, ModelLoadError

if TYPE_CHECKING:
    from anisketch_desktop.application.options import Options

DEFAULT_TEMPLATE = "{stem}_{mode}{variant}"
FIELDS = {
    "stem": "the input's name without extension",
    "ext": "the input's extension (png, jpg...)",
    "mode": "sketch, color or style",
    "model": "the model's name (sketch, sketch_hq, xdog, your model's file name)",
    "variant": "nothing with the default model, else -<model>",
    "settings": "six characters that change with every setting that changes the result",
}
_ALL_SUFFIXES = {s for kind in OUTPUT_KINDS.values() for s in kind.suffixes}


def template_help() -> str:
    """One line per field, for ``--help`` and tooltips."""
    return "; ".join(f"{{{key}}} = {text}" for key, text in FIELDS.items())


def check_template(template: str) -> None:
    """``InvalidOptionError`` for a template that cannot make a file name: bad braces, an unknown field
    (``{foo}``), a field with a format or index, a path (``a/{stem}``), or nothing at all."""
    if not template or not template.strip():
        raise InvalidOptionError("The file name template is empty; the default is " + DEFAULT_TEMPLATE)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidOptionError(f"Bad file name template {template!r}: {exc}; write fields as {{stem}}") from None
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            known = ", ".join(f"{{{key}}}" for key in FIELDS)
            what = f"{{{name}}}" if name else "{}"
            raise InvalidOptionError(f"Unknown field {what} in the file name template {template!r}; use {known}")
        if spec or conversion:
            raise InvalidOptionError(f"Write the field as {{{name}}} in the file name template {template!r}")
    sample = template.format(stem="x", ext="png", mode="sketch", model="m", variant="", settings="0")
    if "/" in sample or "\\" in sample or sample.strip() in {"", ".", ".."} or sample != sample.strip():
        raise InvalidOptionError(
            f"The file name template must give a file name, not a path or blank: {template!r} gives {sample!r}"
        )


def _model_names(mode: Mode, options: Options) -> tuple[list[str], bool]:
    """The names of the models ``mode`` uses with ``options`` and whether all are the installed defaults."""
    if not mode.tasks:
        return [mode.key], False
    specs = tuple(options.models.get(task, "") for task in mode.tasks)
    names, all_default = _resolve_names(mode.tasks, specs, _models_stamp())
    return list(names), all_default


@functools.lru_cache(maxsize=64)
def _resolve_names(tasks: tuple[str, ...], specs: tuple[str, ...], stamp: tuple) -> tuple[tuple[str, ...], bool]:
    """``_model_names`` for the model folders as ``stamp`` saw them (a batch resolves its models once)."""
    names, all_default = [], True
    for task, spec in zip(tasks, specs, strict=True):
        try:
            default = model_path("", task)
        except ModelLoadError:  # none installed: process() will say so
            default = None
        try:
            path = model_path(spec, task) if spec else default
        except ModelLoadError:  # no such model: process() will say so; name the output after what was asked
            path = Path(spec)
        names.append(_installed_names(stamp).get(_key(path), path.stem) if path else task)
        if spec and (default is None or _key(path) != _key(default)):
            all_default = False
    return tuple(names), all_default


def _key(path: Path | None) -> str:
    return os.path.normcase(os.path.abspath(path)) if path is not None else ""


def _models_stamp() -> tuple:
    """Changes when a model folder's listing changes (a model added, removed or renamed). Two ``stat`` calls:
    cheap enough for every file of a batch."""
    stamp: list[tuple[str, int | None]] = []
    for folder in _model_folders(os.environ.get("ANISKETCH_RESOURCES"), os.environ.get("ANISKETCH_HOME")):
        try:
            stamp.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            stamp.append((folder, None))
    return tuple(stamp)


@functools.lru_cache(maxsize=8)
def _model_folders(resources_env: str | None, home_env: str | None) -> tuple[str, str]:
    """The shipped and the user's model folders (they move only with these variables)."""
    from anisketch_desktop import paths

    return str(paths.resource_path("models")), str(paths.user_models_dir())


@functools.lru_cache(maxsize=4)
def _installed_names(stamp: tuple) -> dict[str, str]:
    """Installed model file -> its unique name (``core.models``), for the model folders as ``stamp`` saw them."""
    from anisketch_desktop.core import models

    return {_key(info.path): info.name for info in models.list_models()}


def settings_tag(options: Options) -> str:
    """Six hex characters from every option that changes the result of ``options.mode``."""
    mode = get_mode(options.mode)
    names, _ = _model_names(mode, options)
    used: dict[str, object] = {"mode": mode.key, "models": names}
    if "xdog" in mode.options:
        used["xdog"] = "auto" if options.xdog_auto else options.xdog_params().to_dict()
    if "transparent" in mode.options:
        used["transparent"] = options.transparent
    if "specks" in mode.options:
        used["specks"] = options.speck_size
    if "flats" in mode.options:
        used["flats"] = options.flats
    if "lines" in mode.options and not options.line_options().is_default:
        used["lines"] = options.line_options().to_dict()
    if "format" in mode.options and options.format != "png":
        used["format"] = options.format
    if "hints" in mode.options and (options.hints or options.reference or options.soft or options.hint_data):
        data = options.hint_data.to_json() if hasattr(options.hint_data, "to_json") else options.hint_data
        used["hints"] = [options.hints, data, options.reference, options.soft]
    return hashlib.sha1(json.dumps(used, sort_keys=True).encode()).hexdigest()[:6]


def output_name(rel: Path, options: Options, stem: str | None = None, mode_suffix: str | None = None) -> str:
    """The output file name for input ``rel`` (only its name is used); ``stem`` replaces the input's,
    ``mode_suffix`` the mode's ``{mode}`` (colorize's ``flats`` / ``lines`` outputs)."""
    check_template(options.template)
    mode = get_mode(options.mode)
    names, all_default = _model_names(mode, options)
    model = "+".join(names)
    fields = {
        "stem": rel.stem if stem is None else stem,
        "ext": rel.suffix.lstrip("."),
        "mode": mode_suffix or mode.suffix,
        "model": model,
        "variant": "" if all_default else f"-{model}",
        "settings": settings_tag(options) if "{settings}" in options.template else "",
    }
    name = options.template.format(**fields)
    kind = mode.output_kind_for(options)
    suffix = Path(name).suffix.lower()
    if suffix not in kind.suffixes:
        name = (name[: -len(suffix)] if suffix in _ALL_SUFFIXES else name) + kind.default_suffix
    from anisketch_desktop.core.imageio import fit_name

    return fit_name(name)  # too long for the file system (a 240-character stem): shortened, kept distinct


def output_path(source: Path, rel: Path | None, out_dir: str | Path | None, options: Options) -> Path:
    """Where ``source``'s result goes: ``out_dir/<rel's folders>/<name>``, or next to ``source`` without
    ``out_dir``. ``rel`` is the input's path below the folder it was found in (None: just its name)."""
    rel = Path(rel) if rel else Path(Path(source).name)
    folder = Path(out_dir) / rel.parent if out_dir else Path(source).parent
    return folder / output_name(rel, options)
