"""Colour hints sampled from the true colours, for training and measuring the hint-conditioned colorizer.

As in Zhang et al. (2017, "Real-Time User-Guided Image Colorization"): for every training crop a random number
of hints (none sometimes, a few to a few hundred, log-uniform) is taken from the true colours at random points
away from the lines, some as short strokes that stay inside one colour; the network sees them as the two hint
planes of ``core.proposal.draw_hints``, drawn the way inference draws a user's hints at the working size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from anisketch_desktop.core.proposal import claimed_area, draw_hints, encode_hints
from training.data import PatchSampler, _chw


@dataclass(frozen=True)
class HintSpec:
    """How many hints a training crop gets and of which kind."""

    p_none: float = 0.12  # share of crops without any hint (the network must still guess)
    max_points: int = 250  # point count is log-uniform in [1, max_points]
    p_strokes: float = 0.35  # share of crops that also get 1..max_strokes strokes
    max_strokes: int = 6
    radius: float = 1.0  # dot radius at the working size (what inference draws)
    stroke_width: tuple[float, float] = (2.0, 4.0)
    away: int = 2  # hints keep at least this many pixels from ink
    color_tolerance: float = 30.0  # a stroke ends where the colour moves this far (max RGB step) from its start
    claimed_weight: float = 1.0  # loss weight of the regions a hint claims (the region fill paints them anyway)


def away_from_lines(lines: np.ndarray, away: int = 2, ink: int = 160) -> np.ndarray:
    """bool mask of pixels at least ``away`` px from ink (``lines`` uint8, 255 = paper)."""
    paper = (lines >= ink).astype(np.uint8)
    if away > 0:
        paper = cv2.erode(paper, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * away + 1, 2 * away + 1)))
    return paper > 0


def _stroke(rng, start, colour_img, ok, tol):
    """A short random walk from ``start`` (y, x) that stays on ``ok`` pixels of about the start colour."""
    h, w = ok.shape
    y, x = float(start[0]), float(start[1])
    c0 = colour_img[int(y), int(x)].astype(np.int16)
    angle = rng.uniform(0, 2 * math.pi)
    pts = [(x, y)]
    for _ in range(int(rng.integers(2, 8))):
        angle += rng.normal(0, 0.6)
        length = rng.uniform(4, 16)
        nx, ny = x + length * math.cos(angle), y + length * math.sin(angle)
        good = True
        for t in np.linspace(0, 1, 6)[1:]:
            sx, sy = int(round(x + t * (nx - x))), int(round(y + t * (ny - y)))
            if not (0 <= sx < w and 0 <= sy < h) or not ok[sy, sx]:
                good = False
                break
            if np.abs(colour_img[sy, sx].astype(np.int16) - c0).max() > tol:
                good = False
                break
        if not good:
            break
        x, y = nx, ny
        pts.append((x, y))
    return pts, tuple(int(v) for v in c0)


def sample_hints(rng: np.random.Generator, target: np.ndarray, lines: np.ndarray, spec: HintSpec = HintSpec(),
                 count: int | None = None):
    """``(points, strokes)`` for ``core.proposal.draw_hints`` from the true colours ``target`` (uint8 HxWx3)
    at pixels away from the ink of ``lines`` (uint8 HxW); ``count`` fixes the number of points (no strokes)."""
    ok = away_from_lines(lines, spec.away)
    ys, xs = np.nonzero(ok)
    if len(ys) == 0:
        return [], []
    colour = cv2.blur(target, (3, 3))  # a hint is a picked colour, not a single noisy pixel
    if count is None:
        if rng.random() < spec.p_none:
            return [], []
        n = int(math.exp(rng.uniform(0.0, math.log(spec.max_points))))
    else:
        n = count
    pick = rng.integers(0, len(ys), size=n)
    points = [(float(xs[i]), float(ys[i]), tuple(int(v) for v in colour[ys[i], xs[i]])) for i in pick]
    strokes = []
    if count is None and rng.random() < spec.p_strokes:
        for i in rng.integers(0, len(ys), size=int(rng.integers(1, spec.max_strokes + 1))):
            pts, col = _stroke(rng, (ys[i], xs[i]), colour, ok, spec.color_tolerance)
            strokes.append((pts, col, float(rng.uniform(*spec.stroke_width))))
    return points, strokes


class HintPatchSampler(PatchSampler):
    """``PatchSampler`` for hint models: inputs are ``N x 5`` (line art, hint RGB, hint mask); targets ``N x 3``,
    or ``N x 4`` with a per-pixel loss weight when ``claimed_weight`` < 1 (``losses.colorize_loss``)."""

    def __init__(self, *args, hints: dict | None = None, encoding: str = "dots", **kw):
        super().__init__(*args, **kw)
        self.spec = HintSpec(**(hints or {}))
        self.encoding = encoding  # the model's hint_encoding (core.proposal.encode_hints)

    def batch(self, step: int, batch_size: int, rank: int = 0):
        rng = self.rng(step, rank)
        idx = rng.choice(len(self.samples), size=batch_size, p=self.probs)
        xs, ys = [], []
        for i in idx:
            inp, tgt = self.example(self.samples[i], rng)
            points, strokes = sample_hints(rng, tgt, inp, self.spec)
            lines = _chw(inp)
            drawn = draw_hints(inp.shape, points, strokes, self.spec.radius)
            rgb, mask = encode_hints(*drawn, self.encoding, lines=lines[0])
            xs.append(np.concatenate([lines, rgb.transpose(2, 0, 1), mask[None]]))
            target = _chw(tgt)
            if self.spec.claimed_weight < 1.0:
                claimed = claimed_area(lines[0], drawn[1] >= 0.5)
                weight = np.where(claimed, np.float32(self.spec.claimed_weight), np.float32(1.0))
                target = np.concatenate([target, weight[None].astype(target.dtype)])
            ys.append(target)
        return np.stack(xs), np.stack(ys)
