"""The one worker pattern: tasks run off the GUI thread, report back queued, cancel cooperatively."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("pytestqt")

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui.workers import TaskRunner


def _ok(value, *, state):
    state.progress(1.0)
    return value, threading.get_ident()


def _until_cancelled(started: threading.Event, *, state):
    started.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state.check()  # raises Cancelled
        time.sleep(0.002)
    return "not cancelled"


def _user_error(*, state):
    raise AniSketchError("the file is not a picture")


def _bug(*, state):
    return {}["missing"]


@pytest.fixture
def runner_factory():
    runners = []

    def make(**kwargs) -> TaskRunner:
        runners.append(TaskRunner(**kwargs))
        return runners[-1]

    yield make
    for runner in runners:
        assert runner.shutdown(timeout_ms=5000)


def test_task_runs_on_another_thread_and_reports_back(qtbot, runner_factory):
    runner = runner_factory()
    results, progress = [], []
    runner.succeeded.connect(lambda tag, result: results.append((tag, result, threading.get_ident())))
    runner.progress.connect(lambda tag, f: progress.append(f))
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("t1", _ok, 42)
    (tag, (value, worker_thread), receiving_thread), = results
    assert (tag, value) == ("t1", 42)
    assert worker_thread != threading.get_ident()  # computed elsewhere ...
    assert receiving_thread == threading.get_ident()  # ... delivered on the GUI thread
    assert progress == [1.0]
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=2000)


def test_errors_become_readable_reasons(qtbot, runner_factory):
    runner = runner_factory()
    reasons = []
    runner.failed.connect(lambda tag, reason: reasons.append((tag, reason)))
    runner.submit("user", _user_error)
    runner.submit("bug", _bug)
    qtbot.waitUntil(lambda: len(reasons) == 2, timeout=5000)
    assert reasons[0] == ("user", "the file is not a picture")
    assert reasons[1][0] == "bug" and reasons[1][1].startswith("KeyError")


def test_latest_request_wins_and_cancels_the_running_one(qtbot, runner_factory):
    runner = runner_factory(latest_wins=True)
    started = threading.Event()
    events = []
    runner.cancelled.connect(lambda tag: events.append(("cancelled", tag)))
    runner.succeeded.connect(lambda tag, result: events.append(("done", tag)))
    runner.submit("slow", _until_cancelled, started)
    assert started.wait(5)
    t0 = time.monotonic()
    runner.submit("second", _ok, 1)
    runner.submit("third", _ok, 2)  # replaces "second" before it ever started
    qtbot.waitUntil(lambda: ("done", "third") in events, timeout=5000)
    assert time.monotonic() - t0 < 1.0
    assert events == [("cancelled", "slow"), ("done", "third")]


def test_shutdown_waits_for_the_thread(qtbot):
    runner = TaskRunner()
    started = threading.Event()
    runner.submit("slow", _until_cancelled, started)
    assert started.wait(5)
    assert runner.shutdown(timeout_ms=3000)


def test_a_runner_dropped_mid_task_does_not_take_its_thread_down(qtbot):
    """An unparented runner garbage-collected while its task runs must not abort the process."""
    import gc

    from anisketch_desktop.gui import workers

    started = threading.Event()
    runner = TaskRunner()
    runner.submit("slow", _until_cancelled, started)
    assert started.wait(5)
    runner.cancel_all()
    del runner
    gc.collect()  # Qt would abort here ("QThread: Destroyed while thread is still running") without _LIVE
    qtbot.waitUntil(lambda: all(t.isFinished() for t, _ in list(workers._LIVE)), timeout=5000)
