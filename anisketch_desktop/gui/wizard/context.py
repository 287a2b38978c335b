"""What the wizard's pages share: the open dataset (a GUI-thread store for counts and decisions) and the
one runner for long jobs (crawl, import, sketches, training, export), so two never write at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from anisketch_desktop.gui.settings import Settings
from anisketch_desktop.gui.workers import TaskRunner

RECENT_KEY = "wizard/recent_datasets"
MAX_RECENT = 8


class WizardContext(QObject):
    dataset_changed = Signal(object)  # Path | None
    data_changed = Signal()  # pictures, sketches or decisions changed: pages refresh their counts
    busy_changed = Signal(bool)

    def __init__(self, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.dataset_dir: Path | None = None
        self.store = None  # DatasetStore of dataset_dir, used on the GUI thread only
        self.jobs = TaskRunner(self, name="wizard-job")
        self.jobs.started.connect(lambda tag: self.busy_changed.emit(True))
        self.jobs.idle.connect(lambda: self.busy_changed.emit(False))

    def open(self, folder: str | Path) -> None:
        """Open (or create) the dataset in ``folder``; raises ``DatasetError`` with a readable reason."""
        from anisketch_desktop.dataset import lock
        from anisketch_desktop.dataset.store import DatasetStore

        folder = Path(folder).expanduser().resolve()
        lock.acquire(folder)  # another AniSketch using it: DatasetBusyError names its pid
        try:
            store = DatasetStore(folder)
        except BaseException:
            lock.release(folder)
            raise
        self.close()
        self.store, self.dataset_dir = store, folder
        recent = [p for p in self.recent() if p != str(folder)]
        self.settings.set(RECENT_KEY, [str(folder), *recent][:MAX_RECENT], list)
        self.dataset_changed.emit(folder)
        self.data_changed.emit()

    def close(self) -> None:
        """Close the open dataset and let other AniSketch processes use it again."""
        from anisketch_desktop.dataset import lock

        if self.store is not None:
            self.store.close()
            lock.release(self.dataset_dir)
        self.store, self.dataset_dir = None, None

    def recent(self) -> list[str]:
        return [p for p in self.settings.get(RECENT_KEY, [], list) if isinstance(p, str)]

    def is_busy(self) -> bool:
        return self.jobs.is_busy()

    def run(self, tag: str, fn, *args, **kwargs) -> None:
        self.jobs.submit(tag, fn, *args, **kwargs)

    def counts(self) -> dict[str, int]:
        """Pictures by download state plus sketch pairs and decisions (all zero without a dataset)."""
        keys = ("done", "pending", "failed", "duplicate", "pairs", "reviewed", "approved", "rejected",
                "stale")
        if self.store is None:
            return dict.fromkeys(keys, 0)
        from anisketch_desktop.dataset import approval

        out = dict.fromkeys(keys, 0)
        out.update({state: n for state, n in self.store.state_counts().items() if state in out})
        c = approval.counts(self.store)
        out.update(pairs=c.total, reviewed=c.reviewed, approved=c.approved, rejected=c.rejected,
                   stale=c.stale)
        return out

    def shutdown(self) -> None:
        self.jobs.shutdown()
        self.close()
