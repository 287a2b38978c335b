"""The one table of what the app does to a picture. The CLI's commands, the options panel's mode buttons and
tips, the model checks, the queue's labels and the output names all come from ``MODES``.

A mode's ``run(image, options, engines, progress, cancel)`` gets the picture as read by ``core.imageio``, the
``Options``, and one loaded ``InferenceEngine`` per task in ``tasks`` (loaded by ``jobs.process``, which also
reads and writes the files); it returns what ``OUTPUT_KINDS[output]`` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anisketch_desktop.core.formats import WRITABLE_SUFFIXES

if TYPE_CHECKING:
    import numpy as np

    from anisketch_desktop.application.options import Options

Progress = Callable[[float], None] | None
Cancel = Callable[[], bool] | None

# The option groups a mode can use (``Mode.options``); each face has one control per group:
#   xdog         Options.xdog / xdog_preset / xdog_auto   (--preset --auto --sigma ...; the XDoG panel)
#   transparent  Options.transparent                      (--transparent; "Transparent background")
#   specks       Options.speck_size                       (--specks; "Remove specks")
#   flats        Options.flats                            (--flats/--no-flats; "Flat colours")
#   device       Options.device, Options.tile, memory_mb  (--device --tile --memory; the Device box)
#   lines        Options.line_weight / threshold / tint   (--line-weight --threshold --tint; "Lines" controls)
#   format       Options.format: png or svg               (--format; File > Export SVG...)
#   hints        Options.hints / hint_data / reference / soft   (--hints --reference --soft; the hint tool)
#   layers       Options.outputs / layers                 (--write --layers; File > Export Layers...)
# Models are not a group: ``Mode.tasks`` says which ones a mode loads.
OPTION_GROUPS = ("xdog", "transparent", "specks", "flats", "device", "lines", "format", "hints", "layers")


@dataclass(frozen=True)
class OutputKind:
    """How a mode's result is written: the file suffixes it may have (the first is the default) and a writer
    ``write(path, result, overwrite)`` that writes atomically and refuses to replace a file unless asked."""

    key: str
    suffixes: tuple[str, ...]
    write: Callable[[Path, Any, bool], None]

    @property
    def default_suffix(self) -> str:
        return self.suffixes[0]


def _write_image(path: Path, image: np.ndarray, overwrite: bool) -> None:
    from anisketch_desktop.core import imageio

    imageio.save_image(path, image, overwrite=overwrite)


def _write_svg(path: Path, svg: str, overwrite: bool) -> None:
    from anisketch_desktop.core import imageio

    imageio.save_file(path, svg.encode("utf-8"), overwrite=overwrite)


OUTPUT_KINDS: dict[str, OutputKind] = {
    "image": OutputKind("image", WRITABLE_SUFFIXES, _write_image),
    "svg": OutputKind("svg", (".svg",), _write_svg),
}


@dataclass(frozen=True)
class Mode:
    key: str  # the CLI command and the settings value
    label: str  # buttons, queue rows, status lines
    tip: str  # tooltips and the CLI command's help
    suffix: str  # ``{mode}`` in output names
    tasks: tuple[str, ...]  # models loaded, in order; the last is the one ``--model`` picks
    options: frozenset[str]  # the OPTION_GROUPS it reads
    run: Callable[..., Any]
    output: str = "image"  # a key of OUTPUT_KINDS
    engine: str = ""  # the CLI's ``--engine`` value where several modes share a command
    also_in: str = ""  # another CLI command that runs this mode with ``--engine <engine>``

    @property
    def output_kind(self) -> OutputKind:
        return OUTPUT_KINDS[self.output]

    def output_kind_for(self, options: Options) -> OutputKind:
        """The output kind with ``options``: SVG where the mode can trace its result and it is asked for."""
        if "format" in self.options and options.format == "svg":
            return OUTPUT_KINDS["svg"]
        return self.output_kind


# --------------------------------------------------------------------------------------------- run functions
def draw_lines(image, opts: Options, engines: dict, progress: Progress = None, cancel: Cancel = None):
    """The slow step of the sketch modes: the engine's line art before any line control (U-Net: uint8,
    255 = paper, streamed tile by tile; XDoG: float, 1 = paper).

    The window keeps it per picture and reruns only :func:`finish_lines` when a line control moves."""
    from anisketch_desktop.core import pipeline

    if opts.mode == "xdog":
        return pipeline.sketch_lines(image, engine="xdog", xdog_params=opts.xdog_params(), auto=opts.xdog_auto,
                                     progress=progress, cancel=cancel)
    return pipeline.sketch_lines(image, model=engines["sketch"], dtype="uint8", progress=progress, cancel=cancel)


def finish_lines(gray: np.ndarray, image, opts: Options):
    """The sketch modes' result from :func:`draw_lines`: specks, line controls, then a picture or SVG text."""
    from anisketch_desktop.core import pipeline

    finish = pipeline.finish_sketch_svg if opts.format == "svg" else pipeline.finish_sketch
    return finish(gray, image, lines=opts.line_options(), transparent=opts.transparent, speck_size=opts.speck_size)


def _run_sketch(image, opts: Options, engines: dict, progress: Progress, cancel: Cancel):
    return finish_lines(draw_lines(image, opts, engines, progress, cancel), image, opts)


def draws_lines(mode: Mode) -> bool:
    """Whether ``mode`` runs as ``draw_lines`` + ``finish_lines`` (its line controls can change without a re-run)."""
    return mode.run is _run_sketch


def same_lines(a: Options, b: Options) -> bool:
    """Whether ``draw_lines`` gives the same line art with ``a`` and ``b`` (only line controls differ)."""
    keys = ("mode", "models", "xdog", "xdog_preset", "xdog_auto", "device", "tile")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _run_colorize(image, opts: Options, engines: dict, progress: Progress, cancel: Cancel) -> np.ndarray:
    from anisketch_desktop.application import guided

    return guided.picture_of(guided.result_of(image, opts, engines, progress, cancel), image)


def _run_style(image, opts: Options, engines: dict, progress: Progress, cancel: Cancel) -> np.ndarray:
    from anisketch_desktop.application import guided

    return guided.picture_of(guided.result_of(image, opts, engines, progress, cancel), image)


MODES: dict[str, Mode] = {
    mode.key: mode
    for mode in (
        Mode("sketch", "Sketch (U-Net)", "Clean line art from the U-Net model", "sketch", ("sketch",),
             frozenset({"transparent", "specks", "device", "lines", "format"}), _run_sketch, engine="unet"),
        Mode("xdog", "Sketch (XDoG)", "Line art from the XDoG filter, tuned live (no neural network)",
             "sketch", (), frozenset({"xdog", "transparent", "specks", "lines", "format"}), _run_sketch,
             engine="xdog",
             also_in="sketch"),
        Mode("colorize", "Colorize",
             "Colour line art: every closed region takes the colour of the hints in it, or the network's proposal",
             "color", ("colorize",), frozenset({"flats", "device", "hints", "layers"}), _run_colorize),
        Mode("style", "Style",
             "Cel-shade a picture: its line art over flat colours taken from the picture itself, region by region",
             "style", ("sketch",), frozenset({"specks", "flats", "device", "lines", "layers"}), _run_style),
    )
}


def get_mode(key: str) -> Mode:
    """``MODES[key]``, or ``InvalidOptionError`` naming the modes there are."""
    from anisketch_desktop.core.errors import InvalidOptionError

    try:
        return MODES[key]
    except KeyError:
        raise InvalidOptionError(f"Unknown mode {key!r}; use one of: {', '.join(MODES)}") from None


def commands() -> dict[str, list[Mode]]:
    """The CLI's image commands: command -> the modes it runs, its own first (more: chosen by ``--engine``)."""
    found: dict[str, list[Mode]] = {key: [mode] for key, mode in MODES.items()}
    for mode in MODES.values():
        if mode.also_in:
            found[mode.also_in].append(mode)
    return found


def model_path(spec: str, task: str) -> Path:
    """The model file for ``spec``: a path, a name from ``anisketch models``, or "" for ``task``'s default
    (``ModelLoadError`` if there is no such model)."""
    from anisketch_desktop.core import models

    return models.resolve_model(spec or None, task)
