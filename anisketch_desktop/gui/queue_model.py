"""The batch queue as a table model: one row per job (file, mode, progress, state with its reason)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor

from anisketch_desktop.application import MODES, Options


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobState.DONE, JobState.SKIPPED)
RETRYABLE = (JobState.FAILED, JobState.CANCELLED)
STATE_COLORS = {
    JobState.DONE: QColor("#3fb950"),
    JobState.SKIPPED: QColor("#8b949e"),
    JobState.FAILED: QColor("#f85149"),
    JobState.CANCELLED: QColor("#d29922"),
    JobState.RUNNING: QColor("#4aa3ff"),
}
_ids = itertools.count(1)


@dataclass
class Job:
    source: Path
    rel: Path  # path relative to the dropped folder (its sub-folders are kept in the output)
    options: Options
    id: int = field(default_factory=lambda: next(_ids))
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    reason: str = ""
    output: Path | None = None
    seconds: float | None = None

    @property
    def mode(self) -> str:
        return self.options.mode


class QueueModel(QAbstractTableModel):
    COLUMNS = ("File", "Mode", "Progress", "State")
    FILE, MODE, PROGRESS, STATE = range(4)
    JobRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._jobs: list[Job] = []

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        col = index.column()
        if role == self.JobRole:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.FILE:
                return str(job.rel)
            if col == self.MODE:
                return MODES[job.mode].label if job.mode in MODES else job.mode
            if col == self.PROGRESS:
                return round(job.progress * 100)
            return self.state_text(job)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [str(job.source)]
            if job.output:
                lines.append(f"→ {job.output}")
            if job.reason:
                lines.append(job.reason)
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.STATE:
            return STATE_COLORS.get(job.state)
        return None

    @staticmethod
    def state_text(job: Job) -> str:
        text = job.state.value
        if job.state == JobState.DONE and job.seconds is not None:
            text += f" ({job.seconds:.1f} s)"
        if job.reason and job.state in (JobState.FAILED, JobState.SKIPPED, JobState.CANCELLED):
            text += f": {job.reason}"
        return text

    # ------------------------------------------------------------------ jobs
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def job_at(self, row: int) -> Job:
        return self._jobs[row]

    def row_of(self, job_id: int) -> int:
        for row, job in enumerate(self._jobs):
            if job.id == job_id:
                return row
        return -1

    def find(self, job_id: int) -> Job | None:
        row = self.row_of(job_id)
        return self._jobs[row] if row >= 0 else None

    def add_jobs(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        first = len(self._jobs)
        self.beginInsertRows(QModelIndex(), first, first + len(jobs) - 1)
        self._jobs.extend(jobs)
        self.endInsertRows()

    def update(self, job_id: int, **changes) -> Job | None:
        row = self.row_of(job_id)
        if row < 0:
            return None
        job = self._jobs[row]
        for key, value in changes.items():
            setattr(job, key, value)
        cols = [self.PROGRESS] if set(changes) == {"progress"} else range(len(self.COLUMNS))
        self.dataChanged.emit(self.index(row, min(cols)), self.index(row, max(cols)))
        return job

    def remove_rows(self, rows: list[int]) -> int:
        """Remove the given rows unless running; returns how many went."""
        removed = 0
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._jobs) and self._jobs[row].state != JobState.RUNNING:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._jobs[row]
                self.endRemoveRows()
                removed += 1
        return removed

    def clear_finished(self) -> int:
        return self.remove_rows([r for r, j in enumerate(self._jobs) if j.state in FINISHED])

    def requeue(self, states=RETRYABLE) -> int:
        count = 0
        for job in self._jobs:
            if job.state in states:
                self.update(job.id, state=JobState.QUEUED, progress=0.0, reason="", seconds=None)
                count += 1
        return count

    def next_queued(self) -> Job | None:
        return next((j for j in self._jobs if j.state == JobState.QUEUED), None)

    def count(self, *states: JobState) -> int:
        return sum(1 for j in self._jobs if j.state in states)
