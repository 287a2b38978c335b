"""The one way the app runs long work: a QObject ``Worker`` moved to a ``QThread`` (the superqt pattern).

A task is a plain function ``fn(*args, state=TaskState)``: it reports through ``state.progress(fraction)`` and
``state.partial(obj)`` and passes ``state.cancelled`` as the core's ``cancel`` callback, so ``Cancel`` takes
effect at the next tile. The worker never touches a widget; its signals reach the GUI thread through the
``TaskRunner`` (a QObject living on the GUI thread), which re-emits them queued. Nothing is ever terminated.
A failure arrives as the exception object (``error``) and as the window's wording of it (``failed``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.core.formats import DEVICES

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """An error as the window words it: the message, and the setting that fixes it where the error says so
    (``AniSketchError.fix``); out of memory and bugs get a plain sentence."""
    if isinstance(exc, MemoryError):
        return "Out of memory (try a smaller image or a smaller tile size)"
    if not isinstance(exc, AniSketchError):
        return f"{type(exc).__name__}: {exc}"
    ways = []
    for key, value in exc.fix.items():
        if key == "device":
            ways.append(f"choose “{DEVICES.get(value, value)}” under Device")
        elif key == "engine" and value == "xdog":
            ways.append("use Sketch (XDoG)")
        elif key == "model":
            ways.append("pick a model under Model")
        else:
            ways.append(f"set {key.replace('_', ' ')} to {value}")
    return f"{exc} ({' or '.join(ways)})" if ways else str(exc)


def _detached(exc: BaseException) -> BaseException:
    """``exc`` without its tracebacks (also of its causes): the GUI gets the error, not the worker's frames
    and the pictures they hold."""
    seen: set[int] = set()
    item: BaseException | None = exc
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        item.__traceback__ = None
        item = item.__cause__ or item.__context__
    return exc


# Threads (with their workers) that have started and not been reaped by their runner. A QThread destroyed while
# it runs aborts the process ("QThread: Destroyed while thread is still running"); a runner that is garbage
# collected mid-task (an unparented one going out of scope) would otherwise take its thread with it.
_LIVE: set[tuple[QThread, Worker]] = set()


class TaskState:
    """What a task function sees: progress and partial-result reporting and the cancel flag (no Qt)."""

    def __init__(self, worker: Worker):
        self._worker = worker

    def progress(self, fraction: float) -> None:
        self._worker.report_progress(fraction)

    def partial(self, payload: Any) -> None:
        self._worker.partial.emit(payload)

    def cancelled(self) -> bool:
        return self._worker.is_cancelled()

    def check(self) -> None:
        """Raise ``Cancelled`` if cancel was requested (for loops outside the core)."""
        if self.cancelled():
            raise Cancelled("Cancelled")


class Worker(QObject):
    """Runs ``fn(*args, state=..., **kwargs)`` once, in the thread it lives in; reports by signals."""

    progress = Signal(float)
    partial = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # always last

    PROGRESS_INTERVAL = 0.03  # seconds between progress signals (a flood of them would load the GUI thread)

    def __init__(self, fn: Callable, *args, **kwargs):
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Thread-safe: ask the task to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report_progress(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last_progress >= self.PROGRESS_INTERVAL:
            self._last_progress = now
            self.progress.emit(float(min(max(fraction, 0.0), 1.0)))

    @Slot()
    def run(self) -> None:
        try:
            if self.is_cancelled():
                raise Cancelled("Cancelled")
            result = self._fn(*self._args, state=TaskState(self), **self._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except (AniSketchError, MemoryError) as exc:
            self.failed.emit(_detached(exc))
        except Exception as exc:  # a bug or an odd file must fail the task, never kill the thread silently
            log.exception("task %s failed", getattr(self._fn, "__name__", self._fn))
            self.failed.emit(_detached(exc))
        else:
            if self.is_cancelled() and result is None:
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self.finished.emit()


class TaskRunner(QObject):
    """Runs tasks one at a time on a fresh QThread each; signals arrive on the GUI thread.

    ``submit`` while a task runs either waits its turn (``latest_wins=False``: a FIFO) or cancels the running
    task and replaces anything pending (``latest_wins=True``: live previews).
    """

    started = Signal(object)  # tag
    progress = Signal(object, float)  # tag, fraction
    partial = Signal(object, object)  # tag, payload
    succeeded = Signal(object, object)  # tag, result
    error = Signal(object, object)  # tag, the exception (the window words it with describe_error)
    failed = Signal(object, str)  # tag, describe_error(exception)
    cancelled = Signal(object)  # tag
    finished = Signal(object)  # tag; after one of succeeded / failed / cancelled
    idle = Signal()  # nothing running or pending

    def __init__(self, parent: QObject | None = None, latest_wins: bool = False, name: str = "task"):
        super().__init__(parent)
        self.latest_wins = latest_wins
        self.name = name
        self._pending: list[tuple[Any, Callable, tuple, dict]] = []
        self._worker: Worker | None = None
        self._thread: QThread | None = None
        self._tag: Any = None

    # ---------------------------------------------------------------- public
    def submit(self, tag: Any, fn: Callable, *args, **kwargs) -> None:
        if self.latest_wins:
            self._pending = [(tag, fn, args, kwargs)]
            self.cancel_current()
        else:
            self._pending.append((tag, fn, args, kwargs))
        if self._thread is None:
            self._start_next()

    def cancel_current(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def cancel_all(self) -> None:
        self._pending.clear()
        self.cancel_current()

    def is_busy(self) -> bool:
        return self._thread is not None or bool(self._pending)

    @property
    def current_tag(self) -> Any:
        return self._tag if self._thread is not None else None

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the thread (called when the window closes)."""
        self.cancel_all()
        thread = self._thread
        if thread is None:
            return True
        ok = thread.wait(timeout_ms)
        return bool(ok)

    # ---------------------------------------------------------------- internals
    def _start_next(self) -> None:
        if not self._pending:
            self.idle.emit()
            return
        tag, fn, args, kwargs = self._pending.pop(0)
        worker = Worker(fn, *args, **kwargs)
        thread = QThread()
        thread.setObjectName(f"anisketch-{self.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.partial.connect(self._on_partial)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        # direct: quit() is thread-safe, and a queued call would wait for the GUI thread (which may be in wait())
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread, self._tag = worker, thread, tag
        _LIVE.add((thread, worker))  # never destroyed while running, even if this runner is (Qt would abort)
        self.started.emit(tag)
        thread.start()

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        self.progress.emit(self._tag, fraction)

    @Slot(object)
    def _on_partial(self, payload: Any) -> None:
        self.partial.emit(self._tag, payload)

    @Slot(object)
    def _on_succeeded(self, result: Any) -> None:
        self.succeeded.emit(self._tag, result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.error.emit(self._tag, exc)
        self.failed.emit(self._tag, describe_error(exc))

    @Slot()
    def _on_cancelled(self) -> None:
        self.cancelled.emit(self._tag)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker, tag = self._thread, self._worker, self._tag
        self._thread = self._worker = None
        if thread is not None:
            thread.wait()
            _LIVE.discard((thread, worker))
            thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
        self.finished.emit(tag)
        if self._thread is None:  # a finished-handler may already have submitted and started the next task
            self._start_next()
