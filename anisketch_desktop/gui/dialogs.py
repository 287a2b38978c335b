"""About (versions of the app, torch, CUDA, Qt), error messages, and the unexpected-error notice."""

from __future__ import annotations

import logging
import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop import __version__, paths
from anisketch_desktop.gui.workers import describe_error


def torch_versions() -> list[tuple[str, str]]:
    """torch / CUDA rows of the About box; imports torch (only when the dialog opens)."""
    try:
        import torch
    except Exception as exc:  # a broken torch install must not break the About box
        return [("PyTorch", f"not available ({exc})")]
    rows = [("PyTorch", torch.__version__)]
    cuda = torch.version.cuda
    if cuda is None:
        rows.append(("CUDA", "not in this PyTorch build (CPU only)"))
    elif torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        rows.append(("CUDA", f"{cuda}: {names}"))
    else:
        rows.append(("CUDA", f"{cuda} (no usable GPU found)"))
    return rows


def version_rows(include_torch: bool = True) -> list[tuple[str, str]]:
    import cv2
    import numpy

    rows = [("AniSketch", __version__)]
    if include_torch:
        rows += torch_versions()
    rows += [
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("Python", platform.python_version()),
        ("NumPy", numpy.__version__),
        ("OpenCV", cv2.__version__),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]
    return rows


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, include_torch: bool = True):
        super().__init__(parent)
        self.setWindowTitle("About AniSketch")
        self.rows = version_rows(include_torch)
        icon = QIcon(str(paths.resource_path("icons", "anisketch.png")))
        layout = QVBoxLayout(self)
        header = QLabel()
        header.setPixmap(icon.pixmap(72, 72))
        header.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(header)
        title = QLabel(
            f"<h2>AniSketch {__version__}</h2>"
            "<p>Anime pictures to clean line art, line art to colour, and both in a row.</p>"
        )
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        layout.addWidget(title)
        table = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.rows)
        info = QLabel(f"<table>{table}</table>")
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(info)
        folder = QLabel(
            f'User data: <a href="{QUrl.fromLocalFile(str(paths.user_data_dir())).toString()}">'
            f"{paths.user_data_dir()}</a>"
        )
        folder.setOpenExternalLinks(True)
        layout.addWidget(folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy versions", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.rows)

    def copy_versions(self) -> None:
        QApplication.clipboard().setText(self.text())


def show_error(parent: QWidget | None, title: str, message: str | BaseException) -> None:
    """A readable error: ``message`` is meant for the user, or an exception the window words
    (``workers.describe_error``)."""
    if isinstance(message, BaseException):
        message = describe_error(message)
    logging.getLogger(__name__).warning("error shown: %s: %s", title, message)  # the log keeps every one
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()


class UnexpectedErrorDialog(QDialog):
    """Shown once for each new unexpected exception; the traceback is in the log file."""

    def __init__(self, summary: str, log_file: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        layout = QVBoxLayout(self)
        text = QLabel(
            "<p>AniSketch hit an unexpected problem. Your files are safe; you can keep working.</p>"
            f"<p>The details were written to the log file:<br><code>{log_file}</code></p>"
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        details = QPlainTextEdit(summary)
        details.setReadOnly(True)
        details.setMaximumHeight(90)
        layout.addWidget(details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        folder = buttons.addButton("Open log folder", QDialogButtonBox.ButtonRole.ActionRole)
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.logs_dir()))))
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


def show_unexpected_error(summary: str, log_file: str) -> None:
    """``ExceptionHook`` callback: a non-modal notice over the active window."""
    app = QApplication.instance()
    if app is None:
        print(summary, file=sys.stderr)
        return
    dialog = UnexpectedErrorDialog(summary, log_file, app.activeWindow())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
