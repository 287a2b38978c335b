"""The dataset wizard end to end: an empty folder -> crawl (local Moebooru server) -> sketches -> review with
real key presses -> a short training run -> the new model selected in the main window."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from moebooru_server import MoebooruServer
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from anisketch_desktop import paths
from anisketch_desktop.gui.main_window import MainWindow
from anisketch_desktop.gui.wizard import DatasetWizard, jobs


def decisions(dataset: Path) -> dict[str, str | None]:
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:
        return dict(conn.execute("SELECT id, decision FROM images WHERE sketch_path IS NOT NULL"))


def wait_idle(qtbot, wizard, timeout=30_000):
    qtbot.waitUntil(lambda: not wizard.ctx.is_busy(), timeout=timeout)


@pytest.fixture
def server():
    with MoebooruServer(n_posts=8) as srv:
        yield srv


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    yield win
    win.queue.runner.shutdown()
    win.session.shutdown()


def open_wizard(qtbot, window, dataset: Path) -> DatasetWizard:
    wizard = DatasetWizard(window)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.folder_page.path_edit.setText(str(dataset))
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.ctx.dataset_dir == dataset.resolve()
    assert wizard.current_page() is wizard.crawl_page
    return wizard


def crawl(qtbot, wizard, server, count=6):
    page = wizard.crawl_page
    page.site_edit.setText(server.url)
    page.count_spin.setValue(count)
    page.delay_spin.setValue(0.01)
    assert not page.start_button.isEnabled()  # the notice must be accepted first
    page.agree_check.setChecked(True)
    assert page.start_button.isEnabled()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)


def test_empty_folder_to_a_trained_model_selected_in_the_main_window(qtbot, window, server, tmp_path):
    dataset = tmp_path / "my dataset"
    wizard = open_wizard(qtbot, window, dataset)

    # 1. crawl six posts from the local server
    crawl(qtbot, wizard, server)
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:
        rows = conn.execute("SELECT id, state, path FROM images ORDER BY id").fetchall()
    assert len(rows) == 6 and {state for _, state, _ in rows} == {"done"}
    for image_id, _, path in rows:  # byte for byte what the server sent
        assert (dataset / path).read_bytes() == server.post(int(image_id)).sample
    assert "saved images/" in wizard.crawl_page.log_view.toPlainText()
    assert "<b>6</b> pictures" in wizard.crawl_page.counts_label.text()
    assert wizard.crawl_page.banner.kind == "success"

    # 2. sketches: the preview renders off the GUI thread, then Generate writes a sketch per picture
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    pairs = wizard.pairs_page
    assert wizard.current_page() is pairs
    qtbot.waitUntil(lambda: pairs.sketch_pane.image is not None, timeout=10_000)
    assert "clarity" in pairs.sketch_pane.caption
    pairs.xdog_panel.apply_preset("bold")
    qtbot.mouseClick(pairs.generate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard)
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:
        sketches = conn.execute("SELECT sketch_path, clarity, sketch_params FROM images").fetchall()
    assert len(sketches) == 6 and all((dataset / s).is_file() and c is not None for s, c, _ in sketches)
    assert all('"mode": "bold"' in params for _, _, params in sketches)
    assert pairs.histogram.total == 6

    # 3. review with real key presses on the grid
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    review = wizard.review_page
    grid = review.grid
    assert review.model.rowCount() == 6
    order = [rec.id for rec in review.model.records]
    scores = [rec.clarity for rec in review.model.records]
    assert scores == sorted(scores, reverse=True)  # clearest first
    qtbot.waitUntil(lambda: len(review.loader.built) >= 6, timeout=10_000)  # thumbnails arrived
    assert all((dataset / "cache" / "thumbs" / "128" / f"{i}.sketch.jpg").is_file() for i in order)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Right)  # approve #0, move on
    qtbot.keyClick(grid, Qt.Key.Key_X)  # reject #1
    qtbot.keyClick(grid, Qt.Key.Key_Space)  # approve #2
    qtbot.keyClick(grid, Qt.Key.Key_Up)  # skip #3
    qtbot.keyClick(grid, Qt.Key.Key_Delete)  # reject #4
    assert [decisions(dataset)[i] for i in order] == ["approved", "rejected", "approved", None, "rejected", None]
    assert review.current_id() == order[5]
    assert review.counter.text() == "Reviewed 4 / 6 · ✓ 2 ✗ 2"
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the rejection of #4
    assert decisions(dataset)[order[4]] is None and review.current_id() == order[4]
    qtbot.keyClick(grid, Qt.Key.Key_Backspace)  # undo the approval of #2
    assert decisions(dataset)[order[2]] is None and review.current_id() == order[2]
    assert review.counter.text() == "Reviewed 2 / 6 · ✓ 1 ✗ 1"
    # bulk: select #2..#5 and approve them in one step
    selection = QItemSelection(review.model.index(2), review.model.index(5))
    grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.mouseClick(review.approve_button, Qt.MouseButton.LeftButton)
    assert [decisions(dataset)[i] for i in order] == ["approved", "rejected"] + ["approved"] * 4
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step for the bulk
    assert [decisions(dataset)[i] for i in order[2:]] == [None] * 4
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # redo nothing: undo #1 too
    grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.mouseClick(review.approve_button, Qt.MouseButton.LeftButton)
    # one by one: the large view takes the same keys and moves on by itself
    qtbot.mouseClick(review.single_button, Qt.MouseButton.LeftButton)
    review.set_current_row(1)
    qtbot.keyClick(review.single, Qt.Key.Key_X)
    assert decisions(dataset)[order[1]] == "rejected" and review.current_id() == order[2]
    assert order[2] in review.single.info.text()
    qtbot.waitUntil(lambda: review.single.sketch.image is not None, timeout=10_000)
    assert review.counter.text() == "Reviewed 6 / 6 · ✓ 5 ✗ 1"
    review.filter_combo.setCurrentIndex(review.filter_combo.findData("rejected"))
    assert [rec.id for rec in review.model.records] == [order[1]]

    # 4. a very short training run on the five approved pairs, with the tiny model
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    train = wizard.train_page
    assert wizard.current_page() is train
    train.tiny_check.setChecked(True)
    train.steps_spin.setValue(3)
    train.device_combo.setCurrentIndex(train.device_combo.findData("cpu"))
    train.name_edit.setText("wizard test")
    assert wizard.steps.item(4).text() == "5   Train"  # nothing trained yet
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, wizard, timeout=60_000)
    assert train.banner.kind == "success", train.banner.text()
    model_file = paths.user_models_dir() / "wizard-test-sketch.safetensors"
    assert model_file.is_file()
    assert wizard.steps.item(4).text() == "✓   Train"
    assert [(m["task"], m["path"]) for m in jobs.trained_models(dataset)] == [("sketch", str(model_file))]
    assert [s for s, _ in train.curve.series["sketch"]] == [1, 2, 3]
    combo = window.options.sketch_model_combo
    assert combo.findData(str(model_file)) >= 0, [combo.itemData(i) for i in range(combo.count())]
    assert combo.currentData() == str(model_file)  # selected, ready to sketch with
    assert "wizard test (sketch)" in combo.currentText()
    wizard.close()


def test_a_crawl_where_every_download_failed_says_so(qtbot, window, server, tmp_path):
    server.inject("/sample/", "status", times=100, code=404)
    wizard = open_wizard(qtbot, window, tmp_path / "failing")
    try:
        crawl(qtbot, wizard, server, count=3)
        banner = wizard.crawl_page.banner
        assert banner.kind == "error" and "Every download of this crawl failed (8)" in banner.text()  # all 8 tried
        assert "HTTP 404" in banner.text()
    finally:
        wizard.shutdown()
