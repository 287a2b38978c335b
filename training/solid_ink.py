"""Solid ink: areas the artist filled with ink (lettering, black hair, solid shadows, pupils) must stay filled.

* :func:`stamp` draws filled shapes and heavy lettering into a training example, in the picture and as ink in
  the target, so the network sees that a large dark area is drawn as ink, not outlined.
* :func:`solid_ink_score` measures it: the share of the filled area's interior that comes out as ink
  (prediction gray < 128), on synthetic pictures (:func:`synthetic_cases`) and on real line art, where the
  filled areas are the parts of the artist's ink wider than ``MIN_FILL_PX``.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.metrics import to_gray_u8, truth_ink

MIN_FILL_PX = 9  # ink wider than this (px) is a fill, not a line
EDGE_PX = 2  # the fill's rim is left out of the score (a line drawn around it would cover it)
WORDS = ("BAM!", "ZZZ", "DOKI", "NO!", "AAH", "GO", "!!", "WOW")


def _shape(rng: np.random.Generator, mask: np.ndarray, size: int, words: bool = True) -> None:
    h, w = mask.shape
    cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
    kind = rng.random() * (1.0 if words else 0.7)
    if kind < 0.35:
        axes = (int(rng.integers(size // 4, size)), int(rng.integers(size // 4, size)))
        cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1, cv2.LINE_AA)
    elif kind < 0.7:
        n = int(rng.integers(3, 8))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(size * 0.3, size, n)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1, cv2.LINE_AA)
    else:
        word = WORDS[int(rng.integers(len(WORDS)))]
        scale = size / 18.0
        thickness = max(3, int(size / 6))
        cv2.putText(mask, word, (cx - size, cy), cv2.FONT_HERSHEY_DUPLEX, scale, 1, thickness, cv2.LINE_AA)


def fill_mask(rng: np.random.Generator, shape, count: int | None = None) -> np.ndarray:
    """A boolean mask of 1-3 filled shapes or words, each 5-20 % of the picture's short side."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    for _ in range(count or int(rng.integers(1, 4))):
        _shape(rng, mask, int(min(h, w) * rng.uniform(0.05, 0.2)) + 6)
    return mask > 0


def stamp(rng: np.random.Generator, color: np.ndarray, sketch: np.ndarray,
          dark_fills: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(color, sketch)`` with solid ink added: a dark (sometimes coloured) fill in the picture, ink in the target.

    With probability ``dark_fills`` the example also gets a dark colour that is *not* ink (dark clothing, a
    navy coat): a shape filled with a dark, often coloured paint and outlined in black ink; the target holds
    only the outline, so the network learns where solid ink ends and dark paint begins."""
    mask = fill_mask(rng, sketch.shape)
    if not mask.any():
        return color, sketch
    ink = np.clip(rng.uniform(0.0, 0.18, 3) + rng.uniform(-0.05, 0.05, 3), 0, 1) * 255
    color, sketch = color.copy(), sketch.copy()
    color[mask] = ink.astype(np.uint8)
    if rng.random() < 0.3:  # a glossy highlight inside, as on black hair
        cv2.GaussianBlur(color, (0, 0), 0.7, dst=color)
    sketch[mask] = 0
    if dark_fills > 0 and rng.random() < dark_fills:
        dark_paint(rng, color, sketch)
    return color, sketch


def dark_paint(rng: np.random.Generator, color: np.ndarray, sketch: np.ndarray) -> None:
    """In place: 1-2 shapes of dark paint (base level 0.22-0.45, often tinted, softly shaded) outlined in ink;
    the target (``sketch``) gets the outline only, the paint's interior is paper."""
    h, w = sketch.shape
    shapes = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 3))):
        _shape(rng, shapes, int(min(h, w) * rng.uniform(0.1, 0.3)) + 8, words=False)
        if rng.random() < 0.5:
            break
    inside = shapes > 0
    if not inside.any():
        return
    base = rng.uniform(0.22, 0.45)
    tint = base * (1.0 + rng.uniform(-0.5, 0.5, 3))
    field = cv2.GaussianBlur(rng.uniform(0.8, 1.15, (max(2, h // 32), max(2, w // 32))).astype(np.float32),
                             (0, 0), 1.0)
    field = cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)  # soft shading across the paint
    paint = np.clip(tint[None, None, :] * field[..., None], 0.12, 0.6) * 255
    color[inside] = paint[inside].astype(np.uint8)
    width = int(rng.integers(1, 4))
    edge = cv2.morphologyEx(shapes, cv2.MORPH_GRADIENT, np.ones((width + 1, width + 1), np.uint8)) > 0
    line = np.clip(rng.uniform(0.0, 0.1, 3), 0, 1) * 255
    color[edge] = line.astype(np.uint8)
    sketch[inside] = 255
    sketch[edge] = 0


def fill_interior(ink: np.ndarray, min_width: int = MIN_FILL_PX, edge: int = EDGE_PX) -> np.ndarray:
    """The interior of the areas of ``ink`` (bool) wider than ``min_width`` px, less an ``edge`` px rim."""
    ink = ink.astype(np.uint8)
    wide = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                            (min_width, min_width)))
    if edge > 0:
        wide = cv2.erode(wide, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1)))
    return wide > 0


def solid_ink_score(pred: np.ndarray, filled: np.ndarray) -> float | None:
    """Share of ``filled`` (bool) that ``pred`` draws as ink (gray < 128); None when nothing is filled."""
    gray = to_gray_u8(pred)
    if gray.shape != filled.shape:
        gray = cv2.resize(gray, filled.shape[::-1], interpolation=cv2.INTER_AREA)
    n = int(filled.sum())
    return None if n == 0 else float((gray[filled] < 128).sum()) / n


def real_fill(truth: np.ndarray) -> np.ndarray:
    """The filled-ink interior of a real line-art picture."""
    return fill_interior(truth_ink(truth))


def synthetic_cases(backgrounds: list[np.ndarray], seed: int = 7, per_picture: int = 2):
    """``(name, picture, filled interior)``: black lettering and shapes drawn onto the given pictures."""
    rng = np.random.default_rng(seed)
    out = []
    for i, bg in enumerate(backgrounds):
        for j in range(per_picture):
            mask = fill_mask(rng, bg.shape[:2], count=3)
            pic = bg.copy()
            pic[mask] = (np.clip(rng.uniform(0, 0.12, 3), 0, 1) * 255).astype(np.uint8)
            out.append((f"synthetic{i}-{j}", pic, fill_interior(mask)))
    return out
