"""Dropping files, folders and raw image data on the window; pasting; the empty-state canvas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication

from anisketch_desktop.core import imageio
from anisketch_desktop.core.errors import ImageReadError
from anisketch_desktop.gui.imaging import to_qimage
from anisketch_desktop.gui.main_window import MainWindow


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _drop(widget, mime: QMimeData) -> QDropEvent:
    event = QDropEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


def _urls(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_drop_a_file_opens_it_on_the_canvas(window, qtbot, tmp_path):
    path = imageio.save_image(tmp_path / "girl.png", _picture(48, 64))
    with qtbot.waitSignal(window.session.source_changed, timeout=5000):
        event = _drop(window.canvas, _urls(path))
    assert event.isAccepted()
    assert window.canvas.has_image()
    assert (window.canvas.image_size().width(), window.canvas.image_size().height()) == (64, 48)
    np.testing.assert_array_equal(window.session.source.image, imageio.read_image(path))
    assert window.queue.model.rowCount() == 0  # one picture: canvas only, no batch
    assert "girl.png" in window.windowTitle()
    assert window.settings.recent_files[0] == str(path)


def test_drop_a_folder_queues_every_picture_recursively(window, qtbot, tmp_path):
    root = tmp_path / "art"
    imageio.save_image(root / "a.png", _picture(20, 30, 1))
    imageio.save_image(root / "sub" / "b.jpg", _picture(20, 30, 2))
    imageio.save_image(root / "sub" / "deeper" / "c.webp", _picture(20, 30, 3))
    (root / "notes.txt").write_text("not a picture")
    with qtbot.waitSignal(window.session.source_changed, timeout=5000):  # the first one is previewed
        _drop(window.canvas, _urls(root))
    rels = [str(job.rel).replace("\\", "/") for job in window.queue.model.jobs()]
    assert rels == ["a.png", "sub/b.jpg", "sub/deeper/c.webp"]
    assert {job.mode for job in window.queue.model.jobs()} == {window.options.mode()}
    assert window.queue.model.data(window.queue.model.index(0, 3)) == "queued"


def test_drop_raw_image_data_from_a_browser(window, qtbot):
    picture = _picture(30, 40, 4)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    to_qimage(picture).save(buffer, "PNG")
    mime = QMimeData()
    mime.setData("image/png", data)
    mime.setUrls([QUrl("https://example.invalid/picture.png")])  # a web link alone could not be opened
    with qtbot.waitSignal(window.session.source_changed, timeout=5000):
        _drop(window.canvas, mime)
    np.testing.assert_array_equal(window.session.source.image[..., :3], picture)
    assert window.session.source.path is None


def test_paste_from_the_clipboard(window, qtbot):
    picture = _picture(25, 35, 5)
    QGuiApplication.clipboard().setImage(to_qimage(picture))
    with qtbot.waitSignal(window.session.source_changed, timeout=5000):
        window.paste()
    np.testing.assert_array_equal(window.session.source.image[..., :3], picture)


def test_a_corrupt_dropped_file_gives_a_readable_error(window, qtbot, tmp_path, monkeypatch):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    shown = []
    monkeypatch.setattr("anisketch_desktop.gui.dialogs.show_error", lambda parent, title, msg: shown.append(msg))
    _drop(window.canvas, _urls(bad))
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert isinstance(shown[0], ImageReadError)  # the error itself reaches the window, which words it
    assert "broken.png" in str(shown[0]) and "Traceback" not in str(shown[0]), shown
    assert not window.canvas.has_image()
