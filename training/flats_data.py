"""The artists' own line layers (``lineart_flats``) as sketch targets, with the colour picture re-made per example.

A set holds ``line/NAME.png`` (the line layer on white), ``flat/NAME.png`` (the flat colours) and
``color/NAME.jpg`` (flats, shadows, then the lines on top). Because the colour picture contains the exact ink,
a network could learn to copy dark pixels; so training repaints it for most examples (:func:`repaint`):
lines recoloured (black, sepia, a dark shade of the fill as in 色トレス, or faint), the fills shaded with soft
light and shadow and sometimes blurred like paint, the whole picture blurred or scaled down. Whole series stay
on one side of the split (``HELD_OUT_SERIES`` are validation only).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from training.data import Sample, clean_sketch, read_gray, read_rgb

DEFAULT_FLATS = "../shared/data/lineart_flats"  # relative to the repository root
# validation series: the M1 comic, B1 and every set whose cast appears nowhere else (24 of 75 sets)
HELD_OUT_SERIES = {
    "M1", "B1", "smpsd_image_0112", "smpsd_image_0434", "smpsd_image_0446", "smuist_0008", "smuist_0052",
    "smuist_0080_back", "smweb_image0240", "smweb_image_0120",
}


def read_sets(flats_dir: str | Path) -> list[dict[str, str]]:
    with (Path(flats_dir) / "sets.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def split_names(flats_dir: str | Path) -> tuple[list[str], list[str]]:
    """``(training set names, validation set names)``, whole series on one side."""
    rows = read_sets(flats_dir)
    train = [r["name"] for r in rows if r["series"] not in HELD_OUT_SERIES]
    val = [r["name"] for r in rows if r["series"] in HELD_OUT_SERIES]
    return train, val


def _fit(img: np.ndarray, max_side: int) -> np.ndarray:
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    f = max_side / max(h, w)
    return cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def load_set(flats_dir: str | Path, name: str, max_side: int = 1600, weight: float = 1.0) -> Sample:
    """One set as a ``Sample``: colour = the composite, target = its line layer, ``flat`` = the flat colours."""
    root = Path(flats_dir)
    line = _fit(read_gray(root / "line" / f"{name}.png"), max_side)
    color = _fit(read_rgb(root / "color" / f"{name}.jpg"), max_side)
    flat = _fit(read_rgb(root / "flat" / f"{name}.png"), max_side)
    h, w = line.shape
    color = color if color.shape[:2] == (h, w) else cv2.resize(color, (w, h), interpolation=cv2.INTER_AREA)
    flat = flat if flat.shape[:2] == (h, w) else cv2.resize(flat, (w, h), interpolation=cv2.INTER_NEAREST)
    return Sample(name, color, clean_sketch(line), weight, "flats", truth=line, flat=flat)


def load_sets(flats_dir: str | Path, names, max_side: int = 1600) -> list[Sample]:
    return [load_set(flats_dir, n, max_side) for n in names]


def _smooth_field(rng: np.random.Generator, shape, cells: int, low: float, high: float) -> np.ndarray:
    """A smooth random field in [low, high] (bilinear upsampling of a coarse random grid)."""
    h, w = shape
    grid = rng.uniform(low, high, (cells, cells)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(low, high)


def repaint(rng: np.random.Generator, flat: np.ndarray, line: np.ndarray, composite: np.ndarray) -> np.ndarray:
    """A new colour picture (uint8 RGB) from the flat colours and the line layer (uint8 gray, 255 = paper)."""
    if rng.random() < 0.25:
        return composite
    fill = flat.astype(np.float32) / 255.0
    shape = fill.shape[:2]
    if rng.random() < 0.7:  # soft light and shadow over the flats
        fill *= _smooth_field(rng, shape, int(rng.integers(2, 6)), float(rng.uniform(0.45, 0.85)), 1.0)[..., None]
    if rng.random() < 0.3:  # a shadow layer of hard-edged shapes, multiplied
        mask = _smooth_field(rng, shape, int(rng.integers(3, 9)), 0.0, 1.0) > rng.uniform(0.55, 0.75)
        fill[mask] *= np.float32(rng.uniform(0.55, 0.85))
    if rng.random() < 0.3:  # painterly: fills melt into each other
        fill = cv2.GaussianBlur(fill, (0, 0), float(rng.uniform(1.5, 5.0)))
    ink = 1.0 - line.astype(np.float32) / 255.0
    kind = rng.random()
    if kind < 0.35:  # black or near black ink
        colour = np.full(3, rng.uniform(0.0, 0.2), np.float32) + rng.uniform(-0.05, 0.05, 3).astype(np.float32)
        colour = np.broadcast_to(colour.clip(0, 1), fill.shape)
    elif kind < 0.55:  # sepia / coloured ink
        colour = np.broadcast_to(rng.uniform(0.05, 0.45, 3).astype(np.float32), fill.shape)
    elif kind < 0.85:  # 色トレス: a dark shade of the colours around the line
        near = cv2.GaussianBlur(fill, (0, 0), 3.0)
        colour = near * np.float32(rng.uniform(0.3, 0.65))
    else:  # faint lines, little darker than their fills
        near = cv2.GaussianBlur(fill, (0, 0), 3.0)
        colour = near * np.float32(rng.uniform(0.55, 0.8))
    alpha = (ink * np.float32(rng.uniform(0.75, 1.0)))[..., None]
    out = fill * (1.0 - alpha) + colour * alpha
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.3)))
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def darken_flats(rng: np.random.Generator, flat: np.ndarray, most: int = 3, low: float = 0.15,
                 high: float = 0.4) -> np.ndarray:
    """The flat colours with one to ``most`` of their main colours made dark (black hair, a navy suit).

    The line layer still marks every line inside those areas: the network learns to find black ink on dark
    paint instead of reading the whole area as ink or dropping the lines in it. Colours are picked among the
    12 most common flat colours (the paper excluded) and scaled to a luminance of ``low``-``high``, keeping their hue
    (kept above black ink, so that a filled black shape still reads as ink).
    """
    small = flat[::4, ::4].reshape(-1, 3)
    colours, counts = np.unique(small, axis=0, return_counts=True)
    order = np.argsort(-counts)
    colours = [c for c in colours[order][:12] if c.astype(np.int32).sum() < 3 * 245]
    if not colours:
        return flat
    chosen = rng.choice(len(colours), size=min(len(colours), int(rng.integers(1, most + 1))), replace=False)
    src = flat.astype(np.float32)
    out = src.copy()
    for i in chosen:
        c = colours[i].astype(np.float32)
        mask = np.abs(src - c).max(axis=2) <= 6.0
        lum = max(float(c @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0, 0.04)
        out[mask] *= np.float32(min(1.0, rng.uniform(low, high) / lum))  # only ever darker
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
