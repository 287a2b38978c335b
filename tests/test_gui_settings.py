"""Settings survive closing and re-creating the window, and live in ANISKETCH_HOME during tests."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")


from anisketch_desktop.gui.logging_setup import LOG_NAME, ExceptionHook, setup_logging
from anisketch_desktop.gui.main_window import MainWindow
from anisketch_desktop.gui.settings import SETTINGS_VERSION, Settings


def _window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_settings_survive_a_restart_of_the_window(qtbot, tmp_path, _isolated_home):
    w = _window(qtbot)
    w.options.set_mode("xdog")
    w.options.xdog_panel.rows["sigma"].set_value(1.3, notify=True)
    w.options.xdog_panel.rows["phi"].set_value(12.5, notify=True)
    w.options.set_device("cpu")
    w.options.transparent_check.setChecked(True)
    w.options.speck_spin.setValue(7)
    w.options.flats_check.setChecked(False)
    w.canvas.set_layout_mode("side")
    w.queue.folder_edit.setText(str(tmp_path / "results"))
    w.queue.template_edit.setText("{stem}-lines.png")
    w.queue.exists_combo.setCurrentIndex(w.queue.exists_combo.findData("overwrite"))
    w.set_theme("light")
    w.resize(770, 590)  # the offscreen screen is 800x800
    size = (w.width(), w.height())
    assert size == (770, 590)
    w.queue_dock.hide()
    w.settings.add_recent(tmp_path / "a.png")
    w.close()

    settings_file = Path(Settings().file_name())
    assert settings_file.is_file() and settings_file.is_relative_to(_isolated_home)
    again = _window(qtbot)
    assert again.options.mode() == "xdog"
    assert again.options.xdog_panel.params()["sigma"] == pytest.approx(1.3)
    assert again.options.xdog_panel.params()["phi"] == pytest.approx(12.5)
    assert again.options.device() == "cpu"
    assert again.options.transparent_check.isChecked() and again.options.speck_spin.value() == 7
    assert not again.options.flats_check.isChecked() and not again.options.process_options().flats
    assert again.canvas.layout_mode() == "side" and again.actions["side_by_side"].isChecked()
    out = again.queue.output_settings()
    assert (out.folder, out.template, out.if_exists) == (str(tmp_path / "results"), "{stem}-lines.png", "overwrite")
    assert again.settings.theme == "light" and again.actions["theme_light"].isChecked()
    assert (again.width(), again.height()) == size
    assert not again.queue_dock.isVisible()
    assert again.settings.recent_files == [str(tmp_path / "a.png")]
    assert Settings().get("version", 0, int) == SETTINGS_VERSION


def test_typed_getters_fall_back_to_defaults_on_junk():
    s = Settings()
    s.set("process/speck_size", "not a number")
    s.set("process/xdog_params", "{broken json")
    assert s.speck_size == 0
    assert s.xdog_params == {}  # a damaged settings file must not stop the app from starting
    s.xdog_params = {"sigma": 0.8}
    assert Settings().xdog_params == {"sigma": 0.8}


def test_unexpected_exception_is_logged_and_shown_once(_isolated_home):
    shown = []
    log_file = setup_logging()
    hook = ExceptionHook(lambda summary, path: shown.append((summary, path)))
    try:
        for _ in range(2):
            try:
                raise RuntimeError("disk on fire")
            except RuntimeError as exc:
                hook(type(exc), exc, exc.__traceback__)
    finally:
        hook.uninstall()
    for handler in logging.getLogger("anisketch_desktop").handlers:
        handler.flush()
    assert shown == [("RuntimeError: disk on fire", str(log_file))]
    assert log_file.parent == _isolated_home / "logs" and log_file.name == LOG_NAME
    text = log_file.read_text()
    assert "Traceback" in text and "disk on fire" in text


def test_shortcuts_for_common_actions(qtbot):
    w = _window(qtbot)
    keys = {name: w.actions[name].shortcut().toString() for name in
            ("open", "open_folder", "save", "save_as", "copy", "paste", "run", "fit", "actual", "side_by_side")}
    assert keys == {"open": "Ctrl+O", "open_folder": "Ctrl+Shift+O", "save": "Ctrl+S", "save_as": "Ctrl+Shift+S",
                    "copy": "Ctrl+C", "paste": "Ctrl+V", "run": "Ctrl+R", "fit": "Ctrl+0", "actual": "Ctrl+1",
                    "side_by_side": "Ctrl+T"}
    w.options.mode_buttons["colorize"].click()
    assert w.options.mode() == "colorize"
    # hold-Space anywhere in the window: test_gui_trust
