"""Live guided colorizing: ``core.guided.ColorizeSession`` driven from the GUI, always off the GUI thread.

``prepare`` (the network's pass over the drawing, and its regions) runs once per drawing + reference + model
on one ``TaskRunner``; ``render`` (the cheap region fill for the current hints) runs on another, one at a
time. Changes that arrive while a render runs are coalesced: only the newest hints are rendered next, so a
fast series of edits costs one extra render, not one per edit, and the picture never lags behind by more than
one render. A result for a drawing that has since been replaced is dropped (generation numbers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from anisketch_desktop.gui.imaging import Pyramid, build_pyramid
from anisketch_desktop.gui.workers import TaskRunner


@dataclass
class GuidedResult:
    colorized: Any  # core.guided.ColorizeResult
    pyramid: Pyramid
    render_seconds: float  # the render on the worker (fill + pyramid)
    latency: float  # from the first change it includes to the result arriving on the GUI thread
    device: str


def _default_factory(image: np.ndarray, model, device: str, reference: np.ndarray | None):
    from anisketch_desktop.core.guided import ColorizeSession

    return ColorizeSession(image, model=model, device=device, reference=reference)


def prepare_session(factory: Callable, image, model, device, reference, *, state):
    session = factory(image, model, device, reference)
    session.prepare(progress=state.progress, cancel=state.cancelled)
    state.check()
    return session


def render_session(session, hints, flat: bool, soft: bool, *, state):
    start = time.perf_counter()
    result = session.render(hints, flat=flat, soft=soft, cancel=state.cancelled)
    state.check()
    pyramid = build_pyramid(result.rgb)
    return result, pyramid, time.perf_counter() - start


def _device_name(session) -> str:
    device = getattr(session, "device", None)
    if device is None:
        return "CPU"
    from anisketch_desktop.application.jobs import describe_device

    return describe_device(device)


class GuidedColorizer(QObject):
    result_ready = Signal(object)  # GuidedResult
    busy_changed = Signal(str)  # "" when idle
    failed = Signal(str, str)  # title, readable reason

    def __init__(self, parent: QObject | None = None, factory: Callable | None = None):
        super().__init__(parent)
        self.factory = factory or _default_factory
        self._preparer = TaskRunner(self, latest_wins=True, name="colorize-prepare")
        self._renderer = TaskRunner(self, latest_wins=False, name="colorize-render")
        self._preparer.progress.connect(lambda tag, f: self.busy_changed.emit(f"Preparing colours… {f:.0%}"))
        self._preparer.succeeded.connect(self._on_prepared)
        self._preparer.failed.connect(self._on_prepare_failed)
        self._preparer.cancelled.connect(self._on_prepare_cancelled)
        self._preparer.finished.connect(lambda tag: self._idle())
        self._renderer.succeeded.connect(self._on_rendered)
        self._renderer.failed.connect(lambda tag, reason: self.failed.emit("Colorize failed", reason))
        self._renderer.finished.connect(lambda tag: (self._pump(), self._idle()))
        self._generation = 0
        self._inputs: tuple | None = None  # (image, model, device, reference)
        self._session = None
        self._preparing: int | None = None  # the generation being prepared
        self._failed_generation = -1
        self._wanted: tuple | None = None  # (hints, flat, soft)
        self._first_change: float | None = None

    # ------------------------------------------------------------------ public
    def configure(self, image: np.ndarray | None, model=None, device: str = "auto",
                  reference: np.ndarray | None = None) -> None:
        """The drawing (and reference, model, device) to colour; a change needs a new ``prepare``."""
        inputs = None if image is None else (image, model, device, reference)
        if _same(inputs, self._inputs):
            return
        self._generation += 1
        self._inputs, self._session = inputs, None
        self._preparer.cancel_all()
        self._renderer.cancel_all()
        self._idle()

    def is_prepared(self) -> bool:
        return self._session is not None

    def is_busy(self) -> bool:
        return self._preparer.is_busy() or self._renderer.is_busy() or self._wanted is not None

    def request(self, hints, flat: bool = True, soft: bool = False, retry: bool = False) -> bool:
        """Render ``hints`` as soon as possible (preparing first when needed); False without a drawing."""
        if self._inputs is None:
            return False
        if retry:
            self._failed_generation = -1
        self._wanted = (hints, flat, soft)
        if self._first_change is None:
            self._first_change = time.perf_counter()
        self._pump()
        return True

    def is_preparing(self) -> bool:
        return self._preparer.is_busy()

    def cancel(self) -> None:
        """Stop preparing / rendering (Esc); the next change or Run starts again."""
        self._wanted = self._first_change = None
        self._preparer.cancel_all()
        self._renderer.cancel_all()

    def shutdown(self) -> None:
        for runner in (self._preparer, self._renderer):
            runner.shutdown()

    # ------------------------------------------------------------------ internals
    def _pump(self) -> None:
        if self._inputs is None or self._wanted is None:
            return
        if self._session is None:
            if self._generation not in (self._preparing, self._failed_generation):
                self._preparing = self._generation
                self.busy_changed.emit("Preparing colours…")
                self._preparer.submit(self._generation, prepare_session, self.factory, *self._inputs)
            return
        if self._renderer.is_busy():
            return  # the newest wish is rendered when this one is done
        (hints, flat, soft), self._wanted = self._wanted, None
        first, self._first_change = self._first_change, None
        self._renderer.submit((self._generation, first), render_session, self._session, hints, flat, soft)

    def _on_prepared(self, generation: int, session) -> None:
        if generation == self._generation:
            self._session = session
            self._pump()

    def _on_prepare_cancelled(self, generation: int) -> None:
        if generation == self._preparing:
            self._preparing = None

    def _on_prepare_failed(self, generation: int, reason: str) -> None:
        if generation == self._preparing:
            self._preparing = None
        if generation == self._generation:
            self._failed_generation = generation
            self.failed.emit("Colorize failed", reason)

    def _on_rendered(self, tag: tuple, payload: tuple) -> None:
        generation, first = tag
        if generation != self._generation:
            return
        result, pyramid, seconds = payload
        latency = time.perf_counter() - first if first is not None else seconds
        self.result_ready.emit(GuidedResult(result, pyramid, seconds, latency, _device_name(self._session)))

    def _idle(self) -> None:
        """"" once nothing is prepared or rendered any more (the window then forgets a save it waited for)."""
        if not self._preparer.is_busy() and not self._renderer.is_busy() and self._wanted is None:
            self.busy_changed.emit("")


def _same(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(x is y if isinstance(x, np.ndarray) or x is None else x == y for x, y in zip(a, b, strict=True))
