"""The picture on the canvas and its result: loading, running a mode, the live XDoG preview, Auto.

Every step runs through a ``TaskRunner`` (latest request wins); this object never touches a widget, it
emits signals the window turns into canvas updates, status lines and dialogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from anisketch_desktop.application import MODES, OUTPUT_KINDS, Options, RunInfo, jobs, preview
from anisketch_desktop.application.modes import draws_lines, finish_lines, same_lines
from anisketch_desktop.gui.imaging import Pyramid, build_pyramid, downscale
from anisketch_desktop.gui.workers import TaskRunner

FULL_PREVIEW_PIXELS = 16_000_000  # up to this size the live XDoG preview renders the picture itself (~0.4 s)
PREVIEW_SIDE = 2048  # larger pictures preview on a copy this large, with size-dependent parameters scaled
PREVIEW_DELAY_MS = 250


@dataclass
class Source:
    path: Path | None  # None for pasted / dropped image data
    name: str
    image: np.ndarray  # as read (full resolution)
    pyramid: Pyramid
    preview: np.ndarray  # the picture itself, or a downscaled copy of a huge one, for the live XDoG preview


@dataclass
class Result:
    mode: str
    image: np.ndarray | None  # full resolution; None while only a preview exists
    pyramid: Pyramid
    info: RunInfo | None
    lines: np.ndarray | None = None  # sketch modes: the engine's line art (float), for the line controls
    options: Options | None = None  # what made it (names the saved file)


def load_source(item: Path | np.ndarray, name: str, *, state) -> Source:
    if isinstance(item, np.ndarray):
        image, path = item, None
    else:
        from anisketch_desktop.core import imageio

        image, path = imageio.read_image(item), Path(item)
    state.check()
    pyramid = build_pyramid(image)
    state.check()
    return Source(path, name, image, pyramid, preview_copy(image))


def preview_copy(image: np.ndarray) -> np.ndarray:
    """What the live XDoG preview runs on: the picture itself unless it is huge (then a downscaled copy)."""
    if image.shape[0] * image.shape[1] <= FULL_PREVIEW_PIXELS:
        return image
    return downscale(image, PREVIEW_SIDE)


def load_pair(source: Path, output: Path, mode: str, *, state) -> tuple[Source, Result]:
    """A batch row's source and its written result, to look at them in the compare view."""
    from anisketch_desktop.core import imageio

    src = load_source(Path(source), Path(source).name, state=state)
    out = imageio.read_image(output)
    state.check()
    return src, Result(mode, out, build_pyramid(out), None)


def run_mode(image: np.ndarray, opts: Options, *, state) -> Result:
    opts = opts.with_(format="png")  # the canvas shows pictures; File > Export SVG traces them
    if draws_lines(MODES[opts.mode]):  # keep the engine's lines: the line controls change without a re-run
        lines, info = jobs.process(image, opts, progress=state.progress, cancel=state.cancelled, lines_only=True)
        state.check()
        out = finish_lines(lines, image, opts)
        state.check()
        return Result(opts.mode, out, build_pyramid(out), info, lines, opts)
    out, info = jobs.process(image, opts, progress=state.progress, cancel=state.cancelled)
    state.check()
    return Result(opts.mode, out, build_pyramid(out), info, options=opts)


def refinish(result: Result, image: np.ndarray, opts: Options, *, state) -> Result:
    """``result`` with other line controls (weight, threshold, tint, specks, background): the same function
    on the same full-resolution lines as a saved file, so what the canvas shows is what is saved."""
    opts = opts.with_(format="png")
    opts.validate()
    out = finish_lines(result.lines, image, opts)
    state.check()
    return Result(result.mode, out, build_pyramid(out), result.info, result.lines, opts)


def export_svg(image: np.ndarray, result: Result | None, opts: Options, target: Path, *, state) -> Path:
    """Trace the line art into ``target`` (SVG): from the lines on the canvas when they are the ones these
    options draw, else drawn first. Written atomically; an existing file is replaced (the dialog asked)."""
    opts = opts.with_(format="svg")
    if result is not None and result.lines is not None and result.options and same_lines(result.options, opts):
        lines = result.lines
    else:
        lines, _info = jobs.process(image, opts, progress=state.progress, cancel=state.cancelled, lines_only=True)
    state.check()
    svg = finish_lines(lines, image, opts)
    state.check()
    OUTPUT_KINDS["svg"].write(target, svg, True)
    return target


def run_preview(source: Source, opts: Options, *, state) -> Result:
    """XDoG of the preview copy (on a downscaled copy, sigma and speck size are scaled with it: what you tune
    is what you save)."""
    full = source.preview is source.image
    factor = 1.0 if full else source.preview.shape[1] / source.image.shape[1]
    out = preview.xdog_preview(source.preview, opts, factor, cancel=state.cancelled)
    state.check()
    pyramid = build_pyramid(out, full_size=(source.image.shape[1], source.image.shape[0]))
    return Result("xdog", out if full else None, pyramid, None, options=opts)


def run_auto(image: np.ndarray, *, state) -> tuple[dict, float]:
    return preview.xdog_auto(image, progress=state.progress, cancel=state.cancelled)


class ImageSession(QObject):
    source_changed = Signal(object)  # Source
    result_changed = Signal(object)  # Result or None
    busy_changed = Signal(str)  # "" when idle
    failed = Signal(str, object)  # title, the exception
    run_finished = Signal(object)  # Result (with RunInfo)
    auto_finished = Signal(dict)
    auto_progress = Signal(float)
    exported = Signal(object)  # Path of a written SVG

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.source: Source | None = None
        self.result: Result | None = None
        self._loader = TaskRunner(self, latest_wins=True, name="load")
        self._runner = TaskRunner(self, latest_wins=True, name="run")
        self._previewer = TaskRunner(self, latest_wins=True, name="preview")
        self._auto = TaskRunner(self, latest_wins=True, name="auto")
        self._exporter = TaskRunner(self, latest_wins=True, name="export")
        self._exporter.succeeded.connect(lambda tag, path: self.exported.emit(path))
        self._exporter.error.connect(lambda tag, reason: self.failed.emit("Could not export the SVG", reason))
        self._exporter.finished.connect(lambda tag: self.busy_changed.emit(""))
        self._loader.started.connect(lambda tag: self.busy_changed.emit(f"Opening {tag}…"))
        self._loader.succeeded.connect(self._on_loaded)
        self._loader.error.connect(lambda tag, reason: self.failed.emit(f"Could not open {tag}", reason))
        self._loader.finished.connect(self._idle)
        self._runner.progress.connect(self._on_run_progress)
        self._runner.succeeded.connect(self._on_run_done)
        self._runner.error.connect(
            lambda tag, reason: self.failed.emit(f"{MODES[tag[0]].label} failed", reason)
        )
        self._runner.cancelled.connect(lambda tag: self.busy_changed.emit(""))
        self._runner.finished.connect(self._idle)
        self._previewer.succeeded.connect(self._on_preview_done)
        self._previewer.error.connect(lambda tag, reason: self.failed.emit("XDoG preview failed", reason))
        self._auto.progress.connect(lambda tag, f: self.auto_progress.emit(f))
        self._auto.succeeded.connect(lambda tag, result: self.auto_finished.emit(result[0]))
        self._auto.error.connect(lambda tag, reason: self.failed.emit("Auto XDoG failed", reason))
        self._auto.finished.connect(lambda tag: self.auto_progress.emit(-1.0))
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._start_preview)
        self._preview_args: tuple | None = None
        self._preview_wanted = False

    # ------------------------------------------------------------------ loading
    def open_path(self, path: Path) -> None:
        self._loader.submit(Path(path).name, load_source, Path(path), Path(path).name)

    def open_array(self, image: np.ndarray, name: str = "pasted picture") -> None:
        self._loader.submit(name, load_source, image, name)

    def open_result(self, source: Path, output: Path, mode: str) -> None:
        """Show a finished batch row: its source as the original, the written file as the result."""
        self._loader.submit(Path(source).name, load_pair, Path(source), Path(output), mode)

    def _on_loaded(self, tag, loaded: Source | tuple[Source, Result]) -> None:
        self._runner.cancel_all()
        self._previewer.cancel_all()
        self._auto.cancel_all()
        source, result = loaded if isinstance(loaded, tuple) else (loaded, None)
        self.source, self.result = source, None
        self.source_changed.emit(source)
        if result is not None:  # the written file, not a preview of the current settings
            self._preview_timer.stop()
            self._preview_wanted = False
        self.result = result
        self.result_changed.emit(result)

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        return self._runner.is_busy()

    def run(self, opts: Options) -> bool:
        if self.source is None:
            return False
        self.busy_changed.emit(f"{MODES[opts.mode].label}… 0%")
        self._runner.submit((opts.mode, id(self.source)), run_mode, self.source.image, opts)
        return True

    def cancel(self) -> None:
        self._runner.cancel_all()
        self._auto.cancel_all()

    def _on_run_progress(self, tag: tuple, fraction: float) -> None:
        self.busy_changed.emit(f"{MODES[tag[0]].label}… {fraction:.0%}")

    def _on_run_done(self, tag: tuple, result: Result) -> None:
        if self.source is None or tag[1] != id(self.source):
            return  # finished for a picture that has since been replaced
        self._preview_wanted = False
        self.result = result
        self.result_changed.emit(result)
        self.run_finished.emit(result)

    def _idle(self, *args) -> None:
        if not self._runner.is_busy() and not self._loader.is_busy():
            self.busy_changed.emit("")

    def show_result(self, result: Result, finished: bool = False) -> None:
        """A result made elsewhere (the guided colorizer) becomes the canvas's result."""
        self._previewer.cancel_all()
        self._preview_wanted = False
        self.result = result
        self.result_changed.emit(result)
        if finished:
            self.run_finished.emit(result)

    def clear_result(self) -> None:
        self._previewer.cancel_all()
        self._preview_timer.stop()
        self._preview_wanted = False
        self.result = None
        self.result_changed.emit(None)

    def refinish(self, opts: Options) -> bool:
        """Apply changed line controls to the sketch on the canvas (off the GUI thread, from its kept lines);
        False when there is none whose lines these options draw (then it needs a run)."""
        result = self.result
        if result is None or result.lines is None or self.source is None or result.options is None:
            return False
        if not same_lines(result.options, opts):
            return False
        self._previewer.submit(("refinish", id(self.source)), refinish, result, self.source.image, opts)
        return True

    def export_svg(self, opts: Options, target: Path) -> bool:
        """Trace the line art of the picture on the canvas into ``target`` (``exported`` / ``failed`` follow)."""
        if self.source is None or not draws_lines(MODES[opts.mode]):
            return False
        self.busy_changed.emit("Tracing the lines…")
        self._exporter.submit(("export", id(self.source)), export_svg, self.source.image, self.result, opts,
                              Path(target))
        return True

    # ------------------------------------------------------------------ XDoG preview
    def request_preview(self, opts: Options) -> None:
        """Debounced: the preview renders ``PREVIEW_DELAY_MS`` after the last change."""
        if self.source is None:
            return
        self._preview_args = (opts,)
        self._preview_wanted = True
        self._preview_timer.start()

    def _start_preview(self) -> None:
        if self.source is None or self._preview_args is None:
            return
        self._previewer.submit(id(self.source), run_preview, self.source, *self._preview_args)

    def _on_preview_done(self, tag, result: Result) -> None:
        if isinstance(tag, tuple):  # a sketch with other line controls
            if self.source is not None and tag[1] == id(self.source) and self.result is not None:
                self.result = result
                self.result_changed.emit(result)
            return
        if self._preview_wanted and self.source is not None and tag == id(self.source):
            self.result = result
            self.result_changed.emit(result)

    def auto_tune(self) -> bool:
        if self.source is None:
            return False
        self._auto.submit("auto", run_auto, self.source.image)  # tuned for the size that is saved
        return True

    def shutdown(self) -> None:
        self._preview_timer.stop()
        for runner in (self._loader, self._runner, self._previewer, self._auto, self._exporter):
            runner.shutdown()
