"""The network's colour proposal for a line drawing, following the user's colour hints.

A hint-conditioned colorize U-Net (``UNetConfig.hint_channels`` 4) sees the line art plus two hint planes: the
hint colours (RGB, 0 elsewhere) and a mask of where hints are. It was trained the way Zhang et al. (2017)
trained user-guided colorization: hints sampled from the true colours at random points away from the lines (a
few to a few hundred, some as strokes, sometimes none), so it learns to spread a hint through its region and
to guess the colours nobody gave. Colours are smooth, so the network draws at a reduced working size (the
model's ``work_megapixels``, about 0.3 MP) and the proposal is enlarged; ``core.guided``'s region fill puts the
crisp edges back. The hints are drawn straight at the working size (dots of about one pixel, strokes of their
scaled width), exactly as the training sampler draws them.

``reference`` pictures steer the colours through ``core.guided``'s region matching, not through the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core.errors import AniSketchError, Cancelled

DEFAULT_WORK_MEGAPIXELS = 0.3
POINT_RADIUS_1MP = 2.0  # as core.hints: a dot's radius on a 1 MP picture, growing with the picture's side
SPREAD_REACH = 20.0  # "spread" hints: the confidence falls to 1/e this many working pixels from a hint
SHIPPED_HINT_MODEL = "colorize_hints"  # resources/models/<name>.safetensors, when colorize.safetensors has no hints

Color = tuple[int, int, int]
PointHint = tuple[float, float, Color]  # x, y, colour
StrokeHint = tuple[Sequence[tuple[float, float]], Color, float]  # points, colour, width


def working_shape(height: int, width: int, megapixels: float, multiple: int = 1) -> tuple[int, int]:
    """The network's ``(height, width)`` for a picture: about ``megapixels`` (never larger than the picture),
    rounded to multiples of ``multiple``."""
    scale = min(1.0, math.sqrt(megapixels * 1e6 / max(1, height * width))) if megapixels > 0 else 1.0
    h = max(multiple, round(height * scale / multiple) * multiple)
    w = max(multiple, round(width * scale / multiple) * multiple)
    return h, w


def draw_hints(shape: tuple[int, int], points: Iterable[PointHint] = (), strokes: Iterable[StrokeHint] = (),
               radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Hint planes ``(rgb float32 HxWx3 in [0, 1], mask float32 HxW)`` of ``shape``: strokes first (polylines of
    their width), then points (discs of ``radius``); later hints overwrite earlier ones. Coordinates are pixels
    of ``shape`` (origin top-left, pixel centres at integers)."""
    rgb = np.zeros((*shape, 3), dtype=np.float32)
    mask = np.zeros(shape, dtype=np.float32)
    shift = 4
    f = float(1 << shift)
    for pts, color, width in strokes:
        arr = np.round(np.asarray(pts, dtype=np.float64).reshape(-1, 2) * f).astype(np.int32)
        col = tuple(c / 255.0 for c in color)
        thick = max(1, int(round(width)))
        if len(arr) == 1:
            r = int(round(max(0.5, width / 2) * f))
            cv2.circle(rgb, tuple(int(v) for v in arr[0]), r, col, -1, cv2.LINE_8, shift)
            cv2.circle(mask, tuple(int(v) for v in arr[0]), r, 1.0, -1, cv2.LINE_8, shift)
        else:
            cv2.polylines(rgb, [arr], False, col, thick, cv2.LINE_8, shift)
            cv2.polylines(mask, [arr], False, 1.0, thick, cv2.LINE_8, shift)
    r = int(round(max(0.5, radius) * f))
    for x, y, color in points:
        centre = (int(round(x * f)), int(round(y * f)))
        cv2.circle(rgb, centre, r, tuple(c / 255.0 for c in color), -1, cv2.LINE_8, shift)
        cv2.circle(mask, centre, r, 1.0, -1, cv2.LINE_8, shift)
    return rgb, mask


def hint_planes(hints, full_shape: tuple[int, int], work_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Hint planes at ``work_shape`` of ``core.hints.Hints`` given in the pixels of ``full_shape``."""
    sy, sx = work_shape[0] / full_shape[0], work_shape[1] / full_shape[1]
    scale = math.sqrt(sx * sy)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5

    points, strokes = [], []
    if hints is not None:
        points = [(*at(p.x, p.y), tuple(p.color)) for p in hints.points]
        strokes = [([at(x, y) for x, y in s.points], tuple(s.color), s.width * scale) for s in hints.strokes]
    full_radius = max(1.0, POINT_RADIUS_1MP * math.sqrt(full_shape[0] * full_shape[1] / 1e6))
    return draw_hints(work_shape, points, strokes, radius=max(1.0, full_radius * scale))


def encode_hints(hint_rgb: np.ndarray, hint_mask: np.ndarray, encoding: str = "dots",
                 reach: float = SPREAD_REACH, lines: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The two hint planes the network sees, from the drawn hints (``draw_hints``).

    "dots": the hints as drawn (RGB where the mask is 1, 0 elsewhere). "spread": every pixel gets the colour of
    its nearest hint and a confidence ``exp(-distance / reach)`` (1 on a hint, 0 without any hint): a sparse
    dot then reaches the whole network, which only has to learn where a region's colour stops at the lines
    instead of carrying a few pixels through every level (the dots alone taught it nothing in 500 steps).
    "regions" (needs ``lines``, float 1 = paper): as "spread", but the confidence is 1 on the whole closed
    region of the line art that holds a hint and at most 0.5 elsewhere, so the network knows which areas the
    user coloured and which it still has to guess from the hints around them. "claimed" (needs ``lines``): only
    the closed regions holding a hint, painted in the nearest hint's colour with confidence 1, and nothing
    elsewhere: what the region fill will paint anyway, so the network's work is the regions nobody coloured,
    and no hint colour reaches them through the input."""
    if encoding == "dots":
        return hint_rgb * hint_mask[..., None], hint_mask
    if encoding not in ("spread", "regions", "claimed"):
        raise AniSketchError(f"Unknown hint encoding {encoding!r}")
    on = hint_mask >= 0.5
    if not on.any():
        return np.zeros_like(hint_rgb), np.zeros_like(hint_mask)
    dist, labels = cv2.distanceTransformWithLabels((~on).astype(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    table = np.zeros((int(labels.max()) + 1, 3), np.float32)
    table[labels[on]] = hint_rgb[on]
    if encoding == "spread":
        return table[labels], np.exp(-dist / reach).astype(np.float32)
    if lines is None or lines.shape != hint_mask.shape:
        raise AniSketchError(f"The {encoding!r} hint encoding needs the line art at the hints' size.")
    claimed = claimed_area(lines, on)
    if encoding == "claimed":
        return table[labels] * claimed[..., None], claimed.astype(np.float32)
    confidence = np.exp(-dist / reach).astype(np.float32) * 0.5
    confidence[claimed] = 1.0
    return table[labels], confidence


def claimed_area(lines: np.ndarray, on: np.ndarray, paper_level: float = 0.5) -> np.ndarray:
    """bool: the hints ``on`` and the closed regions of ``lines`` (float, 1 = paper; 4-connected pixels at
    least ``paper_level``) that a hint touches."""
    paper = (lines >= paper_level) & ~on
    count, regions = cv2.connectedComponents(paper.astype(np.uint8), connectivity=4)
    hinted = np.zeros(count, bool)
    near = cv2.dilate(on.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # a dot's rim touches its region
    hinted[np.unique(regions[near & paper])] = True
    hinted[0] = False  # label 0: ink and the hints themselves
    return hinted[regions] | on


def network_input(lines: np.ndarray, hint_rgb: np.ndarray, hint_mask: np.ndarray,
                  work_shape: tuple[int, int], encoding: str = "dots") -> np.ndarray:
    """``HxWx5`` float32 input at ``work_shape``: the line art (area-reduced) and the two hint planes
    (``encode_hints``)."""
    h, w = work_shape
    small = lines if lines.shape == (h, w) else cv2.resize(lines, (w, h), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32, copy=False)
    rgb, mask = encode_hints(hint_rgb, hint_mask, encoding, lines=small)
    return np.dstack([small, rgb, mask])


def _engine(model, device: str):
    from anisketch_desktop.core import engine as engine_mod

    if isinstance(model, engine_mod.InferenceEngine):
        eng = model
        if eng.min_megapixels > 0:  # the same weights, drawn at the working size instead of enlarged
            import copy

            eng = copy.copy(eng)  # shares the network and its lock (also one that lives only in memory)
            eng.min_megapixels = 0.0
    else:
        path = default_proposal_model() if model is None else Path(model)
        eng = engine_mod.get_engine(path, device, min_megapixels=0.0)
    if eng.config.task != "colorize":
        raise AniSketchError(f"{eng.path.name} is a {eng.config.task} model; colour proposals need a colorize model.")
    return eng


def default_proposal_model() -> Path:
    """The shipped colorize model if it takes hints, else the shipped hint model, else the default colorize."""
    from anisketch_desktop.core.model_io import read_metadata
    from anisketch_desktop.core.models import default_model, shipped_model_path

    path = default_model("colorize")
    try:
        if '"hint_channels": 4' in read_metadata(path).get("anisketch_config", ""):
            return path
    except AniSketchError:
        pass
    hinted = shipped_model_path(SHIPPED_HINT_MODEL)
    return hinted if hinted.is_file() else path


def propose_colors(lines: np.ndarray, hints=None, reference: np.ndarray | None = None, model=None,
                   device: str = "auto", progress: Callable[[float], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """The network's colour layer for ``lines`` (float32 ``HxW`` in [0, 1], 1 = paper): float32 ``HxWx3`` RGB
    in [0, 1], no lines on it, at the drawing's size.

    ``hints`` (``core.hints.Hints`` or None) steer a hint model; a colorize model without hint inputs (the
    previous shipped one) ignores them. ``model``: None (the default), a path,
    or an ``InferenceEngine``. ``reference`` is accepted for symmetry with ``core.guided`` (which matches the
    regions to the reference's colours); the network itself does not read it.
    """
    del reference  # palette steering lives in core.guided
    lines = np.asarray(lines, dtype=np.float32)
    if lines.ndim == 3:
        lines = lines[..., 0]
    if lines.ndim != 2 or lines.size == 0:
        raise AniSketchError("The line art must be a non-empty grayscale picture.")
    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    eng = _engine(model, device)
    height, width = lines.shape
    megapixels = eng.config.work_megapixels or DEFAULT_WORK_MEGAPIXELS
    work = working_shape(height, width, megapixels, eng.config.multiple)
    if eng.config.hint_channels:
        rgb, mask = hint_planes(hints, (height, width), work)
        image = network_input(lines, rgb, mask, work, eng.config.hint_encoding)
    else:  # a colorize model without hint inputs (the previous kind): its colour layer, hints unread
        image = cv2.resize(lines, work[::-1], interpolation=cv2.INTER_AREA)[..., None]
    layer = eng.run(image, layer=eng.config.multiply_lines, cancel=cancel)
    if work != (height, width):
        layer = cv2.resize(layer, (width, height), interpolation=cv2.INTER_LINEAR)
    if progress is not None:
        progress(1.0)
    return np.clip(layer, 0.0, 1.0, out=layer)
