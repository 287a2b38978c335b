"""Sketch (XDoG) mode: the live preview follows the sliders (debounced, off the GUI thread); Run and Save."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.core import imageio, pipeline, xdog
from anisketch_desktop.gui.main_window import MainWindow


def _picture(h=60, w=80):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 230, np.uint8)
    img[(xx - 40) ** 2 + (yy - 30) ** 2 < 400] = (200, 80, 90)
    img[10:14, 5:70] = (30, 30, 30)
    img[:, 60:] = np.uint8(120)
    return img


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    path = imageio.save_image(tmp_path / "pic.png", _picture())
    with qtbot.waitSignal(w.session.source_changed, timeout=5000):
        w.open_paths([path])
    return w


def _expected(params: dict) -> np.ndarray:
    return pipeline.sketch(_picture(), engine="xdog", xdog_params=xdog.XDoGParams.from_dict(params))


def test_preview_appears_and_follows_parameter_changes(window, qtbot):
    with qtbot.waitSignal(window.session.result_changed, timeout=5000,
                          check_params_cb=lambda result: result is not None):
        window.options.set_mode("xdog")
    first = window.session.result.image.copy()
    np.testing.assert_array_equal(first, _expected(window.options.xdog_panel.params()))
    assert window.canvas.after() is not None

    previews = []
    window.session.result_changed.connect(lambda result: previews.append(result))
    panel = window.options.xdog_panel
    for value in (0.3, 0.5, 0.7):  # three quick edits: debounced into (at most) one render of the last
        panel.rows["epsilon"].set_value(value, notify=True)
    qtbot.waitUntil(lambda: len(previews) >= 1, timeout=5000)
    qtbot.wait(400)  # longer than the debounce: a stale render would show up now
    assert len(previews) == 1
    final = window.session.result.image
    assert panel.params()["epsilon"] == pytest.approx(0.7)
    np.testing.assert_array_equal(final, _expected(panel.params()))
    assert not np.array_equal(final, first)


def test_preset_changes_the_sliders_and_the_preview(window, qtbot):
    window.options.set_mode("xdog")
    qtbot.waitUntil(lambda: window.session.result is not None, timeout=5000)
    with qtbot.waitSignal(window.session.result_changed, timeout=5000):
        window.options.xdog_panel.apply_preset("bold")
    assert window.options.xdog_panel.preset_combo.currentText() == "bold"
    assert window.options.xdog_panel.params()["sigma"] == pytest.approx(xdog.PRESETS["bold"].sigma)
    np.testing.assert_array_equal(window.session.result.image, _expected(xdog.PRESETS["bold"].to_dict()))


def test_auto_sets_parameters(window, qtbot):
    window.options.set_mode("xdog")
    with qtbot.waitSignal(window.session.auto_finished, timeout=30_000):
        window.options.xdog_panel.auto_button.click()
    params = window.options.xdog_panel.params()
    tuned, _score = xdog.auto_tune(imageio.to_float_rgb(_picture())[0])
    for key in ("sigma", "k", "p", "epsilon"):
        assert params[key] == pytest.approx(getattr(tuned, key), abs=0.01)


def test_run_and_save_writes_the_full_result(window, qtbot, tmp_path):
    window.options.set_mode("xdog")
    window.queue.folder_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.session.run_finished, timeout=10_000):
        window.run_current()
    window.save()
    saved = imageio.read_image(tmp_path / "out" / "pic_sketch-xdog.png")
    np.testing.assert_array_equal(saved, _expected(window.options.xdog_panel.params()))
    assert window.time_label.text().startswith("Last job:")
