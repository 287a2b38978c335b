"""Small widgets the wizard pages share: page header, message banner, image pane, clarity histogram."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

ACCENT = QColor("#3d8fe0")
GOOD = QColor("#3fb56b")
BAD = QColor("#e05252")
WARN = QColor("#e0a030")


def two_column_page(page: QWidget, header: QWidget, banner: QWidget, left, right, left_stretch: int = 4) -> None:
    """The wizard pages' layout: header, message banner, then two columns (``left`` : ``right`` = stretch : 6)."""
    body = QHBoxLayout()
    body.addLayout(left, left_stretch)
    body.addSpacing(12)
    body.addLayout(right, 6)
    layout = QVBoxLayout(page)
    layout.addWidget(header)
    layout.addWidget(banner)
    layout.addLayout(body, 1)


def muted(widget: QWidget) -> QColor:
    color = QColor(widget.palette().color(widget.foregroundRole()))
    color.setAlphaF(0.6)
    return color


class PageHeader(QWidget):
    """A page's title and a one-paragraph explanation."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(title)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setObjectName("page_subtitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.text)


class Banner(QLabel):
    """A coloured message line (error, warning, info, success); hidden when empty."""

    COLORS = {"error": BAD, "warning": WARN, "info": ACCENT, "success": GOOD}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, text: str) -> None:
        if kind in ("error", "warning"):
            logging.getLogger(__name__).warning("wizard %s: %s", kind, text)
        self.kind = kind
        color = self.COLORS.get(kind, ACCENT)
        self.setStyleSheet(
            f"QLabel {{ border-left: 4px solid {color.name()}; padding: 8px 10px; border-radius: 3px;"
            f" background: rgba({color.red()}, {color.green()}, {color.blue()}, 40); }}"
        )
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()


class ImagePane(QFrame):
    """Paints one image fitted into the widget (no upscaling beyond 4x), with a caption underneath."""

    def __init__(self, caption: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = caption
        self.image: QImage | None = None
        self.placeholder = ""
        self.setMinimumSize(160, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None, placeholder: str = "") -> None:
        self.image, self.placeholder = image, placeholder
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        caption_h = p.fontMetrics().height() + 6 if self.caption else 0
        area = QRectF(self.rect()).adjusted(2, 2, -2, -2 - caption_h)
        p.fillRect(area, self.palette().color(self.palette().ColorRole.Base))
        if self.image is not None and not self.image.isNull():
            w, h = self.image.width(), self.image.height()
            scale = min(area.width() / w, area.height() / h, 4.0)
            target = QRectF(0, 0, w * scale, h * scale)
            target.moveCenter(area.center())
            p.drawImage(target, self.image)
        elif self.placeholder:
            p.setPen(muted(self))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
        if self.caption:
            p.setPen(muted(self))
            p.drawText(QRectF(0, area.bottom() + 3, self.width(), caption_h), Qt.AlignmentFlag.AlignHCenter,
                       self.caption)


class Histogram(QWidget):
    """Clarity score distribution: bars over [0, 1] painted with QPainter."""

    def __init__(self, bins: int = 20, parent: QWidget | None = None):
        super().__init__(parent)
        self.bins = bins
        self.counts = [0] * bins
        self.total = 0
        self.setMinimumHeight(100)  # caption line, bars, axis labels

    def set_values(self, values: list[float]) -> None:
        self.counts = [0] * self.bins
        for v in values:
            self.counts[min(self.bins - 1, max(0, int(v * self.bins)))] += 1
        self.total = len(values)
        self.update()

    def caption(self) -> str:
        return f"clarity of {self.total:,} sketches (peak {max(self.counts):,})" if self.total else ""

    def caption_rect(self) -> QRectF:
        """The band at the top that holds the caption; the bars never reach into it."""
        return QRectF(4, 4, max(0, self.width() - 8), self.fontMetrics().height() + 2)

    def bar_area(self) -> QRectF:
        """Where the bars stand: under the caption band, above the axis labels."""
        label_h = self.fontMetrics().height() + 2
        top = self.caption_rect().bottom() + 2
        return QRectF(4, top, max(0, self.width() - 8), max(0, self.height() - 4 - label_h - top))

    def bar_rects(self) -> list[tuple[int, QRectF]]:
        """``(bin, rectangle)`` of each non-empty bin's bar, the tallest filling the bar area."""
        area = self.bar_area()
        top = max(self.counts)
        if not top:
            return []
        width = area.width() / self.bins
        return [(i, QRectF(area.left() + i * width + 1, area.bottom() - max(2.0, area.height() * n / top),
                           width - 2, max(2.0, area.height() * n / top)))
                for i, n in enumerate(self.counts) if n]

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        label_h = fm.height() + 2
        area = self.bar_area()
        p.setPen(QPen(muted(self), 1))
        p.drawLine(area.bottomLeft(), area.bottomRight())
        if not self.total:
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No sketches yet")
            return
        for i, rect in self.bar_rects():
            t = (i + 0.5) / self.bins  # red (unclear) to green (clear)
            p.fillRect(rect, QColor.fromHsvF(0.33 * t, 0.6, 0.85))
        p.setPen(muted(self))
        for value, align in ((0.0, Qt.AlignmentFlag.AlignLeft), (0.5, Qt.AlignmentFlag.AlignHCenter),
                             (1.0, Qt.AlignmentFlag.AlignRight)):
            x = area.left() + value * area.width()
            left = x if align == Qt.AlignmentFlag.AlignLeft else x - 40
            rect = QRectF(left, area.bottom() + 2, 80, label_h)
            if align == Qt.AlignmentFlag.AlignRight:
                rect.moveRight(x)
            p.drawText(rect, align, f"{value:.1f}")
        p.drawText(self.caption_rect(), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   self.caption())
