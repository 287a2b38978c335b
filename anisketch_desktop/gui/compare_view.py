"""The canvas: one picture with a draggable before/after split line, or two panes side by side.

Zoom and pan are one transform (``scale`` and the image point at the pane centre) shared by both sides, so a
point of the picture sits under the same pixel of each side. Pictures are drawn from a ``Pyramid`` level that
matches the zoom, so an 8K picture zoomed out paints a screen-sized level, not 33 megapixels.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from anisketch_desktop.gui.drop import has_droppable
from anisketch_desktop.gui.imaging import Pyramid
from anisketch_desktop.gui.theme import canvas_colors

LAYOUTS = ("split", "side")
MIN_SCALE, MAX_SCALE = 0.01, 32.0
SIDE_GAP = 2.0
SPLIT_GRAB = 7.0  # pixels either side of the split line that grab it


class CompareView(QWidget):
    """Before/after viewer. Emits ``dropped(QMimeData)`` for drops; the window decides what to open."""

    zoom_changed = Signal(float)
    view_changed = Signal()
    dropped = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 180)
        self._before: Pyramid | None = None
        self._after: Pyramid | None = None
        self._before_label, self._after_label = "Original", "Result"
        self._scale, self._center, self._fit = 1.0, QPointF(0.0, 0.0), True
        self._fit_max: float | None = 1.0
        self._split, self._layout, self._show_original = 0.5, "split", False
        self._drag: str | None = None
        self._drag_last = QPointF()
        self._drag_hover = False
        self._busy_text = ""
        self._colors = canvas_colors("dark")
        self._checker: QBrush | None = None

    # ------------------------------------------------------------------ content
    def set_before(self, pyramid: Pyramid | None, label: str = "Original", keep_view: bool = False) -> None:
        same_size = (
            self._before is not None
            and pyramid is not None
            and (self._before.width, self._before.height) == (pyramid.width, pyramid.height)
        )
        self._before, self._before_label = pyramid, label
        self._after = None
        if pyramid is not None and not (keep_view and same_size):
            self.fit(max_scale=1.0)
        self.update()

    def set_after(self, pyramid: Pyramid | None, label: str = "Result") -> None:
        self._after, self._after_label = pyramid, label
        self.update()

    def before(self) -> Pyramid | None:
        return self._before

    def after(self) -> Pyramid | None:
        return self._after

    def has_image(self) -> bool:
        return self._before is not None

    def image_size(self) -> QSize:
        return QSize(self._before.width, self._before.height) if self._before else QSize()

    def set_busy_text(self, text: str) -> None:
        """A small note drawn over the canvas (e.g. "Sketching… 40%"); empty hides it."""
        if text != self._busy_text:
            self._busy_text = text
            self.update()

    def set_theme(self, theme: str) -> None:
        self._colors = canvas_colors(theme)
        self._checker = None
        self.update()

    # ------------------------------------------------------------------ view state
    def layout_mode(self) -> str:
        return self._layout

    def set_layout_mode(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        if name != self._layout:
            self._layout = name
            if self._fit:
                self.fit()
            self.view_changed.emit()
            self.update()

    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(max(float(fraction), 0.0), 1.0)
        self.update()

    def show_original(self) -> bool:
        return self._show_original

    def set_show_original(self, on: bool) -> None:
        if on != self._show_original:
            self._show_original = on
            self.update()

    def scale(self) -> float:
        return self._scale

    def center(self) -> QPointF:
        return QPointF(self._center)

    def set_view(self, scale: float, center: QPointF) -> None:
        self._scale = min(max(scale, MIN_SCALE), MAX_SCALE)
        self._center = QPointF(center)
        self._fit = False
        self._emit_view()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the picture point under ``anchor`` (widget coordinates) in place."""
        if not self._before:
            return
        anchor = QPointF(anchor) if anchor is not None else self.pane_rect("before").center()
        image_pt, side = self.map_to_image(anchor)
        pane = self.pane_rect(side)
        new_scale = min(max(self._scale * factor, MIN_SCALE), MAX_SCALE)
        offset = anchor - pane.center()
        self._center = QPointF(image_pt.x() - offset.x() / new_scale, image_pt.y() - offset.y() / new_scale)
        self._scale = new_scale
        self._fit = False
        self._emit_view()

    def fit(self, max_scale: float | None = None) -> None:
        """Whole picture in view (``max_scale=1.0``: but never enlarged); keeps fitting on resize."""
        if not self._before:
            return
        pane = self.pane_rect("before")
        scale = min(pane.width() / self._before.width, pane.height() / self._before.height)
        if max_scale is not None:
            scale = min(scale, max_scale)
        self._scale = min(max(scale, MIN_SCALE), MAX_SCALE)
        self._center = QPointF(self._before.width / 2, self._before.height / 2)
        self._fit, self._fit_max = True, max_scale
        self._emit_view()

    def actual_size(self) -> None:
        """100 %: one picture pixel per screen pixel, around the current centre."""
        self.set_view(1.0, self._center)

    def _emit_view(self) -> None:
        self.zoom_changed.emit(self._scale)
        self.view_changed.emit()
        self.update()

    # ------------------------------------------------------------------ geometry
    def pane_rect(self, side: str) -> QRectF:
        """Where ``side`` ("before"/"after") is drawn; in split layout both share the whole widget."""
        full = QRectF(self.rect())
        if self._layout == "split":
            return full
        width = (full.width() - SIDE_GAP) / 2
        left = side == "before"
        return QRectF(0.0 if left else width + SIDE_GAP, 0.0, width, full.height())

    def split_x(self) -> float:
        return self.width() * self._split

    def map_to_widget(self, image_pt: QPointF, side: str = "before") -> QPointF:
        pane = self.pane_rect(side)
        return QPointF(
            pane.center().x() + (image_pt.x() - self._center.x()) * self._scale,
            pane.center().y() + (image_pt.y() - self._center.y()) * self._scale,
        )

    def map_to_image(self, widget_pt: QPointF) -> tuple[QPointF, str]:
        """The picture point under ``widget_pt`` and which side it is on."""
        if self._layout == "split":
            side = "before" if widget_pt.x() < self.split_x() else "after"
        else:
            side = "before" if widget_pt.x() < self.pane_rect("after").left() else "after"
        pane = self.pane_rect(side)
        return (
            QPointF(
                self._center.x() + (widget_pt.x() - pane.center().x()) / self._scale,
                self._center.y() + (widget_pt.y() - pane.center().y()) / self._scale,
            ),
            side,
        )

    def image_rect(self, side: str = "before") -> QRectF:
        """The whole picture's rectangle in widget coordinates."""
        if not self._before:
            return QRectF()
        top_left = self.map_to_widget(QPointF(0, 0), side)
        return QRectF(
            top_left.x(), top_left.y(), self._before.width * self._scale, self._before.height * self._scale
        )

    def _comparing(self) -> bool:
        return self._after is not None and not self._show_original

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._colors["background"])
        if not self._before:
            self._paint_hint(painter)
            return
        after = self._after if self._comparing() else None
        if self._layout == "split":
            pane = self.pane_rect("before")
            if after is None:
                self._paint_layer(painter, pane, self._before, "before")
                self._paint_label(painter, pane, self._before_label, left=True)
            else:
                sx = self.split_x()
                painter.save()
                painter.setClipRect(QRectF(0, 0, sx, self.height()))
                self._paint_layer(painter, pane, self._before, "before")
                painter.restore()
                painter.save()
                painter.setClipRect(QRectF(sx, 0, self.width() - sx, self.height()))
                self._paint_layer(painter, pane, after, "after")
                painter.restore()
                self._paint_split_line(painter, sx)
                self._paint_label(painter, pane, self._before_label, left=True)
                self._paint_label(painter, pane, self._after_label, left=False)
        else:
            for side, layer, label in (
                ("before", self._before, self._before_label),
                ("after", after or self._before, self._after_label if after else self._before_label),
            ):
                pane = self.pane_rect(side)
                painter.save()
                painter.setClipRect(pane)
                self._paint_layer(painter, pane, layer, side)
                painter.restore()
                self._paint_label(painter, pane, label, left=True)
            painter.fillRect(
                QRectF(self.pane_rect("before").right(), 0, SIDE_GAP, self.height()), self._colors["accent"]
            )
        if self._busy_text:
            self._paint_label(painter, QRectF(self.rect()), self._busy_text, left=None)

    def _paint_layer(self, painter: QPainter, pane: QRectF, layer: Pyramid, side: str) -> None:
        target = self.image_rect(side).intersected(pane)
        if target.isEmpty():
            return
        origin = self.map_to_widget(QPointF(0, 0), side)
        image, factor = layer.level_for(self._scale * layer.width / self._before.width)
        rel = factor * layer.width / self._before.width  # level pixels per view-image pixel
        source = QRectF(
            (target.left() - origin.x()) / self._scale * rel,
            (target.top() - origin.y()) / self._scale * rel,
            target.width() / self._scale * rel,
            target.height() / self._scale * rel,
        )
        if image.hasAlphaChannel():
            painter.fillRect(target, self._checker_brush())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale * rel < 2.0)
        painter.drawImage(target, image, source)

    def _checker_brush(self) -> QBrush:
        if self._checker is None:
            tile = QPixmap(16, 16)
            tile.fill(self._colors["check_a"])
            p = QPainter(tile)
            p.fillRect(0, 0, 8, 8, self._colors["check_b"])
            p.fillRect(8, 8, 8, 8, self._colors["check_b"])
            p.end()
            self._checker = QBrush(tile)
        return self._checker

    def _paint_split_line(self, painter: QPainter, sx: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(sx, 0), QPointF(sx, self.height()))
        cy = self.height() / 2
        painter.setBrush(self._colors["accent"])
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
        painter.drawEllipse(QPointF(sx, cy), 13, 13)
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        for direction in (-1, 1):
            tip = QPointF(sx + direction * 8, cy)
            painter.drawLine(tip, QPointF(sx + direction * 3, cy - 5))
            painter.drawLine(tip, QPointF(sx + direction * 3, cy + 5))

    def _paint_label(self, painter: QPainter, pane: QRectF, text: str, left: bool | None) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 16, metrics.height() + 8
        if left is None:
            box = QRectF(pane.center().x() - w / 2, pane.bottom() - h - 12, w, h)
        else:
            box = QRectF(pane.left() + 10 if left else pane.right() - w - 10, pane.top() + 10, w, h)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_hint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box = QRectF(self.rect()).adjusted(40, 40, -40, -40)
        color = self._colors["accent"] if self._drag_hover else self._colors["text"]
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 18, 18)
        title = QFont(self.font())
        title.setPointSizeF(max(title.pointSizeF() * 1.6, 14.0))
        title.setBold(True)
        painter.setFont(title)
        painter.setPen(color)
        top = QRectF(box.left(), box.center().y() - 40, box.width(), 36)
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, "Drop pictures or folders here")
        painter.setFont(self.font())
        rest = QRectF(box.left(), box.center().y(), box.width(), 48)
        painter.drawText(
            rest,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            "or open with Ctrl+O, a folder with Ctrl+Shift+O, paste with Ctrl+V",
        )

    # ------------------------------------------------------------------ input
    def _on_split_handle(self, pos: QPointF) -> bool:
        return self._layout == "split" and self._comparing() and abs(pos.x() - self.split_x()) <= SPLIT_GRAB

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self._before:
            return super().mousePressEvent(event)
        pos = event.position()
        self._drag = "split" if self._on_split_handle(pos) else "pan"
        self._drag_last = pos
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._drag == "split":
            self.set_split(pos.x() / max(self.width(), 1))
        elif self._drag == "pan":
            delta = pos - self._drag_last
            self._drag_last = pos
            self._center -= QPointF(delta.x() / self._scale, delta.y() / self._scale)
            self._fit = False
            self.view_changed.emit()
            self.update()
        elif self._before:
            shape = (
                Qt.CursorShape.SplitHCursor if self._on_split_handle(pos) else Qt.CursorShape.OpenHandCursor
            )
            self.setCursor(shape)

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        if self._before:
            self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event) -> None:
        if self._before and not self._on_split_handle(event.position()):
            if self._fit:
                self.zoom_by(1.0 / self._scale, event.position())
            else:
                self.fit()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta and self._before:
            self.zoom_by(1.0015**delta, event.position())
            event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.set_show_original(True)
            event.accept()
            return
        if self._before and self._keyboard_view(event.key(), event.modifiers()):
            event.accept()
            return
        super().keyPressEvent(event)

    def _keyboard_view(self, key, modifiers) -> bool:
        """Arrows pan (a tenth of the view, Ctrl: a step of the pixel grid); [ and ] or Shift+Left/Right move
        the split line. Returns whether the key was used."""
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        split_keys = {Qt.Key.Key_BracketLeft: -1, Qt.Key.Key_BracketRight: 1}
        if shift:
            split_keys.update({Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1})
        if key in split_keys:
            self.set_split(self._split + 0.05 * split_keys[key])
            return True
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
                  Qt.Key.Key_Down: (0, 1)}
        if key not in arrows:
            return False
        dx, dy = arrows[key]
        step = 1.0 if modifiers & Qt.KeyboardModifier.ControlModifier else 0.1 * self.width() / self._scale
        self._center += QPointF(dx * step, dy * step)
        self._fit = False
        self.view_changed.emit()
        self.update()
        return True

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.set_show_original(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def resizeEvent(self, event) -> None:
        if self._fit and self._before:
            self.fit(max_scale=self._fit_max)
        super().resizeEvent(event)

    def dragEnterEvent(self, event) -> None:
        if has_droppable(event.mimeData()):
            self._drag_hover = True
            event.acceptProposedAction()
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if has_droppable(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self._drag_hover = False
        self.update()

    def dropEvent(self, event) -> None:
        self._drag_hover = False
        mime = event.mimeData()
        if has_droppable(mime):
            event.acceptProposedAction()
            self.dropped.emit(mime)
        self.update()
