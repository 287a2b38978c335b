"""Batches at the network's speed: reading and decoding, the network, and encoding and writing overlap.

Three stages joined by small bounded queues (a prefetch of ``PREFETCH`` decoded pictures, ``WRITE_AHEAD``
results waiting to be written), so memory stays at a few pictures whatever the batch size:

    reader thread  --read_q-->  the caller's thread (the network)  --write_q-->  writer thread

The network runs on the caller's thread with all the torch threads, so it keeps the cores busy; the reader
decodes the next picture and the writer encodes the last result while it runs (Pillow, OpenCV and zlib release
the GIL for that work). Results come out in input order. A file that cannot be read, processed or written
fails alone; ``stop()`` (pause) reads no further files and finishes those in flight; ``cancel()`` stops the
running file at its next tile (within seconds), leaves the files read but not processed unwritten and
reports them cancelled; results already computed are still written, atomically as always. The CLI
(``anisketch sketch DIR``) and the window's queue both run their batches through :func:`run_batch`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anisketch_desktop.application.jobs import (
    JobOutcome,
    RunInfo,
    describe_device,
    load_engines,
    numbered,
    run_job,
)
from anisketch_desktop.application.modes import get_mode
from anisketch_desktop.application.options import Options
from anisketch_desktop.core.errors import AniSketchError, Cancelled

PREFETCH = 2  # decoded pictures waiting for the network
WRITE_AHEAD = 2  # results waiting to be written
_POLL = 0.05  # seconds between checks of stop/cancel while a stage waits on a queue
_END = object()


@dataclass
class BatchItem:
    key: Any  # the caller's handle: a path, a queue row id...
    source: Path
    target: Path
    options: Options
    rel: Path | None = None  # the source's path below its input folder (names guided outputs)


@dataclass
class ItemResult:
    key: Any
    state: str  # "done", "skipped", "failed" or "cancelled"
    outcome: JobOutcome | None = None  # done and skipped
    reason: str = ""  # failed: one line naming the problem
    error: BaseException | None = None  # failed: the exception, for a face that words it its own way


@dataclass
class _Work:
    item: BatchItem
    target: Path | None = None
    image: Any = None  # the decoded picture (reader -> network), then the result (network -> writer)
    state: str = ""  # set when the item is finished before the writer ("skipped", "failed", "cancelled")
    reason: str = ""
    error: BaseException | None = None
    info: RunInfo | None = None
    outcome: JobOutcome | None = None  # set when the network stage ran the whole job itself


def failure_reason(exc: BaseException) -> str:
    """The one line a row or the terminal shows for a failed file."""
    if isinstance(exc, AniSketchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_EXPECTED = (AniSketchError, OSError, ValueError, RuntimeError, MemoryError)


class BatchRun:
    """One batch in flight; :func:`run_batch` makes and runs it. ``stop`` and ``cancel`` are thread-safe."""

    def __init__(
        self,
        items: Iterable[BatchItem],
        *,
        on_start: Callable[[Any], None] | None = None,
        on_progress: Callable[[Any, float], None] | None = None,
        on_result: Callable[[ItemResult], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        stop: Callable[[], bool] | None = None,
        skip: Callable[[Any], bool] | None = None,
        prefetch: int = PREFETCH,
    ):
        """``skip(key)``: true for an item the caller no longer wants (a row taken off a queue); it is left out
        without a result if it was not read yet, else reported cancelled without being run."""
        self._items = iter(items)
        self._on_start, self._on_progress, self._on_result = on_start, on_progress, on_result
        self._cancel_fn, self._stop_fn, self._skip = cancel, stop, skip
        self._cancelled, self._stopped = threading.Event(), threading.Event()
        self._read_q: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
        self._write_q: queue.Queue = queue.Queue(maxsize=WRITE_AHEAD)
        self._emit_lock = threading.Lock()  # callbacks never run at the same time
        self._error: BaseException | None = None
        self._network_done = threading.Event()
        self._writer: threading.Thread | None = None

    def stop(self) -> None:
        """Read no further files (the batch's first file is always read); finish those in flight."""
        self._stopped.set()

    def cancel(self) -> None:
        """Stop the running file at its next tile; nothing more is read or processed."""
        self._cancelled.set()
        self._stopped.set()

    def cancelled(self) -> bool:
        if not self._cancelled.is_set() and self._cancel_fn is not None and self._cancel_fn():
            self.cancel()
        return self._cancelled.is_set()

    def _stopping(self) -> bool:
        if not self._stopped.is_set() and self._stop_fn is not None and self._stop_fn():
            self._stopped.set()
        return self._stopped.is_set() or self.cancelled()

    def _emit(self, fn, *args) -> None:
        if fn is not None:
            with self._emit_lock:
                fn(*args)

    @staticmethod
    def _put(q: queue.Queue, work, consumer_gone: Callable[[], bool]) -> None:
        """Put, waiting for room as long as the stage that takes from ``q`` is still there."""
        while True:
            try:
                q.put(work, timeout=_POLL)
                return
            except queue.Full:
                if consumer_gone():
                    return

    # ----------------------------------------------------------------------------- stages
    def _read(self) -> None:
        try:
            for index, item in enumerate(self._items):
                if self.cancelled() or (index > 0 and self._stopping()):  # stop: the first file is always run
                    break
                if self._skip is not None and self._skip(item.key):
                    continue
                work = _Work(item)
                if _writes_layers(item):  # guided colorize/style: run_job reads, runs and writes it in one go
                    self._put(self._read_q, work, self._network_done.is_set)
                    continue
                try:
                    work.target = self._target(item)
                    if work.target is None:
                        work.state = "skipped"
                    else:
                        from anisketch_desktop.core import imageio

                        work.image = imageio.read_image(item.source, max_pixels=item.options.max_pixels)
                except _EXPECTED as exc:
                    work.state, work.reason, work.error = "failed", failure_reason(exc), exc
                self._put(self._read_q, work, self._network_done.is_set)
        except BaseException as exc:  # handed to the caller's thread
            self._error = self._error or exc
        finally:
            self._put(self._read_q, _END, self._network_done.is_set)

    @staticmethod
    def _target(item: BatchItem) -> Path | None:
        """Where ``item`` is written, or None when it exists and the policy is to skip it."""
        if not item.target.exists():
            return item.target
        policy = item.options.if_exists
        if policy == "skip":
            return None
        return numbered(item.target) if policy == "rename" else item.target

    def _network(self) -> None:
        while True:
            work = self._read_q.get()
            if work is _END:
                return
            if not work.state and (self.cancelled() or (self._skip is not None and self._skip(work.item.key))):
                work.state, work.image = "cancelled", None
            if not work.state:
                self._process(work)
            self._put(self._write_q, work, self._writer_gone)
            if self._error is not None:
                return

    def _writer_gone(self) -> bool:
        return self._writer is None or not self._writer.is_alive()

    def _process(self, work: _Work) -> None:
        item = work.item
        self._emit(self._on_start, item.key)
        progress = None if self._on_progress is None else (lambda f: self._emit(self._on_progress, item.key, f))
        try:
            if _writes_layers(item):
                work.outcome = run_job(item.source, item.target, item.options, progress, self.cancelled, item.rel)
                return
            item.options.validate()
            mode = get_mode(item.options.mode)
            start = time.perf_counter()
            engines = load_engines(mode, item.options)
            work.image = mode.run(work.image, item.options, engines, progress, self.cancelled)
            seconds = time.perf_counter() - start
            if mode.tasks:
                used = engines[mode.tasks[-1]]
                work.info = RunInfo(describe_device(used.device), used.device_note, seconds)
            else:
                work.info = RunInfo("CPU (XDoG)", None, seconds)
        except Cancelled:
            work.state, work.image = "cancelled", None
            self.cancel()
        except _EXPECTED as exc:
            work.state, work.reason, work.error, work.image = "failed", failure_reason(exc), exc, None

    def _write(self) -> None:
        try:
            while True:
                work = self._write_q.get()
                if work is _END:
                    return
                self._emit(self._on_result, self._finish(work))
        except BaseException as exc:  # handed to the caller's thread
            self._error = self._error or exc

    def _finish(self, work: _Work) -> ItemResult:
        item = work.item
        if work.state == "skipped":
            return ItemResult(item.key, "skipped", JobOutcome(item.target, True, None))
        if work.state:
            return ItemResult(item.key, work.state, reason=work.reason, error=work.error)
        if work.outcome is not None:
            return ItemResult(item.key, "skipped" if work.outcome.skipped else "done", work.outcome)
        target = work.target if work.target is not None else item.target  # set when the job was read
        try:
            kind = get_mode(item.options.mode).output_kind_for(item.options)
            kind.write(target, work.image, item.options.if_exists == "overwrite")
        except _EXPECTED as exc:
            return ItemResult(item.key, "failed", reason=failure_reason(exc), error=exc)
        finally:
            work.image = None
        return ItemResult(item.key, "done", JobOutcome(target, False, work.info))

    def run(self) -> None:
        """Run every item (this thread runs the network); returns when all are finished or stopped."""
        reader = threading.Thread(target=self._read, name="batch-reader", daemon=True)
        self._writer = threading.Thread(target=self._write, name="batch-writer", daemon=True)
        reader.start()
        self._writer.start()
        try:
            self._network()
        except BaseException:  # Ctrl+C or a bug: stop reading, write what is finished, then re-raise
            self.cancel()
            raise
        finally:
            self._network_done.set()
            self._put(self._write_q, _END, self._writer_gone)
            reader.join()
            self._writer.join()
        if self._error is not None:
            raise self._error


def _writes_layers(item: BatchItem) -> bool:
    """Modes that write several files per picture (guided colorize and style) go through ``run_job`` whole."""
    return "layers" in get_mode(item.options.mode).options


def run_batch(items: Iterable[BatchItem], **kwargs) -> None:
    """Run ``items`` through the three-stage pipeline (see the module docstring); keyword arguments as
    :class:`BatchRun`. Callbacks may come from any of the batch's threads, never two at once."""
    BatchRun(items, **kwargs).run()
