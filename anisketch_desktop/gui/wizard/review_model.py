"""The review grid's data: a list model of picture/sketch pairs, lazily loaded thumbnails, a tile delegate.

The model holds one small record per pair (id, clarity, decision, stale), so 5,000 pairs cost nothing; pixels
are only fetched for the rows the view shows: ``ThumbnailLoader.request(ids)`` (called by the view after
scrolling) asks a latest-wins worker to build the dataset layer's cached JPEG thumbnails and decode them into
QImages off the GUI thread; an LRU of QPixmaps keeps the recently shown ones.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.wizard.widgets import BAD, GOOD, WARN
from anisketch_desktop.gui.workers import TaskRunner

THUMB_SIZE = 128  # px, longest side of the cached thumbnails
CACHE_PAIRS = 600  # thumbnail pairs kept as pixmaps (~60 MB at most)
ID_ROLE = Qt.ItemDataRole.UserRole + 1
CLARITY_ROLE = Qt.ItemDataRole.UserRole + 2
DECISION_ROLE = Qt.ItemDataRole.UserRole + 3  # "approved" | "rejected" | "stale" | None
THUMBS_ROLE = Qt.ItemDataRole.UserRole + 4  # (QPixmap, QPixmap) | None


@dataclass
class PairRecord:
    id: str
    clarity: float | None
    decision: str | None
    stale: bool

    @property
    def shown_decision(self) -> str | None:
        return "stale" if self.stale else self.decision


def _load_thumbs(dataset_dir: str, ids: list[str], size: int, *, state) -> None:
    """Worker task: build or reuse cached thumbnails and decode them; one partial per pair."""
    from anisketch_desktop.dataset.thumbnails import thumbnail_path

    for image_id in ids:
        state.check()
        try:
            color = QImage(str(thumbnail_path(dataset_dir, image_id, size, "color")))
            sketch = QImage(str(thumbnail_path(dataset_dir, image_id, size, "sketch")))
        except (AniSketchError, OSError, ValueError):
            color = sketch = QImage()
        state.partial((image_id, color, sketch))


class ThumbnailLoader(QObject):
    """Fetches thumbnails for the ids asked for last; earlier, unfinished requests are dropped."""

    loaded = Signal(str)

    def __init__(self, parent: QObject | None = None, size: int = THUMB_SIZE):
        super().__init__(parent)
        self.size = size
        self.dataset_dir: str | None = None
        self.cache: OrderedDict[str, tuple[QPixmap, QPixmap]] = OrderedDict()
        self.runner = TaskRunner(self, latest_wins=True, name="wizard-thumbs")
        self.runner.partial.connect(self._on_partial)
        self.requests = 0  # batches submitted (tests check that scrolling, not the model size, drives it)
        self.built: list[str] = []  # ids whose thumbnails arrived, in order

    def set_dataset(self, dataset_dir: str | None) -> None:
        self.runner.cancel_all()
        self.dataset_dir = dataset_dir
        self.cache.clear()

    def get(self, image_id: str) -> tuple[QPixmap, QPixmap] | None:
        pair = self.cache.get(image_id)
        if pair is not None:
            self.cache.move_to_end(image_id)
        return pair

    def request(self, ids: list[str]) -> None:
        missing = [i for i in ids if i not in self.cache]
        if missing and self.dataset_dir:
            self.requests += 1
            self.runner.submit(tuple(missing), _load_thumbs, self.dataset_dir, missing, self.size)

    def _on_partial(self, tag, payload) -> None:
        image_id, color, sketch = payload
        self.cache[image_id] = (QPixmap.fromImage(color), QPixmap.fromImage(sketch))
        self.cache.move_to_end(image_id)
        while len(self.cache) > CACHE_PAIRS:
            self.cache.popitem(last=False)
        self.built.append(image_id)
        self.loaded.emit(image_id)

    def shutdown(self) -> None:
        self.runner.shutdown()


class ReviewModel(QAbstractListModel):
    """Pairs in review order (undecided and stale first, then clarity) for one decision filter."""

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.records: list[PairRecord] = []
        self._rows: dict[str, int] = {}
        loader.loaded.connect(self._on_loaded)

    def load(self, store, filter_name: str = "all") -> None:
        """Re-read the pairs (one query; no pixels) and show them in review order."""
        self.beginResetModel()
        if store is None:
            self.records = []
        else:
            from anisketch_desktop.dataset.approval import review_pairs

            self.records = [PairRecord(r.id, r.clarity, r.decision, r.stale)
                            for r in review_pairs(store, filter_name)]
        self._rows = {rec.id: i for i, rec in enumerate(self.records)}
        self.endResetModel()

    def refresh_decisions(self, store, ids: list[str] | None = None) -> None:
        """Re-read decisions (of ``ids``, or of every row) without reordering the grid."""
        if store is None or not self.records:
            return
        changed = []
        for image_id, (decision, stale) in store.pair_decisions(ids).items():
            row = self._rows.get(image_id)
            if row is not None:
                rec = self.records[row]
                if (rec.decision, rec.stale) != (decision, stale):
                    rec.decision, rec.stale = decision, stale
                    changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)), [DECISION_ROLE])

    def set_local_decision(self, ids: list[str], decision: str | None) -> None:
        rows = [self._rows[i] for i in ids if i in self._rows]
        for row in rows:
            self.records[row].decision, self.records[row].stale = decision, False
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [DECISION_ROLE])

    def row_of(self, image_id: str) -> int | None:
        return self._rows.get(image_id)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.records)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.records):
            return None
        rec = self.records[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, ID_ROLE):
            return rec.id
        if role == CLARITY_ROLE:
            return rec.clarity
        if role == DECISION_ROLE:
            return rec.shown_decision
        if role == THUMBS_ROLE:
            return self.loader.get(rec.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            clarity = "—" if rec.clarity is None else f"{rec.clarity:.3f}"
            return f"{rec.id} · clarity {clarity} · {rec.shown_decision or 'undecided'}"
        return None

    def _on_loaded(self, image_id: str) -> None:
        row = self._rows.get(image_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [THUMBS_ROLE])


class PairDelegate(QStyledItemDelegate):
    """A tile: picture and sketch side by side, clarity underneath, a coloured frame for the decision."""

    BOX = 108  # px per thumbnail inside the tile
    PAD = 6
    BADGES = {"approved": ("✓", GOOD), "rejected": ("✗", BAD), "stale": ("↻", WARN)}
    LABELS = {"approved": "✓ approved", "rejected": "✗ rejected", "stale": "↻ review again"}

    def sizeHint(self, option, index) -> QSize:
        return QSize(2 * self.BOX + 3 * self.PAD, self.BOX + 2 * self.PAD + option.fontMetrics.height() + 4)

    def paint(self, p: QPainter, option, index) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = QRectF(option.rect).adjusted(2, 2, -2, -2)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        decision = index.data(DECISION_ROLE)
        background = QColor(palette.color(palette.ColorRole.Base))
        if selected:
            background = QColor(palette.color(palette.ColorRole.Highlight))
            background.setAlpha(90)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(background)
        p.drawRoundedRect(rect, 5, 5)
        thumbs = index.data(THUMBS_ROLE)
        for i in range(2):
            box = QRectF(rect.left() + self.PAD / 2 + i * (self.BOX + self.PAD), rect.top() + self.PAD / 2,
                         self.BOX, self.BOX)
            pixmap = thumbs[i] if thumbs else None
            if pixmap is None or pixmap.isNull():
                shade = QColor(palette.color(palette.ColorRole.Mid))
                shade.setAlpha(60)
                p.fillRect(box, shade)
                continue
            scale = min(box.width() / pixmap.width(), box.height() / pixmap.height())
            target = QRectF(0, 0, pixmap.width() * scale, pixmap.height() * scale)
            target.moveCenter(box.center())
            p.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        text_rect = QRectF(rect.left() + self.PAD, rect.top() + self.BOX + self.PAD,
                           rect.width() - 2 * self.PAD, option.fontMetrics.height() + 2)
        clarity = index.data(CLARITY_ROLE)
        muted = QColor(palette.color(palette.ColorRole.Text))
        muted.setAlphaF(0.7)
        p.setPen(muted)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   "clarity —" if clarity is None else f"clarity {clarity:.2f}")
        if decision in self.BADGES:
            mark, color = self.BADGES[decision]
            font = QFont(option.font)
            font.setBold(True)
            p.setFont(font)
            p.setPen(color)
            p.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       self.LABELS[decision])
            p.setPen(QPen(color, 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)
        if option.state & QStyle.StateFlag.State_HasFocus:
            p.setPen(QPen(palette.color(palette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 4, 4)
        p.restore()
