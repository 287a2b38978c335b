"""Step 0: choose (or create) the dataset folder; shows what it holds."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop import paths
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.widgets import Banner, PageHeader

STATS = (
    ("done", "Pictures"),
    ("pending", "Downloads queued"),
    ("failed", "Downloads failed"),
    ("pairs", "Sketch pairs"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
)


class FolderPage(QWidget):
    title = "Dataset folder"
    opened = Signal()

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        header = PageHeader(
            "Choose a dataset folder",
            "A dataset is a folder holding the pictures, their sketches, your review decisions and the "
            "training runs. Pick an empty folder to start a new one, or an existing dataset to continue.",
        )
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("dataset_path")
        self.path_edit.setPlaceholderText("Folder of the dataset")
        self.path_edit.setText(str(paths.user_data_dir() / "datasets" / "my-dataset"))
        self.path_edit.returnPressed.connect(self.open_current)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("open_dataset")
        self.open_button.setToolTip("Open this dataset, creating the folder when it does not exist")
        self.open_button.clicked.connect(self.open_current)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.open_button)

        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recent_datasets")
        self.recent_list.itemActivated.connect(lambda item: self.open_folder(item.text()))
        self.recent_list.itemClicked.connect(lambda item: self.path_edit.setText(item.text()))
        recent_box = QGroupBox("Recent datasets")
        QVBoxLayout(recent_box).addWidget(self.recent_list)

        stats_box = QGroupBox("In this dataset")
        form = QFormLayout(stats_box)
        self.where_label = QLabel("No dataset open")
        self.where_label.setWordWrap(True)
        form.addRow("Folder:", self.where_label)
        self.site_label = QLabel("—")
        form.addRow("Source:", self.site_label)
        self.stat_labels: dict[str, QLabel] = {}
        for key, text in STATS:
            label = QLabel("—")
            label.setObjectName(f"stat_{key}")
            self.stat_labels[key] = label
            form.addRow(f"{text}:", label)

        self.banner = Banner()
        body = QHBoxLayout()
        body.addWidget(recent_box, 1)
        body.addWidget(stats_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        ctx.data_changed.connect(self.refresh)
        ctx.jobs.succeeded.connect(self._on_job_succeeded)
        ctx.jobs.failed.connect(self._on_job_failed)
        self.refresh()

    def _browse(self) -> None:
        start = self.path_edit.text() or str(paths.user_data_dir())
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder (new or existing)", start)
        if folder:
            self.path_edit.setText(folder)
            self.open_current()

    def open_current(self) -> bool:
        return self.open_folder(self.path_edit.text().strip())

    def open_folder(self, folder: str) -> bool:
        """Open ``folder`` as the dataset (asks before turning a non-empty plain folder into one)."""
        from anisketch_desktop.dataset.store import DB_NAME

        if not folder:
            self.banner.show_message("error", "Enter or choose a folder first.")
            return False
        path = Path(folder).expanduser()
        if path.is_file():
            self.banner.show_message("error", f"{path} is a file, not a folder.")
            return False
        if path.is_dir() and not (path / DB_NAME).exists() and any(path.iterdir()):
            answer = QMessageBox.question(
                self, "Use this folder?",
                f"{path} already holds other files. Create a dataset in it anyway?\n\nThe dataset adds "
                "images/, sketches/, cache/ and training/ folders and a dataset.sqlite file.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.ctx.open(path)
        except AniSketchError as exc:
            self.banner.show_message("error", str(exc))
            if getattr(exc, "rebuild", False):
                self._offer_rebuild(path)
            return False
        self.path_edit.setText(str(self.ctx.dataset_dir))
        self.banner.show_message("success", f"Dataset open: {self.ctx.dataset_dir}")
        self.opened.emit()
        return True

    def _offer_rebuild(self, path: Path) -> None:
        """The manifest is damaged, or missing/empty next to pictures: offer to rebuild it from them."""
        from anisketch_desktop.dataset.rebuild import LOST

        answer = QMessageBox.question(
            self, "Rebuild the dataset manifest?",
            f"The manifest of {path} cannot be used, but its pictures are still there.\n\nRebuild the manifest "
            f"from the pictures in images/? The old file is kept next to it. Note: {LOST}.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            from anisketch_desktop.gui.wizard import jobs

            self.banner.show_message("info", f"Rebuilding the manifest of {path}…")
            self._rebuilding = path
            self.ctx.run("rebuild", jobs.rebuild_manifest, str(path))

    def _on_job_succeeded(self, tag, report) -> None:
        if tag != "rebuild":
            return
        path = getattr(self, "_rebuilding", None)
        if path is not None and self.open_folder(str(path)):
            self.banner.show_message("success", f"Manifest rebuilt: {report.recorded} pictures recorded "
                                     f"({len(report.failed)} unreadable). Review them again on the Review page.")

    def _on_job_failed(self, tag, reason: str) -> None:
        if tag == "rebuild":
            self.banner.show_message("error", f"The manifest could not be rebuilt: {reason}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()  # decisions made on the Review page do not emit data_changed

    def refresh(self) -> None:
        self.recent_list.clear()
        self.recent_list.addItems(self.ctx.recent())
        counts = self.ctx.counts()
        store = self.ctx.store
        self.where_label.setText(str(self.ctx.dataset_dir) if store else "No dataset open")
        self.site_label.setText((store.get_meta("site") or "your own pictures / not crawled yet") if store
                                else "—")
        for key, label in self.stat_labels.items():
            label.setText(f"{counts[key]:,}" if store else "—")

    def can_leave(self) -> bool:
        return self.ctx.store is not None or self.open_current()
