"""Colorize and Style as jobs: hints and a reference per job, and the extra files a job may write.

* ``Options.hints``: a JSON file of one picture's hints, or a folder holding ``<stem>.json`` per picture (a
  picture without one gets none); ``Options.hint_data`` (``core.hints.Hints``) is the window's live hints and
  wins over the file. A bad hint file fails that picture only, with one line naming the file.
* ``Options.reference``: a coloured picture whose palette the proposal takes (read once per path).
* ``Options.outputs``: which pictures to write — ``color`` (the coloured picture, at the job's target),
  ``flats`` (flat colours only), ``lines`` (the line art on transparency) — named like the target with the
  kind as ``{mode}``; ``Options.layers`` adds ``<stem>_colorize.psd`` (``<stem>_style.psd``) beside it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from anisketch_desktop.core.errors import AniSketchError, InvalidOptionError

if TYPE_CHECKING:
    from anisketch_desktop.application.options import Options

OUTPUTS = {
    "color": "the coloured picture",
    "flats": "flat colours only, no lines",
    "lines": "the line art on transparency (black ink, alpha = ink)",
}
PSD_NAME = {"colorize": "{stem}_colorize.psd", "style": "{stem}_style.psd"}
_REFERENCES: dict[tuple, np.ndarray] = {}
_LOCK = threading.Lock()


def check(options: Options) -> None:
    """``InvalidOptionError`` for guided options that cannot work (unknown outputs, missing hint path or
    reference)."""
    bad = [k for k in options.outputs if k not in OUTPUTS]
    if bad or not options.outputs:
        raise InvalidOptionError(f"Unknown output {', '.join(map(str, bad)) or '(none)'}; "
                                 f"use {', '.join(OUTPUTS)}")
    if options.hints and not Path(options.hints).exists():
        raise InvalidOptionError(f"Hints {options.hints}: no such file or folder")
    if options.reference and not Path(options.reference).is_file():
        raise InvalidOptionError(f"Reference {options.reference}: no such file")


def hints_for(options: Options, source: Path | None, shape: tuple[int, int], image: np.ndarray | None = None):
    """The hints of the picture ``source`` (``Hints`` or None), checked against its ``shape``: the live
    ``hint_data``, else the ``hints`` file or folder, else (``saved_hints``) the hints the window's hint tool saved
    for this drawing (``image``: its pixels, which the saved hints are keyed by)."""
    from anisketch_desktop.core.hints import Hints, load_hints

    if options.hint_data is not None:
        hints = options.hint_data
        if isinstance(hints, dict):  # Options went through to_dict / settings
            hints = Hints.from_json(hints, shape, source="hints")
        else:
            Hints.from_json(hints.to_json(), shape, source="hints")  # still inside this picture?
        return hints
    if not options.hints:
        if options.saved_hints and source is not None and image is not None:
            from anisketch_desktop.application import saved_hints

            return saved_hints.find_hints(saved_hints.drawing_key(Path(source), image), shape)
        return None
    path = Path(options.hints)
    if path.is_dir():
        if source is None:
            return None
        path = path / f"{Path(source).stem}.json"
        if not path.is_file():
            return None  # no hints for this picture: the proposal alone
    return load_hints(path, shape)


def reference_of(options: Options) -> np.ndarray | None:
    """The reference picture (read once per file version), or None."""
    if not options.reference:
        return None
    from anisketch_desktop.core import imageio

    path = Path(options.reference)
    try:
        stat = path.stat()
    except OSError:
        raise AniSketchError(f"Reference {path}: no such file") from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        if key in _REFERENCES:
            return _REFERENCES[key]
    try:
        image = imageio.read_image(path, max_pixels=options.max_pixels)
    except AniSketchError as exc:
        raise AniSketchError(f"Reference: {exc}") from None
    with _LOCK:
        _REFERENCES.clear()  # one reference at a time is what a batch uses
        _REFERENCES[key] = image
    return image


def result_of(image, options: Options, engines: dict, progress=None, cancel=None, source: Path | None = None):
    """The ``core.guided.ColorizeResult`` of a colorize or style job."""
    from anisketch_desktop.core import pipeline

    flat = options.flats is not False
    if options.mode == "style":
        return pipeline.style_result(image, sketch_model=engines["sketch"], flats=flat,
                                     speck_size=options.speck_size, lines=options.line_options(),
                                     progress=progress, cancel=cancel)
    hints = hints_for(options, source, image.shape[:2], image)
    return pipeline.colorize_result(image, hints=hints, reference=reference_of(options), model=engines["colorize"],
                                    flats=flat, soft=options.soft, progress=progress, cancel=cancel)


def picture_of(result, image: np.ndarray) -> np.ndarray:
    """The coloured picture of ``result``, keeping an input alpha that outlines a picture."""
    from anisketch_desktop.core.pipeline import keep_alpha

    return keep_alpha(result.rgb, image)


def output_paths(source: Path, target: Path, rel: Path | None, options: Options) -> dict[str, Path]:
    """kind -> file of every output of a job whose coloured picture is ``target``."""
    from anisketch_desktop.application.naming import output_name

    rel = Path(rel) if rel else Path(Path(source).name)
    found = {}
    for kind in options.outputs:
        found[kind] = target if kind == "color" else target.with_name(output_name(rel, options, mode_suffix=kind))
    if options.layers:
        found["psd"] = target.parent / PSD_NAME[options.mode].format(stem=Path(source).stem)
    return found


def write_outputs(paths: dict[str, Path], result, image: np.ndarray, overwrite: bool) -> list[Path]:
    """Write every output of ``paths`` atomically; returns the files written."""
    from anisketch_desktop.core import imageio
    from anisketch_desktop.core.psd import lines_rgba, write_layers_psd

    written = []
    for kind, path in paths.items():
        if kind == "psd":
            write_layers_psd(path, result, overwrite=overwrite)
        else:
            picture = {"color": lambda: picture_of(result, image), "flats": lambda: result.flats,
                       "lines": lambda: lines_rgba(result.lines)}[kind]()
            imageio.save_image(path, picture, overwrite=overwrite)
        written.append(path)
    return written
