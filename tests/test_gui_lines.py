"""The Lines controls in the window (issue 12): every control changes the sketch on the canvas without running the
network again, and what the canvas shows is exactly the file a save, the queue or the CLI writes; File > Export
SVG traces it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from lxml import etree

from anisketch_desktop import paths
from anisketch_desktop.application import jobs
from anisketch_desktop.core import imageio
from anisketch_desktop.gui.main_window import MainWindow


def _picture(h: int = 120, w: int = 160) -> np.ndarray:
    rng = np.random.default_rng(2)
    img = np.full((h, w, 3), 230, np.uint8)
    img[:, : w // 2] = (220, 120, 110)
    for _ in range(25):
        y, x = int(rng.integers(0, h - 10)), int(rng.integers(0, w - 10))
        img[y : y + 2, x : x + w // 4] = 30
        img[y : y + h // 5, x : x + 3] = 50
    img[40:70, 100:130] = 10  # a filled black area
    return img


@pytest.fixture
def window(qtbot, tmp_path, tiny_sketch_model, no_shipped_models):
    shutil.copy(tiny_sketch_model, paths.user_models_dir() / tiny_sketch_model.name)
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitSignal(w.models_refreshed, timeout=5000).wait()
    with qtbot.waitSignal(w.session.source_changed, timeout=10000):
        w.open_paths([imageio.save_image(tmp_path / "pic.png", _picture())])
    w.options.set_mode("sketch")
    return w


def _change(w, qtbot, action) -> np.ndarray:
    with qtbot.waitSignal(w.session.result_changed, timeout=10000, check_params_cb=lambda r: r is not None):
        action()
    return w.session.result.image


def test_every_line_control_previews_exactly_the_saved_file(window, qtbot, tmp_path, monkeypatch):
    w, o = window, window.options
    for control in (o.weight_slider, o.threshold_slider, o.tint_check):
        assert control.isVisibleTo(o)
    with qtbot.waitSignal(w.session.run_finished, timeout=30000):
        w.run_current()
    base = w.session.result.image
    runs = []
    real = jobs.process
    monkeypatch.setattr(jobs, "process", lambda *a, **k: runs.append(k) or real(*a, **k))
    steps = [
        ("weight +2", lambda: o.weight_slider.setValue(2)),
        ("weight -1", lambda: o.weight_slider.setValue(-1)),
        ("clean-up 70%", lambda: o.threshold_slider.setValue(70)),
        ("colour lines", lambda: o.tint_check.setChecked(True)),
        ("transparent", lambda: o.transparent_check.setChecked(True)),
        ("specks", lambda: o.speck_spin.setValue(500)),
    ]
    seen = [base]
    for name, action in steps:
        shown = _change(w, qtbot, action)
        assert runs == [], name  # the network did not run again: only the line controls were redone
        opts = o.process_options()
        monkeypatch.setattr(jobs, "process", real)
        saved, _info = jobs.process(w.session.source.path, opts)  # what the queue and the CLI write
        monkeypatch.setattr(jobs, "process", lambda *a, **k: runs.append(k) or real(*a, **k))
        assert shown.shape == saved.shape and np.array_equal(shown, saved), name
        target = tmp_path / f"{len(seen)}.png"
        w._write(target, overwrite=False)  # File > Save writes what the canvas shows
        assert np.array_equal(imageio.read_image(target), shown), name
        assert not any(np.array_equal(shown, before) for before in seen if before.shape == shown.shape), name
        seen.append(shown)
    assert w.session.result.image.shape == base.shape + (4,)  # tinted lines on a transparent page
    assert (o.settings.line_weight, o.settings.line_tint) == (0, False)  # saved only when the window closes
    o.save_state()
    assert (o.settings.line_weight, o.settings.line_threshold, o.settings.line_tint) == (-1, 70, True)


def test_more_weight_shows_more_ink_and_clean_up_fewer_grays(window, qtbot, monkeypatch):
    import cv2

    from anisketch_desktop.core import pipeline

    def soft_lines(image, opts, progress=None, cancel=None, lines_only=False):  # an engine with soft gray lines
        gray = cv2.GaussianBlur(pipeline.sketch_lines(image, engine="xdog"), (0, 0), 1.2)
        return gray, jobs.RunInfo("CPU", None, 0.01)

    monkeypatch.setattr(jobs, "process", soft_lines)
    w, o = window, window.options
    with qtbot.waitSignal(w.session.run_finished, timeout=30000):
        w.run_current()
    inks = {}
    for weight in (-2, 0, 2):
        if o.weight_slider.value() == weight:
            inks[weight] = w.session.result.image
            continue
        inks[weight] = _change(w, qtbot, lambda v=weight: o.weight_slider.setValue(v))
    assert np.all(inks[2] <= inks[0]) and np.all(inks[0] <= inks[-2])
    soft = inks[2]
    crisp = _change(w, qtbot, lambda: o.threshold_slider.setValue(90))
    mids = [int(((a > 25) & (a < 230)).sum()) for a in (soft, crisp)]
    assert mids[1] < mids[0]


def test_export_svg_traces_the_lines_on_the_canvas(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w, o = window, window.options
    assert w.actions["export_svg"].isEnabled() and "SVG" in w.actions["export_svg"].text()
    target = tmp_path / "out" / "lines.svg"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target.with_suffix("")), ""))
    with qtbot.waitSignal(w.session.exported, timeout=30000):  # no result yet: the lines are drawn first
        w.actions["export_svg"].trigger()
    root = etree.parse(str(target)).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and (root.get("width"), root.get("height")) == ("160", "120")
    assert root.findall(f"{ns}path")
    o.set_mode("colorize")
    assert not w.actions["export_svg"].isEnabled()
