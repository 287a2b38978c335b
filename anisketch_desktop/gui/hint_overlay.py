"""Colour hint markers drawn over the canvas, and the hint tool's cursors.

``HintOverlay`` is a transparent child of the ``CompareView`` that lets every mouse event through; it draws
each hint where the canvas's own mapping puts the picture point, on both panes when they are side by side.
Markers are outlined (dark, then white, then the hint's colour) so they stay visible on any colour.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from anisketch_desktop.core.hints import HintPoint

DOT_RADIUS = 6.0  # screen pixels: a dot marker stays this size at every zoom
DARK, LIGHT = QColor(20, 20, 24, 230), QColor(255, 255, 255, 240)


def _pen(color: QColor, width: float) -> QPen:
    return QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def paint_dot(painter: QPainter, centre: QPointF, color: QColor, radius: float = DOT_RADIUS,
              highlight: bool = False) -> None:
    painter.setPen(_pen(DARK, 1.5))
    painter.setBrush(LIGHT)
    painter.drawEllipse(centre, radius + 2.5, radius + 2.5)
    painter.setPen(_pen(DARK, 1.0))
    painter.setBrush(color)
    painter.drawEllipse(centre, radius, radius)
    if highlight:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(255, 80, 60), 2.0, Qt.PenStyle.DashLine))
        painter.drawEllipse(centre, radius + 6, radius + 6)


def paint_stroke(painter: QPainter, points: list[QPointF], color: QColor, width: float,
                 highlight: bool = False) -> None:
    """A stroke ``width`` screen pixels wide with a white and a dark outline around it."""
    path = QPainterPath(points[0])
    for pt in points[1:]:
        path.lineTo(pt)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if highlight:
        painter.setPen(QPen(QColor(255, 80, 60), width + 12, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        painter.drawPath(path)
    painter.setPen(_pen(DARK, width + 5))
    painter.drawPath(path)
    painter.setPen(_pen(LIGHT, width + 3))
    painter.drawPath(path)
    painter.setPen(_pen(color, width))
    painter.drawPath(path)


def paint_crosshair(painter: QPainter, centre: QPointF, color: QColor) -> None:
    """The keyboard's hint cursor: a ring in the current colour with a cross, outlined."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for pen in (_pen(DARK, 4.0), _pen(LIGHT, 2.0)):
        painter.setPen(pen)
        painter.drawEllipse(centre, 11, 11)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            painter.drawLine(QPointF(centre.x() + 5 * dx, centre.y() + 5 * dy),
                             QPointF(centre.x() + 16 * dx, centre.y() + 16 * dy))
    painter.setPen(_pen(color, 2.0))
    painter.drawEllipse(centre, 11, 11)


class HintOverlay(QWidget):
    """Draws the hints of ``tool.document`` (and the stroke being drawn) over ``canvas``."""

    def __init__(self, canvas, tool):
        super().__init__(canvas)
        self.canvas, self.tool = canvas, tool
        self.setObjectName("hint_overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(canvas.rect())
        canvas.installEventFilter(self)
        canvas.view_changed.connect(self.update)
        tool.document.changed.connect(self.update)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
        return False

    def _sides(self) -> list[str]:
        return ["before", "after"] if self.canvas.layout_mode() == "side" else ["before"]

    def paintEvent(self, event) -> None:
        if not self.canvas.has_image() or not self.tool.markers_visible():
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        scale = self.canvas.scale()
        items = self.tool.document.items()
        hover = self.tool.hover_index()
        drawing = self.tool.drawing_points()
        for side in self._sides():
            painter.save()
            painter.setClipRect(self.canvas.pane_rect(side))
            for index, item in enumerate(items):
                color = QColor(*item.color)
                if isinstance(item, HintPoint):
                    paint_dot(painter, self.canvas.map_to_widget(QPointF(item.x, item.y), side), color,
                              highlight=index == hover)
                else:
                    pts = [self.canvas.map_to_widget(QPointF(x, y), side) for x, y in item.points]
                    paint_stroke(painter, pts, color, max(item.width * scale, 2.0), highlight=index == hover)
            keyboard = self.tool.keyboard_point()
            if keyboard is not None and side == "before":
                paint_crosshair(painter, keyboard, QColor(*self.tool.color()))
            if len(drawing) > 1:
                pts = [self.canvas.map_to_widget(QPointF(x, y), side) for x, y in drawing]
                paint_stroke(painter, pts, QColor(*self.tool.color()), max(self.tool.width() * scale, 2.0))
            painter.restore()


# ------------------------------------------------------------------------------------------------ cursors
def brush_cursor(color: tuple[int, int, int], diameter: float) -> QCursor:
    """A ring the size of the stroke (clamped to 10..64 px) with a cross at the hot spot and the colour."""
    d = int(min(max(diameter, 10.0), 64.0))
    size = d + 8
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    c = QPointF(size / 2, size / 2)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(_pen(DARK, 3.0))
    p.drawEllipse(c, d / 2, d / 2)
    p.setPen(_pen(QColor(*color), 1.6))
    p.drawEllipse(c, d / 2, d / 2)
    for dx, dy in ((1, 0), (0, 1)):
        a, b = QPointF(c.x() - 4 * dx, c.y() - 4 * dy), QPointF(c.x() + 4 * dx, c.y() + 4 * dy)
        p.setPen(_pen(DARK, 3.0))
        p.drawLine(a, b)
        p.setPen(_pen(LIGHT, 1.2))
        p.drawLine(a, b)
    p.end()
    return QCursor(pix, size // 2, size // 2)


def eyedropper_cursor() -> QCursor:
    """A pipette whose tip (bottom left) is the hot spot."""
    size = 24
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    body = QPolygonF([QPointF(2, 22), QPointF(3, 17), QPointF(14, 6), QPointF(18, 10), QPointF(7, 21)])
    p.setPen(_pen(DARK, 2.5))
    p.setBrush(LIGHT)
    p.drawPolygon(body)
    p.setBrush(DARK)
    p.drawRoundedRect(QRectF(14, 2, 8, 8).translated(-1, 1), 3, 3)
    p.setPen(_pen(DARK, 3.0))
    p.drawLine(QPointF(12, 5), QPointF(19, 12))
    p.end()
    return QCursor(pix, 2, 22)
