"""The hint fill: every region takes the colour of the hints inside it; the others take the proposal.

* A dot claims the region of the pixel it was dropped on; a stroke claims every region it runs through for a
  while (not the neighbours its width brushes over a line).
* Several colours in one region (usually two areas whose lines do not quite meet) split it: each pixel takes
  the colour of the nearest hint, as in Krita's colorize mask.
* Regions without a hint keep the proposal's mean colour; where it matches the proposal of a hinted region
  nearby (the same thing drawn twice: the other arm, the second shoe), it follows that hint, weighted by how
  close the colours and the places are.
* Tiny regions (specks between close lines) inherit their parent's colour unless a hint lands in them.

Everything is per region (a few thousand rows) except the final paint, one ``take`` of the colour table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anisketch_desktop.core.hints import Hints, hint_colors, rasterize_ids
from anisketch_desktop.core.regions import Regions, _nearest

FOLLOW_COLOR_SIGMA = 0.07  # RGB distance (0..1 per channel) at which a proposal stops "matching"
FOLLOW_PLACE_SIGMA = 0.5  # share of the picture's diagonal at which a hinted region stops pulling
FOLLOW_PRIOR = 0.05  # weight of a region's own proposal against the pull of matching hints


@dataclass
class Split:
    """Pixel colours of a region holding hints of several colours (nearest hint wins)."""

    region: int
    ys: np.ndarray
    xs: np.ndarray
    colors: np.ndarray  # float32 (n, 3)


@dataclass
class HintFill:
    """What the hints say, per region: ``color`` float32 ``(count, 3)`` in [0, 1] where ``hinted``."""

    color: np.ndarray
    hinted: np.ndarray
    splits: list[Split] = field(default_factory=list)


def assign_hints(regions: Regions, hints: Hints | None) -> HintFill:
    """Which regions the hints claim, and with which colour."""
    count = regions.count
    color = np.zeros((count, 3), np.float32)
    hinted = np.zeros(count, bool)
    if hints is None or hints.is_empty():
        return HintFill(color, hinted)
    ids = rasterize_ids(hints, regions.shape)
    palette = hint_colors(hints).astype(np.float32) / 255.0
    n_hints = palette.shape[0]
    on = (ids > 0) & regions.paper
    keys = regions.labels[on].astype(np.int64) * n_hints + ids[on]
    pairs, counts = np.unique(keys, return_counts=True)
    region, hint = pairs // n_hints, pairs % n_hints
    total = np.bincount(hint, weights=counts, minlength=n_hints)
    n_strokes = len(hints.strokes)
    widths = np.array([0.0] + [s.width for s in hints.strokes], np.float64)
    claims: set[tuple[int, int]] = set()
    for r, k, c in zip(region.tolist(), hint.tolist(), counts.tolist(), strict=True):
        if 1 <= k <= n_strokes and c >= min(0.5 * total[k], 2.0 * widths[k] ** 2):
            claims.add((r, k))
    for k in range(1, n_strokes + 1):  # every stroke claims at least the region it covers most
        mine = hint == k
        if mine.any():
            claims.add((int(region[mine][np.argmax(counts[mine])]), k))
    h, w = regions.shape
    for k, p in enumerate(hints.points, start=n_strokes + 1):  # a dot: the region of its own pixel
        claims.add((int(regions.labels[min(int(p.y), h - 1), min(int(p.x), w - 1)]), k))
    by_region: dict[int, list[int]] = {}
    for r, k in claims:
        by_region.setdefault(r, []).append(k)
    weight = dict(zip(zip(region.tolist(), hint.tolist(), strict=True), counts.tolist(), strict=True))
    splits = []
    for r, ks in by_region.items():
        colours = {tuple(palette[k]) for k in ks}
        best = max(ks, key=lambda k: (weight.get((r, k), 0), k))
        color[r] = palette[best]
        hinted[r] = True
        if len(colours) > 1:
            splits.append(_split(regions, r, ids, sorted(ks), palette))
    return HintFill(color, hinted, splits)


def _split(regions: Regions, r: int, ids: np.ndarray, ks: list[int], palette: np.ndarray) -> Split:
    """Pixels of region ``r`` coloured by the nearest of the hints ``ks`` inside it."""
    ys, xs = np.nonzero(regions.labels == r)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop_ids = ids[y0:y1, x0:x1]
    inside = regions.labels[y0:y1, x0:x1] == r
    seeds = np.where(inside & np.isin(crop_ids, ks), crop_ids, 0)
    nearest = _nearest(seeds)
    return Split(r, ys, xs, palette[nearest[ys - y0, xs - x0]])


def region_colors(regions: Regions, proposal: np.ndarray, fill: HintFill, follow: bool = True) -> np.ndarray:
    """float32 ``(count, 3)``: the final flat colour of every region, from the proposal's region means
    ``proposal`` (``(count, 3)``) and the hints."""
    colors = proposal.astype(np.float32, copy=True)
    colors[fill.hinted] = fill.color[fill.hinted]
    tiny = regions.tiny
    free = ~fill.hinted & ~tiny
    free[0] = False
    src = np.flatnonzero(fill.hinted & ~tiny) if fill.hinted.any() else np.array([], int)
    if follow and src.size and free.any():
        dst = np.flatnonzero(free)
        diag = float(np.hypot(*regions.shape))
        dc = ((proposal[dst, None, :] - proposal[None, src, :]) ** 2).sum(-1) / FOLLOW_COLOR_SIGMA ** 2
        dp = ((regions.centroid[dst, None, :] - regions.centroid[None, src, :]) ** 2).sum(-1)
        wgt = np.exp(-dc - dp / (FOLLOW_PLACE_SIGMA * diag) ** 2)
        shift = wgt @ (fill.color[src] - proposal[src]) / (FOLLOW_PRIOR + wgt.sum(1, keepdims=True))
        colors[dst] = np.clip(proposal[dst] + shift, 0.0, 1.0)
    heirs = np.flatnonzero(tiny & ~fill.hinted)
    colors[heirs] = colors[regions.parent[heirs]]
    return colors


def paint(regions: Regions, colors: np.ndarray, fill: HintFill | None = None) -> np.ndarray:
    """uint8 ``HxWx3`` flats: every pixel its region's colour (split regions pixel by pixel)."""
    table = np.clip(colors * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = table[regions.labels]
    for split in fill.splits if fill is not None else ():
        out[split.ys, split.xs] = np.clip(split.colors * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out
