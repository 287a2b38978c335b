"""Measures of the hint-conditioned colorizer: its proposal with and without hints, and the plain baselines.

* ``propose``: ``core.proposal.propose_colors`` through an engine (around a network in memory in training);
* ``random_hints`` draws the measured hints: N points from the true colours, away from the lines;
* ``region_hints``: one hint per true flat region (the flats measure);
* ``voronoi_fill``: every pixel takes the nearest hint's colour (the baseline a hint tool must beat).
"""

from __future__ import annotations

import cv2
import numpy as np

from training.hint_sampler import away_from_lines


def as_hints(points):
    """``core.hints.Hints`` of ``(x, y, (r, g, b))`` points."""
    from anisketch_desktop.core.hints import HintPoint, Hints

    return Hints(points=tuple(HintPoint(float(x), float(y), tuple(int(v) for v in c)) for x, y, c in points))


def random_hints(rng: np.random.Generator, truth: np.ndarray, lines: np.ndarray, count: int = 24,
                 away: int = 3) -> list[tuple[float, float, tuple[int, int, int]]]:
    """``count`` hints at random pixels at least ``away`` px from the ink of ``lines`` (uint8, 255 = paper),
    coloured with the true colour there (3x3 mean)."""
    ok = away_from_lines(lines, away)
    ys, xs = np.nonzero(ok)
    if len(ys) == 0:
        return []
    colour = cv2.blur(truth, (3, 3))
    pick = rng.choice(len(ys), size=min(count, len(ys)), replace=False)
    return [(float(xs[i]), float(ys[i]), tuple(int(v) for v in colour[ys[i], xs[i]])) for i in pick]


def region_hints(flat: np.ndarray, lines: np.ndarray, min_area: int = 64, away: int = 2):
    """One hint per true flat region: each connected area of one flat colour (away from the ink) gets a hint
    at its innermost pixel, in its colour; areas under ``min_area`` pixels are skipped."""
    ok = away_from_lines(lines, away)
    key = (flat[..., 0].astype(np.int32) << 16) | (flat[..., 1].astype(np.int32) << 8) | flat[..., 2]
    points = []
    for value in np.unique(key[ok]):
        mask = ((key == value) & ok).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        for k in range(1, count):
            if stats[k, cv2.CC_STAT_AREA] < min_area:
                continue
            x0, y0, w, h = stats[k, :4]
            comp = (labels[y0:y0 + h, x0:x0 + w] == k).astype(np.uint8)
            dist = cv2.distanceTransform(np.pad(comp, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
            y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
            colour = tuple(int(v) for v in flat[y0 + y, x0 + x])
            points.append((float(x0 + x), float(y0 + y), colour))
    return points


def voronoi_fill(shape: tuple[int, int], points) -> np.ndarray:
    """uint8 ``HxWx3``: every pixel the colour of its nearest hint (white without hints)."""
    if not points:
        return np.full((*shape, 3), 255, np.uint8)
    seeds = np.ones(shape, np.uint8)
    colours = np.zeros((len(points) + 1, 3), np.uint8)
    order = np.zeros(shape, np.int32)
    for i, (x, y, c) in enumerate(points, start=1):
        yi, xi = min(shape[0] - 1, int(round(y))), min(shape[1] - 1, int(round(x)))
        seeds[yi, xi] = 0
        order[yi, xi] = i
        colours[i] = c
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    seed_ids = order[seeds == 0]  # DIST_LABEL_PIXEL numbers the zero pixels in scan order
    return colours[seed_ids[labels - 1]]


def multiply_lines(rgb: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """uint8 colour x line art (uint8 gray, 255 = paper)."""
    out = rgb.astype(np.float32) * (lines.astype(np.float32)[..., None] / 255.0)
    return np.round(out).astype(np.uint8)


def propose(engine, lines: np.ndarray, points=()) -> np.ndarray:
    """uint8 colour layer for uint8 ``lines`` (255 = paper) and hint ``points`` (full-size pixels) through
    ``core.proposal.propose_colors`` with ``engine`` (an ``InferenceEngine``, e.g. around a network in memory)."""
    from anisketch_desktop.core.proposal import propose_colors

    layer = propose_colors(lines.astype(np.float32) / 255.0, as_hints(points), model=engine)
    return np.round(layer * 255.0).astype(np.uint8)


def evaluate_hint_model(model, val, count: int = 24, seed: int = 0, megapixels: float = 0.5,
                        device: str = "cpu") -> dict:
    """Validation during training: no hints (PSNR/SSIM/colourfulness of layer x lines against the artist's
    colours) and ``count`` random hints (``psnr_hints``, with the Voronoi fill's PSNR beside it); pictures are
    first reduced to ``megapixels`` (quick; the final measures run at full size in ``training.evaluate``)."""
    from training.color_metrics import colorize_scores, psnr
    from training.colorize_data import shrink

    truths = [shrink(s.truth_color if s.truth_color is not None else s.color, megapixels) for s in val]
    lines = [shrink(s.truth if s.truth is not None else s.sketch, megapixels) for s in val]
    lines = [ln if ln.shape == t.shape[:2] else cv2.resize(ln, t.shape[1::-1], interpolation=cv2.INTER_AREA)
             for ln, t in zip(lines, truths, strict=True)]
    from anisketch_desktop.core.engine import InferenceEngine

    engine = InferenceEngine.from_model(model, device, tile_size=None)
    preds = [multiply_lines(propose(engine, ln), ln) for ln in lines]
    res = colorize_scores(preds, truths)
    rng = np.random.default_rng(seed)
    ours, vor = [], []
    for ln, truth in zip(lines, truths, strict=True):
        pts = random_hints(rng, truth, ln, count)
        ours.append(psnr(multiply_lines(propose(engine, ln, pts), ln), truth))
        vor.append(psnr(multiply_lines(voronoi_fill(ln.shape, pts), ln), truth))
    res["psnr_hints"] = float(np.mean(ours))
    res["psnr_voronoi"] = float(np.mean(vor))
    return res
