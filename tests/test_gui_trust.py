"""What a hands-on test found (issue 15): the preview is the saved file, Space never changes a setting, the
wheel scrolls the options panel instead of changing values under the pointer."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from anisketch_desktop.application import Options
from anisketch_desktop.core import imageio, pipeline, xdog
from anisketch_desktop.gui import image_session
from anisketch_desktop.gui.imaging import from_qimage
from anisketch_desktop.gui.main_window import MainWindow


def _picture(h: int, w: int) -> np.ndarray:
    """Thin dark strokes on a light, slightly shaded page (like line-heavy illustrations)."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 225, np.uint8)
    img[..., 1] = (200 + 30 * xx / w).astype(np.uint8)
    for _ in range(40):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        img[max(0, y - 1):y + 2, x:x + w // 5] = 40
        img[y:y + h // 6, max(0, x - 1):x + 2] = 60
    return img


def _window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


def _open(w: MainWindow, qtbot, path) -> None:
    with qtbot.waitSignal(w.session.source_changed, timeout=10000):
        w.open_paths([path])


def _wait_preview(w: MainWindow, qtbot):
    qtbot.waitUntil(lambda: w.session.result is not None and w.session.result.mode == "xdog", timeout=10000)
    return w.session.result


def _ink(a: np.ndarray) -> float:
    return float((np.asarray(a, np.float32) < 128).mean())


@pytest.mark.parametrize("shape", [(300, 200), (900, 560)])
def test_xdog_preview_is_the_saved_file(qtbot, tmp_path, shape):
    w = _window(qtbot)
    _open(w, qtbot, imageio.save_image(tmp_path / "pic.png", _picture(*shape)))
    panel = w.options.xdog_panel
    panel.rows["sigma"].set_value(2.0, notify=True)
    w.options.set_mode("xdog")
    qtbot.waitUntil(lambda: w.session.result is not None
                    and w.session.result.image is not None
                    and abs(w.options.xdog_panel.params()["sigma"] - 2.0) < 1e-6, timeout=10000)
    qtbot.wait(600)  # the debounced preview of the last edit has landed
    preview = w.session.result.image
    saved = pipeline.sketch(imageio.read_image(tmp_path / "pic.png"), engine="xdog",
                            xdog_params=xdog.XDoGParams.from_dict(panel.params()))
    np.testing.assert_array_equal(preview, saved)


class _State:
    def cancelled(self) -> bool:
        return False

    def check(self) -> None:
        pass


def test_huge_picture_preview_scales_sigma_like_the_saved_file(qtbot, tmp_path, monkeypatch):
    """Above the full-size limit the preview runs on a copy; sigma scales with it so the ink matches."""
    import cv2

    monkeypatch.setattr(image_session, "FULL_PREVIEW_PIXELS", 100_000)
    monkeypatch.setattr(image_session, "PREVIEW_SIDE", 400)
    picture = _picture(1400, 900)
    source = image_session.load_source(picture, "big", state=_State())
    assert source.preview.shape[:2] == (400, 257)
    params = dict(xdog.PRESETS["default"].to_dict(), sigma=2.0)
    result = image_session.run_preview(source, Options(mode="xdog", xdog=params), state=_State())
    assert result.image is None  # a preview only: Save renders the full picture
    preview = from_qimage(result.pyramid.levels[0])[..., 0]
    assert preview.shape == (400, 257)
    saved = pipeline.sketch(picture, engine="xdog", xdog_params=xdog.XDoGParams.from_dict(params))
    small = cv2.resize(saved, (257, 400), interpolation=cv2.INTER_AREA)
    unscaled = pipeline.sketch(source.preview, engine="xdog", xdog_params=xdog.XDoGParams.from_dict(params))
    # the scaled preview's tone matches the saved file shrunk to the same size; the old preview (the same
    # pixel sigma on a 3.5x smaller copy: bold lines) was far off
    ours, old = np.abs(preview.astype(float) - small).mean(), np.abs(unscaled.astype(float) - small).mean()
    assert ours < 0.6 * old, (ours, old)
    assert abs(_ink(preview) - _ink(small)) < abs(_ink(unscaled) - _ink(small))


def test_hold_space_shows_the_original_wherever_the_focus_is(qtbot, tmp_path):
    w = _window(qtbot)
    _open(w, qtbot, imageio.save_image(tmp_path / "pic.png", _picture(120, 160)))
    check = w.options.transparent_check
    w.options.set_mode("xdog")
    check.setChecked(True)
    for target in (check, w.options.speck_spin, w.options.mode_buttons["sketch"], w.canvas):
        target.setFocus()
        qtbot.keyPress(target, Qt.Key.Key_Space)
        assert w.canvas.show_original(), target
        qtbot.keyRelease(target, Qt.Key.Key_Space)
        assert not w.canvas.show_original(), target
    assert check.isChecked()  # Space never toggled the option
    assert w.options.mode() == "xdog"  # ... nor pressed a mode button


def test_space_still_types_in_text_fields(qtbot):
    w = _window(qtbot)
    field = w.queue.template_edit
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, "a b")
    assert field.text() == "a b"
    assert not w.canvas.show_original()


def _wheel(widget, delta: int = -120) -> None:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, delta), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_the_options_scrolls_instead_of_changing_values(qtbot):
    w = _window(qtbot)
    w.resize(1280, 500)  # short enough that the options panel scrolls
    w.options.set_mode("xdog")
    qtbot.wait(50)
    spin, slider = w.options.speck_spin, w.options.xdog_panel.rows["sigma"].slider
    scroll = w.options.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0
    before = (spin.value(), slider.value(), bar.value())
    w.canvas.setFocus()
    for widget in (spin, slider):
        _wheel(widget)
    assert (spin.value(), slider.value()) == before[:2]  # nothing changed under the pointer
    assert bar.value() > before[2]  # ... the panel scrolled instead
    spin.setFocus()
    _wheel(spin, 120)
    assert spin.value() == before[0] + 1  # a focused control still takes the wheel


@pytest.fixture
def sketch_window(qtbot, tmp_path, tiny_sketch_model, no_shipped_models):
    import shutil

    from anisketch_desktop import paths

    shutil.copy(tiny_sketch_model, paths.user_models_dir() / tiny_sketch_model.name)
    w = _window(qtbot)
    qtbot.waitSignal(w.models_refreshed, timeout=5000).wait()
    _open(w, qtbot, imageio.save_image(tmp_path / "pic.png", _picture(96, 128)))
    w.options.set_mode("sketch")
    return w


def test_transparent_toggle_recomposes_without_running_the_network_again(sketch_window, qtbot, monkeypatch):
    from anisketch_desktop.application import jobs

    w = sketch_window
    w.options.transparent_check.setChecked(False)
    with qtbot.waitSignal(w.session.run_finished, timeout=20000):
        w.run_current()
    opaque = w.session.result.image
    assert opaque.ndim == 2
    calls = []
    real = jobs.process
    monkeypatch.setattr(jobs, "process", lambda *a, **k: calls.append(1) or real(*a, **k))
    with qtbot.waitSignal(w.session.result_changed, timeout=5000, check_params_cb=lambda r: r is not None):
        w.options.transparent_check.setChecked(True)
    rgba = w.session.result.image
    assert calls == []  # no network run
    assert rgba.shape == opaque.shape + (4,) and not rgba[..., :3].any()
    expected = pipeline.sketch(imageio.read_image(w.session.source.path), model=w.options.process_options()
                               .model("sketch"), device="cpu", transparent=True)
    assert np.abs(rgba.astype(int) - expected.astype(int)).max() <= 1
    with qtbot.waitSignal(w.session.result_changed, timeout=5000, check_params_cb=lambda r: r is not None):
        w.options.transparent_check.setChecked(False)
    np.testing.assert_array_equal(w.session.result.image, opaque)


def test_transparent_results_sit_on_a_light_checkerboard_in_the_dark_theme():
    from anisketch_desktop.gui.theme import canvas_colors

    for theme in ("dark", "light"):
        colors = canvas_colors(theme)
        assert min(colors["check_a"].lightness(), colors["check_b"].lightness()) > 180  # black lines show


def test_replace_dialog_defaults_to_no(sketch_window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    w = sketch_window
    with qtbot.waitSignal(w.session.run_finished, timeout=20000):
        w.run_current()
    target = w.default_save_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"the user's own file")
    asked = []

    def question(parent, title, text, buttons=None, default=None):
        asked.append(default)
        return default  # the user just presses Enter

    monkeypatch.setattr(QMessageBox, "question", question)
    w.save()
    assert asked == [QMessageBox.StandardButton.No]
    assert target.read_bytes() == b"the user's own file"


def test_save_as_and_copy_on_a_preview_render_then_finish_the_request(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(image_session, "FULL_PREVIEW_PIXELS", 10_000)
    monkeypatch.setattr(image_session, "PREVIEW_SIDE", 100)
    w = _window(qtbot)
    _open(w, qtbot, imageio.save_image(tmp_path / "pic.png", _picture(240, 320)))
    w.options.set_mode("xdog")
    qtbot.waitUntil(lambda: w.session.result is not None, timeout=10000)
    assert w.session.result.image is None  # a preview of a "huge" picture
    chosen = tmp_path / "chosen.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    w.save_as()
    qtbot.waitUntil(chosen.exists, timeout=20000)
    expected = pipeline.sketch(imageio.read_image(tmp_path / "pic.png"), engine="xdog",
                               xdog_params=xdog.XDoGParams.from_dict(w.options.xdog_panel.params()))
    np.testing.assert_array_equal(imageio.read_image(chosen), expected)
    assert "Saved" in w.statusBar().currentMessage()

    w.session.clear_result()
    QApplication.clipboard().clear()
    w.copy_result()
    qtbot.waitUntil(lambda: not QApplication.clipboard().image().isNull(), timeout=20000)
    copied = from_qimage(QApplication.clipboard().image())[..., 0]
    np.testing.assert_array_equal(copied, expected)


def test_mode_shortcuts_are_in_the_menu_and_the_options_fit_at_1280x800(qtbot):
    w = _window(qtbot)
    w.resize(1280, 800)
    qtbot.wait(50)
    scroll = w.options.findChild(QScrollArea)
    for i, mode in enumerate(("sketch", "xdog", "colorize", "style")):
        action = w.actions[f"mode_{mode}"]
        assert action.shortcut().toString() == f"Alt+{i + 1}"
        action.trigger()
        assert w.options.mode() == mode and action.isChecked()
        qtbot.wait(20)
        assert scroll.verticalScrollBar().maximum() == 0, mode  # the whole panel shows


def test_keyboard_moves_the_split_and_pans(qtbot, tmp_path):
    w = _window(qtbot)
    _open(w, qtbot, imageio.save_image(tmp_path / "pic.png", _picture(400, 600)))
    canvas = w.canvas
    canvas.setFocus()
    split = canvas.split()
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.split() == pytest.approx(split + 0.05)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.split() == pytest.approx(split)
    canvas.set_view(2.0, QPointF(300, 200))
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    assert canvas.center().x() > 300 and canvas.center().y() > 200


def test_dark_theme_marks_focus_and_keeps_queue_percentages_readable(qtbot, tmp_path):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyleFactory

    from anisketch_desktop.gui.queue_model import Job
    from anisketch_desktop.gui.theme import apply_theme

    app = QApplication.instance()
    sheet, palette, style, prop = app.styleSheet(), QPalette(app.palette()), app.style().name(), \
        app.property("anisketch_theme")
    apply_theme(app, "dark")
    try:
        assert ":focus" in app.styleSheet() and 'modeButton="true"]:checked' in app.styleSheet()
        w = _window(qtbot)
        w.queue.model.add_jobs([Job(tmp_path / "a.png", tmp_path.joinpath("a.png").relative_to(tmp_path),
                                    w.options.process_options())])
        qtbot.wait(50)
        table = w.queue.table
        rect = table.visualRect(w.queue.model.index(0, 2))
        cell = from_qimage(table.viewport().grab(rect).toImage())[..., :3].astype(int)
        assert cell.max(axis=2).max() > 170  # the "0%" shows in light text on the dark bar
    finally:
        app.setStyleSheet(sheet)
        app.setStyle(QStyleFactory.create(style))
        app.setPalette(palette)
        app.setProperty("anisketch_theme", prop)
