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

from dataclasses import asdict, dataclass, field

import numpy as np

from anisketch_desktop.core.hints import Hints, hint_colors, rasterize_ids
from anisketch_desktop.core.regions import Regions, _nearest

COLOR_UNIT = 0.1  # colour distances of FollowWeights in units of 0.1 (RGB 0..1): weights of order 1
LOGIT_CLIP = 60.0  # follow weights are exp(logit), logits clipped to +-this (no overflow, float32 or 64)


@dataclass(frozen=True)
class FollowWeights:
    """How an unhinted region follows the hinted ones (``follow_colors``).

    Each hinted region ``s`` pulls an unhinted region ``d`` with the weight ``exp(bias + color * dc + place * dp
    + hint * dh + area * da)``: ``dc`` the squared RGB distance of their proposal colours in units of 0.1 (RGB
    0..1 per channel; the same thing drawn twice gets the same guess), ``dp`` the squared distance of their
    centres over the picture's squared diagonal, ``dh`` the squared distance of the hint colour to ``d``'s
    proposal (units of 0.1), ``da`` the
    absolute log ratio of their areas. ``d`` stays on its own proposal with weight 1. What a pull moves: ``take``
    0 shifts ``d`` by the hint's correction of ``s`` (hint - proposal of ``s``), 1 moves it to the hint colour.
    The defaults are the hand-set rule (colour sigma 0.07, place sigma 0.5 of the diagonal, own weight 0.05).
    ``python -m training.fit_follow`` fits all six on training drawings: it lowers the unhinted regions' error
    there, but not PSNR on the held-out drawings (see its docstring), so the hand-set rule stays.
    """

    bias: float = 2.995732  # -log(0.05)
    color: float = -2.040816  # -(0.1 / 0.07) ** 2
    place: float = -4.0  # -1 / 0.5 ** 2
    hint: float = 0.0
    area: float = 0.0
    take: float = 0.0


FOLLOW = FollowWeights()


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


def follow_terms(regions: Regions, proposal: np.ndarray, fill: HintFill,
                 weights: FollowWeights | None = None) -> dict | None:
    """The pairs (unhinted region, hinted region) that ``follow_colors`` weighs, or None without any.
    ``weights``: leave out the terms they do not use (a zero ``hint`` or ``take``); None keeps all (fitting)."""
    tiny = regions.tiny
    src = np.flatnonzero(fill.hinted & ~tiny)
    free = ~fill.hinted & ~tiny
    free[0] = False
    if not src.size or not free.any():
        return None
    dst = np.flatnonzero(free)
    diag2 = float(regions.shape[0] ** 2 + regions.shape[1] ** 2)
    p_dst, p_src, hint = proposal[dst], proposal[src], fill.color[src]
    area = np.log(np.maximum(regions.area.astype(np.float64), 1.0))
    terms = {
        "dst": dst,
        "dc": ((p_dst[:, None, :] - p_src[None, :, :]) ** 2).sum(-1) / COLOR_UNIT ** 2,
        "dp": ((regions.centroid[dst, None, :] - regions.centroid[None, src, :]) ** 2).sum(-1) / diag2,
        "da": np.abs(area[dst, None] - area[None, src]),
        "delta_src": hint - p_src,  # (n_src, 3): the hint's correction of its own region's guess
        "proposal_dst": p_dst,
    }
    if weights is None or weights.hint:
        terms["dh"] = ((p_dst[:, None, :] - hint[None, :, :]) ** 2).sum(-1) / COLOR_UNIT ** 2
    if weights is None or weights.take:
        terms["delta_dst"] = hint[None, :, :] - p_dst[:, None, :]  # (n_dst, n_src, 3): onto the hint colour
    return terms


def follow_colors(terms: dict, weights: dict, xp=np):
    """``(n_dst, 3)`` colours of the unhinted regions of ``follow_terms`` under ``weights`` (the fields of
    ``FollowWeights``). ``xp``: numpy, or torch with tensors under the keys with a ``_t`` suffix (fitting)."""
    t = (lambda k: terms[k + "_t"]) if xp is not np else (lambda k: terms[k])
    w = weights
    logits = w["bias"] + w["color"] * t("dc") + w["place"] * t("dp") + w["area"] * t("da")
    if "dh" in terms:
        logits = logits + w["hint"] * t("dh")
    pull = xp.exp(logits.clip(-LOGIT_CLIP, LOGIT_CLIP))
    move = t("delta_src")[None, :, :]
    if "delta_dst" in terms:
        move = (1.0 - w["take"]) * move + w["take"] * t("delta_dst")
    shift = (pull[..., None] * move).sum(1) / (1.0 + pull.sum(1))[:, None]
    return t("proposal_dst") + shift


def region_colors(regions: Regions, proposal: np.ndarray, fill: HintFill, follow: bool = True,
                  weights: FollowWeights = FOLLOW) -> np.ndarray:
    """float32 ``(count, 3)``: the final flat colour of every region, from the proposal's region means
    ``proposal`` (``(count, 3)``) and the hints; ``follow``: unhinted regions follow the hinted ones
    (``follow_colors``)."""
    colors = proposal.astype(np.float32, copy=True)
    colors[fill.hinted] = fill.color[fill.hinted]
    terms = follow_terms(regions, proposal, fill, weights) if follow else None
    if terms is not None:
        moved = follow_colors(terms, asdict(weights))
        colors[terms["dst"]] = np.clip(moved, 0.0, 1.0)
    tiny = regions.tiny
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
