"""Dark (qdarkstyle) and light (Fusion) themes, plus the few colours our own painting uses."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("dark", "light")
_light_palette: QPalette | None = None


def apply_theme(app: QApplication, name: str) -> str:
    """Apply ``name`` ("dark" or "light"; anything else means dark); returns the theme applied."""
    global _light_palette
    name = name if name in THEMES else "dark"
    app.setStyle(QStyleFactory.create("Fusion"))
    if _light_palette is None:
        _light_palette = app.style().standardPalette()
    if name == "dark":
        import qdarkstyle

        app.setPalette(_light_palette)
        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6") + extra_stylesheet(name))
    else:
        app.setStyleSheet(extra_stylesheet(name))
        app.setPalette(_light_palette)
    app.setProperty("anisketch_theme", name)
    return name


def extra_stylesheet(theme: str) -> str:
    """What both themes add: a selected mode stands out, and every Tab stop shows a focus ring."""
    accent = canvas_colors(theme)["accent"].name()
    return f"""
QPushButton[modeButton="true"]:checked {{ background: {accent}; color: white; font-weight: bold;
    border: 1px solid {accent}; }}
QPushButton:focus, QToolButton:focus, QComboBox:focus, QAbstractSpinBox:focus, QLineEdit:focus,
QTableView:focus, QSlider:focus {{ border: 1px solid {accent}; }}
QCheckBox:focus, QRadioButton:focus {{ border: 1px solid {accent}; border-radius: 3px; }}
"""


def current_theme(app: QApplication) -> str:
    return app.property("anisketch_theme") or "dark"


def canvas_colors(theme: str) -> dict[str, QColor]:
    """Background, checkerboard squares, hint text and accent for the canvas."""
    if theme == "light":
        return {
            "background": QColor("#e6e8eb"),
            "check_a": QColor("#ffffff"),
            "check_b": QColor("#d9dce0"),
            "text": QColor("#5a6270"),
            "accent": QColor("#2f7de1"),
        }
    return {
        "background": QColor("#161a20"),
        # transparent results sit on a light checkerboard in both themes: black lines must stay visible
        "check_a": QColor("#ffffff"),
        "check_b": QColor("#d9dce0"),
        "text": QColor("#8b95a5"),
        "accent": QColor("#4aa3ff"),
    }
