"""Screenshots of the real app window (for the README and release notes), and optionally of the dataset wizard.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py -o docs/screenshot_main.png
    .venv/bin/python scripts/screenshot.py my_picture.png -o shot.png --theme light     # offscreen
    .venv/bin/python scripts/screenshot.py --wizard-pages docs/wizard                  # + one PNG per page
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py --scene hints --size 1600x1000

The app starts through ``anisketch_desktop.app.run_gui`` with a throw-away ``ANISKETCH_HOME`` (no saved
geometry, settings or models of yours leak in), opens the picture (default: a generated, colourful
illustration-like picture), runs the current mode (the U-Net sketch when a sketch model is installed or given
with ``--model``, else XDoG), waits for the result and saves the whole window with ``QWidget.grab``. A few
small pictures are run through the batch queue first so the queue dock shows finished rows.

With ``--wizard-pages OUTDIR`` the dataset wizard opens on a temporary dataset: a few generated pictures are
imported through the wizard's folder import, sketches are generated, some are approved/rejected, and each page
is saved as ``OUTDIR/wizard_<n>_<page>.png``.

``--scene hints`` shoots the hint tool instead (``screenshot_hints.py``): line art of the illustration in
Colorize mode with colour hints placed by mouse events, a reference picture and a saved palette.

Without ``DISPLAY`` (and without ``QT_QPA_PLATFORM``) Qt runs offscreen; under Xvfb it uses the X server.
Exit status 0 when every screenshot was written, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a file: make the package importable without installing it
    sys.path.insert(0, str(REPO))


# ------------------------------------------------------------------------------------------ sample picture


def illustration(width: int = 1536, height: int = 1024, seed: int = 3):
    """A colourful, flat-shaded, outlined picture (sky, sun, hills, flowers, a big-eyed mascot), RGB uint8.

    Only numpy and OpenCV; deterministic for a given ``seed``. Illustration-like on purpose: clean outlines
    and flat colour areas are what the sketch modes are made for.
    """
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    s = min(width / 1536, height / 1024)
    ink = (52, 36, 44)
    line = max(2, round(4 * s))
    aa = cv2.LINE_AA

    def pt(x, y):  # layout in a 1536x1024 design space, centred horizontally
        return (int(width / 2 + (x - 768) * s), int(height / 2 + (y - 512) * s))

    def r(v):
        return max(1, int(v * s))

    # sky: vertical gradient from blue to peach
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([96, 160, 235], np.float32), np.array([255, 214, 186], np.float32)
    img = np.ascontiguousarray(np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3)).astype(np.uint8))

    # sun with a soft glow
    cx, cy = pt(1230, 210)
    yy, xx = np.mgrid[0:height, 0:width]
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r(260)
    glow = np.clip(1.0 - dist, 0.0, 1.0)[..., None] ** 2
    img = (img * (1 - 0.55 * glow) + np.array([255, 244, 200]) * 0.55 * glow).astype(np.uint8)
    cv2.circle(img, (cx, cy), r(95), (255, 222, 92), -1, aa)
    cv2.circle(img, (cx, cy), r(95), ink, line, aa)

    # clouds: outlined circles, then filled again so only the outer contour stays
    for x0, y0, k in ((260, 170, 1.0), (620, 120, 0.8), (980, 260, 0.7)):
        puffs = [(pt(x0 + dx * k, y0 + dy * k), r(rad * k)) for dx, dy, rad in
                 ((0, 0, 55), (55, -25, 60), (115, 0, 50), (60, 20, 55))]
        for centre, rad in puffs:
            cv2.circle(img, centre, rad, (150, 170, 210), line + 2, aa)
        for centre, rad in puffs:
            cv2.circle(img, centre, rad, (252, 252, 255), -1, aa)

    # hills: two layers of smooth curves, filled and outlined
    xs = np.arange(0, width + 8, 8)
    for base, amp, freq, phase, colour in ((640, 70, 1.6, 0.4, (118, 190, 120)), (760, 55, 2.3, 2.0, (76, 158, 96))):
        ys = height / 2 + (base - 512) * s + amp * s * np.sin(xs / width * np.pi * freq + phase)
        poly = np.array([[0, height], *zip(xs, ys.astype(int), strict=True), [width, height]], np.int32)
        cv2.fillPoly(img, [poly], colour, aa)
        cv2.polylines(img, [poly[1:-1]], False, ink, line, aa)

    # flowers on the hills
    for _ in range(14):
        x, y = int(rng.uniform(0.03, 0.97) * width), int(rng.uniform(0.80, 0.97) * height)
        petal = tuple(int(c) for c in rng.choice([(250, 120, 160), (255, 236, 110), (170, 140, 255), (255, 160, 90)]))
        for a in range(0, 360, 72):
            px = x + int(r(14) * np.cos(np.radians(a)))
            py = y + int(r(14) * np.sin(np.radians(a)))
            cv2.circle(img, (px, py), r(11), petal, -1, aa)
            cv2.circle(img, (px, py), r(11), ink, max(1, line // 2), aa)
        cv2.circle(img, (x, y), r(8), (255, 250, 235), -1, aa)
        cv2.circle(img, (x, y), r(8), ink, max(1, line // 2), aa)

    # mascot: body, hair, ears, face, fringe, big eyes with highlights, blush, mouth
    body, skin, hair, eye = (120, 110, 230), (255, 226, 206), (120, 70, 170), (40, 150, 190)
    cv2.ellipse(img, pt(768, 1080), (r(250), r(330)), 0, 0, 360, body, -1, aa)
    cv2.ellipse(img, pt(768, 1080), (r(250), r(330)), 0, 0, 360, ink, line, aa)
    cv2.ellipse(img, pt(768, 748), (r(70), r(34)), 0, 0, 180, (255, 255, 255), -1, aa)  # collar
    cv2.ellipse(img, pt(768, 748), (r(70), r(34)), 0, 0, 180, ink, line, aa)
    cv2.ellipse(img, pt(768, 500), (r(272), r(262)), 0, 0, 360, hair, -1, aa)  # hair behind the face
    cv2.ellipse(img, pt(768, 500), (r(272), r(262)), 0, 0, 360, ink, line, aa)
    for side in (-1, 1):  # cat ears
        ear = np.array([pt(768 + side * 110, 280), pt(768 + side * 250, 140), pt(768 + side * 262, 400)], np.int32)
        cv2.fillPoly(img, [ear], hair, aa)
        cv2.polylines(img, [ear], True, ink, line, aa)
        inner = np.array([pt(768 + side * 150, 290), pt(768 + side * 238, 195), pt(768 + side * 244, 340)], np.int32)
        cv2.fillPoly(img, [inner], (250, 170, 200), aa)
    cv2.ellipse(img, pt(768, 520), (r(240), r(225)), 0, 0, 360, skin, -1, aa)
    cv2.ellipse(img, pt(768, 520), (r(240), r(225)), 0, 0, 360, ink, line, aa)
    fringe = [pt(520, 420), pt(560, 260), pt(768, 232), pt(976, 260), pt(1016, 420)]
    for i in range(8, -1, -1):  # spikes from right to left
        fringe += [pt(985 - (8 - i) * 54, 330 + (i % 2) * 25 + (i % 3) * 12),
                   pt(958 - (8 - i) * 54, 420 - (i % 2) * 40)]
    fringe = np.array(fringe, np.int32)
    cv2.fillPoly(img, [fringe], hair, aa)
    cv2.polylines(img, [np.vstack([fringe[4:], fringe[:1]])], False, ink, line, aa)  # the spikes' edge only
    cv2.ellipse(img, pt(680, 300), (r(80), r(24)), -18, 0, 360, (170, 120, 215), -1, aa)  # hair shine
    for side in (-1, 1):
        ex, ey = 768 + side * 105, 540
        cv2.ellipse(img, pt(ex, ey), (r(58), r(74)), 0, 0, 360, (255, 255, 255), -1, aa)
        cv2.ellipse(img, pt(ex, ey + 8), (r(46), r(62)), 0, 0, 360, eye, -1, aa)
        cv2.ellipse(img, pt(ex, ey + 22), (r(40), r(40)), 0, 0, 180, (20, 100, 140), -1, aa)
        cv2.ellipse(img, pt(ex, ey + 10), (r(22), r(30)), 0, 0, 360, (24, 30, 44), -1, aa)
        cv2.circle(img, pt(ex - 18, ey - 16), r(15), (255, 255, 255), -1, aa)
        cv2.circle(img, pt(ex + 16, ey + 30), r(7), (255, 255, 255), -1, aa)
        cv2.ellipse(img, pt(ex, ey), (r(58), r(74)), 0, 0, 360, ink, line, aa)
        cv2.ellipse(img, pt(ex, ey - 4), (r(64), r(80)), 0, 200, 340, ink, line + 2, aa)  # lashes
        cv2.ellipse(img, pt(ex + side * 40, ey + 95), (r(38), r(18)), 0, 0, 360, (255, 170, 170), -1, aa)
    cv2.ellipse(img, pt(768, 640), (r(34), r(22)), 0, 10, 170, ink, line, aa)  # smile
    cv2.circle(img, pt(768, 608), r(5), ink, -1, aa)  # nose
    # a star wand
    cv2.line(img, pt(1060, 960), pt(1160, 700), (150, 100, 60), r(12), aa)
    star = [pt(1160 + 70 * np.cos(np.radians(-90 + a * 36)) * (1 if a % 2 == 0 else 0.45),
               700 + 70 * np.sin(np.radians(-90 + a * 36)) * (1 if a % 2 == 0 else 0.45)) for a in range(10)]
    star = np.array(star, np.int32)
    cv2.fillPoly(img, [star], (255, 214, 64), aa)
    cv2.polylines(img, [star], True, ink, line, aa)
    return img


def small_picture(seed: int, width: int = 640, height: int = 480):
    """A small variant (other palette, shapes moved) for the batch queue and the wizard's dataset."""
    import numpy as np

    img = illustration(width, height, seed)
    rng = np.random.default_rng(seed)
    shift = rng.integers(-90, 90, 3)
    hue = np.roll(img, int(rng.integers(0, 3)), axis=2).astype(np.int32) + shift  # other colours per picture
    return np.clip(hue, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------ driving the app


class Failed(Exception):
    pass


def wait_until(app, condition, timeout: float, what: str) -> None:
    """Run the event loop until ``condition()`` is true; ``Failed`` after ``timeout`` seconds."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(app, seconds: float = 0.4) -> None:
    """Let pending repaints, layouts and queued signals run."""
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.01)


def grab(app, widget, path: Path) -> Path:
    """Save ``widget`` (and its children) as a PNG; ``Failed`` when the grab is empty or uniform."""
    from anisketch_desktop.gui.imaging import from_qimage

    settle(app, 0.3)
    widget.repaint()
    pixmap = widget.grab()
    image = pixmap.toImage()
    if image.isNull() or image.width() < 50:
        raise Failed(f"empty grab of {widget.objectName() or widget}")
    arr = from_qimage(image)
    if float(arr.std()) < 3.0:
        raise Failed(f"the grab of {widget.objectName() or widget} is a uniform colour (std {arr.std():.1f})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path), "PNG"):
        raise Failed(f"could not write {path}")
    print(f"wrote {path} ({image.width()}x{image.height()})", flush=True)
    return path


def main_window():
    from PySide6.QtWidgets import QApplication

    return next((w for w in QApplication.topLevelWidgets() if w.objectName() == "main_window"), None)


def choose_mode(window, requested: str) -> str:
    if requested != "auto":
        return requested
    return "sketch" if window.options.has_model("sketch") else "xdog"


def run_batch(app, window, work: Path, count: int, mode: str, timeout: float) -> None:
    """Queue ``count`` small generated pictures in ``mode`` and run them, so the queue dock has rows."""
    from anisketch_desktop.core import imageio
    from anisketch_desktop.gui.queue_model import Job

    if count <= 0:
        return
    names = ["meadow", "sunset", "mascot", "garden", "evening", "spring", "lilac", "dawn"]
    files = []
    for i in range(count):
        name = f"{names[i % len(names)]}_{i + 1:02d}.png"
        files.append(imageio.save_image(work / "batch" / name, small_picture(10 + i), overwrite=True))
    window.queue.folder_edit.setText(str(work / "out"))
    opts = window.options.process_options()
    opts.mode = mode
    window.queue.model.add_jobs([Job(Path(f), Path(Path(f).name), opts) for f in files])
    finished = []
    window.queue.runner.batch_finished.connect(finished.append)
    window.queue.runner.start()
    wait_until(app, lambda: bool(finished), timeout, "the batch queue")
    print(f"batch: {finished[0]}", flush=True)


def shoot_main(app, window, args, work: Path) -> Path:
    from anisketch_desktop.core import imageio

    window.resize(*args.size)
    window.options.set_device(args.device)
    if args.model:
        combo = window.options.sketch_model_combo
        index = combo.findData(str(args.model_copy))
        if index >= 0:
            combo.setCurrentIndex(index)
    mode = choose_mode(window, args.mode)
    window.options.set_mode(mode)
    if args.xdog_preset:
        window.options.xdog_panel.apply_preset(args.xdog_preset)
    print(f"mode: {mode}" + ("" if mode != "xdog" or args.mode != "auto" else " (no sketch model installed)"),
          flush=True)
    run_batch(app, window, work, args.queue, mode, args.timeout)

    picture = Path(args.picture) if args.picture else imageio.save_image(
        work / "illustration.png", illustration(), overwrite=True)
    loaded = []
    window.session.source_changed.connect(loaded.append)
    window.open_paths([picture])
    wait_until(app, lambda: bool(loaded), args.timeout, f"{picture.name} to open")
    done, failed = [], []
    window.session.run_finished.connect(done.append)
    window.session.failed.connect(lambda title, reason: failed.append(f"{title}: {reason}"))
    window.run_current()
    wait_until(app, lambda: bool(done or failed), args.timeout, f"the {mode} result")
    if failed:
        raise Failed(failed[0])
    window.canvas.set_split(args.split)
    settle(app, 0.5)
    return grab(app, window, Path(args.output))


def shoot_wizard(app, window, args, work: Path) -> list[Path]:
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    from anisketch_desktop.core import imageio
    from anisketch_desktop.gui.wizard import DatasetWizard

    out = Path(args.wizard_pages)
    pictures = work / "my pictures"
    for i in range(args.wizard_pictures):
        imageio.save_image(pictures / f"picture_{i + 1:02d}.png", small_picture(100 + i, 768, 576), overwrite=True)
    wizard = DatasetWizard(window)
    wizard.show()
    wizard.folder_page.path_edit.setText(str(work / "datasets" / "my-dataset"))
    shots = []

    def idle(what):
        wait_until(app, lambda: not wizard.ctx.is_busy(), args.timeout, what)

    wizard.next_button.click()  # opens (creates) the dataset
    if wizard.current_page() is not wizard.crawl_page:
        raise Failed("the wizard did not open the dataset folder")
    wizard.crawl_page.import_folder(str(pictures))
    idle("the folder import")
    shots.append(grab(app, wizard, out / "wizard_1_crawl.png"))

    wizard.next_button.click()
    pairs = wizard.pairs_page
    wait_until(app, lambda: pairs.sketch_pane.image is not None, args.timeout, "the sketch preview")
    pairs.generate_button.click()
    idle("sketch generation")
    wait_until(app, lambda: pairs.sketch_pane.image is not None, args.timeout, "the sketch preview")
    shots.append(grab(app, wizard, out / "wizard_2_pairs.png"))

    wizard.next_button.click()
    review = wizard.review_page
    n = review.model.rowCount()
    wait_until(app, lambda: len(review.loader.built) >= min(n, 8), args.timeout, "review thumbnails")
    if n >= 4:  # a few decisions so the grid shows both marks
        selection = QItemSelection(review.model.index(0), review.model.index(1))
        review.grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        review.approve_button.click()
        review.set_current_row(2)
        review.reject_button.click()
        review.set_current_row(3)
    shots.append(grab(app, wizard, out / "wizard_3_review.png"))

    wizard.next_button.click()
    shots.append(grab(app, wizard, out / "wizard_4_train.png"))
    wizard.go(0)  # last, so it shows the filled dataset and a recent entry
    shots.insert(0, grab(app, wizard, out / "wizard_0_folder.png"))
    wizard.shutdown()
    wizard.hide()
    return shots


def drive(app, args, work: Path, result: dict) -> None:
    """Runs inside the app's event loop; never raises (the app's exception hook would open a dialog)."""
    try:
        window = main_window()
        if window is None:
            raise Failed("no main window")
        wait_until(app, lambda: window.options.sketch_model_combo.count() > 0, args.timeout, "the model list")
        if args.scene == "hints":
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import screenshot_hints

            result["files"] = [screenshot_hints.shoot_hints(app, window, args, work, sys.modules[__name__])]
        else:
            result["files"] = [shoot_main(app, window, args, work)]
        if args.wizard_pages:
            result["files"] += shoot_wizard(app, window, args, work)
        result["ok"] = True
    except Failed as exc:
        print(f"screenshot failed: {exc}", file=sys.stderr, flush=True)
    except Exception:
        traceback.print_exc()
    finally:
        app.quit()


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("picture", nargs="?", help="picture to show (default: a generated illustration)")
    p.add_argument("-o", "--output", help="PNG to write (default docs/screenshot_<scene>.png)")
    p.add_argument("--scene", default="main", choices=["main", "hints"],
                   help="main: a result and the batch queue; hints: Colorize with colour hints on line art")
    p.add_argument("--hint-picture", type=_size, default=(1224, 816), help="size WxH of the hints scene's drawing")
    p.add_argument("--mode", default="auto", choices=["auto", "sketch", "xdog", "colorize", "style"],
                   help="auto: the U-Net sketch when a sketch model is installed, else XDoG")
    p.add_argument("--model", help="a sketch model (.safetensors) to use, as if the user had trained it")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--xdog-preset", default="bold",
                   help="XDoG preset set in the side panel (used by the XDoG mode; '' keeps the default)")
    p.add_argument("--theme", default="dark", choices=["dark", "light"])
    p.add_argument("--size", type=_size, default=(1440, 900), help="window size WxH (default 1440x900)")
    p.add_argument("--split", type=float, default=0.5, help="where the before/after divider sits (0..1)")
    p.add_argument("--queue", type=int, default=4, help="small pictures run through the batch queue first")
    p.add_argument("--wizard-pages", metavar="OUTDIR", help="also save one PNG per dataset wizard page here")
    p.add_argument("--wizard-pictures", type=int, default=8, help="pictures imported into the wizard's dataset")
    p.add_argument("--home", help="ANISKETCH_HOME to use (default: a temporary folder, removed afterwards)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for any one step")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output = args.output or str(REPO / "docs" / f"screenshot_{args.scene}.png")
    work = Path(tempfile.mkdtemp(prefix="anisketch_shot_"))
    home = Path(args.home) if args.home else work / "home"
    os.environ["ANISKETCH_HOME"] = str(home)
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    args.model_copy = None
    if args.model:  # listed in the window like a model the user trained
        models = home / "models"
        models.mkdir(parents=True, exist_ok=True)
        args.model_copy = shutil.copy(args.model, models / Path(args.model).name)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from anisketch_desktop.app import run_gui
    from anisketch_desktop.gui.settings import Settings, configure

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure()
    Settings().theme = args.theme  # run_gui applies the saved theme
    result = {"ok": False, "files": []}
    QTimer.singleShot(0, lambda: drive(app, args, work, result))
    started = time.monotonic()
    try:
        run_gui([])
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the generated pictures, the queue's outputs, the dataset
    print(f"{'done' if result['ok'] else 'FAILED'} in {time.monotonic() - started:.1f} s: "
          f"{', '.join(str(f) for f in result['files']) or 'no files'}", flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
