"""A live training loss curve painted with QPainter: raw losses faint, a running mean bold, one per task."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from anisketch_desktop.gui.wizard.widgets import muted

SERIES_COLORS = {"sketch": QColor("#3d8fe0"), "colorize": QColor("#e0853d")}
RIGHT_MARGIN = 12


class LossCurve(QWidget):
    """``add_points(task, [(step, loss), ...])`` appends; ``clear()`` starts over. ``plot_margins()`` says
    where the plot frame sits, so that widgets under the curve can line up with it."""

    margins_changed = Signal()  # the font changed: plot_margins() may differ

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.total_steps = 0
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self, total_steps: int = 0) -> None:
        self.series.clear()
        self.total_steps = total_steps
        self.update()

    def add_points(self, task: str, points: list[tuple[int, float]]) -> None:
        series = self.series.setdefault(task, [])
        last = series[-1][0] if series else -1
        series.extend((s, v) for s, v in points if s > last and math.isfinite(v))
        self.update()

    @staticmethod
    def _smooth(values: list[float]) -> list[float]:
        k = max(1, min(25, len(values) // 8))
        out, acc = [], 0.0
        for i, v in enumerate(values):
            acc += v
            if i >= k:
                acc -= values[i - k]
            out.append(acc / min(i + 1, k))
        return out

    def plot_margins(self) -> tuple[int, int]:
        """Pixels between the widget's left / right edges and the plot frame (axis labels on the left)."""
        return self.fontMetrics().horizontalAdvance("0.0000") + 10, RIGHT_MARGIN

    def plot_rect(self) -> QRectF:
        """The framed plot area, in widget coordinates."""
        left, right = self.plot_margins()
        bottom = self.fontMetrics().height() + 8
        return QRectF(left, 8, max(10, self.width() - left - right), max(10, self.height() - bottom - 16))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.margins_changed.emit()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        left = self.plot_margins()[0]
        plot = self.plot_rect()
        p.fillRect(QRectF(self.rect()), self.palette().color(self.palette().ColorRole.Base))
        grid = muted(self)
        grid.setAlphaF(0.18)
        text = muted(self)
        values = [v for s in self.series.values() for _, v in s]
        if not values:
            p.setPen(text)
            p.drawRect(plot)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "The loss curve appears here while training runs")
            return
        lo, hi = min(values), max(values)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.05
        lo, hi = lo - pad, hi + pad
        x_max = max([self.total_steps] + [s[-1][0] for s in self.series.values() if s]) or 1

        def point(step: float, value: float) -> QPointF:
            return QPointF(plot.left() + step / x_max * plot.width(),
                           plot.bottom() - (value - lo) / (hi - lo) * plot.height())

        for i in range(5):  # horizontal grid lines with loss labels
            value = lo + (hi - lo) * i / 4
            y = point(0, value).y()
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(text)
            p.drawText(QRectF(0, y - fm.height() / 2, left - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.4g}")
        p.setPen(text)
        p.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), fm.height()),
                   Qt.AlignmentFlag.AlignLeft, "step 0")
        p.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), fm.height()),
                   Qt.AlignmentFlag.AlignRight, f"{x_max:,}")
        legend_x = plot.left() + 8
        for task, series in self.series.items():
            if not series:
                continue
            color = SERIES_COLORS.get(task, QColor("#9b6be0"))
            stride = max(1, len(series) // int(max(plot.width(), 1)))  # at most one point per pixel
            shown = series[::stride]
            for values_, width, alpha in (([v for _, v in shown], 1.0, 0.35),
                                          (self._smooth([v for _, v in series])[::stride], 2.2, 1.0)):
                path = QPainterPath(point(shown[0][0], values_[0]))
                for (step, _), value in zip(shown[1:], values_[1:], strict=False):
                    path.lineTo(point(step, value))
                faded = QColor(color)
                faded.setAlphaF(alpha)
                p.setPen(QPen(faded, width))
                p.drawPath(path)
            label = f"{task}: {series[-1][1]:.4f} at step {series[-1][0]:,}"
            p.fillRect(QRectF(legend_x, plot.top() + 6, 10, 10), color)
            p.setPen(text)
            p.drawText(QPointF(legend_x + 14, plot.top() + 15), label)
            legend_x += fm.horizontalAdvance(label) + 34
        p.setPen(QPen(text, 1))
        p.drawRect(plot)
