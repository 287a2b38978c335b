"""Line controls applied to a finished sketch: weight (thinner ↔ bolder), threshold (soft ↔ crisp ink), tint.

They run after the network (or XDoG) on its full-resolution float output (1 = paper, 0 = ink), so the GUI
can keep that output and redo only this cheap step when a control moves: the live preview and the saved file
come from the same call. Every step is pointwise monotone in its control: a larger weight never gives less
ink at any pixel, a higher threshold never gives more mid-gray.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import cv2
import numpy as np

from anisketch_desktop.core.errors import AniSketchError

WEIGHTS = range(-2, 3)
PX_PER_STEP_AT = 1600  # one weight step moves the line edge by long side / 1600 px (1.2 px at 1080p)
MIN_PX_PER_STEP = 0.75
TINT_MAX_VALUE = 0.42  # tinted lines are at most this bright (max RGB channel), so they read as lines


@dataclass(frozen=True)
class LineOptions:
    """What the line controls are set to; the defaults leave the sketch as the network drew it."""

    weight: int = 0  # -2 thinnest .. +2 boldest
    threshold: float = 0.0  # 0 soft gray lines .. 1 pure black-and-white ink
    tint: bool = False  # colour each line by the picture under it (色トレス)

    def __post_init__(self) -> None:
        if int(self.weight) != self.weight or self.weight not in WEIGHTS:
            raise AniSketchError(f"Line weight must be a whole number from -2 to 2, not {self.weight!r}")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise AniSketchError(f"Line threshold must be between 0 and 1, not {self.threshold!r}")

    @property
    def is_default(self) -> bool:
        return self == LineOptions()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> LineOptions:
        values = values or {}
        return cls(
            weight=int(values.get("weight", 0)),
            threshold=float(values.get("threshold", 0.0)),
            tint=bool(values.get("tint", False)),
        )


def px_per_step(shape: tuple[int, ...]) -> float:
    """How far one weight step moves a line's edge, in pixels, for a picture of this shape."""
    return max(MIN_PX_PER_STEP, max(shape[:2]) / PX_PER_STEP_AT)


@lru_cache(maxsize=16)
def _disc(radius: int) -> np.ndarray:
    """A disc footprint; discs of growing radius contain each other (so the morphology is monotone)."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius + radius).astype(np.uint8)


def _morph(ink: np.ndarray, radius: float, op) -> np.ndarray:
    """``op`` (cv2.dilate / cv2.erode) with a disc of fractional ``radius``: a blend of the two nearest."""
    lo = int(np.floor(radius))
    frac = radius - lo
    a = ink if lo == 0 else op(ink, _disc(lo), borderType=cv2.BORDER_REPLICATE)
    if frac < 1e-3:
        return a
    b = op(ink, _disc(lo + 1), borderType=cv2.BORDER_REPLICATE)
    return a + np.float32(frac) * (b - a)


def apply_weight(gray: np.ndarray, weight: int) -> np.ndarray:
    """Bolder (grow the lines by ``weight`` steps) or thinner (shrink them to their centre lines)."""
    if weight == 0:
        return gray
    ink = 1.0 - np.asarray(gray, dtype=np.float32)
    radius = abs(weight) * px_per_step(gray.shape)
    lines = ink >= 0.5
    if weight > 0:  # grow the drawn lines only, not the faint gray haze around them
        ink = np.maximum(ink, _morph(np.where(lines, ink, np.float32(0.0)), radius, cv2.dilate))
    else:
        keep = _thin_keep(lines, radius)
        keep[~lines] = 1.0 - 0.5 * -weight  # the faint haze fades: half at -1, gone at -2
        ink = ink * keep
    return 1.0 - ink


def _thin_keep(lines: np.ndarray, radius: float) -> np.ndarray:
    """How much ink each pixel keeps when lines are thinned by ``radius`` px a side (1 inside, 0 outside).

    A pixel keeps its ink when it lies deeper than ``radius`` inside a line, or on the line's centre (a
    local maximum of the distance to paper), so thin lines stay whole and only wide ones lose their edges.
    """
    depth = cv2.distanceTransform(lines.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    centre = lines & (depth >= cv2.dilate(depth, _disc(1)))
    keep = np.clip(depth - np.float32(radius) + np.float32(0.5), 0.0, 1.0)
    keep[centre] = 1.0
    return keep


def apply_threshold(gray: np.ndarray, threshold: float) -> np.ndarray:
    """Steepen the gray ramp around mid-gray: 0 leaves it, 1 gives pure black and white."""
    if threshold <= 0.0:
        return gray
    gray = np.asarray(gray, dtype=np.float32)
    if threshold >= 0.999:
        return (gray >= 0.5).astype(np.float32)
    slope = np.float32(1.0 / (1.0 - threshold))
    return np.clip((gray - np.float32(0.5)) * slope + np.float32(0.5), 0.0, 1.0)


def line_colours(gray: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Per pixel, a dark shade of the colours beside the line in ``rgb`` (float RGB, same size)."""
    paper = np.square(np.clip(gray, 0.0, 1.0)).astype(np.float32)  # weigh the fills, not the drawn lines
    sigma = max(1.5, max(gray.shape[:2]) / 500.0)
    num = cv2.GaussianBlur(rgb * paper[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(paper, (0, 0), sigma)[..., None]
    near = cv2.GaussianBlur(rgb, (0, 0), sigma)  # inside wide ink areas: the picture's own colour
    mix = np.clip(den * 4.0, 0.0, 1.0)
    colour = mix * (num / np.maximum(den, 1e-4)) + (1.0 - mix) * near
    brightest = np.maximum(colour.max(axis=2, keepdims=True), 1e-4)
    return colour * np.minimum(1.0, TINT_MAX_VALUE / brightest)


def tint(gray: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(RGB sketch with coloured lines on white, line colour)`` from a gray sketch and the picture."""
    colour = line_colours(gray, rgb)
    ink = (1.0 - gray)[..., None]
    return 1.0 - ink * (1.0 - colour), colour


def apply(gray: np.ndarray, opts: LineOptions) -> np.ndarray:
    """Weight, then threshold, of a float sketch (1 = paper); the tint is applied when composing."""
    out = apply_weight(np.asarray(gray, dtype=np.float32), opts.weight)
    return apply_threshold(out, opts.threshold)
