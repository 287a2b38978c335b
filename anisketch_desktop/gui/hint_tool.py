"""The hint tool on the canvas: click drops a colour dot, a drag draws a colour stroke, right-click or Delete
removes the hint under the cursor, Alt+click (or the eyedropper) picks a colour from the picture. Without a
mouse: the arrow keys move a hint cursor (Shift: ten times as far), Enter drops a dot there, Delete removes.

``HintTool`` is an event filter on the ``CompareView``: while it is enabled it takes the left and right
mouse buttons (the middle button pans, the wheel zooms, the split handle still drags); disabled, the canvas
behaves as before. It only edits the ``HintDocument``; rendering the result is someone else's job.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal

from anisketch_desktop.gui.compare_view import SPLIT_GRAB
from anisketch_desktop.gui.hint_document import HintDocument
from anisketch_desktop.gui.hint_overlay import HintOverlay, brush_cursor, eyedropper_cursor

CLICK_SLOP = 3.0  # screen pixels a press may move and still be a click (a dot), not a stroke
STEP = 2.0  # screen pixels between recorded stroke points
HIT_RADIUS = 10.0  # screen pixels around a hint that still count as "on it"
DEFAULT_COLOR = (232, 180, 160)
M = Qt.KeyboardModifier
COMMAND_MODIFIERS = M.ControlModifier | M.AltModifier | M.MetaModifier  # arrows with these are someone else's
KEY_STEPS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


class HintTool(QObject):
    """Modes: ``brush`` (dots and strokes), ``pick`` (eyedropper), ``pan`` (the hand: the canvas's own drag)."""

    color_changed = Signal(tuple)  # RGB
    color_picked = Signal(tuple)  # RGB taken with the eyedropper
    stroke_preview = Signal()  # the stroke being drawn changed (live preview)
    mode_changed = Signal(str)  # "brush" / "pick" / "pan"

    def __init__(self, canvas, document: HintDocument | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.document = document if document is not None else HintDocument(self)
        self._enabled = False
        self._mode = "brush"
        self._color = DEFAULT_COLOR
        self._width = 6.0
        self._drawing: list[tuple[float, float]] = []
        self._press_pos: QPointF | None = None
        self._moved = False
        self._panning: QPointF | None = None
        self._passthrough = False
        self._hover: QPointF | None = None
        self._hover_index: int | None = None
        self._cursor_key: tuple | None = None
        self._keyboard = False  # the arrow keys moved the hint cursor last (Enter drops a dot there)
        self.overlay = HintOverlay(canvas, self)
        canvas.installEventFilter(self)
        canvas.view_changed.connect(self._refresh_cursor)
        self.document.changed.connect(self._update_hover)

    # ------------------------------------------------------------------ state
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        if on == self._enabled:
            return
        self._enabled = on
        self._drawing, self._panning, self._passthrough = [], None, False
        self.overlay.setVisible(on)
        self._refresh_cursor()
        self.overlay.update()

    def markers_visible(self) -> bool:
        return self._enabled

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in ("brush", "pick", "pan"):
            raise ValueError(f"unknown hint tool mode {mode!r}")
        if mode != self._mode:
            self._mode = mode
            self._refresh_cursor()
            self.mode_changed.emit(mode)

    def color(self) -> tuple[int, int, int]:
        return self._color

    def set_color(self, color) -> None:
        color = tuple(int(c) for c in color[:3])
        if color != self._color:
            self._color = color
            self._refresh_cursor()
            self.color_changed.emit(color)

    def width(self) -> float:
        return self._width

    def set_width(self, width: float) -> None:
        self._width = float(width)
        self._refresh_cursor()

    def drawing_points(self) -> list[tuple[float, float]]:
        return self._drawing

    def hover_index(self) -> int | None:
        return self._hover_index

    # ------------------------------------------------------------------ commands (keyboard, menus, panel)
    def remove_at(self, widget_pos: QPointF) -> bool:
        """Remove the topmost hint under ``widget_pos``; False when there is none."""
        pt, _side = self.canvas.map_to_image(widget_pos)
        index = self.document.hit(pt.x(), pt.y(), HIT_RADIUS / self.canvas.scale())
        if index is None:
            return False
        self.document.remove(index)
        return True

    def remove_under_cursor(self) -> bool:
        return self._hover is not None and self.remove_at(self._hover)

    def pick_at(self, widget_pos: QPointF) -> tuple[int, int, int] | None:
        """The colour shown at ``widget_pos`` (the result on its side of the split, else the drawing)."""
        pt, side = self.canvas.map_to_image(widget_pos)
        layer = self.canvas.after() if side == "after" and self.canvas.after() is not None else None
        if self.canvas.show_original() or layer is None:
            layer = self.canvas.before()
        if layer is None or not self._inside(pt):
            return None
        image, factor = layer.levels[0], layer.factors[0]
        x = min(int(pt.x() * factor), image.width() - 1)
        y = min(int(pt.y() * factor), image.height() - 1)
        c = image.pixelColor(x, y)
        color = (c.red(), c.green(), c.blue())
        self.set_color(color)
        self.color_picked.emit(color)
        return color

    # ------------------------------------------------------------------ events
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is not self.canvas or not self._enabled or not self.canvas.has_image():
            return False
        kind = event.type()
        if self._mode == "pan" and kind != QEvent.Type.KeyPress:
            return False  # the hand: the canvas pans and zooms as in the other modes
        handler = {
            QEvent.Type.MouseButtonPress: self._press,
            QEvent.Type.MouseButtonDblClick: self._press,
            QEvent.Type.MouseMove: self._move,
            QEvent.Type.MouseButtonRelease: self._release,
            QEvent.Type.KeyPress: self._key,
            QEvent.Type.Leave: self._leave,
        }.get(kind)
        return bool(handler(event)) if handler else False

    def _press(self, event) -> bool:
        pos, button = event.position(), event.button()
        if button == Qt.MouseButton.LeftButton and _on_split_handle(self.canvas, pos):
            self._passthrough = True  # the split handle keeps working
            return False
        if button == Qt.MouseButton.MiddleButton:
            self._panning = pos
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.RightButton:
            self.remove_at(pos)
        elif button == Qt.MouseButton.LeftButton:
            alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if self._mode == "pick" or alt:
                self.pick_at(pos)
            else:
                pt, _ = self.canvas.map_to_image(pos)
                if self._inside(pt):
                    self._press_pos, self._moved = pos, False
                    self._drawing = [self._clamp(pt)]
        event.accept()
        return True

    def _move(self, event) -> bool:
        pos = event.position()
        if self._passthrough:
            return False
        self._hover, self._keyboard = pos, False
        if self._panning is not None:
            delta = pos - self._panning
            self._panning = pos
            scale = self.canvas.scale()
            centre = self.canvas.center()
            self.canvas.set_view(scale, QPointF(centre.x() - delta.x() / scale, centre.y() - delta.y() / scale))
        elif self._drawing:
            if not self._moved and _dist(pos, self._press_pos) > CLICK_SLOP:
                self._moved = True
            last = self.canvas.map_to_widget(QPointF(*self._drawing[-1]))
            if self._moved and _dist(pos, last) >= STEP:
                pt, _ = self.canvas.map_to_image(pos)
                self._drawing.append(self._clamp(pt))
                self.overlay.update()
                self.stroke_preview.emit()
        else:
            self._update_hover()
            if _on_split_handle(self.canvas, pos):
                self.canvas.setCursor(Qt.CursorShape.SplitHCursor)
            else:
                self._refresh_cursor()
        return True

    def _release(self, event) -> bool:
        if self._passthrough:
            self._passthrough = False
            self._refresh_cursor()
            return False
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning = None
            self._refresh_cursor()
        elif event.button() == Qt.MouseButton.LeftButton and self._drawing:
            points, self._drawing = self._drawing, []
            if self._moved and len(points) > 1:
                self.document.add_stroke(points, self._color, self._width)
            else:
                self.document.add_point(points[0][0], points[0][1], self._color)
        return True

    def _key(self, event) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_under_cursor()
            return True
        step = KEY_STEPS.get(key)
        if step is not None and not event.modifiers() & COMMAND_MODIFIERS:
            factor = 10.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1.0
            start = self._hover if self._hover is not None else self.canvas.image_rect().center()
            self._hover = QPointF(start.x() + step[0] * factor, start.y() + step[1] * factor)
            self._keyboard = True
            self._update_hover()
            self.overlay.update()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._hover is not None:
            pt, _ = self.canvas.map_to_image(self._hover)
            if self._inside(pt):
                self.document.add_point(pt.x(), pt.y(), self._color)
            return True
        if key == Qt.Key.Key_Escape and self._drawing:
            self._drawing = []
            self.overlay.update()
            self.stroke_preview.emit()
            return True
        return False

    def keyboard_point(self) -> QPointF | None:
        """Where the arrow keys have put the hint cursor (None while the mouse leads)."""
        return self._hover if self._keyboard else None

    def _leave(self, event) -> bool:
        if self._keyboard:
            return False
        self._hover = None
        self._update_hover()
        return False

    # ------------------------------------------------------------------ helpers
    def _inside(self, pt: QPointF) -> bool:
        size = self.canvas.image_size()
        return 0 <= pt.x() < size.width() and 0 <= pt.y() < size.height()

    def _clamp(self, pt: QPointF) -> tuple[float, float]:
        size = self.canvas.image_size()
        return (min(max(pt.x(), 0.0), size.width() - 0.01), min(max(pt.y(), 0.0), size.height() - 0.01))

    def _update_hover(self) -> None:
        index = None
        if self._hover is not None and self._enabled and self.canvas.has_image():
            pt, _ = self.canvas.map_to_image(self._hover)
            index = self.document.hit(pt.x(), pt.y(), HIT_RADIUS / self.canvas.scale())
        if index != self._hover_index:
            self._hover_index = index
            self.overlay.update()

    def _refresh_cursor(self) -> None:
        if not self._enabled:
            self._cursor_key = None
            if self.canvas.has_image():
                self.canvas.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if self._mode == "pan":
            self._cursor_key = None
            self.canvas.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        diameter = round(min(max(self._width * self.canvas.scale(), 10.0), 64.0))
        key = ("pick",) if self._mode == "pick" else ("brush", self._color, diameter)
        if key != self._cursor_key or self.canvas.cursor().shape() != Qt.CursorShape.BitmapCursor:
            self._cursor_key = key
            self.canvas.setCursor(eyedropper_cursor() if key[0] == "pick" else brush_cursor(self._color, diameter))


def _on_split_handle(canvas, pos: QPointF) -> bool:
    """True where a press drags the before/after divider (the canvas keeps that gesture)."""
    comparing = canvas.after() is not None and not canvas.show_original()
    return canvas.layout_mode() == "split" and comparing and abs(pos.x() - canvas.split_x()) <= SPLIT_GRAB


def _dist(a: QPointF, b: QPointF | None) -> float:
    return math.inf if b is None else math.hypot(a.x() - b.x(), a.y() - b.y())
