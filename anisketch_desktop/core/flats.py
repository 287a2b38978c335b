"""Flat colours: one colour per closed region of the line art, the way colour assistants lay "flats".

The colorize network guesses a colour for every pixel; inside one region of the drawing those guesses wander
(blotches). Here the drawing is cut into regions (paper enclosed by ink, small gaps in the lines closed), each
region takes the mean colour of the guesses inside it, and the lines are multiplied on top, so the result
reads as a flat-coloured picture. Ink and specks too small to be a region keep a lightly smoothed guess.
Pure numpy/OpenCV: it runs on the whole picture after the tiled network.
"""

from __future__ import annotations

import cv2
import numpy as np

INK_THRESHOLD = 0.55  # line art darker than this (levels-normalised, 1 = paper) separates regions
GAP_CLOSE = 3  # radius (pixels) of the trapped ball: gaps in the lines narrower than about twice this close
MIN_AREA = 64  # regions smaller than this (pixels) are left as the network painted them
LARGE_SHARE = 0.15  # a region over this share of the picture (lines with gaps: half the page) is not one colour
LARGE_SIGMA = 24.0  # ... but smoothed within itself with a Gaussian of this sigma (pixels)


def regions(lines: np.ndarray, threshold: float = INK_THRESHOLD, close: int = GAP_CLOSE,
            min_area: int = MIN_AREA) -> tuple[int, np.ndarray]:
    """``(count, labels)``: int32 ``HxW`` region labels of float line art (0 = ink or a too-small region).

    Gaps in the lines are closed by a "trapped ball" of radius ``close``: the paper is eroded by the ball
    (a gap narrower than the ball disconnects), cut into components, and then every paper pixel joins the
    nearest component, so regions reach up to the lines again.
    """
    paper = (np.asarray(lines) >= threshold).astype(np.uint8)
    seeds = paper
    if close > 0:
        ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close + 1, 2 * close + 1))
        seeds = cv2.erode(paper, ball)
    count, labels = cv2.connectedComponents(seeds, connectivity=4, ltype=cv2.CV_32S)
    if close > 0 and count > 1:
        seeded = labels > 0
        # nearest seed of every pixel: labels index the zero pixels of the source in scan order
        _, nearest = cv2.distanceTransformWithLabels((~seeded).astype(np.uint8), cv2.DIST_L2, 3,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
        seed_label = labels[seeded]  # boolean indexing walks in scan order too
        labels = np.where(paper > 0, seed_label[np.maximum(nearest, 1) - 1], 0).astype(np.int32)
    area = np.bincount(labels.ravel(), minlength=count)
    small = area < min_area
    small[0] = True
    labels[small[labels]] = 0
    return count, labels


def flat_fill(layer: np.ndarray, lines: np.ndarray, *, large_share: float = LARGE_SHARE,
              large_sigma: float = LARGE_SIGMA, **region_kw) -> np.ndarray:
    """float ``HxWx3`` RGB colour layer -> the same with one mean colour per region of ``lines`` (``HxW``).

    Regions over ``large_share`` of the picture (usually lines that do not close, leaving one region around
    half the figure) are smoothed within themselves instead, so that they keep the network's local colours.
    Means are taken in RGB (Lab gave the same scores and cost two colour conversions of the whole picture).
    """
    layer = np.asarray(layer, dtype=np.float32)
    count, labels = regions(lines, **region_kw)
    out = cv2.GaussianBlur(layer, (0, 0), 2.0)  # ink and specks: a lightly smoothed guess
    flat = labels.ravel()
    area = np.bincount(flat, minlength=count)
    # one channel at a time (each ravel copies a plane, not the whole picture)
    means = np.stack([np.bincount(flat, weights=layer[..., c].ravel(), minlength=count) for c in range(3)], 1)
    means = (means / np.maximum(area, 1)[:, None]).astype(np.float32)
    large = area > max(large_share * labels.size, MIN_AREA)
    large[0] = False
    keep = large.copy()
    keep[0] = True  # ink and specks keep the smoothed guess; large regions are filled below
    fill = ~keep[labels]
    for c in range(3):  # a channel at a time: no second full-size colour image
        np.copyto(out[..., c], np.take(means[:, c], labels), where=fill)
    del fill
    for k in np.flatnonzero(large):
        mask = labels == k
        np.copyto(out, _smooth_within(layer, mask, large_sigma), where=mask[..., None])
    return np.clip(out, 0.0, 1.0, out=out)


def _smooth_within(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: a Gaussian blur of ``image`` that only averages pixels under ``mask``
    (run at reduced resolution for speed; the result is smooth anyway)."""
    h, w = mask.shape
    factor = max(1, int(sigma // 4))
    size = (max(1, w // factor), max(1, h // factor))
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    num = cv2.resize(image * mask[..., None], size, interpolation=cv2.INTER_AREA)
    s = sigma / factor
    num = cv2.GaussianBlur(num, (0, 0), s)
    den = cv2.GaussianBlur(m, (0, 0), s)[..., None]
    small = num / np.maximum(den, 1e-4)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def multiply(layer: np.ndarray, lines: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The line art as a Multiply layer over the colour layer (ink -> black, paper -> the colour);
    ``out=layer`` works in place."""
    return np.multiply(layer, np.clip(lines, 0.0, 1.0)[..., None], out=out)
