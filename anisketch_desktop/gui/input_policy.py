"""Window-wide input rules that no single widget can enforce on its own.

* **Hold Space** shows the original wherever the focus is inside the main window. Buttons and check boxes
  toggle on a Space *release*, so a Space that reached an "option" while the user held it would silently change
  a setting; this filter takes every Space press and release inside the window (text fields excepted: there a
  space is text) and turns them into "show original" on the canvas.
* **Wheel over a value control** (spin box, slider, combo box) changes it only when that control has keyboard
  focus; otherwise the wheel scrolls the panel underneath, as in a browser form.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QWidget,
)

TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit)
VALUE_CONTROLS = (QAbstractSpinBox, QAbstractSlider, QComboBox)


def _is_text_input(widget: QWidget) -> bool:
    """A field where Space types a space (a spin box's inner line edit is a number, not text)."""
    if not isinstance(widget, TEXT_INPUTS):
        return False
    parent = widget.parentWidget()
    return not isinstance(parent, (QAbstractSpinBox, QComboBox)) and not getattr(widget, "isReadOnly", bool)()


def _is_value_control(widget) -> bool:
    """A control whose value the wheel changes (scroll bars excepted: scrolling is what they are for)."""
    return isinstance(widget, VALUE_CONTROLS) and not isinstance(widget, QScrollBar)


class HoldSpaceFilter(QObject):
    """Application event filter: Space held anywhere in ``window`` calls ``show_original(True/False)``."""

    def __init__(self, window: QWidget, show_original):
        super().__init__(window)
        self._window, self._show = window, show_original
        self._held = False

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            if kind == QEvent.Type.WindowDeactivate and obj is self._window and self._held:
                self._held = False  # released outside the window: never leave the original stuck on
                self._show(False)
            return False
        if event.key() != Qt.Key.Key_Space or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self._window or _is_text_input(obj):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # Space is ours here: no shortcut or default button takes it
            return True
        if not event.isAutoRepeat():
            pressed = kind == QEvent.Type.KeyPress
            if pressed != self._held:
                self._held = pressed
                self._show(pressed)
        return True  # never reaches the focused control: a check box must not toggle


class WheelGuard(QObject):
    """Event filter for value controls: the wheel only changes a control that has focus; else it scrolls."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Wheel and _is_value_control(obj) and not obj.hasFocus():
            area = obj.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:  # the panel underneath scrolls
                QApplication.sendEvent(area.viewport(), event)
            return True
        return False


def guard_wheel(root: QWidget) -> WheelGuard:
    """Install a ``WheelGuard`` on every value control under ``root`` (call again after adding controls)."""
    guard = root.findChild(WheelGuard, "wheel_guard")
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheel_guard")
    for widget in root.findChildren(QWidget):
        if _is_value_control(widget) and not widget.property("_wheel_guarded"):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel no longer grabs focus
            widget.installEventFilter(guard)
            widget.setProperty("_wheel_guarded", True)
    return guard
