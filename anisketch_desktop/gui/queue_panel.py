"""The batch queue dock: job table, buttons, output folder and name template, total progress with ETA."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.gui import backend
from anisketch_desktop.gui.queue_model import JobState, QueueModel
from anisketch_desktop.gui.queue_runner import OutputSettings, QueueRunner
from anisketch_desktop.gui.settings import Settings


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a small progress bar."""

    def paint(self, painter, option, index) -> None:
        value = index.data() or 0
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(4, 5, -4, -5))
        bar.minimum, bar.maximum, bar.progress = 0, 100, int(value)
        bar.text, bar.textVisible = f"{int(value)}%", True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min left"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s left"
    return f"{seconds} s left"


class QueuePanel(QWidget):
    """Owns the ``QueueModel`` and its ``QueueRunner``; the window adds jobs with ``model.add_jobs``."""

    message = Signal(str)  # a line for the status bar

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.model = QueueModel(self)
        self.runner = QueueRunner(self.model, self.output_settings, self)
        self._build()
        self.restore_state()
        self.runner.running_changed.connect(self._update_buttons)
        self.runner.progress_changed.connect(self._on_progress)
        self.runner.batch_finished.connect(self._on_batch_finished)
        self.model.rowsInserted.connect(self._update_buttons)
        self.model.rowsRemoved.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)
        self._update_buttons()

    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Next to each picture")
        self.folder_edit.setToolTip("Output folder (empty: next to each source picture)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Open the output folder in the file manager")
        self.open_button.clicked.connect(self.open_output_folder)
        self.template_edit = QLineEdit()
        self.template_edit.setToolTip(
            "Output file name: {stem} = input name, {mode} = sketch/color/style, "
            "{ext} = input extension; .png is added if no image extension is given"
        )
        self.template_edit.setMaximumWidth(220)
        self.exists_combo = QComboBox()
        for key, text in backend.IF_EXISTS.items():
            self.exists_combo.addItem(text, key)
        self.exists_combo.setToolTip("What to do when the output file already exists")
        top = QHBoxLayout()
        top.addWidget(QLabel("Output:"))
        top.addWidget(self.folder_edit, 1)
        top.addWidget(browse)
        top.addWidget(self.open_button)
        top.addWidget(QLabel("Name:"))
        top.addWidget(self.template_edit)
        top.addWidget(QLabel("If it exists:"))
        top.addWidget(self.exists_combo)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(QueueModel.PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QueueModel.FILE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(QueueModel.MODE, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(QueueModel.PROGRESS, 140)
        header.setSectionResizeMode(QueueModel.STATE, QHeaderView.ResizeMode.Stretch)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Process every queued picture (Ctrl+Return)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Finish the current picture, then stop")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now; nothing half-written is left")
        self.retry_button = QPushButton("Retry failed")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected rows (Delete)")
        self.clear_button = QPushButton("Clear done")
        self.start_button.clicked.connect(self.runner.start)
        self.pause_button.clicked.connect(self.runner.pause)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.retry_button.clicked.connect(self.retry_failed)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.model.clear_finished)
        self.total_bar = QProgressBar()
        self.total_bar.setRange(0, 1000)
        self.total_bar.setFormat("%p%")
        self.total_bar.setValue(0)
        self.eta_label = QLabel("")
        self.eta_label.setMinimumWidth(120)
        bottom = QHBoxLayout()
        for button in (
            self.start_button,
            self.pause_button,
            self.cancel_button,
            self.retry_button,
            self.remove_button,
            self.clear_button,
        ):
            bottom.addWidget(button)
        bottom.addWidget(self.total_bar, 1)
        bottom.addWidget(self.eta_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

    # ------------------------------------------------------------------ state
    def output_settings(self) -> OutputSettings:
        return OutputSettings(
            folder=self.folder_edit.text().strip(),
            template=self.template_edit.text().strip() or backend.DEFAULT_TEMPLATE,
            if_exists=self.exists_combo.currentData() or "skip",
        )

    def save_state(self) -> None:
        out = self.output_settings()
        self.settings.output_dir = out.folder
        self.settings.name_template = out.template
        self.settings.if_exists = out.if_exists

    def restore_state(self) -> None:
        self.folder_edit.setText(self.settings.output_dir)
        self.template_edit.setText(self.settings.name_template)
        self.template_edit.setCursorPosition(0)  # show the start of the template, not its end
        index = self.exists_combo.findData(self.settings.if_exists)
        self.exists_combo.setCurrentIndex(max(index, 0))

    # ------------------------------------------------------------------ actions
    def _browse(self) -> None:
        start = self.folder_edit.text() or self.settings.last_open_dir or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Output folder", start)
        if folder:
            self.folder_edit.setText(folder)

    def output_folder(self) -> Path | None:
        """The folder "Open folder" shows: the chosen one, else where the last finished row was written."""
        if self.folder_edit.text().strip():
            return Path(self.folder_edit.text().strip())
        for job in reversed(self.model.jobs()):
            if job.output is not None and job.state in (JobState.DONE, JobState.SKIPPED):
                return job.output.parent
        return None

    def open_output_folder(self) -> None:
        folder = self.output_folder()
        if folder is None:
            self.message.emit("No output folder yet: choose one, or finish a picture first")
            return
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def retry_failed(self) -> None:
        count = self.runner.retry_failed()
        self.message.emit(f"{count} job(s) queued again" if count else "Nothing to retry")

    def remove_selected(self) -> None:
        rows = [index.row() for index in self.table.selectionModel().selectedRows()]
        self.model.remove_rows(rows)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Delete:
            self.remove_selected()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ feedback
    def _update_buttons(self, *args) -> None:
        running = self.runner.is_running()
        queued = self.model.count(JobState.QUEUED)
        self.start_button.setEnabled(queued > 0 and (not running or self.runner.is_pausing()))
        self.start_button.setText("Resume" if running and self.runner.is_pausing() else "Start")
        self.pause_button.setEnabled(running and not self.runner.is_pausing())
        self.cancel_button.setEnabled(running)
        self.retry_button.setEnabled(self.model.count(JobState.FAILED, JobState.CANCELLED) > 0)
        self.clear_button.setEnabled(self.model.count(JobState.DONE, JobState.SKIPPED) > 0)
        self.remove_button.setEnabled(self.model.rowCount() > 0)
        if self.runner.is_pausing():
            self.eta_label.setText("pausing after this picture…")

    def _on_progress(self, fraction: float, eta) -> None:
        self.total_bar.setValue(round(fraction * 1000))
        if not self.runner.is_pausing():
            self.eta_label.setText(format_eta(eta))

    def _on_batch_finished(self, tally: dict) -> None:
        parts = [f"{n} {state}" for state, n in tally.items() if n]
        self.eta_label.setText("finished")
        self.message.emit("Batch finished: " + (", ".join(parts) or "nothing to do"))
