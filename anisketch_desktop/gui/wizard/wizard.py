"""The dataset wizard window: a step list on the left, one page per step, Back / Next at the bottom.

Steps: dataset folder → collect pictures → make sketches → review → train. Pages share a ``WizardContext``
(the open dataset and the one runner for long jobs); every long step runs on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop import paths
from anisketch_desktop.gui.settings import Settings
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.crawl_page import CrawlPage
from anisketch_desktop.gui.wizard.folder_page import FolderPage
from anisketch_desktop.gui.wizard.pairs_page import PairsPage
from anisketch_desktop.gui.wizard.review_page import ReviewPage
from anisketch_desktop.gui.wizard.train_page import TrainPage

SIDEBAR_STYLE = """
QWidget#wizard_sidebar { background: #1b2330; }
QLabel#wizard_brand { color: #e8edf4; font-weight: bold; padding: 18px 16px 4px 16px; }
QLabel#wizard_brand_sub { color: #8b95a5; padding: 0 16px 14px 16px; }
QListWidget#wizard_steps { background: transparent; border: none; color: #c9d1dc; outline: 0; }
QListWidget#wizard_steps::item { padding: 9px 12px; margin: 2px 8px; border-radius: 5px; }
QListWidget#wizard_steps::item:hover { background: #263244; }
QListWidget#wizard_steps::item:selected { background: #2f7de1; color: white; }
QListWidget#wizard_steps::item:disabled { color: #5d6878; }
QLabel#wizard_busy { color: #8b95a5; padding: 10px 16px; }
"""
BUSY_TEXT = {"crawl": "Crawling…", "import": "Importing…", "pairs": "Making sketches…", "train": "Training…",
             "export": "Exporting…"}


class DatasetWizard(QDialog):
    """Build a training set and train a model; ``DatasetWizard(main_window).show()``."""

    def __init__(self, parent: QWidget | None = None, settings: Settings | None = None):
        super().__init__(parent)
        self.setObjectName("dataset_wizard")
        self.setWindowTitle("Dataset Wizard — AniSketch")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowIcon(QIcon(str(paths.resource_path("icons", "anisketch.png"))))
        self.settings = settings or getattr(parent, "settings", None) or Settings()
        self.ctx = WizardContext(self.settings, self)
        self.folder_page = FolderPage(self.ctx)
        self.crawl_page = CrawlPage(self.ctx)
        self.pairs_page = PairsPage(self.ctx)
        self.review_page = ReviewPage(self.ctx)
        self.train_page = TrainPage(self.ctx)
        self.pages = [self.folder_page, self.crawl_page, self.pairs_page, self.review_page, self.train_page]
        self.train_page.models_trained.connect(self._use_models)
        self.folder_page.opened.connect(self._sync_steps)

        self.stack = QStackedWidget()
        self.steps = QListWidget()
        self.steps.setObjectName("wizard_steps")
        self.steps.setIconSize(QSize(16, 16))
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for page in self.pages:
            self.stack.addWidget(page)
            self.steps.addItem(QListWidgetItem(page.title))
        self.steps.currentRowChanged.connect(self._on_step_clicked)
        brand = QLabel("AniSketch")
        brand.setObjectName("wizard_brand")
        font = brand.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        brand.setFont(font)
        brand_sub = QLabel("Dataset wizard")
        brand_sub.setObjectName("wizard_brand_sub")
        self.busy_label = QLabel("")
        self.busy_label.setObjectName("wizard_busy")
        self.busy_label.setWordWrap(True)
        sidebar = QWidget()
        sidebar.setObjectName("wizard_sidebar")
        sidebar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        sidebar.setFixedWidth(210)
        sidebar.setStyleSheet(SIDEBAR_STYLE)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(0)
        side.addWidget(brand)
        side.addWidget(brand_sub)
        side.addWidget(self.steps, 1)
        side.addWidget(self.busy_label)

        self.back_button = QPushButton("Back")
        self.back_button.setObjectName("wizard_back")
        self.back_button.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("wizard_next")
        self.next_button.setDefault(False)
        self.next_button.setAutoDefault(False)
        self.next_button.clicked.connect(self._next)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
        self.back_button.setAutoDefault(False)
        for button in (self.close_button, self.back_button, self.next_button):
            button.setMinimumSize(96, 30)
        footer = QHBoxLayout()
        footer.setContentsMargins(18, 8, 18, 14)
        footer.setSpacing(8)
        footer.addWidget(self.close_button)
        footer.addStretch(1)
        footer.addWidget(self.back_button)
        footer.addWidget(self.next_button)
        content = QVBoxLayout()
        content.setContentsMargins(0, 0, 0, 0)
        self.stack.setContentsMargins(18, 14, 18, 0)
        content.addWidget(self.stack, 1)
        content.addLayout(footer)
        root = QHBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(sidebar)
        root.addLayout(content, 1)
        self.resize(1180, 760)

        self.ctx.data_changed.connect(self._sync_steps)
        self.ctx.jobs.finished.connect(lambda _tag: self._sync_steps())  # e.g. a model trained: Train is done
        self.ctx.busy_changed.connect(self._on_busy)
        self.ctx.jobs.started.connect(lambda tag: self.busy_label.setText(BUSY_TEXT.get(tag, "Working…")))
        self.go(0)

    # ------------------------------------------------------------------ navigation
    def go(self, index: int) -> None:
        index = max(0, min(index, len(self.pages) - 1))
        if index > 0 and self.ctx.store is None:
            index = 0
        self.stack.setCurrentIndex(index)
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(index)
        self.steps.blockSignals(False)
        self._sync_steps()

    def current_page(self):
        return self.pages[self.stack.currentIndex()]

    def _next(self) -> None:
        index = self.stack.currentIndex()
        if index == len(self.pages) - 1:
            self.close()
        elif self.current_page().can_leave():
            self.go(index + 1)

    def _on_step_clicked(self, row: int) -> None:
        if row > 0 and self.ctx.store is None and not self.folder_page.can_leave():
            row = 0
        self.go(row)

    def _sync_steps(self) -> None:
        has_dataset = self.ctx.store is not None
        for i, page in enumerate(self.pages):
            item = self.steps.item(i)
            done = has_dataset and (i == 0 or page.ready())
            item.setText(f"{'✓' if done else i + 1}   {page.title}")
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            item.setFlags(flags if i == 0 or has_dataset else Qt.ItemFlag.NoItemFlags)
        index = self.stack.currentIndex()
        self.back_button.setEnabled(index > 0)
        self.next_button.setText("Finish" if index == len(self.pages) - 1 else "Next")

    def _on_busy(self, busy: bool) -> None:
        if not busy:
            self.busy_label.setText("")

    # ------------------------------------------------------------------ results
    def _use_models(self, models: dict) -> None:
        """Make the new models appear in the main window's lists and select them there."""
        window = self.parent()
        if window is None or not hasattr(window, "refresh_models"):
            return
        window.refresh_models()
        options = getattr(window, "options", None)
        combos = {"sketch": getattr(options, "sketch_model_combo", None),
                  "colorize": getattr(options, "color_model_combo", None)}
        for task, path in models.items():
            combo = combos.get(task)
            if combo is not None and combo.findData(str(path)) >= 0:
                combo.setCurrentIndex(combo.findData(str(path)))
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage("New model from the dataset wizard selected", 8000)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:
        if self.ctx.is_busy():
            answer = QMessageBox.question(
                self, "Stop the running job?",
                "A job is still running. Stop it and close the wizard? Crawls and training can be resumed.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel every job and wait for the worker threads (called on close)."""
        self.pairs_page.shutdown()
        self.review_page.shutdown()
        self.ctx.shutdown()
