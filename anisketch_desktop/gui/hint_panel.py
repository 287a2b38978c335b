"""The "Colour hints" dock shown in Colorize mode: tool, colour and palettes, reference picture, Flat / Soft,
undo / redo / clear. It holds widgets only; ``ColorizeTool`` connects them to the canvas and the colorizer.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.gui.imaging import downscale, to_qimage
from anisketch_desktop.gui.palette_panel import PalettePanel
from anisketch_desktop.gui.settings import Settings

HELP = (
    "Click: colour dot · Drag: colour stroke\n"
    "Right-click or Del: remove the hint under the cursor\n"
    "Alt+click or I: pick a colour · B: brush · C: colour dialog\n"
    "Middle-drag or H: pan · Wheel: zoom · Ctrl+Z / Ctrl+Shift+Z: undo / redo"
)
REFERENCE_SIDE = 220


class ReferenceView(QLabel):
    """The reference picture, small; a click picks the colour under the cursor."""

    color_picked = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reference_view")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(60)
        self.image: np.ndarray | None = None  # the shown copy, uint8 RGB
        self.set_image(None)

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = None if image is None else downscale(image, REFERENCE_SIDE)
        if self.image is None:
            self.setPixmap(QPixmap())
            self.setText("No reference picture")
            self.setToolTip("Load a coloured picture of the same character: its colours steer the proposal")
            self.unsetCursor()
        else:
            self.setPixmap(QPixmap.fromImage(to_qimage(self.image)))
            self.setToolTip("Click to pick a colour from the reference")
            self.setCursor(Qt.CursorShape.CrossCursor)

    def pick(self, pos: QPointF) -> tuple | None:
        """The reference's colour under ``pos`` (widget coordinates), or None outside the picture."""
        if self.image is None:
            return None
        h, w = self.image.shape[:2]
        left, top = (self.width() - w) / 2, (self.height() - h) / 2
        x, y = int(pos.x() - left), int(pos.y() - top)
        if not (0 <= x < w and 0 <= y < h):
            return None
        color = tuple(int(c) for c in self.image[y, x, :3])
        self.color_picked.emit(color)
        return color

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.pick(event.position())


class HintPanel(QWidget):
    reference_requested = Signal()
    reference_cleared = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hint_panel")
        tool_box = QGroupBox("Hint tool")
        self.brush_button = self._tool("Brush", "Click drops a dot, a drag draws a stroke (B)")
        self.pick_button = self._tool("Eyedropper", "Pick a colour from the canvas (I, or Alt+click)")
        self.pan_button = self._tool("Hand", "Drag to pan, as outside Colorize mode (H; the middle button pans "
                                     "with any tool)")
        self.tool_group = QButtonGroup(self)
        for button in (self.brush_button, self.pick_button, self.pan_button):
            self.tool_group.addButton(button)
        self.brush_button.setChecked(True)
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setRange(1.0, 200.0)
        self.width_spin.setDecimals(0)
        self.width_spin.setValue(6.0)
        self.width_spin.setSuffix(" px")
        self.width_spin.setToolTip("Width of colour strokes, in the drawing's pixels")
        row = QHBoxLayout()
        for button in (self.brush_button, self.pick_button, self.pan_button):
            row.addWidget(button)
        tools = QVBoxLayout(tool_box)
        tools.addLayout(row)
        width_row = QHBoxLayout()
        width_row.addWidget(QLabel("Stroke width:"))
        width_row.addWidget(self.width_spin, 1)
        tools.addLayout(width_row)
        self.palette = PalettePanel(settings)
        tools.addWidget(self.palette)

        edit_box = QGroupBox("Hints")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.clear_button = QPushButton("Clear")
        self.undo_button.setToolTip("Undo the last hint change (Ctrl+Z)")
        self.redo_button.setToolTip("Redo (Ctrl+Shift+Z)")
        self.clear_button.setToolTip("Remove every hint of this drawing (undo brings them back)")
        self.count_label = QLabel("No hints yet")
        edit = QVBoxLayout(edit_box)
        buttons = QHBoxLayout()
        for b in (self.undo_button, self.redo_button, self.clear_button):
            buttons.addWidget(b)
        edit.addLayout(buttons)
        edit.addWidget(self.count_label)

        ref_box = QGroupBox("Reference")
        self.reference_button = QPushButton("Reference…")
        self.reference_button.setObjectName("reference_button")
        self.reference_button.setToolTip("A coloured picture of the same character: its palette steers the colours")
        self.reference_button.clicked.connect(self.reference_requested)
        self.clear_reference_button = QToolButton()
        self.clear_reference_button.setText("✕")
        self.clear_reference_button.setToolTip("Stop using the reference picture")
        self.clear_reference_button.clicked.connect(self.reference_cleared)
        self.reference_view = ReferenceView()
        ref = QVBoxLayout(ref_box)
        ref_row = QHBoxLayout()
        ref_row.addWidget(self.reference_button, 1)
        ref_row.addWidget(self.clear_reference_button)
        ref.addLayout(ref_row)
        ref.addWidget(self.reference_view)

        result_box = QGroupBox("Result")
        self.flat_check = QCheckBox("Flat (one colour per region)")
        self.flat_check.setChecked(True)
        self.soft_check = QCheckBox("Soft (the network's shading)")
        self.status_label = QLabel("")
        self.status_label.setObjectName("hint_status")
        result = QVBoxLayout(result_box)
        result.addWidget(self.flat_check)
        result.addWidget(self.soft_check)
        result.addWidget(self.status_label)

        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        help_label.setStyleSheet("color: palette(mid); font-size: 11px;")
        inner = QWidget()
        layout = QVBoxLayout(inner)
        for widget in (tool_box, edit_box, result_box, ref_box, help_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(inner.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    @staticmethod
    def _tool(text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setMinimumSize(QSize(64, 28))
        return button

    def set_count(self, items: int) -> None:
        self.count_label.setText({0: "No hints yet"}.get(items, f"{items} hint{'s' if items != 1 else ''}"))
