"""The before/after canvas: one transform for both sides, drawn where the mapping says, at every zoom."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt

from anisketch_desktop.gui.compare_view import CompareView
from anisketch_desktop.gui.imaging import build_pyramid

W, H = 320, 240


def _pictures():
    """Before: red rises left to right, green top to bottom. After: its colour negative."""
    yy, xx = np.mgrid[0:H, 0:W]
    before = np.dstack([xx * 255 // (W - 1), yy * 255 // (H - 1), np.full_like(xx, 40)]).astype(np.uint8)
    return before, 255 - before


@pytest.fixture
def view(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    qtbot.waitExposed(widget)
    before, after = _pictures()
    widget.set_before(build_pyramid(before))
    widget.set_after(build_pyramid(after), "After")
    return widget, before, after


def _pixel(image, pt: QPointF):
    c = image.pixelColor(int(pt.x()), int(pt.y()))
    return np.array([c.red(), c.green(), c.blue()])


POINTS = [QPointF(40.5, 30.5), QPointF(160.5, 120.5), QPointF(300.5, 200.5)]


@pytest.mark.parametrize("layout", ["split", "side"])
@pytest.mark.parametrize("scale", [0.6, 1.0, 2.0, 3.5])
def test_same_picture_point_on_both_sides(view, layout, scale):
    widget, before, after = view
    widget.set_layout_mode(layout)
    widget.set_view(scale, QPointF(W / 2, H / 2))
    checked = 0
    for pt in POINTS:
        on_before = widget.map_to_widget(pt, "before")
        on_after = widget.map_to_widget(pt, "after")
        if not widget.pane_rect("before").contains(on_before):
            continue  # zoomed in: this point is outside the visible part
        checked += 1
        back_before, side_b = widget.map_to_image(on_before)
        assert (back_before.x(), back_before.y()) == pytest.approx((pt.x(), pt.y()))
        if layout == "side":
            back_after, side_a = widget.map_to_image(on_after)
            assert side_b == "before" and side_a == "after"
            assert (back_after.x(), back_after.y()) == pytest.approx((pt.x(), pt.y()))
            # same zoom and pan on both sides: the after pane is the before pane shifted sideways
            shift = widget.pane_rect("after").left() - widget.pane_rect("before").left()
            assert on_after.x() - on_before.x() == pytest.approx(shift)
            assert on_after.y() == pytest.approx(on_before.y())
        else:
            assert on_after == on_before
    assert checked >= 1


@pytest.mark.parametrize("scale", [0.6, 1.0, 2.5])
def test_pixels_drawn_where_the_mapping_says(view, scale):
    """Side by side: the grabbed widget shows before[p] at map(p, before) and after[p] at map(p, after)."""
    widget, before, after = view
    widget.set_layout_mode("side")
    widget.set_view(scale, QPointF(W / 2, H / 2))
    shot = widget.grab().toImage()
    for pt in POINTS:
        if not widget.pane_rect("before").contains(widget.map_to_widget(pt, "before")):
            continue
        x, y = int(pt.x()), int(pt.y())
        assert np.abs(_pixel(shot, widget.map_to_widget(pt, "before")) - before[y, x]).max() <= 12
        assert np.abs(_pixel(shot, widget.map_to_widget(pt, "after")) - after[y, x]).max() <= 12


def test_split_line_and_hold_space_for_the_original(view, qtbot):
    widget, before, after = view
    widget.set_layout_mode("split")
    widget.set_view(1.5, QPointF(W / 2, H / 2))
    widget.set_split(0.5)
    left = widget.map_to_widget(QPointF(100.5, 120.5))  # left of the line: before
    right = widget.map_to_widget(QPointF(220.5, 120.5))  # right of the line: after
    assert left.x() < widget.split_x() < right.x()
    shot = widget.grab().toImage()
    assert np.abs(_pixel(shot, left) - before[120, 100]).max() <= 12
    assert np.abs(_pixel(shot, right) - after[120, 220]).max() <= 12
    widget.setFocus()
    qtbot.keyPress(widget, Qt.Key.Key_Space)
    assert widget.show_original()
    shot = widget.grab().toImage()
    assert np.abs(_pixel(shot, right) - before[120, 220]).max() <= 12
    qtbot.keyRelease(widget, Qt.Key.Key_Space)
    assert not widget.show_original()


def test_dragging_the_split_line_moves_it(view, qtbot):
    widget, _, _ = view
    widget.set_split(0.5)
    y = widget.height() // 2
    start = QPointF(widget.split_x(), y)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start.toPoint())
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(200, y), QPointF(200, y), Qt.MouseButton.NoButton,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.mouseMoveEvent(move)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPointF(200, y).toPoint())
    assert widget.split() == pytest.approx(200 / widget.width())


def test_wheel_zoom_keeps_the_point_under_the_cursor(view):
    widget, _, _ = view
    widget.set_view(1.0, QPointF(W / 2, H / 2))
    anchor = QPointF(250, 180)
    under, _ = widget.map_to_image(anchor)
    for factor in (1.6, 1.6, 0.3):
        widget.zoom_by(factor, anchor)
        now, _ = widget.map_to_image(anchor)
        assert (now.x(), now.y()) == pytest.approx((under.x(), under.y()))
    assert widget.scale() == pytest.approx(1.6 * 1.6 * 0.3)


def test_fit_and_actual_size(view):
    widget, _, _ = view
    widget.fit()
    rect = widget.image_rect()
    pane = widget.pane_rect("before")
    assert rect.width() == pytest.approx(pane.width()) or rect.height() == pytest.approx(pane.height())
    widget.actual_size()
    assert widget.scale() == 1.0
    assert widget.image_rect().width() == pytest.approx(W)


def test_zoomed_out_draws_from_a_small_pyramid_level():
    big = np.zeros((1536, 2048, 3), np.uint8)
    pyramid = build_pyramid(big)
    assert pyramid.factors == [1.0, 0.5, 0.25]
    assert pyramid.levels[-1].width() == 512
    level, factor = pyramid.level_for(0.2)
    assert (level.width(), factor) == (512, 0.25)
    level, factor = pyramid.level_for(0.4)
    assert factor == 0.5
    level, factor = pyramid.level_for(3.0)
    assert factor == 1.0


def test_empty_canvas_shows_the_hint(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    shot = widget.grab().toImage()
    colours = {shot.pixel(x, y) for x in range(0, 600, 3) for y in range(150, 250, 3)}
    assert len(colours) > 3  # the dashed frame and the text, not a blank field
