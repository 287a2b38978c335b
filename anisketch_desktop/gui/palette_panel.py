"""The current hint colour, the recent colours and the saved palettes (one per character).

Clicking a swatch makes it the current colour; the big swatch opens the colour dialog. Saved palettes are
files in the user data folder (``hint_store``); recent colours are remembered in the settings.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.hints import color_to_hex
from anisketch_desktop.gui import dialogs, hint_store
from anisketch_desktop.gui.settings import Settings

MAX_RECENT = 12
COLUMNS = 8


class Swatch(QToolButton):
    """A square of one colour, painted directly (no style sheet: re-colouring costs a repaint, not a re-polish);
    click chooses it, right-click offers ``remove`` when the owner allows it; keyboard focus shows a ring."""

    chosen = Signal(tuple)
    remove_requested = Signal(tuple)

    def __init__(self, color, size: int = 22, removable: bool = False, radius: float = 3.0,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._radius = radius
        self.setFixedSize(QSize(size, size))
        self.set_color(color)
        self.clicked.connect(lambda: self.chosen.emit(self.color))
        if removable:
            self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            self.customContextMenuRequested.connect(self._menu)

    def set_color(self, color) -> None:
        self.color = tuple(int(c) for c in color[:3])
        self.setToolTip(color_to_hex(self.color))
        self.setAccessibleName(f"Colour {color_to_hex(self.color)}")
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box = QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5)
        ring = QColor(47, 125, 225) if self.hasFocus() else QColor(240, 240, 240) if self.underMouse() else None
        p.setPen(QPen(ring or QColor(16, 16, 20), 2.0 if ring else 1.0))
        p.setBrush(QColor(*self.color))
        p.drawRoundedRect(box, self._radius, self._radius)

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("Remove from palette", lambda: self.remove_requested.emit(self.color))
        menu.exec(self.mapToGlobal(pos))


class SwatchGrid(QWidget):
    """Swatches in rows of ``COLUMNS``; re-colouring reuses the swatches already there."""

    chosen = Signal(tuple)
    remove_requested = Signal(tuple)

    def __init__(self, removable: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._removable = removable
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._swatches: list[Swatch] = []
        self.colors: list[tuple] = []

    def set_colors(self, colors) -> None:
        self.colors = [tuple(c) for c in colors]
        while len(self._swatches) < len(self.colors):
            swatch = Swatch(self.colors[len(self._swatches)], removable=self._removable)
            swatch.chosen.connect(self.chosen)
            swatch.remove_requested.connect(self.remove_requested)
            i = len(self._swatches)
            self._grid.addWidget(swatch, i // COLUMNS, i % COLUMNS)
            self._swatches.append(swatch)
        for i, swatch in enumerate(self._swatches):
            if i < len(self.colors):
                swatch.set_color(self.colors[i])
            swatch.setVisible(i < len(self.colors))

    def swatches(self) -> list[Swatch]:
        return self._swatches[: len(self.colors)]


class PalettePanel(QWidget):
    """Current colour + recent colours + saved palettes. ``color_chosen`` carries the new current colour."""

    color_chosen = Signal(tuple)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self._color = (232, 180, 160)
        self.current = Swatch(self._color, size=44, radius=6.0)
        self.current.setObjectName("current_color")
        self.current.clicked.connect(self.open_color_dialog)
        self.hex_label = QLabel()
        self.hex_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recent = SwatchGrid()
        self.recent.chosen.connect(self.choose)
        self.palette_combo = QComboBox()
        self.palette_combo.setObjectName("palette_combo")
        self.palette_combo.setToolTip("Saved palettes, e.g. one per character")
        self.palette_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.palette_combo.setMinimumContentsLength(10)
        self.palette_combo.currentIndexChanged.connect(self._show_palette)
        self.palette_grid = SwatchGrid(removable=True)
        self.palette_grid.chosen.connect(self.choose)
        self.palette_grid.remove_requested.connect(self._remove_from_palette)
        add = self._button("Add", "Add the current colour to this palette", self.add_current_to_palette)
        save = self._button("Save as…", "Save these colours as a new palette (e.g. a character's name)",
                            self.save_palette_as)
        delete = self._button("Delete", "Delete this palette", self.delete_palette)
        self.add_button, self.save_button, self.delete_button = add, save, delete

        top = QHBoxLayout()
        top.addWidget(self.current)
        top.addWidget(self.hex_label, 1)
        row = QHBoxLayout()
        for b in (add, save, delete):
            row.addWidget(b)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(QLabel("Recent:"))
        layout.addWidget(self.recent)
        layout.addWidget(QLabel("Palette:"))
        layout.addWidget(self.palette_combo)
        layout.addLayout(row)
        layout.addWidget(self.palette_grid)
        self.recent.set_colors(self._saved_recent())
        self.reload_palettes()
        self._paint_current()

    @staticmethod
    def _button(text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # ------------------------------------------------------------------ current and recent colour
    def color(self) -> tuple:
        return self._color

    def set_color(self, color) -> None:
        """Show ``color`` as current (from the tool, e.g. the eyedropper) without emitting."""
        self._color = tuple(int(c) for c in color[:3])
        self._paint_current()

    def choose(self, color) -> None:
        self.set_color(color)
        self.color_chosen.emit(self._color)

    def open_color_dialog(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self._color), self, "Hint colour")
        if chosen.isValid():
            self.choose((chosen.red(), chosen.green(), chosen.blue()))

    def note_used(self, color) -> None:
        """A hint was placed with ``color``: it moves to the front of the recent colours."""
        color = tuple(color)
        colors = [color, *[c for c in self.recent.colors if c != color]][:MAX_RECENT]
        if colors != self.recent.colors:
            self.recent.set_colors(colors)
            self.settings.set("hints/recent_colors", [color_to_hex(c) for c in colors], list)

    def _saved_recent(self) -> list[tuple]:
        from anisketch_desktop.core.hints import HintError, parse_color

        out = []
        for text in self.settings.get("hints/recent_colors", [], list)[:MAX_RECENT]:
            try:
                out.append(parse_color(text))
            except HintError:
                continue
        return out

    def _paint_current(self) -> None:
        self.current.set_color(self._color)
        self.current.setToolTip(f"Current hint colour {color_to_hex(self._color)}: click to choose another (C)")
        self.hex_label.setText(color_to_hex(self._color))

    # ------------------------------------------------------------------ palettes
    def reload_palettes(self, select: str | None = None) -> None:
        select = select or self.settings.get("hints/palette", "", str)
        self._palettes = hint_store.list_palettes()
        self.palette_combo.blockSignals(True)
        self.palette_combo.clear()
        for p in self._palettes:
            self.palette_combo.addItem(p.name)
        if not self._palettes:
            self.palette_combo.addItem("(none yet: Save as…)")
        self.palette_combo.setCurrentIndex(max(self.palette_combo.findText(select), 0))
        self.palette_combo.blockSignals(False)
        self._show_palette()

    def current_palette(self) -> hint_store.Palette | None:
        index = self.palette_combo.currentIndex()
        return self._palettes[index] if 0 <= index < len(self._palettes) else None

    def _show_palette(self, *args) -> None:
        palette = self.current_palette()
        self.palette_grid.set_colors(palette.colors if palette else [])
        self.delete_button.setEnabled(palette is not None)
        self.add_button.setEnabled(palette is not None)
        if palette is not None:
            self.settings.set("hints/palette", palette.name, str)

    def _store(self, palette: hint_store.Palette) -> bool:
        try:
            hint_store.save_palette(palette)
        except (AniSketchError, OSError) as exc:
            dialogs.show_error(self, "Could not save the palette", str(exc))
            return False
        self.reload_palettes(palette.name)
        return True

    def add_current_to_palette(self) -> None:
        palette = self.current_palette()
        if palette is None:
            self.save_palette_as()
        elif self._color not in palette.colors:
            self._store(hint_store.Palette(palette.name, [*palette.colors, self._color]))

    def _remove_from_palette(self, color) -> None:
        palette = self.current_palette()
        if palette is not None:
            self._store(hint_store.Palette(palette.name, [c for c in palette.colors if c != tuple(color)]))

    def save_palette_as(self, name: str | None = None) -> bool:
        """Save the shown palette's colours (or the recent colours, or the current one) under a new name."""
        if name is None:
            name, ok = QInputDialog.getText(self, "Save palette", "Palette name (e.g. the character's name):")
            if not ok:
                return False
        palette = self.current_palette()
        colors = list(palette.colors) if palette else list(self.recent.colors) or [self._color]
        if self._color not in colors:
            colors.append(self._color)
        return self._store(hint_store.Palette(name.strip(), colors))

    def delete_palette(self) -> None:
        palette = self.current_palette()
        if palette is None:
            return
        answer = QMessageBox.question(self, "Delete palette?", f"Delete the palette “{palette.name}”?")
        if answer == QMessageBox.StandardButton.Yes:
            hint_store.delete_palette(palette.name)
            self.reload_palettes()
