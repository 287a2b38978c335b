"""The colour hints of the drawing on the canvas, with undo and redo.

Hints are kept as one ordered tuple of ``HintPoint`` / ``HintStroke`` items (the order the user drew them, so
a later hint covers an earlier one) and turned into ``core.hints.Hints`` for the colorizer and the JSON file.
Every edit pushes the previous tuple on the undo stack: items are immutable, so a snapshot is just a tuple.
"""

from __future__ import annotations

import math
from itertools import pairwise

from PySide6.QtCore import QObject, Signal

from anisketch_desktop.core.hints import RGB, HintPoint, Hints, HintStroke

Item = HintPoint | HintStroke
MAX_UNDO = 500


def item_distance(item: Item, x: float, y: float) -> float:
    """Distance (picture pixels) from ``(x, y)`` to the hint: to the dot's centre, or to the stroke's line
    minus half its width (0 inside the stroke)."""
    if isinstance(item, HintPoint):
        return math.hypot(item.x - x, item.y - y)
    pts = item.points
    best = math.hypot(pts[0][0] - x, pts[0][1] - y)
    for (ax, ay), (bx, by) in pairwise(pts):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
        best = min(best, math.hypot(ax + t * dx - x, ay + t * dy - y))
    return max(0.0, best - item.width / 2)


class HintDocument(QObject):
    """Ordered hints + undo/redo. ``changed`` is emitted after every edit, undo, redo and load."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: tuple[Item, ...] = ()
        self._undo: list[tuple[Item, ...]] = []
        self._redo: list[tuple[Item, ...]] = []

    # ------------------------------------------------------------------ reading
    def items(self) -> tuple[Item, ...]:
        return self._items

    def __len__(self) -> int:
        return len(self._items)

    def hints(self) -> Hints:
        return Hints(
            points=tuple(i for i in self._items if isinstance(i, HintPoint)),
            strokes=tuple(i for i in self._items if isinstance(i, HintStroke)),
        )

    def hit(self, x: float, y: float, tolerance: float) -> int | None:
        """Index of the topmost (latest) hint within ``tolerance`` picture pixels of ``(x, y)``, else None."""
        best, best_d = None, tolerance
        for index in range(len(self._items) - 1, -1, -1):
            d = item_distance(self._items[index], x, y)
            if d <= best_d and (best is None or d < best_d):
                best, best_d = index, d
        return best

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    # ------------------------------------------------------------------ editing
    def add_point(self, x: float, y: float, color: RGB) -> None:
        self._edit((*self._items, HintPoint(float(x), float(y), tuple(color))))

    def add_stroke(self, points: list[tuple[float, float]], color: RGB, width: float) -> None:
        if len(points) == 1:
            self.add_point(points[0][0], points[0][1], color)
            return
        stroke = HintStroke(tuple((float(x), float(y)) for x, y in points), tuple(color), float(width))
        self._edit((*self._items, stroke))

    def remove(self, index: int) -> Item:
        item = self._items[index]
        self._edit(self._items[:index] + self._items[index + 1 :])
        return item

    def clear(self) -> None:
        if self._items:
            self._edit(())

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._items)
        self._items = self._undo.pop()
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._items)
        self._items = self._redo.pop()
        self.changed.emit()
        return True

    def load(self, hints: Hints | None) -> None:
        """Replace the hints (a new drawing): strokes first, then dots, as the rasterizer draws them; the undo
        history starts afresh."""
        self._items = (*hints.strokes, *hints.points) if hints is not None else ()
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def _edit(self, items: tuple[Item, ...]) -> None:
        self._undo.append(self._items)
        del self._undo[:-MAX_UNDO]
        self._redo.clear()
        self._items = items
        self.changed.emit()
