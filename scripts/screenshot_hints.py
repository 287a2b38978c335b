"""The hint-tool scene of ``screenshot.py --scene hints``: Colorize mode on line art with colour hints placed.

The generated illustration is turned into line art by the shipped sketch model, opened in Colorize mode, and
hints are placed with real mouse events (``QTest``): one dot in each of the largest regions, in the
illustration's own colour there, and a stroke or two; the illustration is loaded as the reference picture and
a palette is saved. The window is grabbed once the live result shows every hint.
"""

from __future__ import annotations

from pathlib import Path

REGIONS = 22  # dots placed: the largest regions, then one per colour
PALETTE = "Mascot"


def _hints_for(picture, lines):
    """(x, y, colour, area) per region of ``lines``, largest first, coloured from ``picture`` (the ribbons of
    ink between double lines, near black, left out), and the region labels."""
    from anisketch_desktop.core.guided import style_hints
    from anisketch_desktop.core.imageio import to_float_gray
    from anisketch_desktop.core.levels import normalize_levels
    from anisketch_desktop.core.regions import cut_regions

    regions = cut_regions(normalize_levels(to_float_gray(lines)))
    found = []
    labels_h, labels_w = regions.labels.shape
    for hint in style_hints(picture, lines).points:
        label = regions.labels[int(hint.y), int(hint.x)]
        inside = 3 <= hint.x < labels_w - 3 and 3 <= hint.y < labels_h - 3
        if max(hint.color) >= 70 and inside:
            found.append((hint.x, hint.y, hint.color, int(regions.area[label])))
    return sorted(found, key=lambda h: -h[3]), regions.labels


def _distinct(hints, min_area: int = 1000, distance: int = 40):
    """The large regions' hints, and of the small ones only those of a colour not chosen yet (an artist's one
    dot per colour: the fill carries it to regions drawn the same)."""
    chosen = []
    for hint in hints:
        far = all(sum(abs(a - b) for a, b in zip(hint[2], c[2], strict=True)) > distance for c in chosen)
        if hint[3] >= min_area or far:
            chosen.append(hint)
    return chosen


def _stroke_path(labels, x: float, y: float, reach: int = 140) -> list[tuple[float, float]]:
    """A gentle arc through ``(x, y)`` that stays inside the region there."""
    label = labels[int(y), int(x)]
    h, w = labels.shape
    path = []
    for dx in range(-reach, reach + 1, 6):
        px, py = x + dx, y - 18 * (1 - (dx / reach) ** 2)
        if 0 <= px < w and 0 <= py < h and labels[int(py), int(px)] == label:
            path.append((px, py))
        elif path and dx > 0:
            break
        else:
            path = []
    return path


def shoot_hints(app, window, args, work: Path, shot) -> Path:
    """``shot``: the screenshot module (its ``illustration``, ``wait_until``, ``settle`` and ``grab``)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from anisketch_desktop.core import imageio, models, pipeline
    window.resize(*args.size)
    window.queue_dock.hide()  # room for the drawing: the batch queue plays no part here
    window.options.set_device(args.device)
    wait_until, settle, grab = shot.wait_until, shot.settle, shot.grab
    picture = shot.illustration(*args.hint_picture)  # 1 MP by default
    lines = pipeline.sketch(picture, model=models.default_model("sketch"), device=args.device)
    drawing = imageio.save_image(work / "mascot_lines.png", lines, overwrite=True)
    reference = imageio.save_image(work / "mascot_colour.png", picture, overwrite=True)
    window.options.set_mode("colorize")
    tool = window.colorize
    window.open_paths([drawing])
    wait_until(app, lambda: tool.last_result() is not None, args.timeout, "the colour proposal")
    tool.load_reference(reference)
    wait_until(app, lambda: tool.panel.reference_view.image is not None, args.timeout, "the reference picture")
    wait_until(app, lambda: tool.last_result() is not None and not tool.colorizer.is_busy(), args.timeout,
               "the proposal with the reference's palette")
    settle(app, 0.3)

    canvas = window.canvas

    def at(x, y):
        return canvas.map_to_widget(QPointF(x + 0.5, y + 0.5)).toPoint()

    hints, labels = _hints_for(picture, lines)
    canvas.set_split(0.0)  # the divider out of the way while clicking
    for x, y, color, _area in _distinct(hints)[:REGIONS]:
        tool.panel.palette.choose(color)
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(x, y))
        settle(app, 0.05)
    # a stroke across the face, a little lighter than its dot
    x, y, color, _area = hints[0]
    tool.panel.width_spin.setValue(10)
    tool.panel.palette.choose(tuple(min(255, c + 18) for c in color))
    path = _stroke_path(labels, x, y + 25)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*path[0]))
    for point in path[1:]:
        QTest.mouseMove(canvas, at(*point))
        settle(app, 0.01)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*path[-1]))
    tool.panel.palette.save_palette_as(PALETTE)
    tool.panel.palette.choose(hints[1][2])
    wait_until(app, lambda: not tool.colorizer.is_busy(), args.timeout, "the live result")
    print(f"hints: {len(tool.document)}, last update {tool.last_result().latency:.2f} s after the change",
          flush=True)
    canvas.set_split(args.split)
    QTest.mouseMove(canvas, at(*hints[2][:2]))  # hover: the hint under the cursor is ringed
    settle(app, 0.5)
    return grab(app, window, Path(args.output))
