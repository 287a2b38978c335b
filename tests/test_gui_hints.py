"""The hint tool in Colorize mode: hints placed with the mouse colour the result, undo/redo, delete, eyedropper,
palettes, hints saved per drawing and restored, File ▸ Export Layers writes a PSD with named layers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from anisketch_desktop.core import imageio
from anisketch_desktop.core.hints import HintPoint, HintStroke
from anisketch_desktop.gui import hint_store
from anisketch_desktop.gui.main_window import MainWindow

H, W = 150, 220
BOX_A = (20, 20, 100, 130)  # x0, y0, x1, y1: two closed boxes side by side
BOX_B = (120, 20, 200, 130)
RED, BLUE, GREEN = (220, 30, 40), (30, 60, 210), (40, 190, 70)


def drawing() -> np.ndarray:
    img = np.full((H, W, 3), 255, np.uint8)
    for x0, y0, x1, y1 in (BOX_A, BOX_B):
        cv2.rectangle(img, (x0, y0), (x1, y1), (0, 0, 0), 3)
    return img


def inside(box, fx=0.5, fy=0.5) -> tuple[int, int]:
    x0, y0, x1, y1 = box
    return int(x0 + (x1 - x0) * fx), int(y0 + (y1 - y0) * fy)


def _open(qtbot, path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    w.options.set_mode("colorize")
    with qtbot.waitSignal(w.session.source_changed, timeout=10_000):
        w.open_paths([path])
    qtbot.waitUntil(lambda: w.session.result is not None, timeout=20_000)  # the proposal without hints
    qtbot.waitUntil(lambda: w.colorize._key is not None, timeout=5_000)
    return w


@pytest.fixture
def window(qtbot, tmp_path):
    path = imageio.save_image(tmp_path / "drawing.png", drawing())
    w = _open(qtbot, path)
    yield w
    w.close()


def widget_pos(window, x: float, y: float) -> QPoint:
    return window.canvas.map_to_widget(QPointF(x + 0.5, y + 0.5)).toPoint()


def result_pixel(window, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(c) for c in window.session.result.image[y, x, :3])


def wait_for(qtbot, window, x, y, color, tol=3):
    def ok():
        return np.abs(np.subtract(result_pixel(window, x, y), color)).max() <= tol

    qtbot.waitUntil(ok, timeout=10_000)


def wait_matches_core(qtbot, window):
    """The canvas shows exactly what the core renders for the hints now in the document."""
    session = window.colorize.colorizer._session
    expected = session.render(window.colorize.document.hints()).rgb
    qtbot.waitUntil(lambda: np.array_equal(window.session.result.image, expected), timeout=10_000)


def click(qtbot, window, x, y, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(window.canvas, button, modifier, widget_pos(window, x, y))


def test_the_tool_is_on_in_colorize_mode_only(window):
    assert window.colorize.tool.enabled() and window.colorize.dock.isVisible()
    window.options.set_mode("sketch")
    assert not window.colorize.tool.enabled() and not window.colorize.dock.isVisible()
    window.options.set_mode("colorize")
    assert window.colorize.tool.enabled()


def test_click_drops_a_dot_that_colours_its_region(window, qtbot):
    window.colorize.tool.set_color(RED)
    click(qtbot, window, *inside(BOX_A))
    items = window.colorize.document.items()
    assert len(items) == 1 and isinstance(items[0], HintPoint) and items[0].color == RED
    assert np.abs(np.subtract((items[0].x, items[0].y), inside(BOX_A))).max() <= 1.0
    wait_for(qtbot, window, *inside(BOX_A, 0.2, 0.8), RED)
    assert result_pixel(window, *inside(BOX_B)) != RED  # the other region keeps the proposal
    assert window.colorize.panel.count_label.text() == "1 hint"


def test_drag_draws_a_stroke(window, qtbot):
    window.colorize.tool.set_color(BLUE)
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget_pos(window, *inside(BOX_B, 0.3, 0.3)))
    for f in np.linspace(0.3, 0.7, 12):
        qtbot.mouseMove(canvas, widget_pos(window, *inside(BOX_B, f, f)))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget_pos(window, *inside(BOX_B, 0.7, 0.7)))
    items = window.colorize.document.items()
    assert len(items) == 1 and isinstance(items[0], HintStroke) and len(items[0].points) >= 3
    assert items[0].color == BLUE
    wait_for(qtbot, window, *inside(BOX_B, 0.9, 0.1), BLUE)
    assert result_pixel(window, *inside(BOX_A)) != BLUE


def test_right_click_and_delete_remove_the_hint_under_the_cursor(window, qtbot):
    proposal_a, proposal_b = result_pixel(window, *inside(BOX_A)), result_pixel(window, *inside(BOX_B))
    tool = window.colorize.tool
    tool.set_color(RED)
    click(qtbot, window, *inside(BOX_A))
    tool.set_color(BLUE)
    click(qtbot, window, *inside(BOX_B))
    wait_for(qtbot, window, *inside(BOX_A), RED)
    click(qtbot, window, *inside(BOX_A), button=Qt.MouseButton.RightButton)
    assert [i.color for i in window.colorize.document.items()] == [BLUE]
    wait_matches_core(qtbot, window)
    assert result_pixel(window, *inside(BOX_A)) != RED
    qtbot.mouseMove(window.canvas, widget_pos(window, *inside(BOX_B)))
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert len(window.colorize.document) == 0
    wait_for(qtbot, window, *inside(BOX_A), proposal_a)  # both back to the proposal
    wait_for(qtbot, window, *inside(BOX_B), proposal_b)


def test_undo_and_redo_with_the_keyboard(window, qtbot):
    proposal = result_pixel(window, *inside(BOX_A))
    window.colorize.tool.set_color(GREEN)
    click(qtbot, window, *inside(BOX_A))
    wait_for(qtbot, window, *inside(BOX_A), GREEN)
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.colorize.document) == 0
    wait_for(qtbot, window, *inside(BOX_A), proposal)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.colorize.document) == 1
    wait_for(qtbot, window, *inside(BOX_A), GREEN)


def test_eyedropper_picks_from_the_canvas_and_the_reference(window, qtbot):
    tool, panel = window.colorize.tool, window.colorize.panel
    tool.set_color(RED)
    click(qtbot, window, *inside(BOX_A))
    wait_for(qtbot, window, *inside(BOX_A), RED)
    window.canvas.set_split(0.0)  # the whole canvas shows the result
    tool.set_color(BLUE)
    click(qtbot, window, *inside(BOX_A, 0.3, 0.3), modifier=Qt.KeyboardModifier.AltModifier)
    assert tool.color() == RED and panel.palette.color() == RED
    assert len(window.colorize.document) == 1  # picking adds no hint
    reference = np.zeros((40, 60, 3), np.uint8)
    reference[:, 30:] = GREEN
    window.colorize.set_reference(reference)
    view = panel.reference_view
    view.resize(120, 80)
    left, top = (view.width() - 60) // 2, (view.height() - 40) // 2
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(left + 45, top + 20))
    assert tool.color() == GREEN
    assert window.colorize.colorizer._inputs[3] is reference  # the reference goes to the session


def test_palettes_are_saved_per_character_and_recent_colours_kept(window, qtbot):
    palette = window.colorize.panel.palette
    palette.choose(RED)
    assert window.colorize.tool.color() == RED
    click(qtbot, window, *inside(BOX_A))
    palette.choose(BLUE)
    click(qtbot, window, *inside(BOX_B))
    assert palette.recent.colors[:2] == [BLUE, RED]
    assert palette.save_palette_as("Mika")
    saved = hint_store.list_palettes()
    assert [p.name for p in saved] == ["Mika"] and set(saved[0].colors) == {RED, BLUE}
    palette.choose(GREEN)
    palette.add_current_to_palette()
    assert hint_store.list_palettes()[0].colors[-1] == GREEN
    swatch = palette.palette_grid.swatches()[0]
    qtbot.mouseClick(swatch, Qt.MouseButton.LeftButton)
    assert window.colorize.tool.color() == swatch.color


def test_hints_are_saved_and_come_back_when_the_drawing_is_reopened(qtbot, tmp_path):
    path = imageio.save_image(tmp_path / "page.png", drawing())
    first = _open(qtbot, path)
    first.colorize.tool.set_color(RED)
    click(qtbot, first, *inside(BOX_A))
    first.colorize.tool.set_color(BLUE)
    click(qtbot, first, *inside(BOX_B))
    first.close()  # saves at once (no waiting for the save timer)
    files = list(hint_store.hints_dir().glob("*.json"))
    assert len(files) == 1
    again = _open(qtbot, path)
    qtbot.waitUntil(lambda: len(again.colorize.document) == 2, timeout=5000)
    assert [i.color for i in again.colorize.document.items()] == [RED, BLUE]
    wait_for(qtbot, again, *inside(BOX_A), RED)
    wait_for(qtbot, again, *inside(BOX_B), BLUE)
    again.close()


def test_many_quick_changes_are_coalesced(window, qtbot):
    renders = []
    window.colorize.colorizer.result_ready.connect(renders.append)
    for i in range(8):
        window.colorize.tool.set_color((30 * i, 100, 100))
        click(qtbot, window, *inside(BOX_A, 0.2 + 0.08 * i, 0.5))
    wait_for(qtbot, window, *inside(BOX_A, 0.8, 0.5), (210, 100, 100))  # nearest dot: the last one
    wait_matches_core(qtbot, window)
    assert len(renders) < 8


def test_export_layers_writes_a_psd_with_named_layers(window, qtbot, tmp_path, monkeypatch):
    psd_tools = pytest.importorskip("psd_tools")
    window.colorize.tool.set_color(RED)
    click(qtbot, window, *inside(BOX_A))
    wait_for(qtbot, window, *inside(BOX_A), RED)
    target = tmp_path / "out" / "drawing_colorize.psd"
    target.parent.mkdir()
    with qtbot.waitSignal(window.colorize.layers_exported, timeout=20_000):
        assert window.colorize.export_layers_to(target)
    psd = psd_tools.PSDImage.open(target)
    names = [layer.name for layer in psd]
    assert names[:2] == ["flats", "lines"] or set(names) >= {"flats", "lines"}
    flats = np.asarray(next(layer for layer in psd if layer.name == "flats").composite())[..., :3]
    assert tuple(flats[inside(BOX_A)[1], inside(BOX_A)[0]]) == RED
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    before = target.stat().st_mtime_ns
    assert not window.colorize.export_layers_to(target)  # exists: asks, the answer is No
    assert asked and target.stat().st_mtime_ns == before


def test_soft_adds_a_shading_layer_and_flat_is_one_setting_with_the_side_panel(window, qtbot, tmp_path):
    psd_tools = pytest.importorskip("psd_tools")
    tool, panel = window.colorize, window.colorize.panel
    panel.soft_check.setChecked(True)
    qtbot.waitUntil(lambda: tool.last_result() is not None and tool.last_result().colorized.shading is not None,
                    timeout=10_000)
    target = tmp_path / "soft.psd"
    with qtbot.waitSignal(tool.layers_exported, timeout=20_000):
        tool.export_layers_to(target)
    assert [layer.name for layer in psd_tools.PSDImage.open(target)] == ["flats", "shading", "lines"]
    window.options.flats_check.setChecked(False)
    assert not panel.flat_check.isChecked()
    panel.flat_check.setChecked(True)
    assert window.options.flats_check.isChecked()


def test_export_asks_and_replaces_when_told_to(window, qtbot, tmp_path, monkeypatch):
    target = tmp_path / "taken.psd"
    target.write_bytes(b"old")
    qtbot.waitUntil(lambda: window.colorize.last_result() is not None, timeout=10_000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.colorize.layers_exported, timeout=20_000):
        assert window.colorize.export_layers_to(target)
    assert target.read_bytes()[:4] == b"8BPS"  # a PSD now


def test_hints_of_a_pasted_picture_are_kept_by_its_pixels(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.options.set_mode("colorize")
    with qtbot.waitSignal(w.session.source_changed, timeout=10_000):
        w.session.open_array(drawing())
    qtbot.waitUntil(lambda: w.colorize._key is not None and w.session.result is not None, timeout=20_000)
    assert w.colorize._key.startswith("pasted-")
    w.colorize.tool.set_color(RED)
    click(qtbot, w, *inside(BOX_A))
    w.colorize.save_hints()
    path = imageio.save_image(tmp_path / "saved_paste.png", drawing())  # the same pixels, saved to a file
    with qtbot.waitSignal(w.session.source_changed, timeout=10_000):
        w.open_paths([path])
    qtbot.waitUntil(lambda: len(w.colorize.document) == 1, timeout=5000)
    assert w.colorize.document.items()[0].color == RED
    w.close()


def test_keyboard_only_places_and_removes_hints(window, qtbot):
    canvas, tool = window.canvas, window.colorize.tool
    canvas.setFocus()
    tool.set_color(GREEN)
    centre = canvas.image_rect().center()
    target = widget_pos(window, *inside(BOX_B))
    steps_x = round((target.x() - centre.x()) / 10)
    for _ in range(abs(steps_x)):
        qtbot.keyClick(canvas, Qt.Key.Key_Right if steps_x > 0 else Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    items = window.colorize.document.items()
    assert len(items) == 1 and items[0].color == GREEN
    x0, y0, x1, y1 = BOX_B
    assert x0 < items[0].x < x1 and y0 < items[0].y < y1
    wait_for(qtbot, window, *inside(BOX_B, 0.8, 0.2), GREEN)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(window.colorize.document) == 0
    width = window.colorize.panel.width_spin.value()
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert window.colorize.panel.width_spin.value() > width and tool.width() > width


def test_add_to_queue_and_save_carry_the_live_hints(window, qtbot, tmp_path, monkeypatch):
    window.colorize.tool.set_color(RED)
    click(qtbot, window, *inside(BOX_A))
    wait_for(qtbot, window, *inside(BOX_A), RED)
    window.queue.folder_edit.setText(str(tmp_path / "queued"))
    window.enqueue_current()
    done = []
    window.queue.runner.batch_finished.connect(done.append)
    window.queue.runner.start()
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    written = list((tmp_path / "queued").glob("*.png"))
    assert len(written) == 1
    queued = imageio.read_image(written[0])
    x, y = inside(BOX_A)
    assert np.abs(queued[y, x, :3].astype(int) - RED).max() <= 3  # the queue used the hints on the canvas
    assert np.array_equal(queued[..., :3], window.session.result.image[..., :3])


def test_the_hand_and_the_middle_button_pan_without_adding_hints(window, qtbot):
    canvas = window.canvas
    canvas.set_view(2.0, QPointF(W / 2, H / 2))

    def drag(button):
        start = canvas.rect().center() - QPoint(100, 0)  # off the before/after divider
        qtbot.mousePress(canvas, button, pos=start)
        for dx in range(5, 45, 5):
            qtbot.mouseMove(canvas, start + QPoint(dx, 0))
        qtbot.mouseRelease(canvas, button, pos=start + QPoint(40, 0))

    drag(Qt.MouseButton.MiddleButton)  # brush tool: the middle button pans
    assert canvas.center().x() == pytest.approx(W / 2 - 40 / 2.0, abs=1.0)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_H)
    assert window.colorize.tool.mode() == "pan" and window.colorize.panel.pan_button.isChecked()
    drag(Qt.MouseButton.LeftButton)  # the hand: the left button pans
    assert canvas.center().x() == pytest.approx(W / 2 - 80 / 2.0, abs=1.0)
    assert len(window.colorize.document) == 0
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    assert window.colorize.tool.mode() == "brush"


def test_save_in_colorize_writes_the_picture_on_the_canvas(window, qtbot, tmp_path):
    window.colorize.tool.set_color(BLUE)
    click(qtbot, window, *inside(BOX_B))
    wait_for(qtbot, window, *inside(BOX_B), BLUE)
    window.queue.folder_edit.setText(str(tmp_path / "saved"))
    target = window.default_save_path()
    window.save()
    qtbot.waitUntil(target.exists, timeout=10_000)
    assert np.array_equal(imageio.read_image(target)[..., :3], window.session.result.image[..., :3])
