"""application.batch: reading, the network and writing overlap; results in order; a bad file fails alone;
stop and cancel; outputs written atomically."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from anisketch_desktop.application import Options, run_job
from anisketch_desktop.application.batch import BatchItem, run_batch
from anisketch_desktop.core import imageio


def _pictures(folder, count, size=(96, 128)):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        img = np.full(size + (3,), 230, np.uint8)
        y, x = rng.integers(10, size[0] - 20), rng.integers(10, size[1] - 20)
        img[y : y + 12, x : x + 30] = 20
        paths.append(imageio.save_image(folder / f"p{i}.png", img))
    return paths


def _items(paths, out, options):
    return [BatchItem(i, p, out / f"{p.stem}_sketch.png", options) for i, p in enumerate(paths)]


def test_batch_writes_every_file_in_order_and_a_bad_file_fails_alone(tmp_path, tiny_sketch_model):
    paths = _pictures(tmp_path, 4)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    paths.insert(2, bad)
    options = Options(mode="sketch", models={"sketch": str(tiny_sketch_model)}, device="cpu")
    results, progress = [], []
    run_batch(_items(paths, tmp_path / "out", options), on_result=results.append,
              on_progress=lambda key, f: progress.append((key, f)))
    assert [r.key for r in results] == list(range(5))
    assert [r.state for r in results] == ["done", "done", "failed", "done", "done"]
    assert "bad.png" in results[2].reason
    for result, path in zip(results, paths, strict=True):
        if result.state == "done":  # the same pixels as one file at a time
            alone = run_job(path, tmp_path / "alone" / path.name, options)
            np.testing.assert_array_equal(imageio.read_image(result.outcome.output),
                                          imageio.read_image(alone.output))
    assert {key for key, _ in progress} == {0, 1, 3, 4} and (4, 1.0) in progress
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left


def test_existing_outputs_follow_the_policy(tmp_path):
    paths = _pictures(tmp_path, 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0_sketch.png").write_bytes(b"mine")
    results = []
    run_batch(_items(paths, out, Options(mode="xdog")), on_result=results.append)
    assert [r.state for r in results] == ["skipped", "done"]
    assert (out / "p0_sketch.png").read_bytes() == b"mine"
    results.clear()
    run_batch(_items(paths, out, Options(mode="xdog", if_exists="rename")), on_result=results.append)
    assert [r.outcome.output.name for r in results] == ["p0_sketch (2).png", "p1_sketch (2).png"]


def _slow_io(monkeypatch, seconds, log):
    """Reading and writing that take ``seconds`` each and log when they start and end."""
    read, write = imageio.read_image, imageio.save_image

    def slow_read(path, **kw):
        log.append(("read", path.stem, time.monotonic()))
        time.sleep(seconds)
        return read(path, **kw)

    def slow_write(path, image, **kw):
        time.sleep(seconds)
        log.append(("written", path.stem.split("_")[0], time.monotonic()))
        return write(path, image, **kw)

    monkeypatch.setattr(imageio, "read_image", slow_read)
    monkeypatch.setattr(imageio, "save_image", slow_write)


def test_reading_and_writing_overlap(tmp_path, monkeypatch):
    paths = _pictures(tmp_path, 5)
    log = []
    _slow_io(monkeypatch, 0.15, log)
    start = time.monotonic()
    run_batch(_items(paths, tmp_path / "out", Options(mode="xdog")))
    wall = time.monotonic() - start
    reads = {stem: t for kind, stem, t in log if kind == "read"}
    written = {stem: t for kind, stem, t in log if kind == "written"}
    assert len(written) == 5
    # the next picture is read while the previous result is being written
    assert sum(reads[f"p{i + 1}"] < written[f"p{i}"] for i in range(4)) >= 3
    assert wall < 0.8 * 5 * 0.30  # one file at a time would take 5 x (read + write) = 1.5 s


def test_stop_finishes_what_is_in_flight_and_reads_no_more(tmp_path, monkeypatch):
    paths = _pictures(tmp_path, 6)
    log = []
    _slow_io(monkeypatch, 0.05, log)
    stop = threading.Event()
    results = []

    def on_result(result):
        results.append(result)
        stop.set()

    run_batch(_items(paths, tmp_path / "out", Options(mode="xdog")), on_result=on_result, stop=stop.is_set)
    assert 1 <= len(results) < 6
    assert all(r.state == "done" for r in results)  # in-flight files finished, none cancelled
    assert len(list((tmp_path / "out").glob("*.png"))) == len(results)


def test_cancel_stops_the_running_file_within_seconds(tmp_path, tiny_sketch_model):
    paths = _pictures(tmp_path, 4, size=(600, 800))
    options = Options(mode="sketch", models={"sketch": str(tiny_sketch_model)}, device="cpu", tile=128)
    cancel = threading.Event()
    results, cancelled_at = [], []

    def on_progress(key, fraction):
        if key == 1 and fraction > 0.2 and not cancel.is_set():
            cancel.set()
            cancelled_at.append(time.monotonic())

    run_batch(_items(paths, tmp_path / "out", options), on_progress=on_progress,
              on_result=results.append, cancel=cancel.is_set)
    assert time.monotonic() - cancelled_at[0] < 5.0
    states = [r.state for r in results]
    assert states[0] == "done" and states[1] == "cancelled"
    assert "done" not in states[1:]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["p0_sketch.png"]  # nothing half-written, nothing after the cancel


def test_a_broken_callback_stops_the_batch_with_its_error(tmp_path):
    paths = _pictures(tmp_path, 3)

    def on_result(result):
        raise KeyError("bug in the caller")

    with pytest.raises(KeyError):
        run_batch(_items(paths, tmp_path / "out", Options(mode="xdog")), on_result=on_result)
