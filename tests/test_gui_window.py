"""The window with real (tiny) models: model menus, Run on the canvas, Style, device notes, hooks, About."""

from __future__ import annotations

import importlib.machinery
import shutil
import sys
import types

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox, QWidget

from anisketch_desktop import paths
from anisketch_desktop.application import jobs
from anisketch_desktop.core import imageio, pipeline
from anisketch_desktop.gui import dialogs
from anisketch_desktop.gui.main_window import MainWindow


def _picture(h=40, w=56):
    rng = np.random.default_rng(7)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def window(qtbot, tmp_path, tiny_sketch_model, tiny_colorize_model, no_shipped_models):
    for model in (tiny_sketch_model, tiny_colorize_model):  # "trained by the user"
        shutil.copy(model, paths.user_models_dir() / model.name)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitSignal(w.models_refreshed, timeout=5000).wait()
    path = imageio.save_image(tmp_path / "pic.png", _picture())
    with qtbot.waitSignal(w.session.source_changed, timeout=5000):
        w.open_paths([path])
    return w


def test_user_models_are_listed(window):
    combo = window.options.sketch_model_combo
    assert combo.count() == 1 and combo.currentText() == "tiny test model (yours)"
    assert combo.currentData().endswith("tiny_sketch.safetensors")
    assert window.options.color_model_combo.currentData().endswith("tiny_colorize.safetensors")


@pytest.mark.parametrize("mode", ["sketch", "colorize", "style"])
def test_run_on_the_canvas_shows_the_model_output(window, qtbot, mode):
    window.options.set_mode(mode)
    window.options.set_device("cpu")
    with qtbot.waitSignal(window.session.run_finished, timeout=60_000):
        window.options.run_button.click()
    result = window.session.result
    sketch_model = paths.user_models_dir() / "tiny_sketch.safetensors"
    color_model = paths.user_models_dir() / "tiny_colorize.safetensors"
    expected = {
        "sketch": lambda img: pipeline.sketch(img, model=sketch_model, device="cpu"),
        "colorize": lambda img: pipeline.colorize(img, model=color_model, device="cpu"),
        "style": lambda img: pipeline.style(img, sketch_model=sketch_model, color_model=color_model, device="cpu"),
    }[mode](_picture())
    assert result.image.shape == expected.shape
    assert np.abs(result.image.astype(int) - expected.astype(int)).max() <= 1
    assert window.canvas.after() is result.pyramid
    assert window.device_label.text() == "Device: CPU"
    assert window.actions["save"].isEnabled() and window.actions["copy"].isEnabled()


def test_a_device_note_is_shown_once(window, qtbot, monkeypatch):
    def fake_process(image, opts, progress=None, cancel=None, lines_only=False):
        out = image[..., 0].copy()  # lines_only: the sketch modes' float line art
        return (out / 255.0 if lines_only else out), jobs.RunInfo("CPU", "GPU not used: too new for this build", 0.01)

    monkeypatch.setattr(jobs, "process", fake_process)
    for _ in range(2):
        with qtbot.waitSignal(window.session.run_finished, timeout=5000):
            window.run_current()
    notes = [w for w in window.findChildren(QMessageBox) if w.objectName() == "device_note"]
    assert len(notes) == 1 and "too new" in notes[0].text()
    assert window.device_label.toolTip() == "GPU not used: too new for this build"


def test_missing_model_gives_a_clear_message(qtbot, tmp_path, monkeypatch, no_shipped_models):
    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.waitSignal(w.models_refreshed, timeout=5000).wait()
    with qtbot.waitSignal(w.session.source_changed, timeout=5000):
        w.open_paths([imageio.save_image(tmp_path / "p.png", _picture())])
    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, msg: shown.append(msg))
    w.options.set_mode("sketch")
    w.run_current()
    assert shown and "No sketch model is installed" in shown[0]
    assert not w.session.is_running()


def test_dataset_wizard_hook(window, monkeypatch):
    opened = []

    class DatasetWizard(QWidget):
        def __init__(self, parent):
            super().__init__(parent)
            opened.append(parent)

    fake = types.ModuleType("anisketch_desktop.gui.wizard")
    fake.__spec__ = importlib.machinery.ModuleSpec("anisketch_desktop.gui.wizard", None)
    fake.DatasetWizard = DatasetWizard
    monkeypatch.setitem(sys.modules, "anisketch_desktop.gui.wizard", fake)
    import anisketch_desktop.gui as gui_pkg

    monkeypatch.setattr(gui_pkg, "wizard", fake, raising=False)
    assert window.wizard_available()
    window.open_dataset_wizard()
    assert opened == [window]
    refreshed = []
    window.models_refreshed.connect(lambda: refreshed.append(True))
    window.refresh_models()  # what the wizard calls after training
    assert refreshed == [True]


def test_about_lists_versions(qtbot):
    dialog = dialogs.AboutDialog()
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows)
    import torch

    assert rows["PyTorch"] == torch.__version__
    assert "CUDA" in rows and rows["Qt"] and rows["AniSketch"]
    assert "PyTorch: " in dialog.text()


def test_shipped_models_are_the_defaults(qtbot):
    from anisketch_desktop.core import models

    shipped = {task: models.shipped_model_path(task) for task in ("sketch", "colorize")}
    if not all(p.is_file() for p in shipped.values()):
        pytest.skip("no shipped models in this checkout")
    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.waitSignal(w.models_refreshed, timeout=5000).wait()
    assert w.options.sketch_model_combo.currentData() == str(shipped["sketch"])
    assert w.options.color_model_combo.currentData() == str(shipped["colorize"])
    assert "(yours)" not in w.options.sketch_model_combo.currentText()
