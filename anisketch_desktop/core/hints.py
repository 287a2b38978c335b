"""Colour hints: dots and strokes of colour the user drops on line art to say "this region is this colour".

The JSON format (the CLI's ``--hints`` files and the GUI's saved hints), in the line picture's pixel
coordinates (origin top-left, x right, y down)::

    {"points": [{"x": 120, "y": 340, "color": "#e8b4a0"}],
     "strokes": [{"points": [[10, 12], [40, 15]], "color": "#334455", "width": 6}]}

Colours are RGB tuples of ints 0..255 in memory and ``#rrggbb`` in files. ``from_json`` validates everything
and raises ``HintError`` with one line naming the file (a hint outside the picture, a bad colour, a wrong
shape) — never a traceback.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core.errors import AniSketchError

RGB = tuple[int, int, int]
POINT_RADIUS_1MP = 2.0  # a dot's radius in pixels on a 1 MP picture (scaled with the picture's size)
MAX_HINTS = 100_000  # points + stroke vertices in one file: more is not a hint file


class HintError(AniSketchError):
    """A hint file or hint object that cannot be used (the message names the file and the problem)."""


@dataclass(frozen=True)
class HintPoint:
    x: float
    y: float
    color: RGB


@dataclass(frozen=True)
class HintStroke:
    points: tuple[tuple[float, float], ...]
    color: RGB
    width: float = 6.0


@dataclass(frozen=True)
class Hints:
    points: tuple[HintPoint, ...] = ()
    strokes: tuple[HintStroke, ...] = ()

    def is_empty(self) -> bool:
        return not self.points and not self.strokes

    def to_json(self) -> dict:
        return {
            "points": [{"x": _num(p.x), "y": _num(p.y), "color": color_to_hex(p.color)} for p in self.points],
            "strokes": [
                {"points": [[_num(x), _num(y)] for x, y in s.points], "color": color_to_hex(s.color),
                 "width": _num(s.width)}
                for s in self.strokes
            ],
        }

    @classmethod
    def from_json(cls, data: dict, shape: tuple[int, int] | None = None, source: str = "hints") -> Hints:
        """Validated hints from the JSON object ``data``; ``shape`` (H, W) checks that every hint lies inside
        the picture. Raises ``HintError`` naming ``source``."""
        if not isinstance(data, dict):
            raise HintError(f"{source}: expected a JSON object with \"points\" and/or \"strokes\"")
        unknown = set(data) - {"points", "strokes", "version"}
        if unknown:
            raise HintError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                            "use \"points\" and \"strokes\"")
        raw_points = _list(data.get("points", []), f"{source}: \"points\"")
        raw_strokes = _list(data.get("strokes", []), f"{source}: \"strokes\"")
        points = tuple(_point(p, shape, f"{source}: point {i + 1}") for i, p in enumerate(raw_points))
        strokes = tuple(_stroke(s, shape, f"{source}: stroke {i + 1}") for i, s in enumerate(raw_strokes))
        if len(points) + sum(len(s.points) for s in strokes) > MAX_HINTS:
            raise HintError(f"{source}: more than {MAX_HINTS} hint points; this is not a hint file")
        return cls(points, strokes)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 2)


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise HintError(f"{where} must be a list")
    return value


def _coord(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HintError(f"{where} is not a number: {value!r}")
    return float(value)


def _inside(x: float, y: float, shape: tuple[int, int] | None, where: str) -> None:
    if shape is None:
        return
    h, w = shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise HintError(f"{where} at ({_num(x)}, {_num(y)}) is outside the {w}x{h} picture")


def _point(raw, shape, where: str) -> HintPoint:
    if not isinstance(raw, dict) or not {"x", "y", "color"} <= set(raw):
        raise HintError(f"{where} must be an object with \"x\", \"y\" and \"color\"")
    x, y = _coord(raw["x"], f"{where} x"), _coord(raw["y"], f"{where} y")
    _inside(x, y, shape, where)
    return HintPoint(x, y, parse_color(raw["color"], where))


def _stroke(raw, shape, where: str) -> HintStroke:
    if not isinstance(raw, dict) or not {"points", "color"} <= set(raw):
        raise HintError(f"{where} must be an object with \"points\" and \"color\"")
    pts = _list(raw["points"], f"{where} \"points\"")
    if not pts:
        raise HintError(f"{where} has no points")
    out = []
    for j, p in enumerate(pts):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise HintError(f"{where} point {j + 1} must be [x, y], not {p!r}")
        x, y = _coord(p[0], f"{where} point {j + 1} x"), _coord(p[1], f"{where} point {j + 1} y")
        _inside(x, y, shape, f"{where} point {j + 1}")
        out.append((x, y))
    width = _coord(raw.get("width", 6.0), f"{where} width")
    if not 0.5 <= width <= 500:
        raise HintError(f"{where} width {_num(width)} must be between 0.5 and 500 pixels")
    return HintStroke(tuple(out), parse_color(raw["color"], where), width)


def parse_color(value, where: str = "colour") -> RGB:
    """``"#rrggbb"`` (or ``"#rgb"``, or ``[r, g, b]`` ints 0..255) -> an RGB tuple; ``HintError`` otherwise."""
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) == 3:
            text = "".join(c * 2 for c in text)
        if len(text) == 6:
            try:
                return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
            except ValueError:
                pass
    elif isinstance(value, (list, tuple)) and len(value) == 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value
    ):
        return (int(value[0]), int(value[1]), int(value[2]))
    raise HintError(f"{where} has a bad colour {value!r}; use \"#rrggbb\"")


def color_to_hex(color: RGB) -> str:
    r, g, b = (max(0, min(255, int(c))) for c in color)
    return f"#{r:02x}{g:02x}{b:02x}"


# --------------------------------------------------------------------------------------------- files
def load_hints(path: str | os.PathLike, shape: tuple[int, int] | None = None) -> Hints:
    """Hints from a JSON file; ``HintError`` naming the file when it is missing, not JSON, or invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HintError(f"{path}: hint file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HintError(f"{path}: cannot read the hint file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HintError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return Hints.from_json(data, shape, source=str(path))


def save_hints(hints: Hints, path: str | os.PathLike) -> None:
    """Write ``hints`` as JSON atomically (a temporary file in the same folder, then renamed over)."""
    from anisketch_desktop.core.imageio import _write_atomic

    path = Path(path)
    payload = (json.dumps(hints.to_json(), indent=1) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HintError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    _write_atomic(path, payload, overwrite=True)


# --------------------------------------------------------------------------------------------- raster
def point_radius(shape: tuple[int, int]) -> float:
    """A hint dot's radius for a picture of ``shape``: ~2 px at 1 MP, growing with the picture's side."""
    return max(1.0, POINT_RADIUS_1MP * math.sqrt(shape[0] * shape[1] / 1e6))


def hint_colors(hints: Hints) -> np.ndarray:
    """uint8 ``(n + 1, 3)``: row ``k`` is the colour of hint id ``k`` of ``rasterize_ids`` (row 0 unused)."""
    colors = [(0, 0, 0)] + [s.color for s in hints.strokes] + [p.color for p in hints.points]
    return np.array(colors, np.uint8).reshape(-1, 3)


def rasterize_ids(hints: Hints, shape: tuple[int, int]) -> np.ndarray:
    """int32 ``HxW``: 0 where no hint is, else the id of the hint drawn there last — strokes get ids
    ``1..len(strokes)`` in order, then points; strokes are polylines of their width, points small discs plus
    the clicked pixel itself."""
    h, w = shape[:2]
    ids = np.zeros((h, w), np.int32)
    shift = 4  # sub-pixel precision of OpenCV's drawing
    scale = 1 << shift

    def fix(x: float, y: float) -> tuple[int, int]:
        return (int(round(x * scale)), int(round(y * scale)))

    for k, s in enumerate(hints.strokes, start=1):
        pts = np.array([fix(x, y) for x, y in s.points], np.int32).reshape(-1, 1, 2)
        if len(pts) == 1:
            radius = int(round(max(0.5, s.width / 2) * scale))
            cv2.circle(ids, tuple(int(v) for v in pts[0, 0]), radius, k, -1, cv2.LINE_8, shift)
        else:
            cv2.polylines(ids, [pts], False, k, max(1, int(round(s.width))), cv2.LINE_8, shift)
    radius = int(round(point_radius(shape) * scale))
    for k, p in enumerate(hints.points, start=len(hints.strokes) + 1):
        cv2.circle(ids, fix(p.x, p.y), radius, k, -1, cv2.LINE_8, shift)
        ids[min(int(p.y), h - 1), min(int(p.x), w - 1)] = k
    return ids


def rasterize(hints: Hints, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(hint_rgb float32 HxWx3 in [0, 1], hint_mask float32 HxW in {0, 1})``: strokes as polylines of their
    width, then points as small discs; later hints overwrite earlier ones."""
    ids = rasterize_ids(hints, shape)
    rgb = (hint_colors(hints).astype(np.float32) / 255.0)[ids]
    return rgb, (ids > 0).astype(np.float32)
