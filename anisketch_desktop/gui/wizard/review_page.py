"""Step 3: review the pairs — a thumbnail grid (or one pair at a time) with keyboard decisions and undo.

Keys (grid and one-by-one view): → or Space approve, X or Delete reject, ↑ skip, C clear, Ctrl+Z or
Backspace undo. With several tiles selected, a key (or the buttons) decides them all as one undo step.
Every decision is written to the dataset at once.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QFont, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.review_model import ID_ROLE, PairDelegate, ReviewModel, ThumbnailLoader
from anisketch_desktop.gui.wizard.widgets import Banner, ImagePane, PageHeader
from anisketch_desktop.gui.workers import TaskRunner

FILTER_LABELS = {"all": "All pairs", "undecided": "Undecided", "approved": "Approved", "rejected": "Rejected",
                 "stale": "Review again (sketch changed)"}
KEY_HINT = ("→ / Space approve  ·  X / Delete reject  ·  ↑ skip  ·  C clear  ·  Ctrl+Z / Backspace undo  ·  "
            "select several tiles to decide them together")
LARGE_SIZE = 768


def _load_large(dataset_dir: str, image_id: str, *, state):
    from anisketch_desktop.dataset.thumbnails import thumbnail_path

    state.check()
    color = QImage(str(thumbnail_path(dataset_dir, image_id, LARGE_SIZE, "color")))
    state.check()
    sketch = QImage(str(thumbnail_path(dataset_dir, image_id, LARGE_SIZE, "sketch")))
    return image_id, color, sketch


class ReviewGrid(QListView):
    """The thumbnail grid: uniform tiles, and it reports which rows are on screen."""

    def __init__(self, on_key, parent: QWidget | None = None):
        super().__init__(parent)
        self._on_key = on_key
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setItemDelegate(PairDelegate(self))

    def visible_rows(self, prefetch: float = 0.5) -> range:
        """Rows whose tiles intersect the viewport, plus ``prefetch`` screens below."""
        model = self.model()
        n = model.rowCount() if model is not None else 0
        if n == 0:
            return range(0)
        height = self.viewport().height()
        lo, hi = 0, n - 1
        while lo < hi:  # first row whose tile reaches into the viewport (tiles are laid out in row order)
            mid = (lo + hi) // 2
            if self.visualRect(model.index(mid, 0)).bottom() < 0:
                lo = mid + 1
            else:
                hi = mid
        first, last = lo, lo
        limit = height * (1 + prefetch)
        while last + 1 < n and self.visualRect(model.index(last + 1, 0)).top() <= limit:
            last += 1
        return range(first, last + 1)

    def keyPressEvent(self, event) -> None:
        if not self._on_key(event):
            super().keyPressEvent(event)


class SingleView(QWidget):
    """One pair, large: picture and sketch side by side, with its clarity and decision."""

    def __init__(self, on_key, parent: QWidget | None = None):
        super().__init__(parent)
        self._on_key = on_key
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.picture = ImagePane("Picture")
        self.sketch = ImagePane("Sketch")
        self.info = QLabel()
        self.info.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.info.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.info.setFont(font)
        panes = QHBoxLayout()
        panes.addWidget(self.picture)
        panes.addWidget(self.sketch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(panes, 1)
        layout.addWidget(self.info)

    def keyPressEvent(self, event) -> None:
        if not self._on_key(event):
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        super().mousePressEvent(event)


class ReviewPage(QWidget):
    title = "Review pairs"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        header = PageHeader(
            "Review pairs",
            "Keep the pairs whose sketch is a clean drawing of the picture and reject the rest; only "
            "approved pairs are used for training. The clearest sketches come first, undecided ones before "
            "decided ones.",
        )
        self.loader = ThumbnailLoader(self)
        self.model = ReviewModel(self.loader, self)
        self.grid = ReviewGrid(self.handle_key)
        self.grid.setObjectName("review_grid")
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)
        self.single = SingleView(self.handle_key)
        self.single.setObjectName("review_single")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.single)

        self.filter_combo = QComboBox()
        self.filter_combo.setObjectName("review_filter")
        for key, text in FILTER_LABELS.items():
            self.filter_combo.addItem(text, key)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.counter = QLabel()
        self.counter.setObjectName("review_counter")
        font = QFont(self.counter.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.counter.setFont(font)
        self.approve_button = QPushButton("✓ Approve")
        self.approve_button.setToolTip("Approve the selected pairs (→ or Space)")
        self.approve_button.clicked.connect(lambda: self.decide("approved", advance=False))
        self.reject_button = QPushButton("✗ Reject")
        self.reject_button.setToolTip("Reject the selected pairs (X or Delete)")
        self.reject_button.clicked.connect(lambda: self.decide("rejected", advance=False))
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Forget the decision of the selected pairs (C)")
        self.clear_button.clicked.connect(lambda: self.decide(None, advance=False))
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last decision (Ctrl+Z or Backspace)")
        self.undo_button.clicked.connect(self.undo)
        self.single_button = QPushButton("One by one")
        self.single_button.setObjectName("one_by_one")
        self.single_button.setCheckable(True)
        self.single_button.setToolTip("Review one pair at a time, large; it moves on after each decision")
        self.single_button.toggled.connect(self.set_single)
        self.reorder_button = QPushButton("Re-sort")
        self.reorder_button.setToolTip("Sort again: undecided first, then by clarity")
        self.reorder_button.clicked.connect(self.reload)
        bar = QHBoxLayout()
        bar.addWidget(self.counter)
        bar.addStretch(1)
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.filter_combo)
        bar.addSpacing(12)
        for button in (self.approve_button, self.reject_button, self.clear_button, self.undo_button,
                       self.single_button, self.reorder_button):
            bar.addWidget(button)
        self.hint = QLabel(KEY_HINT)
        self.hint.setObjectName("page_subtitle")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner = Banner()
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hint)

        self.thumb_timer = QTimer(self)
        self.thumb_timer.setSingleShot(True)
        self.thumb_timer.setInterval(30)
        self.thumb_timer.timeout.connect(self.request_thumbnails)
        self.grid.verticalScrollBar().valueChanged.connect(lambda _v: self.thumb_timer.start())
        self.model.modelReset.connect(self.thumb_timer.start)
        self.large_runner = TaskRunner(self, latest_wins=True, name="wizard-large")
        self.large_runner.succeeded.connect(self._on_large)
        self.large_runner.failed.connect(lambda tag, reason: self.single.picture.set_image(None, reason))
        ctx.dataset_changed.connect(self._on_dataset)
        ctx.data_changed.connect(self._on_data_changed)
        self._loaded_for = None

    # ------------------------------------------------------------------ loading
    def _on_dataset(self, folder) -> None:
        self.loader.set_dataset(str(folder) if folder else None)
        self._loaded_for = None
        if self.isVisible():
            self.reload()

    def _on_data_changed(self) -> None:
        if self.isVisible() and not self.ctx.is_busy():
            self.reload()
        else:
            self._loaded_for = None  # reload when shown
        self.update_counter()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._loaded_for != self.ctx.dataset_dir:
            self.reload()
        self.thumb_timer.start()
        (self.single if self.single_button.isChecked() else self.grid).setFocus()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.thumb_timer.start()

    def filter_name(self) -> str:
        return self.filter_combo.currentData() or "all"

    def reload(self) -> None:
        """Read the pairs again in review order, keeping the current pair when it is still listed."""
        current = self.current_id()
        try:
            self.model.load(self.ctx.store, self.filter_name())
        except AniSketchError as exc:
            self.banner.show_message("error", str(exc))
            return
        self._loaded_for = self.ctx.dataset_dir
        row = self.model.row_of(current) if current else None
        self.set_current_row(row if row is not None else 0)
        self.update_counter()
        if not self.model.rowCount():
            self.banner.show_message("info", "No pairs to show here yet." if self.filter_name() != "all" else
                                     "No sketch pairs yet: make the sketches on the previous page.")
        else:
            self.banner.clear_message()

    def request_thumbnails(self) -> None:
        if not self.grid.isVisible():
            return
        rows = self.grid.visible_rows()
        self.loader.request([self.model.records[r].id for r in rows])

    # ------------------------------------------------------------------ current pair
    def current_id(self) -> str | None:
        index = self.grid.currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def set_current_row(self, row: int) -> None:
        n = self.model.rowCount()
        if n == 0:
            self._show_single(None)
            return
        index = self.model.index(max(0, min(row, n - 1)), 0)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.scrollTo(index)

    def _on_current_changed(self, current, previous) -> None:
        if self.single_button.isChecked():
            self._show_single(current.row() if current.isValid() else None)

    def set_single(self, on: bool) -> None:
        self.stack.setCurrentWidget(self.single if on else self.grid)
        if on:
            index = self.grid.currentIndex()
            self._show_single(index.row() if index.isValid() else None)
            self.single.setFocus()
        else:
            self.grid.setFocus()
            self.thumb_timer.start()

    def _show_single(self, row: int | None) -> None:
        if row is None or row >= self.model.rowCount():
            self.single.picture.set_image(None, "Nothing to review here.")
            self.single.sketch.set_image(None)
            self.single.info.setText("")
            return
        rec = self.model.records[row]
        clarity = "—" if rec.clarity is None else f"{rec.clarity:.2f}"
        state = {"approved": "<span style='color:#3fb56b'>✓ approved</span>",
                 "rejected": "<span style='color:#e05252'>✗ rejected</span>",
                 "stale": "<span style='color:#e0a030'>↻ sketch changed, review again</span>"}.get(
            rec.shown_decision, "undecided")
        self.single.info.setText(f"{row + 1:,} / {self.model.rowCount():,}  ·  {rec.id}  ·  clarity {clarity}"
                                 f"  ·  {state}")
        thumbs = self.loader.get(rec.id)
        if thumbs:  # the small version at once, the large one when it is ready
            self.single.picture.set_image(thumbs[0].toImage())
            self.single.sketch.set_image(thumbs[1].toImage())
        if self.ctx.dataset_dir is not None:
            self.large_runner.submit(rec.id, _load_large, str(self.ctx.dataset_dir), rec.id)

    def _on_large(self, tag, result) -> None:
        image_id, color, sketch = result
        if image_id == self.current_id():
            self.single.picture.set_image(color)
            self.single.sketch.set_image(sketch)

    # ------------------------------------------------------------------ decisions
    def handle_key(self, event) -> bool:
        """Review keys; returns False for keys the view should handle itself (navigation)."""
        key = event.key()
        backspace = key == Qt.Key.Key_Backspace and not event.modifiers()
        if event.matches(QKeySequence.StandardKey.Undo) or backspace:
            self.undo()
            return True
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier |
                                Qt.KeyboardModifier.MetaModifier):
            return False
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Space):
            self.decide("approved")
        elif key in (Qt.Key.Key_X, Qt.Key.Key_Delete):
            self.decide("rejected")
        elif key == Qt.Key.Key_C:
            self.decide(None)
        elif key == Qt.Key.Key_Up:
            self.skip()
        else:
            return False
        return True

    def target_ids(self) -> list[str]:
        """The selected pairs when several are selected, else the current one."""
        selected = self.grid.selectionModel().selectedIndexes()
        if len(selected) > 1:
            return [i.data(ID_ROLE) for i in sorted(selected, key=lambda i: i.row())]
        current = self.current_id()
        return [current] if current else []

    def decide(self, decision: str | None, advance: bool = True) -> int:
        """Save ``decision`` for the target pairs (one undo step); moves on after a single decision."""
        from anisketch_desktop.dataset import approval

        ids = self.target_ids()
        if not ids or self.ctx.store is None:
            return 0
        try:
            changed = approval.set_decision(self.ctx.store, ids, decision)
        except AniSketchError as exc:
            self.banner.show_message("error", str(exc))
            return 0
        self.model.set_local_decision(ids, decision)
        self.update_counter()
        if len(ids) > 1:
            word = {"approved": "Approved", "rejected": "Rejected", None: "Cleared"}[decision]
            self.banner.show_message("info", f"{word} {len(ids):,} pairs (Ctrl+Z undoes this in one step).")
        elif advance:
            self.skip()
        elif self.single_button.isChecked():
            self._show_single(self.grid.currentIndex().row())
        return changed

    def skip(self) -> None:
        self.set_current_row(self.grid.currentIndex().row() + 1)

    def undo(self) -> list[str]:
        from anisketch_desktop.dataset import approval

        if self.ctx.store is None:
            return []
        ids = approval.undo(self.ctx.store)
        if not ids:
            self.banner.show_message("info", "Nothing to undo.")
            return []
        self.model.refresh_decisions(self.ctx.store, ids)
        row = self.model.row_of(ids[0])
        if row is not None:
            self.set_current_row(row)
            if self.single_button.isChecked():
                self._show_single(row)
        self.update_counter()
        plural = "s" if len(ids) > 1 else ""
        self.banner.show_message("info", f"Undid the decision on {len(ids):,} pair{plural}.")
        return ids

    def update_counter(self) -> None:
        from anisketch_desktop.dataset import approval

        text = str(approval.counts(self.ctx.store)) if self.ctx.store is not None else "No dataset open"
        self.counter.setText(text)
        self.undo_button.setEnabled(self.ctx.store is not None and approval.can_undo(self.ctx.store))

    def can_leave(self) -> bool:
        return True

    def ready(self) -> bool:
        return self.ctx.counts()["approved"] > 0

    def shutdown(self) -> None:
        self.loader.shutdown()
        self.large_runner.shutdown()
