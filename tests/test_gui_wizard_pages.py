"""Dataset wizard pages one at a time, on a small dataset made without the GUI: the sidebar's step marks, the
counts of the folder page, and layout details checked on the real widgets (geometry and rendered pixels)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QStyleFactory, QWidget

from anisketch_desktop.gui.wizard import DatasetWizard, jobs
from anisketch_desktop.gui.wizard.widgets import Histogram

TRAIN_STEP = 4


@pytest.fixture(scope="module")
def dataset_template(tmp_path_factory) -> Path:
    """A dataset of six small imported pictures with their XDoG sketches (no decisions, no training)."""
    from anisketch_desktop.core import imageio
    from anisketch_desktop.dataset.importer import import_folder
    from anisketch_desktop.dataset.pairs import generate_pairs

    root = tmp_path_factory.mktemp("wizard_pages")
    pictures = root / "pictures"
    rng = np.random.default_rng(0)
    for i in range(6):
        image = np.full((48, 64, 3), 200, np.uint8)
        image[8 + i:30 + i, 10:40 + 3 * i] = rng.integers(0, 255, 3, dtype=np.uint8)
        imageio.save_image(pictures / f"p{i}.png", image, overwrite=True)
    dataset = root / "dataset"
    assert import_folder(dataset, pictures).added == 6
    assert generate_pairs(dataset, "default").generated == 6
    return dataset


@pytest.fixture
def dataset(dataset_template, tmp_path) -> Path:
    import shutil

    target = tmp_path / "dataset"
    shutil.copytree(dataset_template, target)
    return target


@pytest.fixture
def wizard(qtbot, dataset):
    wiz = DatasetWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    assert wiz.folder_page.open_folder(str(dataset))
    yield wiz
    wiz.shutdown()


@pytest.fixture
def dark_theme(qapp):
    """The app's real dark theme (qdarkstyle) for one test; the previous look is restored afterwards."""
    from anisketch_desktop.gui.theme import apply_theme

    sheet, palette, style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    apply_theme(qapp, "dark")
    yield
    qapp.setStyleSheet(sheet)
    qapp.setStyle(QStyleFactory.create(style))
    qapp.setPalette(palette)


def step_text(wiz: DatasetWizard, row: int) -> str:
    return wiz.steps.item(row).text()


def ticked(wiz: DatasetWizard, row: int) -> bool:
    return step_text(wiz, row).startswith("✓")


# ---------------------------------------------------------------------------------------------------- 1
def test_train_step_is_ticked_only_once_a_model_was_trained_from_the_dataset(qtbot, wizard, dataset,
                                                                            monkeypatch):
    assert [ticked(wizard, i) for i in range(5)] == [True, True, True, False, False]
    assert step_text(wizard, TRAIN_STEP) == "5   Train"

    # not ticked, yet reachable from the sidebar
    wizard.steps.setCurrentRow(TRAIN_STEP)
    assert wizard.current_page() is wizard.train_page
    assert wizard.train_page.isVisible()
    assert not ticked(wizard, TRAIN_STEP)

    # an unfinished (cancelled) run trained nothing
    jobs._write_info(dataset, jobs.TrainPlan.tiny(), {"sketch": 2}, finished=False)
    wizard.go(TRAIN_STEP)
    assert not ticked(wizard, TRAIN_STEP)
    assert wizard.train_page.resume_button.isEnabled() is False  # nothing approved yet

    # a training run that ends with a model (the real training is replaced by a stand-in that records the
    # exported model the way jobs.train does)
    from anisketch_desktop.dataset import approval

    approval.set_decision(wizard.ctx.store, [r[0] for r in wizard.ctx.store.query("SELECT id FROM images")][:3],
                          "approved")
    wizard.ctx.data_changed.emit()
    model_path = dataset / "fake-sketch.safetensors"

    def fake_train(dataset_dir, plan, resume=False, *, state):
        model_path.write_bytes(b"")
        jobs.record_model(dataset_dir, "sketch", model_path, plan.steps)
        jobs._write_info(dataset_dir, plan, {"sketch": plan.steps}, finished=True)
        return jobs.TrainResult({"sketch": str(model_path)}, {"sketch": ""}, {"sketch": plan.steps},
                                {"sketch": False}, 0.1)

    monkeypatch.setattr(jobs, "train", fake_train)
    assert not ticked(wizard, TRAIN_STEP)
    assert wizard.train_page.start_button.isEnabled()
    qtbot.mouseClick(wizard.train_page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.ctx.is_busy(), timeout=10_000)
    assert wizard.train_page.banner.kind == "success", wizard.train_page.banner.text()
    assert step_text(wizard, TRAIN_STEP) == "✓   Train"  # without leaving the page
    assert [m["path"] for m in jobs.trained_models(dataset)] == [str(model_path)]

    # a later run that is cancelled does not take the mark back: the model exists
    jobs._write_info(dataset, jobs.TrainPlan.tiny(), {}, finished=False)
    wizard.go(0)
    assert ticked(wizard, TRAIN_STEP)

    # remembered with the dataset: another wizard on it shows the mark at once
    other = DatasetWizard()
    qtbot.addWidget(other)
    assert other.folder_page.open_folder(str(dataset))
    assert ticked(other, TRAIN_STEP)
    other.shutdown()


def test_a_run_finished_before_the_model_list_existed_counts_as_trained(tmp_path):
    assert not jobs.has_trained_model(tmp_path)
    assert not jobs.has_trained_model(None)
    jobs._write_info(tmp_path, jobs.TrainPlan(tasks=["sketch", "colorize"]), {}, finished=False)
    assert jobs.trained_models(tmp_path) == []
    jobs._write_info(tmp_path, jobs.TrainPlan(tasks=["sketch", "colorize"]), {}, finished=True)
    assert [m["task"] for m in jobs.trained_models(tmp_path)] == ["sketch", "colorize"]


# ---------------------------------------------------------------------------------------------------- 2
def test_folder_page_counts_follow_the_decisions_made_on_the_review_page(qtbot, wizard):
    folder = wizard.folder_page
    assert folder.stat_labels["pairs"].text() == "6"
    assert folder.stat_labels["approved"].text() == "0"
    assert folder.stat_labels["rejected"].text() == "0"

    wizard.steps.setCurrentRow(3)
    review = wizard.review_page
    assert wizard.current_page() is review and review.model.rowCount() == 6
    review.grid.setFocus()
    qtbot.keyClick(review.grid, Qt.Key.Key_Right)  # approve
    qtbot.keyClick(review.grid, Qt.Key.Key_Space)  # approve
    qtbot.keyClick(review.grid, Qt.Key.Key_X)  # reject
    assert review.counter.text() == "Reviewed 3 / 6 · ✓ 2 ✗ 1"

    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    assert wizard.current_page() is folder
    assert folder.stat_labels["approved"].text() == "2"
    assert folder.stat_labels["rejected"].text() == "1"
    assert folder.stat_labels["pairs"].text() == "6"

    wizard.go(3)  # undo one, then jump straight back through the sidebar
    review.undo()
    wizard.steps.setCurrentRow(0)
    assert folder.stat_labels["rejected"].text() == "0"
    assert folder.stat_labels["approved"].text() == "2"


# ---------------------------------------------------------------------------------------------------- 3
def saturated(color: QColor) -> bool:
    return color.hsvSaturationF() > 0.3 and color.valueF() > 0.3


def test_histogram_caption_has_its_own_band_above_the_bars(qtbot):
    hist = Histogram()
    qtbot.addWidget(hist)
    hist.resize(420, 110)
    hist.show()
    qtbot.waitExposed(hist)
    hist.set_values([0.95, 0.96, 0.97, 0.75, 0.8, 0.85, 0.97, 0.45])  # the peak is the rightmost bin
    image = hist.grab().toImage()
    band = 4 + QFontMetrics(hist.font()).height() + 2  # the caption's line at the top
    w = image.width()

    # no bar paints into the caption's line, and the caption itself is drawn there (right-aligned)
    caption_pixels = [QColor(image.pixel(x, y)) for y in range(band) for x in range(w)]
    assert not any(saturated(c) for c in caption_pixels)
    background = Counter(c.rgb() for c in caption_pixels).most_common(1)[0][0]
    assert any(QColor(image.pixel(x, y)).rgb() != background for y in range(band) for x in range(w // 2, w))
    # the tallest bar starts right under it
    tallest_top = min(y for y in range(image.height()) if any(
        saturated(QColor(image.pixel(x, y))) for x in range(w)))
    assert band <= tallest_top <= band + 4
    assert hist.caption() == "clarity of 8 sketches (peak 4)"
    rects = [rect for _, rect in hist.bar_rects()]
    assert rects and all(not rect.intersects(hist.caption_rect()) for rect in rects)


# ---------------------------------------------------------------------------------------------------- 4
def frame_edges(curve: QWidget, page: QWidget) -> tuple[int, int]:
    """Left and right x of the loss curve's painted frame in ``page`` coordinates, read from its pixels: the
    outermost columns that differ from the background on a line through the (empty) plot's upper part."""
    image = curve.grab().toImage()
    y = 30
    background = QColor(image.pixel(image.width() // 2, y)).rgb()
    columns = [x for x in range(image.width()) if QColor(image.pixel(x, y)).rgb() != background]
    assert len(columns) >= 2, "no frame painted"
    origin = curve.mapTo(page, QPoint(0, 0)).x()
    return origin + columns[0], origin + columns[-1] + 1


def bar_edges(bar: QWidget, page: QWidget) -> tuple[int, int]:
    origin = bar.mapTo(page, QPoint(0, 0)).x()
    return origin, origin + bar.width()


def test_train_progress_bar_lines_up_with_the_loss_curve_frame(qtbot, wizard):
    wizard.go(TRAIN_STEP)
    page = wizard.train_page
    for size in ((1180, 760), (1500, 800)):
        wizard.resize(*size)
        qtbot.waitUntil(lambda s=size: wizard.width() == s[0])
        QApplication.processEvents()
        frame, bar = frame_edges(page.curve, page), bar_edges(page.progress, page)
        assert abs(bar[0] - frame[0]) <= 1 and abs(bar[1] - frame[1]) <= 1, (size, bar, frame)
        assert page.progress.width() > 200
        plot = page.curve.plot_rect()  # the geometry the page aligns to is the one painted
        origin = page.curve.mapTo(page, QPoint(0, 0)).x()
        assert abs(origin + plot.left() - frame[0]) <= 1 and abs(origin + plot.right() - frame[1]) <= 1

    font = QFont(page.curve.font())  # a bigger font moves the frame (wider axis labels): the bar follows
    font.setPointSizeF(font.pointSizeF() * 1.6)
    page.curve.setFont(font)
    QApplication.processEvents()
    frame, bar = frame_edges(page.curve, page), bar_edges(page.progress, page)
    assert abs(bar[0] - frame[0]) <= 1 and abs(bar[1] - frame[1]) <= 1, (bar, frame)


# ---------------------------------------------------------------------------------------------------- 5
def dominant(image: QImage, rect) -> int:
    """The most common colour (rgb) of ``rect`` in ``image``."""
    counts = Counter(image.pixel(x, y) for y in range(rect.top(), rect.bottom() + 1)
                     for x in range(rect.left(), rect.right() + 1))
    return counts.most_common(1)[0][0]


def test_crawl_notice_is_one_evenly_coloured_box_under_the_dark_theme(qtbot, dark_theme, wizard):
    wizard.go(1)
    frame = wizard.crawl_page.notice_frame
    qtbot.waitUntil(frame.isVisible)
    image = frame.grab().toImage()
    children = sorted((w for w in frame.findChildren(QWidget) if w.parent() is frame), key=lambda w: w.y())
    assert [type(w) for w in children] == [QLabel, QLabel, QCheckBox]  # title, text, "I understand"
    assert children[1].text().startswith("The pictures you download")
    # the frame's own tint, in its padding above the first line
    top = children[0].geometry().top()
    assert top >= 4
    tint = QColor(dominant(image, QRect(children[0].x(), 2, children[0].width(), top - 3)))
    for child in children:
        color = QColor(dominant(image, child.geometry()))
        diff = max(abs(color.red() - tint.red()), abs(color.green() - tint.green()),
                   abs(color.blue() - tint.blue()))
        assert diff <= 2, (type(child).__name__, child.text()[:30], color.name(), tint.name())
