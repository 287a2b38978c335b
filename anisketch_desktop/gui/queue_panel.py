"""The batch queue dock: job table, buttons, output folder and name template, total progress with ETA."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QRect, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.application import DEFAULT_TEMPLATE, IF_EXISTS, check_template, format_eta
from anisketch_desktop.application.naming import template_help
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.queue_model import RETRYABLE, JobState, QueueModel
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
        bar.palette = QPalette(option.palette)  # the percentage in the row's own text colour: readable in
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.HighlightedText):
            bar.palette.setColor(role, option.palette.color(QPalette.ColorRole.Text))  # both themes
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


TEMPLATE_TIP = (f"Output file name (empty: {DEFAULT_TEMPLATE}); the extension is added if missing.\n"
                + template_help().replace("; ", "\n"))


class QueuePanel(QWidget):
    """Owns the ``QueueModel`` and its ``QueueRunner``; the window adds jobs with ``model.add_jobs``."""

    message = Signal(str)  # a line for the status bar
    open_requested = Signal(object)  # Job: show this finished row (source | result) in the compare view

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
        self.template_edit.textChanged.connect(self._check_template)
        self._check_template()
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
        self.template_edit.setToolTip(TEMPLATE_TIP)
        self.template_edit.setMinimumWidth(self.template_edit.fontMetrics().horizontalAdvance(
            "{stem}_{mode}_{model}.png") + 16)  # the usual templates show whole
        self.exists_combo = QComboBox()
        for key, text in IF_EXISTS.items():
            self.exists_combo.addItem(text, key)
        self.exists_combo.setToolTip("What to do when the output file already exists")
        self.exists_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
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
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.table.installEventFilter(self)
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
        self.start_button.clicked.connect(self.start)
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
            template=self.template_edit.text().strip() or DEFAULT_TEMPLATE,
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
        self.model.remove_rows(self._selected_rows())

    def _selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.table.selectionModel().selectedRows())

    def start(self) -> None:
        """Start (or resume) the batch, unless the name template is bad (said once, before any row runs)."""
        problem = self._check_template()
        if problem:
            self.message.emit(problem)
            return
        self.runner.start()

    def open_row(self, row: int) -> bool:
        """Show a finished row's source and result in the compare view (double-click or Enter)."""
        if not 0 <= row < self.model.rowCount():
            return False
        job = self.model.job_at(row)
        if job.state not in (JobState.DONE, JobState.SKIPPED) or job.output is None or not job.output.exists():
            self.message.emit(f"{job.rel}: no result to show yet ({job.state.value})")
            return False
        self.open_requested.emit(job)
        return True

    def show_in_folder(self, row: int) -> None:
        job = self.model.job_at(row)
        target = job.output if job.output is not None and job.output.exists() else None
        folder = target.parent if target is not None else self.output_folder()
        if folder is None:
            self.message.emit(f"{job.rel}: not written yet")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        if index.row() not in self._selected_rows():
            self.table.selectRow(index.row())
        rows = self._selected_rows()
        jobs = [self.model.job_at(r) for r in rows]
        menu = QMenu(self)
        finished = [j for j in jobs if j.state in (JobState.DONE, JobState.SKIPPED) and j.output is not None]
        menu.addAction("Open", lambda: self.open_row(index.row())).setEnabled(bool(finished))
        menu.addAction("Show in folder", lambda: self.show_in_folder(index.row()))
        retry = [j.id for j in jobs if j.state in RETRYABLE]
        menu.addAction("Retry", lambda: self.runner.retry_failed(set(retry))).setEnabled(bool(retry))
        menu.addAction("Remove", self.remove_selected).setEnabled(
            any(j.state != JobState.RUNNING for j in jobs))
        self._menu = menu  # tests reach it; exec blocks until chosen
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def eventFilter(self, obj, event) -> bool:  # Enter on a row opens it
        if obj is self.table and event.type() == QEvent.Type.KeyPress and event.key() in (
            Qt.Key.Key_Return, Qt.Key.Key_Enter
        ):
            current = self.table.currentIndex()
            if current.isValid():
                self.open_row(current.row())
                return True
        return super().eventFilter(obj, event)

    def _check_template(self, *args) -> str:
        """Validate the name template as it is typed: a red field with the reason, "" when it is fine."""
        try:
            check_template(self.template_edit.text().strip() or DEFAULT_TEMPLATE)
            problem = ""
        except AniSketchError as exc:
            problem = str(exc)
        self.template_edit.setProperty("invalid", bool(problem))
        self.template_edit.setStyleSheet("QLineEdit { border: 1px solid #f85149; }" if problem else "")
        self.template_edit.setToolTip(problem or TEMPLATE_TIP)
        self._update_buttons()
        return problem

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self.remove_selected()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ feedback
    def _update_buttons(self, *args) -> None:
        running, paused = self.runner.is_running(), self.runner.is_paused()
        queued = self.model.count(JobState.QUEUED)
        bad_template = bool(self.template_edit.property("invalid"))
        self.start_button.setEnabled(queued > 0 and not bad_template
                                     and (not running or self.runner.is_pausing()))
        self.start_button.setText("Resume" if paused or self.runner.is_pausing() else "Start")
        self.pause_button.setEnabled(running and not self.runner.is_pausing())
        self.cancel_button.setEnabled(running)
        self.retry_button.setEnabled(self.model.count(JobState.FAILED, JobState.CANCELLED) > 0)
        self.clear_button.setEnabled(self.model.count(JobState.DONE, JobState.SKIPPED) > 0)
        self.remove_button.setEnabled(self.model.rowCount() > 0)
        if self.runner.is_pausing():
            self.eta_label.setText("pausing after this picture…")
        elif paused:
            self.eta_label.setText(f"Paused: {queued} left")

    def _on_progress(self, fraction: float, eta) -> None:
        self.total_bar.setValue(round(fraction * 1000))
        failed = self.model.count(JobState.FAILED, JobState.CANCELLED)
        self.total_bar.setFormat(f"%p% ({failed} failed)" if failed else "%p%")
        if self.runner.is_running() and not self.runner.is_pausing():
            self.eta_label.setText(format_eta(eta))

    def _on_batch_finished(self, tally: dict) -> None:
        parts = [f"{n} {state}" for state, n in tally.items() if n]
        summary = ", ".join(parts) or "nothing to do"
        self.eta_label.setText("Finished: " + summary if tally.get("failed") or tally.get("cancelled")
                               else "Finished")
        self.message.emit("Batch finished: " + summary)
