"""The parts under the hint tool: the hint document (undo, hit testing), where hints and palettes are stored,
and the guided colorizer's worker orchestration (restarts, failures, retry)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.core.hints import HintPoint, Hints, HintStroke
from anisketch_desktop.gui import hint_store
from anisketch_desktop.gui.guided_session import GuidedColorizer
from anisketch_desktop.gui.hint_document import MAX_UNDO, HintDocument, item_distance

RED, BLUE = (220, 30, 40), (30, 60, 210)


def test_document_edits_undo_and_redo(qtbot):
    doc = HintDocument()
    changes = []
    doc.changed.connect(lambda: changes.append(len(doc)))
    doc.add_point(10, 12, RED)
    doc.add_stroke([(1, 1), (30, 1)], BLUE, 4)
    doc.add_stroke([(5, 5)], BLUE, 4)  # a one-point stroke is a dot
    assert [type(i) for i in doc.items()] == [HintPoint, HintStroke, HintPoint]
    hints = doc.hints()
    assert len(hints.points) == 2 and len(hints.strokes) == 1
    doc.remove(0)
    assert doc.undo() and len(doc) == 3 and doc.items()[0] == HintPoint(10.0, 12.0, RED)
    assert doc.undo() and doc.undo() and doc.undo() and len(doc) == 0 and not doc.undo()
    assert doc.redo() and doc.redo() and len(doc) == 2
    doc.add_point(0, 0, RED)  # a new edit drops the redo stack
    assert not doc.can_redo()
    assert changes == [1, 2, 3, 2, 3, 2, 1, 0, 1, 2, 3]


def test_document_keeps_a_bounded_history(qtbot):
    doc = HintDocument()
    for i in range(MAX_UNDO + 20):
        doc.add_point(i, 0, RED)
    undone = 0
    while doc.undo():
        undone += 1
    assert undone == MAX_UNDO and len(doc) == 20


def test_hit_finds_the_topmost_hint_within_reach(qtbot):
    doc = HintDocument()
    doc.add_stroke([(0, 10), (100, 10)], BLUE, 6)
    doc.add_point(50, 11, RED)
    assert doc.hit(50, 11, 2) == 1  # the dot lies over the stroke
    assert doc.hit(20, 12, 2) == 0  # inside the stroke's width
    assert doc.hit(20, 30, 5) is None
    assert item_distance(doc.items()[0], 20, 20) == pytest.approx(7.0)  # 10 from the line, minus half the width
    doc.load(Hints((HintPoint(1, 1, RED),), (HintStroke(((0, 0), (5, 5)), BLUE, 2),)))
    assert isinstance(doc.items()[0], HintStroke) and not doc.can_undo()  # strokes first, as rasterized


def test_hints_are_found_by_path_or_by_pixels(tmp_path):
    image = np.zeros((40, 50), np.uint8)
    edited = image.copy()
    edited[0, 0] = 255
    hints = Hints((HintPoint(45, 35, RED),))
    key = hint_store.drawing_key(tmp_path / "a.png", image)
    assert key != hint_store.drawing_key(tmp_path / "b.png", image)
    assert key != hint_store.drawing_key(tmp_path / "a.png", edited)
    hint_store.store_hints(key, hints)
    assert hint_store.find_hints(key, image.shape) == hints
    # edited in place: same path, new pixels
    assert hint_store.find_hints(hint_store.drawing_key(tmp_path / "a.png", edited), image.shape) == hints
    # moved: same pixels, new path; pasted: same pixels, no path
    assert hint_store.find_hints(hint_store.drawing_key(tmp_path / "moved.png", image), image.shape) == hints
    assert hint_store.find_hints(hint_store.drawing_key(None, image), image.shape) == hints
    # edited and cropped so that the hint falls outside: not these hints
    small = np.zeros((30, 30), np.uint8)
    assert hint_store.find_hints(hint_store.drawing_key(tmp_path / "a.png", small), small.shape) is None
    assert hint_store.find_hints(hint_store.drawing_key(tmp_path / "other.png", edited), image.shape) is None
    hint_store.store_hints(key, Hints())  # no hints left: the file goes
    assert not list(hint_store.hints_dir().glob("*.json"))


def test_palettes_save_list_and_delete(tmp_path):
    hint_store.save_palette(hint_store.Palette("Mika / school", [RED, BLUE]))
    hint_store.save_palette(hint_store.Palette("aki", [BLUE]))
    (hint_store.palettes_dir() / "broken.json").write_text("{not json", encoding="utf-8")
    found = hint_store.list_palettes()
    assert [p.name for p in found] == ["aki", "Mika / school"]  # the broken file is skipped
    assert found[1].colors == [RED, BLUE]
    hint_store.save_palette(hint_store.Palette("aki", [RED]))  # same name: replaced
    assert [p.colors for p in hint_store.list_palettes() if p.name == "aki"] == [[RED]]
    hint_store.delete_palette("Mika / school")
    assert [p.name for p in hint_store.list_palettes()] == ["aki"]
    with pytest.raises(Exception, match="needs a name"):
        hint_store.save_palette(hint_store.Palette("  ", [RED]))


def _drawing():
    img = np.full((60, 80), 255, np.uint8)
    img[:, 40] = 0
    return img


def test_colorizer_restarts_when_the_drawing_changes_while_preparing(qtbot, tiny_colorize_model):
    colorizer = GuidedColorizer()
    results = []
    colorizer.result_ready.connect(results.append)
    first, second = _drawing(), 255 - _drawing()
    colorizer.configure(first, tiny_colorize_model, "cpu")
    colorizer.request(Hints())
    colorizer.configure(second, tiny_colorize_model, "cpu")  # before the first prepare has finished
    colorizer.request(Hints((HintPoint(10, 10, RED),)))
    qtbot.waitUntil(lambda: bool(results) and not colorizer.is_busy(), timeout=30_000)
    assert len(results) == 1  # nothing for the replaced drawing
    assert np.array_equal(results[0].colorized.lines, second)
    assert tuple(results[0].colorized.flats[10, 10]) == RED
    colorizer.shutdown()


def test_colorizer_reports_a_failed_prepare_once_and_retries_on_run(qtbot, tmp_path):
    bad = tmp_path / "not_a_model.safetensors"
    bad.write_bytes(b"nonsense")
    colorizer = GuidedColorizer()
    failures = []
    colorizer.failed.connect(lambda title, reason: failures.append(reason))
    colorizer.configure(_drawing(), bad, "cpu")
    colorizer.request(Hints())
    qtbot.waitUntil(lambda: bool(failures) and not colorizer._preparer.is_busy(), timeout=30_000)
    assert "not_a_model" in failures[0]
    colorizer.request(Hints((HintPoint(1, 1, RED),)))  # an edit does not retry a failed drawing again and again
    qtbot.wait(300)
    assert len(failures) == 1
    colorizer.request(Hints(), retry=True)  # Run does
    qtbot.waitUntil(lambda: len(failures) == 2, timeout=30_000)
    colorizer.shutdown()


def test_colorizer_cancel_stops_the_prepare_and_run_starts_again(qtbot, tiny_colorize_model):
    colorizer = GuidedColorizer()
    results, busy = [], []
    colorizer.result_ready.connect(results.append)
    colorizer.busy_changed.connect(busy.append)
    colorizer.configure(_drawing(), tiny_colorize_model, "cpu")
    colorizer.request(Hints())
    colorizer.cancel()  # Esc at once
    qtbot.waitUntil(lambda: not colorizer.is_busy(), timeout=30_000)
    qtbot.wait(200)
    assert not results and not colorizer.is_prepared() and busy[-1] == ""
    colorizer.request(Hints((HintPoint(10, 10, RED),)), retry=True)
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    assert tuple(results[-1].colorized.flats[10, 10]) == RED
    colorizer.shutdown()
