"""The batch queue tells the truth (issue 15): progress carries over Pause/Resume, failures are counted, Retry
runs at once, a bad name template is flagged as it is typed, finished rows open in the compare view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from anisketch_desktop.application import Options as ProcessOptions
from anisketch_desktop.core import imageio
from anisketch_desktop.gui.main_window import MainWindow
from anisketch_desktop.gui.queue_model import Job, JobState


def _picture(seed: int, h: int = 48, w: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.queue.folder_edit.setText(str(tmp_path / "out"))
    yield w
    w.queue.runner.shutdown()


def _add(window, tmp_path, count: int, bad: set[int] = frozenset()) -> list[Path]:
    files = []
    for i in range(count):
        path = tmp_path / "in" / f"p{i}.png"
        if i in bad:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"not a picture")
        else:
            imageio.save_image(path, _picture(i))
        files.append(path)
    window.queue.model.add_jobs([Job(f, Path(f.name), ProcessOptions(mode="xdog")) for f in files])
    return files


def test_pause_and_resume_keep_the_batch_progress(window, qtbot, tmp_path):
    _add(window, tmp_path, 4)
    queue, runner = window.queue, window.queue.runner
    fractions = []
    runner.progress_changed.connect(lambda f, eta: fractions.append(f))
    with qtbot.waitSignal(runner.running_changed, timeout=20000, check_params_cb=lambda on: not on):
        queue.start()
        runner.pause()  # finish the running picture, then stop
    assert runner.is_paused()
    assert queue.start_button.text() == "Resume" and queue.start_button.isEnabled()
    assert queue.eta_label.text().startswith("Paused")
    done_before = queue.model.count(JobState.DONE)
    assert 1 <= done_before < 4
    paused_at = queue.total_bar.value()
    assert paused_at == round(done_before / 4 * 1000)
    with qtbot.waitSignal(runner.batch_finished, timeout=30000):
        queue.start_button.click()
    assert queue.model.count(JobState.DONE) == 4
    assert fractions == sorted(fractions)  # the bar never went back on Resume
    assert queue.total_bar.value() == 1000 and queue.eta_label.text() == "Finished"


def test_failed_rows_are_counted_and_retry_runs_without_a_second_start(window, qtbot, tmp_path):
    files = _add(window, tmp_path, 3, bad={1})
    queue, runner = window.queue, window.queue.runner
    tallies = []
    runner.batch_finished.connect(tallies.append)
    with qtbot.waitSignal(runner.batch_finished, timeout=30000):
        queue.start_button.click()
    assert tallies[-1] == {"done": 2, "skipped": 0, "failed": 1, "cancelled": 0}
    assert "(1 failed)" in queue.total_bar.text()
    assert "1 failed" in queue.eta_label.text()  # not a bare "finished"
    imageio.save_image(files[1], _picture(9), overwrite=True)  # the user fixes the file
    with qtbot.waitSignal(runner.batch_finished, timeout=30000):
        queue.retry_button.click()  # runs at once: no second Start
    assert tallies[-1] == {"done": 3, "skipped": 0, "failed": 0, "cancelled": 0}
    assert [j.state for j in queue.model.jobs()] == [JobState.DONE] * 3
    assert "failed" not in queue.total_bar.text()


def test_a_bad_name_template_is_flagged_as_it_is_typed(window, qtbot, tmp_path):
    _add(window, tmp_path, 2)
    queue = window.queue
    assert queue.start_button.isEnabled()
    queue.template_edit.setText("{foo}.png")
    assert not queue.start_button.isEnabled()
    assert "{foo}" in queue.template_edit.toolTip() or "template" in queue.template_edit.toolTip().lower()
    messages = []
    queue.message.connect(messages.append)
    queue.start()
    assert messages and not queue.runner.is_running()
    assert [j.state for j in queue.model.jobs()] == [JobState.QUEUED] * 2  # no row failed for it
    queue.template_edit.setText("{stem}_{mode}.png")
    assert queue.start_button.isEnabled()


def test_a_finished_row_opens_in_the_compare_view(window, qtbot, tmp_path):
    files = _add(window, tmp_path, 2, bad={1})
    queue = window.queue
    with qtbot.waitSignal(queue.runner.batch_finished, timeout=30000):
        queue.start_button.click()
    written = imageio.read_image(queue.model.job_at(0).output)
    with qtbot.waitSignal(window.session.result_changed, timeout=10000,
                          check_params_cb=lambda result: result is not None):
        queue.table.doubleClicked.emit(queue.model.index(0, 0))
    assert window.session.source.path == files[0]
    np.testing.assert_array_equal(window.session.result.image, written)
    qtbot.wait(400)  # no XDoG preview replaces the written file afterwards
    np.testing.assert_array_equal(window.session.result.image, written)
    assert not queue.open_row(1)  # a failed row has nothing to show

    window.session.clear_result()
    queue.table.setCurrentIndex(queue.model.index(0, 1))
    with qtbot.waitSignal(window.session.result_changed, timeout=10000,
                          check_params_cb=lambda result: result is not None):
        qtbot.keyClick(queue.table, Qt.Key.Key_Return)
    np.testing.assert_array_equal(window.session.result.image, written)


def test_row_context_menu_offers_open_show_retry_remove(window, qtbot, tmp_path):
    files = _add(window, tmp_path, 2, bad={1})
    queue = window.queue
    with qtbot.waitSignal(queue.runner.batch_finished, timeout=30000):
        queue.start_button.click()
    rect = queue.table.visualRect(queue.model.index(1, 0))
    queue._context_menu(rect.center())
    actions = {a.text(): a for a in queue._menu.actions()}
    assert list(actions) == ["Open", "Show in folder", "Retry", "Remove"]
    assert not actions["Open"].isEnabled() and actions["Retry"].isEnabled()
    queue._menu.close()
    imageio.save_image(files[1], _picture(4), overwrite=True)
    with qtbot.waitSignal(queue.runner.batch_finished, timeout=30000):
        actions["Retry"].trigger()
    assert queue.model.job_at(1).state == JobState.DONE
    queue._context_menu(rect.center())
    actions = {a.text(): a for a in queue._menu.actions()}
    assert actions["Open"].isEnabled() and not actions["Retry"].isEnabled()
    actions["Remove"].trigger()
    assert queue.model.rowCount() == 1
