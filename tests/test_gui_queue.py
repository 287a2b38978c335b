"""The batch queue: runs to completion with a real (tiny) model, cancels cleanly, isolates bad files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.application import Options as ProcessOptions
from anisketch_desktop.core import imageio, pipeline
from anisketch_desktop.gui.queue_model import Job, JobState
from anisketch_desktop.gui.queue_panel import QueuePanel
from anisketch_desktop.gui.settings import Settings


def _picture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.dstack([xx * 3 % 256, yy * 5 % 256, (xx + yy) % 256]).astype(np.int32)
    return np.clip(base + rng.integers(-20, 20, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = QueuePanel(Settings())
    qtbot.addWidget(widget)
    widget.folder_edit.setText(str(tmp_path / "out"))
    yield widget
    widget.runner.shutdown()


def _add(panel, files, opts):
    panel.model.add_jobs([Job(Path(f), Path(Path(f).name if rel is None else rel), opts) for f, rel in files])


def test_queue_runs_to_completion_and_writes_correct_files(panel, qtbot, tmp_path, tiny_sketch_model):
    sizes = [(37, 53), (64, 64), (90, 41)]  # odd sizes: the engine pads and crops back
    files = []
    for i, (h, w) in enumerate(sizes):
        files.append((imageio.save_image(tmp_path / "in" / f"p{i}.png", _picture(h, w, i)), None))
    opts = ProcessOptions(mode="sketch", models={"sketch": str(tiny_sketch_model)}, device="cpu")
    _add(panel, files, opts)
    finished = []
    panel.runner.batch_finished.connect(finished.append)
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=60_000):
        panel.runner.start()
    assert finished == [{"done": 3, "skipped": 0, "failed": 0, "cancelled": 0}]
    assert [j.state for j in panel.model.jobs()] == [JobState.DONE] * 3
    assert panel.total_bar.value() == 1000
    for i, ((source, _), (h, w)) in enumerate(zip(files, sizes, strict=True)):
        out = tmp_path / "out" / f"p{i}_sketch-tiny_sketch.png"
        assert panel.model.job_at(i).output == out
        written = imageio.read_image(out)
        assert written.shape == (h, w) and written.dtype == np.uint8
        expected = pipeline.sketch(imageio.read_image(source), model=tiny_sketch_model, device="cpu")
        assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i}_sketch-tiny_sketch.png"
                                                                     for i in range(3)]


def test_a_corrupt_file_fails_only_its_row(panel, qtbot, tmp_path):
    good1 = imageio.save_image(tmp_path / "good1.png", _picture(30, 30, 1))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not a png at all")
    good2 = imageio.save_image(tmp_path / "good2.jpg", _picture(30, 30, 2))
    _add(panel, [(good1, None), (bad, None), (good2, None)], ProcessOptions(mode="xdog"))
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.runner.start()
    states = [j.state for j in panel.model.jobs()]
    assert states == [JobState.DONE, JobState.FAILED, JobState.DONE]
    reason = panel.model.job_at(1).reason
    assert "bad.png" in reason and "Traceback" not in reason
    assert "failed: " in panel.model.data(panel.model.index(1, 3))
    assert (tmp_path / "out" / "good1_sketch-xdog.png").is_file()
    assert (tmp_path / "out" / "good2_sketch-xdog.png").is_file()
    assert not (tmp_path / "out" / "bad_sketch-xdog.png").exists()
    # Retry failed puts the row back in the queue and runs it at once (it fails again: the file is still bad)
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.retry_failed()
        assert panel.model.job_at(1).state in (JobState.QUEUED, JobState.RUNNING)
    assert panel.model.job_at(1).state == JobState.FAILED


def test_cancel_mid_batch_stops_quickly_and_leaves_no_partial_file(panel, qtbot, tmp_path, tiny_sketch_model):
    files = [(imageio.save_image(tmp_path / f"big{i}.png", _picture(640, 640, i)), None) for i in range(3)]
    opts = ProcessOptions(mode="sketch", models={"sketch": str(tiny_sketch_model)}, device="cpu", tile=64)
    _add(panel, files, opts)
    panel.runner.start()
    qtbot.waitUntil(lambda: 0.05 < panel.model.job_at(0).progress < 0.9, timeout=30_000)
    started = time.monotonic()
    with qtbot.waitSignal(panel.runner.running_changed, timeout=5000, check_params_cb=lambda running: not running):
        panel.runner.cancel()
    assert time.monotonic() - started < 1.0
    states = [j.state for j in panel.model.jobs()]
    assert states == [JobState.CANCELLED, JobState.QUEUED, JobState.QUEUED]
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []  # no result, no temporary file
    assert panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_existing_outputs_are_skipped_not_overwritten(panel, qtbot, tmp_path):
    source = imageio.save_image(tmp_path / "pic.png", _picture(20, 20, 3))
    existing = tmp_path / "out" / "pic_sketch-xdog.png"
    existing.parent.mkdir()
    existing.write_bytes(b"user file")
    _add(panel, [(source, None)], ProcessOptions(mode="xdog"))
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.runner.start()
    assert panel.model.job_at(0).state == JobState.SKIPPED
    assert existing.read_bytes() == b"user file"
    panel.exists_combo.setCurrentIndex(panel.exists_combo.findData("rename"))
    panel.model.requeue((JobState.SKIPPED,))
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.runner.start()
    assert panel.model.job_at(0).output == tmp_path / "out" / "pic_sketch-xdog (2).png"
    assert imageio.read_image(panel.model.job_at(0).output).shape == (20, 20)
    assert existing.read_bytes() == b"user file"


def test_folder_structure_and_name_template(panel, qtbot, tmp_path):
    source = imageio.save_image(tmp_path / "in" / "sub" / "x.png", _picture(16, 16, 4))
    panel.template_edit.setText("{stem}-{mode}-from-{ext}.png")
    _add(panel, [(source, "sub/x.png")], ProcessOptions(mode="xdog", transparent=True))
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.runner.start()
    out = tmp_path / "out" / "sub" / "x-sketch-from-png.png"
    written = imageio.read_image(out)
    assert written.shape == (16, 16, 4)  # transparent background: RGBA


def test_pause_finishes_the_current_file_then_resume(panel, qtbot, tmp_path):
    files = [(imageio.save_image(tmp_path / f"p{i}.png", _picture(24, 24, i)), None) for i in range(3)]
    _add(panel, files, ProcessOptions(mode="xdog"))
    panel.runner.start()
    panel.runner.pause()
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=10_000)
    states = [j.state for j in panel.model.jobs()]
    assert states == [JobState.DONE, JobState.QUEUED, JobState.QUEUED]
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=30_000):
        panel.runner.start()
    assert [j.state for j in panel.model.jobs()] == [JobState.DONE] * 3
    panel.model.clear_finished()
    assert panel.model.rowCount() == 0


def test_flat_colours_option_reaches_the_pipeline(tiny_flats_model):
    import cv2

    from anisketch_desktop.application import process

    model = tiny_flats_model
    lines = np.full((64, 96), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (80, 50), 0, 2)
    for flats in (True, False):
        opts = ProcessOptions(mode="colorize", models={"colorize": str(model)}, device="cpu", flats=flats)
        out, _ = process(lines, opts)
        np.testing.assert_array_equal(out, pipeline.colorize(lines, model=model, device="cpu", flats=flats))
    opts = ProcessOptions(mode="colorize", models={"colorize": str(model)})
    assert not np.array_equal(process(lines, opts.with_(flats=True))[0], process(lines, opts.with_(flats=False))[0])


def test_queue_reads_the_next_picture_while_writing_the_last(panel, qtbot, tmp_path, monkeypatch):
    """The queue runs through application.batch: reading and writing overlap (slow I/O made visible), and a
    row removed while the batch runs is left out."""
    files = [(imageio.save_image(tmp_path / f"p{i}.png", _picture(24, 24, i)), None) for i in range(5)]
    log = []
    read, write = imageio.read_image, imageio.save_image

    def slow_read(path, **kw):
        log.append(("read", Path(path).stem, time.monotonic()))
        time.sleep(0.1)
        return read(path, **kw)

    def slow_write(path, image, **kw):
        time.sleep(0.1)
        log.append(("written", Path(path).stem.split("_")[0], time.monotonic()))
        return write(path, image, **kw)

    monkeypatch.setattr(imageio, "read_image", slow_read)
    monkeypatch.setattr(imageio, "save_image", slow_write)
    _add(panel, files, ProcessOptions(mode="xdog"))
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=60_000):
        panel.runner.start()
        qtbot.waitUntil(lambda: any(kind == "written" for kind, *_ in log), timeout=10_000)
        assert panel.model.remove_rows([4]) == 1
    reads = {stem: t for kind, stem, t in log if kind == "read"}
    written = {stem: t for kind, stem, t in log if kind == "written"}
    assert sorted(written) == ["p0", "p1", "p2", "p3"] and "p4" not in reads
    assert sum(reads[f"p{i + 1}"] < written[f"p{i}"] for i in range(3)) >= 2
    assert [j.state for j in panel.model.jobs()] == [JobState.DONE] * 4


def test_queued_colorize_takes_the_hints_saved_on_the_canvas(panel, qtbot, tmp_path, tiny_flats_model):
    """A drawing hinted in the hint tool and then queued is coloured with its hints; one without saved hints
    gets the proposal alone. The options come from the window's own options panel."""
    import cv2

    from anisketch_desktop.core.hints import HintPoint, Hints
    from anisketch_desktop.gui import hint_store
    from anisketch_desktop.gui.options_panel import OptionsPanel

    files = []
    for name, right in (("hinted", 80), ("plain", 90)):  # other pixels: not the same drawing moved
        lines = np.full((120, 160), 255, np.uint8)
        cv2.rectangle(lines, (10, 10), (right, 110), 0, 2)
        files.append((imageio.save_image(tmp_path / "in" / f"{name}.png", lines), None))
    hinted = files[0][0]
    green = (10, 200, 30)
    key = hint_store.drawing_key(hinted, imageio.read_image(hinted))  # as the hint tool keys an opened drawing
    hint_store.store_hints(key, Hints(points=(HintPoint(40, 60, green),)))

    options_panel = OptionsPanel(Settings())
    qtbot.addWidget(options_panel)
    options_panel.set_mode("colorize")
    opts = options_panel.process_options().with_(models={"colorize": str(tiny_flats_model)}, device="cpu")
    assert opts.saved_hints and opts.hint_data is None and not opts.hints
    _add(panel, files, opts)
    with qtbot.waitSignal(panel.runner.batch_finished, timeout=60_000):
        panel.runner.start()
    assert [j.state for j in panel.model.jobs()] == [JobState.DONE] * 2
    out_hinted, out_plain = (imageio.read_image(j.output) for j in panel.model.jobs())
    assert tuple(out_hinted[60, 40]) == green
    assert tuple(out_plain[60, 40]) != green
    assert out_hinted[10, 40].max() < 10  # the lines stay on top
    # without the option (the CLI's default) the saved hints are not read
    from anisketch_desktop.application.jobs import run_job

    outcome = run_job(hinted, tmp_path / "cli" / "hinted.png", opts.with_(saved_hints=False))
    assert tuple(imageio.read_image(outcome.output)[60, 40]) != green
