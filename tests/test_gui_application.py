"""The window derives from the application layer like the CLI does: mode buttons, tips and controls from the
registry; the same template messages and names as the command line; errors arrive as objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.application import MODES, Options, check_template
from anisketch_desktop.cli import main as cli_main
from anisketch_desktop.core import imageio
from anisketch_desktop.core.errors import DeviceError, InvalidOptionError
from anisketch_desktop.gui.main_window import MainWindow
from anisketch_desktop.gui.queue_model import Job, JobState, QueueModel
from anisketch_desktop.gui.workers import TaskRunner, describe_error


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.queue.runner.shutdown()


def _pictures(folder: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    return [imageio.save_image(folder / name, rng.integers(0, 255, (40, 52, 3), dtype=np.uint8))
            for name in ("pic.png", "pic.jpg")]


def _run_queue(window, qtbot, files, opts):
    window.queue.model.add_jobs([Job(f, Path(f.name), opts) for f in files])
    with qtbot.waitSignal(window.queue.runner.batch_finished, timeout=20_000):
        window.queue.start()


def test_every_registry_mode_has_a_button_with_its_tip_and_controls(window):
    panel = window.options
    assert list(panel.mode_buttons) == list(MODES)
    for key, mode in MODES.items():
        button = panel.mode_buttons[key]
        assert button.text() == mode.label and button.toolTip().startswith(mode.tip)
        panel.set_mode(key)
        assert panel.xdog_panel.isVisibleTo(panel) == ("xdog" in mode.options)
        assert panel.transparent_check.isEnabled() == ("transparent" in mode.options)
        assert panel.flats_check.isVisibleTo(panel) == ("flats" in mode.options)
        assert panel.device_box.isVisibleTo(panel) == ("device" in mode.options)
        for task, combo in panel.model_combos.items():
            assert combo.isVisibleTo(panel) == (task in mode.tasks)
        assert panel.process_options().mode == key
        model = QueueModel()  # the queue labels a row of this mode the same way
        model.add_jobs([Job(Path("a.png"), Path("a.png"), Options(mode=key))])
        assert model.data(model.index(0, QueueModel.MODE)) == mode.label


def test_a_bad_template_reads_the_same_in_both_faces(window, qtbot, tmp_path, capsys):
    with pytest.raises(InvalidOptionError) as info:
        check_template("{foo}.png")
    window.queue.template_edit.setText("{foo}.png")
    assert window.queue.template_edit.toolTip() == str(info.value)
    window.queue.model.add_jobs([Job(tmp_path / "a.png", Path("a.png"), Options(mode="xdog"))])
    assert not window.queue.start_button.isEnabled()
    imageio.save_image(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    assert cli_main(["xdog", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--name", "{foo}.png"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {info.value}"


def test_stem_template_gives_the_same_files_in_both_faces(window, qtbot, tmp_path):
    src = tmp_path / "in"
    files = _pictures(src)
    before = {f: f.read_bytes() for f in files}
    window.queue.template_edit.setText("{stem}")
    window.queue.folder_edit.setText("")  # next to each picture: pic.png would be the input itself
    _run_queue(window, qtbot, files, Options(mode="xdog"))
    rows = window.queue.model.jobs()
    assert rows[0].state == JobState.FAILED and "is the picture itself" in rows[0].reason
    assert {f: f.read_bytes() for f in files} == before  # no input touched
    window.queue.model.remove_rows(list(range(window.queue.model.rowCount())))
    window.queue.folder_edit.setText(str(tmp_path / "gui"))
    _run_queue(window, qtbot, files, Options(mode="xdog"))
    assert cli_main(["xdog", *map(str, files), "-o", str(tmp_path / "cli"), "--name", "{stem}", "-q"]) == 0
    gui = sorted(p.name for p in (tmp_path / "gui").iterdir())
    # pic.png -> pic.png; pic.jpg would be pic.png too, so it keeps its own name apart: pic.jpg
    assert gui == sorted(p.name for p in (tmp_path / "cli").iterdir()) == ["pic.jpg", "pic.png"]
    for name in gui:
        assert np.array_equal(imageio.read_image(tmp_path / "gui" / name), imageio.read_image(tmp_path / "cli" / name))


def test_two_queued_pictures_never_share_an_output(window, qtbot, tmp_path):
    files = _pictures(tmp_path / "in")
    window.queue.folder_edit.setText(str(tmp_path / "out"))
    window.queue.exists_combo.setCurrentIndex(window.queue.exists_combo.findData("overwrite"))
    _run_queue(window, qtbot, files, Options(mode="xdog"))
    outputs = [j.output for j in window.queue.model.jobs()]
    assert [j.state for j in window.queue.model.jobs()] == [JobState.DONE, JobState.DONE]
    assert len(set(outputs)) == 2 and all(p.is_file() for p in outputs)


def test_a_dropped_folder_leaves_out_earlier_results(window, tmp_path):
    src = tmp_path / "in"
    files = _pictures(src)
    imageio.save_image(src / "pic_sketch-xdog.png", np.zeros((8, 8), np.uint8))  # an earlier run's result
    window.queue.folder_edit.setText("")
    window.open_paths([src])
    queued = sorted(j.source.name for j in window.queue.model.jobs())
    assert queued == sorted(f.name for f in files)


def test_worker_errors_arrive_as_objects_and_the_window_words_the_fix(qtbot):
    runner = TaskRunner()
    error = DeviceError("CUDA was requested, but no GPU was found. Run it on the CPU instead.", fix={"device": "cpu"})

    def fails(*, state):
        raise error

    with qtbot.waitSignal(runner.error, timeout=5000) as got, qtbot.waitSignal(runner.failed, timeout=5000) as text:
        runner.submit("t", fails)
    assert got.args[1] is error
    assert text.args[1] == describe_error(error)
    assert "“CPU” under Device" in text.args[1] and "--" not in text.args[1]
    runner.shutdown()


def test_a_new_registry_mode_gets_a_button_and_runs_in_the_window(qtbot, tmp_path, monkeypatch):
    from anisketch_desktop.application.modes import Mode

    def invert(image, opts, engines, progress, cancel):
        return 255 - image

    monkeypatch.setitem(MODES, "invert", Mode("invert", "Invert", "Negative", "negative", (), frozenset(), invert))
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.options.mode_buttons["invert"].text() == "Invert" and w.actions["mode_invert"].text() == "Invert"
    picture = np.random.default_rng(1).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    with qtbot.waitSignal(w.session.source_changed, timeout=5000):
        w.open_paths([imageio.save_image(tmp_path / "p.png", picture)])
    w.options.set_mode("invert")
    assert not w.options.models_box.isVisibleTo(w.options) and not w.options.device_box.isVisibleTo(w.options)
    with qtbot.waitSignal(w.session.run_finished, timeout=10_000):
        w.run_current()
    assert np.array_equal(w.session.result.image, 255 - picture)
    w.queue.folder_edit.setText(str(tmp_path / "out"))
    assert w.default_save_path() == tmp_path / "out" / "p_negative-invert.png"
    w.queue.runner.shutdown()


def test_a_failed_task_hands_over_the_error_without_the_workers_frames(qtbot):
    import gc
    import weakref

    runner = TaskRunner()
    big = []

    def fails(*, state):
        picture = np.zeros((512, 512, 3), np.uint8)
        big.append(weakref.ref(picture := picture.view(_Tracked)))
        raise InvalidOptionError("bad value")

    with qtbot.waitSignal(runner.error, timeout=5000) as got:
        runner.submit("t", fails)
    runner.shutdown()
    gc.collect()
    assert got.args[1].__traceback__ is None
    assert big[0]() is None  # the picture the task held is freed although the error object is still alive


class _Tracked(np.ndarray):
    """An ndarray that can be weakly referenced."""
