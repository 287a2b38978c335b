"""GUI responsiveness: cold start to a visible window, and how long the GUI thread stalls while work runs.

    python -m benchmarks.bench_gui                         # 3 cold starts, a batch of 6 1080p, one 4K on the canvas
    python -m benchmarks.bench_gui --model runs/ship/sketch.safetensors --starts 5
    python -m benchmarks.bench_gui --random-model          # U-Net path with random weights when none is installed
    python -m benchmarks.bench_gui --display               # the real display (DISPLAY) instead of offscreen

Cold start: the app (``anisketch_desktop.app.run_gui``) is launched ``--starts`` times in a fresh interpreter
with its own empty ``ANISKETCH_HOME`` (plus the ``--model`` / ``--random-model`` file in its models folder); the
time counts from ``Popen`` to the moment the child sees the main window (objectName ``main_window``) visible with
its event loop running ("shown"), to the canvas's first paint ("painted"), and whether torch was imported at
shown, at painted and 0.5 s later (it should not be). Target: shown (and painted) <= 1.5 s.

GUI-thread stall: in this process, a ``MainWindow`` is shown and a 5 ms ``QTimer`` ticks on the GUI thread
while (0) the window lists the installed models, (1) nothing runs (baseline), (2) a batch of generated
1920x1080 pictures runs through the queue in mode "sketch" (the shipped model, ``--model``, or
``--random-model``; XDoG when no model is installed, said so in the output) until ``batch_finished``, (3) a 4K
picture is opened on the canvas and (4) sketched there (``run_current``). A gap is the time between two ticks; a
long gap is a frozen window. Target: no gap over 100 ms. The first batch job may also load torch and the model
on its worker thread, so its gaps are shown apart.

Figures only, no pass/fail. Other busy processes (trainings) inflate every figure, the baseline row shows by
how much the OS alone delays the timer. The last line printed is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTUP_TARGET_S = 1.5
GAP_TARGET_MS = 100.0

# The child of a cold start: prints "shown <s> <torch>" once the event loop runs with the window visible,
# "painted <s> <torch>" at the canvas's first paint and "settled <s> <torch>" 0.5 s later, then quits
# (s = seconds since the child's first line; torch = 1 when torch is imported by then).
CHILD = r"""
import sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from anisketch_desktop.app import run_gui

def say(what):
    print(what, f"{time.perf_counter() - t0:.4f}", int("torch" in sys.modules), flush=True)

class FirstPaint(QObject):
    seen = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            QTimer.singleShot(0, lambda: (say("painted"), QTimer.singleShot(500, settled)))
        return False

watch = FirstPaint()

def settled():
    say("settled")  # half a second after the first paint: has anything loaded torch since?
    QApplication.instance().quit()

def check():
    window = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "main_window"), None)
    if window is None or not window.isVisible():
        QTimer.singleShot(1, check)
        return
    say("shown")
    canvas = window.findChild(QObject, "canvas") or window
    canvas.installEventFilter(watch)
    canvas.update()
    QTimer.singleShot(5000, QApplication.instance().quit)  # never hang

QTimer.singleShot(0, check)
sys.exit(run_gui([]))
"""


# ------------------------------------------------------------------------------------------ helpers


def gap_stats(ticks: list[float]) -> dict:
    """Gaps between consecutive tick times (seconds) -> ``{"max_ms", "p99_ms", "p50_ms", "over_100", "ticks"}``."""
    gaps = sorted((b - a) * 1000.0 for a, b in zip(ticks, ticks[1:], strict=False))
    if not gaps:
        return {"max_ms": None, "p99_ms": None, "p50_ms": None, "over_100": 0, "ticks": len(ticks)}

    def pct(q: float) -> float:
        return gaps[min(len(gaps) - 1, int(q * (len(gaps) - 1) + 0.5))]

    return {"max_ms": round(gaps[-1], 1), "p99_ms": round(pct(0.99), 1), "p50_ms": round(pct(0.5), 1),
            "over_100": sum(g > GAP_TARGET_MS for g in gaps), "ticks": len(ticks)}


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def _env(home: Path, display: bool) -> dict:
    env = dict(os.environ, ANISKETCH_HOME=str(home))
    env.pop("PYTHONSTARTUP", None)
    if display:
        env.pop("QT_QPA_PLATFORM", None)
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


# ------------------------------------------------------------------------------------------ cold start


def cold_start(display: bool, timeout: float, model: Path | None = None) -> dict:
    """One launch in a fresh interpreter; seconds from ``Popen`` to "shown" and "painted".

    ``model`` is copied into the child's user models folder first (as after training one in the wizard), so the
    start-up lists it like an installed model.
    """
    home = Path(tempfile.mkdtemp(prefix="anisketch_bench_home_"))
    result: dict = {}
    try:
        if model is not None:
            (home / "models").mkdir()
            shutil.copy(model, home / "models" / model.name)
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=_env(home, display), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            for line in proc.stdout:
                now = time.perf_counter() - started
                parts = line.split()
                if len(parts) == 3 and parts[0] in ("shown", "painted", "settled"):
                    result[parts[0]] = round(now, 3)
                    result[f"{parts[0]}_in_child"] = float(parts[1])
                    result[f"torch_at_{parts[0]}"] = parts[2] == "1"
            proc.wait()
        finally:
            killer.cancel()
        if "shown" not in result:
            tail = proc.stderr.read().strip().splitlines()[-3:]
            result["error"] = f"exit {proc.returncode}: {' | '.join(tail) or 'no window'}"
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return result


# ------------------------------------------------------------------------------------------ GUI-thread stall


class Stall:
    """The window plus a 5 ms tick on the GUI thread; ``measure`` runs the loop while one phase works."""

    def __init__(self, app, window, tick_ms: int):
        from PySide6.QtCore import Qt, QTimer

        self.app, self.window = app, window
        self.ticks: list[float] = []
        self.marks: list[tuple[str, float]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def mark(self, label: str) -> None:
        self.marks.append((label, time.perf_counter()))

    def measure(self, start, done, timeout: float, tail: float = 0.0) -> dict:
        """Tick while ``start()`` runs and until ``done()`` is true (+ ``tail`` seconds for repaints).

        The loop is a plain ``QEventLoop`` (no sleeping, no polling that would itself block the thread).
        """
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        self.ticks, self.marks = [time.perf_counter()], []
        finished_at: list[float] = []

        def poll():
            if done() and not finished_at:
                finished_at.append(time.perf_counter())
                QTimer.singleShot(int(tail * 1000), loop.quit)

        poller = QTimer()
        poller.setInterval(2)
        poller.timeout.connect(poll)
        guard = QTimer()
        guard.setSingleShot(True)
        guard.timeout.connect(loop.quit)
        self.timer.start()
        began = time.perf_counter()
        start()
        poller.start()
        guard.start(int(timeout * 1000))
        loop.exec()
        poller.stop()
        guard.stop()
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        stats = gap_stats(self.ticks)
        stats["wall_s"] = round((finished_at[0] if finished_at else time.perf_counter()) - began, 2)
        stats["timed_out"] = not finished_at
        return stats

    def split(self, label: str) -> tuple[dict, dict]:
        """Gap figures before and after the first mark named ``label`` of the last phase."""
        at = next((t for name, t in self.marks if name == label), None)
        if at is None:
            return gap_stats(self.ticks), gap_stats([])
        before = [t for t in self.ticks if t <= at]
        after = [t for t in self.ticks if t >= at]
        return gap_stats(before), gap_stats(after)


def prepare_model(args, folder: Path) -> tuple[str, Path | None, bool, str]:
    """``(mode, model file, shipped, note)``: the model the window lists for the batch and the canvas.

    ``--model`` and ``--random-model`` files are put in ``folder``; later copied into each user models folder.
    """
    from anisketch_desktop.core import errors, models

    folder.mkdir(parents=True, exist_ok=True)
    if args.model:
        target = folder / Path(args.model).name
        shutil.copy(args.model, target)
        return "sketch", target, False, f"sketch, model {args.model}"
    if args.random_model:  # made in a child process, so this one still pays torch's import in the batch
        target = folder / "random_sketch.safetensors"
        code = ("import sys, torch; from anisketch_desktop.core.model_io import save_model; "
                "from anisketch_desktop.core.unet_model import UNet, UNetConfig; torch.manual_seed(0); "
                "save_model(UNet(UNetConfig.sketch()).eval(), sys.argv[1], {'name': 'random weights'})")
        subprocess.run([sys.executable, "-c", code, str(target)], cwd=REPO, check=True)
        return "sketch", target, False, "sketch, random-weight UNetConfig.sketch() (same speed as a trained one)"
    shipped = models.shipped_model_path("sketch")
    if shipped.is_file():
        return "sketch", shipped, True, f"sketch, shipped model {shipped}"
    try:
        found = models.default_model("sketch")
    except errors.ModelLoadError:
        return "xdog", None, False, ("xdog: NO SKETCH MODEL INSTALLED (pass --model PATH or --random-model "
                                     "for the U-Net)")
    target = folder / found.name
    shutil.copy(found, target)
    return "sketch", target, False, f"sketch, model {found}"


def stall_bench(args, work: Path, mode: str, model: Path | None, note: str) -> dict:
    os.environ["ANISKETCH_HOME"] = str(work / "home")
    if not args.display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if model is not None and not args.shipped:
        (work / "home" / "models").mkdir(parents=True, exist_ok=True)
        model = Path(shutil.copy(model, work / "home" / "models" / model.name))

    from PySide6.QtWidgets import QApplication

    from anisketch_desktop.core import imageio
    from anisketch_desktop.gui.main_window import MainWindow
    from anisketch_desktop.gui.settings import Settings, configure
    from anisketch_desktop.gui.theme import apply_theme
    from benchmarks.bench_core import _picture

    w, h = args.batch_size
    batch_files = []
    if args.batch:
        picture = _picture(w, h)
        for i in range(args.batch):
            batch_files.append(imageio.save_image(work / "in" / f"p{i}.png", picture))
    big = imageio.save_image(work / "big.png", _picture(*args.canvas_size)) if args.canvas else None

    configure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    settings = Settings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    window.resize(1280, 800)
    window.show()
    stall = Stall(app, window, args.tick_ms)
    out: dict = {"mode": mode, "note": note, "phases": {}}
    phases = out["phases"]
    # the window lists the installed models from the event loop right after it is shown
    phases["startup"] = stall.measure(lambda: None, lambda: window.options.sketch_model_combo.count() > 0,
                                      timeout=args.timeout, tail=0.3)
    opts = window.options
    opts.set_device(args.device)
    if model is not None:
        index = opts.sketch_model_combo.findData(str(model))
        if index >= 0:
            opts.sketch_model_combo.setCurrentIndex(index)
    opts.set_mode(mode)
    window.queue.folder_edit.setText(str(work / "out"))

    phases["idle"] = stall.measure(lambda: None, lambda: False, timeout=args.idle, tail=0.0)
    phases["idle"]["timed_out"] = False  # the idle phase ends on its timeout by design

    if batch_files:
        finished: list[dict] = []
        runner = window.queue.runner
        runner.batch_finished.connect(finished.append)
        runner.job_finished.connect(lambda job: stall.mark("job"))
        window.enqueue([(f, Path(f.name)) for f in batch_files])
        out["torch_before_batch"] = "torch" in sys.modules
        phases["batch"] = stall.measure(runner.start, lambda: bool(finished), timeout=args.timeout)
        first, rest = stall.split("job")
        phases["batch"]["tally"] = finished[0] if finished else None
        phases["batch_first_job"], phases["batch_later_jobs"] = first, rest
        out["device"] = window.device_label.text().removeprefix("Device: ")

    if big is not None:
        session = window.session
        loaded, done, failed = [], [], []
        session.source_changed.connect(loaded.append)
        session.run_finished.connect(done.append)
        session.failed.connect(lambda title, reason: failed.append(f"{title}: {reason}"))
        phases["canvas_open"] = stall.measure(lambda: window.open_paths([big]), lambda: bool(loaded or failed),
                                              timeout=args.timeout, tail=0.3)
        phases["canvas_run"] = stall.measure(window.run_current, lambda: bool(done or failed),
                                             timeout=args.timeout, tail=0.3)
        if failed:
            out["canvas_error"] = failed[0]
        out["device"] = window.device_label.text().removeprefix("Device: ")
    out["torch_loaded"] = "torch" in sys.modules
    window.close()
    window.queue.runner.shutdown()
    window.session.shutdown()
    return out


# ------------------------------------------------------------------------------------------ report


def _fmt(v, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def report(starts: list[dict], stall: dict | None, args, note: str = "") -> dict:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    summary: dict = {"platform": "display" if args.display else "offscreen", "cpus": os.cpu_count(),
                     "load_avg_1min": None if load is None else round(load, 2), "work": note}
    print(f"\nAniSketch GUI benchmark: {summary['platform']}, {summary['cpus']} CPUs, "
          f"load average {_fmt(load, '.2f')} (other busy processes inflate every figure)")
    if starts:
        installed = "no model installed" if note.startswith("xdog") else "one sketch model installed"
        print(f"\ncold start (Popen -> main window shown / canvas painted; {installed}), "
              f"target shown <= {STARTUP_TARGET_S} s")
        print(f"  {'run':<5}{'shown s':>9}{'painted s':>11}{'in child s':>12}  torch loaded at shown/painted/+0.5 s")
        for i, r in enumerate(starts, 1):
            if "error" in r:
                print(f"  {i:<5}error: {r['error']}")
                continue
            torch_text = " / ".join("yes" if r.get(f"torch_at_{k}") else "no" for k in ("shown", "painted", "settled"))
            print(f"  {i:<5}{_fmt(r.get('shown'), '.3f'):>9}{_fmt(r.get('painted'), '.3f'):>11}"
                  f"{_fmt(r.get('shown_in_child'), '.3f'):>12}  {torch_text}")
        shown = [r["shown"] for r in starts if "shown" in r]
        painted = [r["painted"] for r in starts if "painted" in r]
        summary["startup"] = {"runs": starts}
        if shown:
            summary["startup"].update(
                best_s=min(shown), median_s=statistics.median(shown),
                median_painted_s=statistics.median(painted) if painted else None,
                torch_at_shown=any(r.get("torch_at_shown") for r in starts),
                torch_within_0_5_s=any(r.get("torch_at_settled") for r in starts))
            print(f"  best {min(shown):.3f} s, median {statistics.median(shown):.3f} s"
                  + (f"; median first paint {statistics.median(painted):.3f} s" if painted else ""))
    if stall:
        summary["stall"] = stall
        print(f"\nGUI-thread stall ({args.tick_ms} ms timer on the GUI thread; gap = time between ticks), "
              f"target: no gap over {GAP_TARGET_MS:.0f} ms")
        print(f"  work: {stall['note']}; device {stall.get('device', '-')}")
        w, h = args.batch_size
        cw, ch = args.canvas_size
        names = {"startup": "window shown -> models listed",
                 "idle": f"idle ({args.idle:.0f} s, baseline)",
                 "batch": f"batch {args.batch}x{w}x{h} {stall['mode']}",
                 "batch_first_job": "  first job" + (" (loads torch + model)" if stall["mode"] == "sketch"
                                                     and not stall.get("torch_before_batch") else ""),
                 "batch_later_jobs": "  later jobs",
                 "canvas_open": f"open {cw}x{ch} on the canvas",
                 "canvas_run": f"{stall['mode']} {cw}x{ch} on the canvas"}
        print(f"  {'phase':<36}{'wall s':>8}{'max gap ms':>12}{'p99 ms':>9}{'p50 ms':>9}{'gaps>100ms':>12}")
        for key, p in stall["phases"].items():
            wall = p.get("wall_s")
            flag = " TIMED OUT" if p.get("timed_out") else ""
            print(f"  {names.get(key, key):<36}{_fmt(wall, '.2f'):>8}{_fmt(p['max_ms']):>12}{_fmt(p['p99_ms']):>9}"
                  f"{_fmt(p['p50_ms']):>9}{p['over_100']:>12}{flag}")
        if stall["phases"].get("batch", {}).get("tally"):
            print(f"  batch result: {stall['phases']['batch']['tally']}")
        if stall.get("canvas_error"):
            print(f"  canvas error: {stall['canvas_error']}")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--starts", type=int, default=3, help="cold starts (default: %(default)s; 0 skips them)")
    p.add_argument("--batch", type=int, default=6, help="pictures in the batch (default: %(default)s; 0 skips)")
    p.add_argument("--batch-size", type=_size, default=(1920, 1080), help="batch picture size WxH (1920x1080)")
    p.add_argument("--canvas-size", type=_size, default=(3840, 2160), help="canvas picture size WxH (3840x2160)")
    p.add_argument("--no-canvas", dest="canvas", action="store_false", help="skip the 4K canvas phases")
    p.add_argument("--no-stall", dest="stall", action="store_false", help="cold starts only")
    p.add_argument("--model", help="sketch model (.safetensors) for the batch and the canvas")
    p.add_argument("--random-model", action="store_true",
                   help="when no model is given: a random-weight UNetConfig.sketch() instead of XDoG")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: %(default)s)")
    p.add_argument("--tick-ms", type=int, default=5, help="GUI-thread timer interval (default: %(default)s)")
    p.add_argument("--idle", type=float, default=1.0, help="seconds of the idle baseline (default: %(default)s)")
    p.add_argument("--display", action="store_true", help="use the real display (DISPLAY), not offscreen")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per phase (default: %(default)s)")
    args = p.parse_args(argv)
    if args.display and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        p.error("--display needs DISPLAY (or WAYLAND_DISPLAY) set")

    work = Path(tempfile.mkdtemp(prefix="anisketch_bench_gui_"))
    os.environ["ANISKETCH_HOME"] = str(work / "home")  # no model of the user's counts as installed
    starts, stall = [], None
    try:
        mode, model, args.shipped, note = prepare_model(args, work / "model")
        print(f"... work: {note}", file=sys.stderr, flush=True)
        for i in range(args.starts):
            starts.append(cold_start(args.display, 120.0, None if args.shipped else model))
            print(f"... cold start {i + 1}/{args.starts}: {starts[-1]}", file=sys.stderr, flush=True)
        if args.stall and (args.batch or args.canvas):
            stall = stall_bench(args, work, mode, model, note)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = report(starts, stall, args, note)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
