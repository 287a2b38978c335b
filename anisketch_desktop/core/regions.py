"""The line art cut into closed regions once per drawing: what the hint fill colours, region by region.

Paper (lighter than ``INK_THRESHOLD``) is split by the lines; gaps narrower than a "trapped ball" are closed
(the paper is eroded by the ball, cut into components, and the components grow back up to the lines, without
crossing into paper they are not connected to). Every pixel gets a region, ink included (ink joins the
nearest region, so the flat colour runs on under the lines: no white halos when the lines are multiplied
on). Regions too small to hold a colour of their own (specks between close lines) get a ``parent``: the
neighbouring region whose colour they inherit unless a hint lands in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

INK_THRESHOLD = 0.55  # normalised line art darker than this separates regions
GAP_CLOSE_1MP = 3.0  # trapped-ball radius at 1 MP (scaled with the picture's side, at least 2 px)
TINY_SHARE = 4e-5  # a region with less paper than this share of the picture (at least TINY_MIN px) is tiny
TINY_MIN = 24


@dataclass
class Regions:
    """``labels``: int32 ``HxW``, region 1..count-1 of every pixel (ink belongs to its nearest region).
    ``paper``: bool ``HxW``; ``area``: paper pixels per label; ``parent``: per label, itself or (tiny
    regions) the region whose colour it inherits; ``centroid``: float32 ``(count, 2)`` (x, y) per label."""

    labels: np.ndarray
    paper: np.ndarray
    count: int
    area: np.ndarray
    parent: np.ndarray
    centroid: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape  # type: ignore[return-value]

    @property
    def tiny(self) -> np.ndarray:
        return self.parent != np.arange(self.count)


def gap_radius(shape: tuple[int, int]) -> int:
    """The trapped ball's radius for a picture of ``shape``: 3 px at 1 MP, growing with the side."""
    return max(2, int(round(GAP_CLOSE_1MP * math.sqrt(shape[0] * shape[1] / 1e6))))


def cut_regions(lines: np.ndarray, *, threshold: float = INK_THRESHOLD, close: int | None = None,
                tiny: int | None = None) -> Regions:
    """Regions of float line art ``lines`` (``HxW``, 1 = paper, levels-normalised)."""
    lines = np.asarray(lines, dtype=np.float32)
    h, w = lines.shape
    close = gap_radius((h, w)) if close is None else close
    tiny = max(TINY_MIN, int(TINY_SHARE * h * w)) if tiny is None else tiny
    paper = (lines >= threshold).astype(np.uint8)
    n_comp, comp = cv2.connectedComponents(paper, connectivity=4, ltype=cv2.CV_32S)
    if close > 0:
        ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close + 1, 2 * close + 1))
        n_seed, seeds = cv2.connectedComponents(cv2.erode(paper, ball), connectivity=4, ltype=cv2.CV_32S)
    else:
        n_seed, seeds = n_comp, comp.copy()
    if n_seed > 1:
        labels = _grow(seeds, n_seed, comp, n_comp, lines)
    else:  # no paper wide enough for the ball: the plain components, ink to the nearest
        labels = _grow(comp, n_comp, comp, n_comp, lines) if n_comp > 1 else np.ones((h, w), np.int32)
    labels, count = _compact(labels)
    paper_b = paper.astype(bool)
    area = np.bincount(labels[paper_b], minlength=count)
    parent = _parents(labels, count, area, tiny)
    centroid = _centroids(labels, count)
    return Regions(labels, paper_b, count, area, parent, centroid)


def _nearest(label_map: np.ndarray) -> np.ndarray:
    """For every pixel, the label of the nearest non-zero pixel of ``label_map`` (Euclidean)."""
    seeded = label_map > 0
    _, nearest = cv2.distanceTransformWithLabels((~seeded).astype(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    seed_label = label_map[seeded]  # DIST_LABEL_PIXEL numbers the zero pixels in scan order, as does this
    return seed_label[np.maximum(nearest, 1) - 1]


def _grow(seeds: np.ndarray, n_seed: int, comp: np.ndarray, n_comp: int, lines: np.ndarray) -> np.ndarray:
    """Seeds grown to every pixel by a watershed over the line art (paper floods first, so a seed fills its
    own paper before it climbs a line); paper never joins a seed of another paper component (a thin strip of
    paper without a seed of its own becomes its own region instead of leaking across a line)."""
    elevation = cv2.cvtColor(np.clip((1.0 - lines) * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    grown = seeds.copy()
    cv2.watershed(elevation, grown)
    grown[grown < 0] = 0
    if (grown == 0).any():  # the watershed's boundary pixels: the nearest basin
        grown = _nearest(grown)
    seed_comp = np.zeros(n_seed, np.int32)
    seeded = seeds > 0
    seed_comp[seeds[seeded]] = comp[seeded]
    stray = (comp > 0) & (seed_comp[grown] != comp)
    if stray.any():  # paper reached across a line: own regions, numbered after the seeds
        grown = np.where(stray, comp + n_seed, grown)
    return grown.astype(np.int32, copy=False)


def _compact(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels renumbered 1..n-1 without holes; ``(labels, n)``."""
    used = np.bincount(labels.ravel())
    remap = np.zeros(used.size, np.int32)
    present = np.flatnonzero(used)
    present = present[present > 0]
    remap[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return remap[labels], int(present.size + 1)


def _parents(labels: np.ndarray, count: int, area: np.ndarray, tiny: int) -> np.ndarray:
    """Per label: itself, or for tiny regions the large region most of its pixels are nearest to."""
    parent = np.arange(count, dtype=np.int32)
    small = area < tiny
    small[0] = False
    if not small.any() or small[1:].all():
        return parent
    large_map = np.where(small[labels], 0, labels)
    nearest = _nearest(large_map)
    inside = small[labels]
    keys = labels[inside].astype(np.int64) * count + nearest[inside]
    pairs, votes = np.unique(keys, return_counts=True)
    order = np.lexsort((votes, pairs // count))  # by region, then votes: the last of each region wins
    region, big = pairs[order] // count, pairs[order] % count
    last = np.r_[region[1:] != region[:-1], True]
    parent[region[last]] = big[last]
    return parent


def _centroids(labels: np.ndarray, count: int, step: int = 2) -> np.ndarray:
    """(x, y) centre of every label, from every ``step``-th pixel (they only weigh distances between regions;
    a label no sample hits gets (0, 0))."""
    grid = labels[::step, ::step]
    h, w = grid.shape
    flat = grid.ravel()
    n = np.maximum(np.bincount(flat, minlength=count), 1)
    xs = np.bincount(flat, weights=np.tile(np.arange(w, dtype=np.float32) * step, h), minlength=count) / n
    ys = np.bincount(flat, weights=np.repeat(np.arange(h, dtype=np.float32) * step, w), minlength=count) / n
    return np.stack([xs, ys], 1).astype(np.float32)


def region_means(regions: Regions, image: np.ndarray, paper_only: bool = True, step: int = 1) -> np.ndarray:
    """float32 ``(count, C)``: the mean of ``image`` (``HxWxC``) over each region's paper (or all) pixels,
    from every ``step``-th pixel (a region no sample hits: the mean over all its pixels, else the image's)."""
    full = np.asarray(image, dtype=np.float32)
    if full.ndim == 2:
        full = full[..., None]
    flat = regions.labels[::step, ::step].ravel()
    sample = full[::step, ::step]
    weights = regions.paper[::step, ::step].ravel().astype(np.float32) if paper_only else None
    n = np.bincount(flat, weights=weights, minlength=regions.count)
    cols = []
    for c in range(sample.shape[2]):
        values = sample[..., c].ravel()
        cols.append(np.bincount(flat, weights=values * weights if weights is not None else values,
                                minlength=regions.count))
    means = np.stack(cols, 1) / np.maximum(n, 1e-6)[:, None]
    empty = n < 0.5
    empty[0] = False
    if empty.any():  # no paper (or no sample): the mean over all of the region's pixels
        where = np.flatnonzero(empty[regions.labels])
        lab = regions.labels.ravel()[where]
        k = np.maximum(np.bincount(lab, minlength=regions.count), 1)
        pixels = full.reshape(-1, full.shape[2])[where]
        for c in range(full.shape[2]):
            means[empty, c] = (np.bincount(lab, weights=pixels[:, c], minlength=regions.count) / k)[empty]
    return means.astype(np.float32)
