"""Errors the user is shown -- error dialogs, failed batch rows, the wizard's error banners -- reach the log
file the README promises (``logs/anisketch.log`` in the user data folder)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.application import Options as ProcessOptions
from anisketch_desktop.core import imageio
from anisketch_desktop.gui import dialogs
from anisketch_desktop.gui.logging_setup import setup_logging
from anisketch_desktop.gui.queue_model import Job, JobState
from anisketch_desktop.gui.queue_panel import QueuePanel
from anisketch_desktop.gui.settings import Settings
from anisketch_desktop.gui.wizard.widgets import Banner


@pytest.fixture
def log_file():
    """The app's log file for this test; the handler is taken off again afterwards (global logging state)."""
    from anisketch_desktop.gui import logging_setup

    path = setup_logging()
    yield path
    handler = logging_setup._handler
    if handler is not None:
        logging.getLogger("anisketch_desktop").removeHandler(handler)
        handler.close()
        logging_setup._handler = None


def test_error_dialogs_failed_rows_and_banners_are_logged(qtbot, tmp_path, log_file):
    import numpy as np
    from PySide6.QtWidgets import QMessageBox

    panel = QueuePanel(Settings())
    qtbot.addWidget(panel)
    dialogs.show_error(panel, "Open picture", "scan.png: not a PNG, JPEG, WebP, BMP, TIFF or GIF image")
    for box in panel.findChildren(QMessageBox):
        box.done(0)
    panel.folder_edit.setText(str(tmp_path / "out"))
    good = imageio.save_image(tmp_path / "good.png", np.full((20, 20, 3), 200, np.uint8))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a picture")
    opts = ProcessOptions(mode="xdog")
    panel.model.add_jobs([Job(p, Path(p.name), opts) for p in (good, bad)])
    try:
        with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
            panel.runner.start()
    finally:
        panel.runner.shutdown()
    assert [j.state for j in panel.model.jobs()] == [JobState.DONE, JobState.FAILED]

    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message("error", "The dataset /x is in use by another AniSketch (pid 42).")
    text = log_file.read_text(encoding="utf-8")
    assert "Open picture: scan.png: not a PNG" in text
    assert f"batch row failed: {bad}: " in text and "broken.png" in text.split("batch row failed:")[1]
    assert "in use by another AniSketch (pid 42)" in text
    assert "good.png" not in text  # successes are not errors
