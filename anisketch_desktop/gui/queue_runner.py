"""Runs the queue's jobs on a worker thread through ``application.batch`` (the next picture is read and the
last result written while the network draws): start, pause, cancel, total progress + ETA."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, Signal

from anisketch_desktop.application import DEFAULT_TEMPLATE, OutputPlanner
from anisketch_desktop.application.batch import BatchItem, ItemResult, run_batch
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.queue_model import FINISHED, RETRYABLE, Job, JobState, QueueModel
from anisketch_desktop.gui.workers import TaskRunner, describe_error


@dataclass
class OutputSettings:
    folder: str = ""  # "" = next to each source picture
    template: str = DEFAULT_TEMPLATE
    if_exists: str = "skip"


def run_queue_batch(items: list[BatchItem], pause: threading.Event, removed: set[int], *, state) -> None:
    """The task a worker runs for the queued rows: ``application.run_batch``; every row's start, progress and
    result go back to the GUI thread as partial results. ``pause`` stops reading further rows; rows in
    ``removed`` (taken off the queue meanwhile) are left out."""
    run_batch(
        items,
        on_start=lambda key: state.partial(("start", key)),
        on_progress=lambda key, fraction: state.partial(("progress", key, fraction)),
        on_result=lambda result: state.partial(("result", result)),
        cancel=state.cancelled,
        stop=pause.is_set,
        skip=removed.__contains__,
    )


log = logging.getLogger(__name__)

class QueueRunner(QObject):
    """Drives ``QueueModel`` rows through ``application.run_batch``; one bad file fails its row, not the batch.
    Output paths come from one ``OutputPlanner`` per batch: two rows never write one file."""

    running_changed = Signal(bool)
    progress_changed = Signal(float, object)  # fraction of this batch, ETA in seconds (None = unknown)
    job_finished = Signal(object)  # Job, in its final state
    batch_finished = Signal(dict)  # {"done": n, "skipped": n, "failed": n, "cancelled": n}
    device_used = Signal(str, object)  # device description, note (why a GPU was skipped) or None

    def __init__(
        self, model: QueueModel, output: Callable[[], OutputSettings], parent: QObject | None = None
    ):
        super().__init__(parent)
        self.model = model
        self._output = output
        self._tasks = TaskRunner(self, name="batch")
        self._tasks.partial.connect(self._on_partial)
        self._tasks.error.connect(self._on_failed)
        self._tasks.finished.connect(self._on_task_finished)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsAboutToBeRemoved.connect(self._on_rows_removed)
        self._active = False
        self._pause_requested = False
        self._batch: set[int] = set()
        self._started_at = 0.0
        self._elapsed = 0.0  # running time of this batch when it was last paused
        self._tally: dict[str, int] = {}
        self._planner = OutputPlanner()  # for the queue's life: rows of any batch never share an output
        self._counted: dict[str, set[int]] = {}  # which rows each tally entry counts (Retry takes them back)
        self._pause_event = threading.Event()  # tells the running batch task to read no further rows
        self._removed: set[int] = set()  # rows taken off the queue while a batch task holds them
        self._in_task: set[int] = set()  # rows handed to the running batch task and not finished yet

    # ------------------------------------------------------------------ controls
    def is_running(self) -> bool:
        return self._active

    def is_pausing(self) -> bool:
        return self._active and self._pause_requested

    def is_paused(self) -> bool:
        """Stopped by Pause (or Cancel) with rows of this batch still queued: Start resumes it."""
        return not self._active and any(j.state == JobState.QUEUED and j.id in self._batch
                                        for j in self.model.jobs())

    def start(self) -> None:
        """Start with every queued row, or resume a paused batch (its progress and tally carry on)."""
        self._pause_requested = False
        if self._active:
            return
        queued = {j.id for j in self.model.jobs() if j.state == JobState.QUEUED}
        if not queued:
            return
        if self.is_paused():
            self._batch |= queued
            self._started_at = time.monotonic() - self._elapsed  # the ETA counts only running time
        else:
            self._batch = queued
            self._tally = {"done": 0, "skipped": 0, "failed": 0, "cancelled": 0}
            self._counted = {}
            self._started_at = time.monotonic()
        self._active = True
        self.running_changed.emit(True)
        self._run_next()

    def pause(self) -> None:
        """Finish the files in flight, then stop; ``start`` resumes."""
        if self._active:
            self._pause_requested = True
            self._pause_event.set()
            self.running_changed.emit(True)

    def cancel(self) -> None:
        """Stop now: the running file stops at its next tile and is marked cancelled (nothing is written)."""
        if self._active:
            self._pause_requested = True
            self._pause_event.set()
            self._tasks.cancel_all()

    def retry_failed(self, job_ids: set[int] | None = None) -> int:
        """Queue failed/cancelled rows (all, or ``job_ids``) again and run them: no second Start needed."""
        again = [j for j in self.model.jobs() if j.state in RETRYABLE and (job_ids is None or j.id in job_ids)]
        for job in again:
            self.model.update(job.id, state=JobState.QUEUED, progress=0.0, reason="", seconds=None)
            for key in ("failed", "cancelled"):
                if job.id in self._counted.get(key, set()):
                    self._counted[key].discard(job.id)
                    self._tally[key] -= 1
        if again:
            self._batch |= {j.id for j in again}
            if self._active:
                self._emit_progress()
            else:
                self.start()
        return len(again)

    def shutdown(self) -> None:
        self._pause_requested = True
        self._pause_event.set()
        self._tasks.shutdown()

    # ------------------------------------------------------------------ running
    def _run_next(self) -> None:
        """Hand every queued row to one batch task (rows queued later go in the next one)."""
        items = []
        for job in [j for j in self.model.jobs() if j.state == JobState.QUEUED] if not self._pause_requested else []:
            try:
                out = self._output()
                options = job.options.with_(template=out.template, if_exists=out.if_exists).validate()
                target = self._planner.target(job.source, job.rel, out.folder, options)
            except AniSketchError as exc:
                self._finish(job, JobState.FAILED, reason=str(exc))
                continue
            self._batch.add(job.id)
            self.model.update(job.id, output=target)
            items.append(BatchItem(job.id, job.source, target, options, job.rel))
        if not items:
            self._stop()
            return
        self._pause_event = threading.Event()
        self._removed = set()
        self._in_task = {item.key for item in items}
        self.model.update(items[0].key, state=JobState.RUNNING, progress=0.0, reason="")  # Pause finishes it
        self._tasks.submit("batch", run_queue_batch, items, self._pause_event, self._removed)

    def _stop(self) -> None:
        was_active = self._active
        self._active = False
        self._pause_requested = False
        if was_active:
            self._elapsed = time.monotonic() - self._started_at
            self.running_changed.emit(False)
            self._emit_progress()
            if self.model.next_queued() is None:
                self.batch_finished.emit(dict(self._tally))

    def _finish(self, job: Job, state: JobState, **changes) -> None:
        if state == JobState.FAILED:  # the README promises the log file holds every failure
            log.warning("batch row failed: %s: %s", job.source, changes.get("reason", ""))
        self.model.update(job.id, state=state, **changes)
        if job.id not in self._counted.setdefault(state.value, set()):
            self._counted[state.value].add(job.id)
            self._tally[state.value] = self._tally.get(state.value, 0) + 1
        self.job_finished.emit(job)
        self._emit_progress()

    def _on_partial(self, _tag, event: tuple) -> None:
        kind, key = event[0], event[1]
        if kind == "result":
            key = event[1].key
        job = self.model.find(key)
        if job is None:
            return
        if kind == "start":
            self.model.update(key, state=JobState.RUNNING, progress=0.0, reason="")
        elif kind == "progress":
            self.model.update(key, progress=event[2])
            self._emit_progress()
        else:
            self._on_result(job, event[1])

    def _on_result(self, job: Job, result: ItemResult) -> None:
        self._in_task.discard(job.id)
        if result.state == "cancelled" and job.state == JobState.QUEUED:
            return  # read ahead but never started: it stays queued, as if Cancel had come before it was read
        outcome = result.outcome
        if result.state == "skipped":
            self._finish(job, JobState.SKIPPED, progress=1.0, output=outcome.output, reason="output exists")
        elif result.state == "done":
            self._finish(job, JobState.DONE, progress=1.0, output=outcome.output, seconds=outcome.info.seconds)
            self.device_used.emit(outcome.info.device, outcome.info.note)
        elif result.state == "failed":
            self._finish(job, JobState.FAILED, reason=describe_error(result.error) if result.error else result.reason)
        else:
            self._finish(job, JobState.CANCELLED, progress=0.0, reason="stopped before it finished")

    def _on_failed(self, _tag, exc: BaseException) -> None:
        """The batch task itself failed (a bug): the rows it was running fail with its message."""
        for job_id in list(self._in_task):
            job = self.model.find(job_id)
            if job is not None and job.state == JobState.RUNNING:
                self._finish(job, JobState.FAILED, reason=describe_error(exc))

    def _on_task_finished(self, _tag) -> None:
        for job_id in list(self._in_task):  # rows the task never read stay queued; a running one was cancelled
            job = self.model.find(job_id)
            if job is not None and job.state == JobState.RUNNING:
                self._finish(job, JobState.CANCELLED, progress=0.0, reason="stopped before it finished")
        self._in_task = set()
        if self._active:
            self._run_next()

    # ------------------------------------------------------------------ totals
    def batch_progress(self) -> tuple[float, float | None]:
        """(fraction of this batch done, ETA in seconds or None)."""
        jobs = [j for j in self.model.jobs() if j.id in self._batch]
        if not jobs:
            return 0.0, None
        done = sum(
            1.0
            if j.state in FINISHED or j.state in RETRYABLE
            else j.progress
            if j.state == JobState.RUNNING
            else 0.0
            for j in jobs
        )
        fraction = done / len(jobs)
        elapsed = time.monotonic() - self._started_at
        eta = (
            elapsed / fraction * (1.0 - fraction)
            if self._active and fraction > 0.01 and elapsed > 0.5
            else None
        )
        return fraction, eta

    def _emit_progress(self) -> None:
        fraction, eta = self.batch_progress()
        self.progress_changed.emit(fraction, eta)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._planner.reserve(self.model.job_at(r).source for r in range(first, last + 1))  # never written over
        if self._active:
            self._batch |= {self.model.job_at(r).id for r in range(first, last + 1)}
            self._emit_progress()

    def _on_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        for r in range(first, last + 1):
            job_id = self.model.job_at(r).id
            self._batch.discard(job_id)
            self._removed.add(job_id)  # the running batch task leaves it out if it has not read it yet
