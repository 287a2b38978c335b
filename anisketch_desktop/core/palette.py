"""Reference palettes: colour a drawing with the colours of another picture of the same character.

The reference's colours are clustered (k-means in Lab, lines and paper left out); the proposal's region
colours are moved onto the reference's colour distribution (mean and spread in Lab, weighted by area) and
then each region snaps to the nearest reference colour, so page 2 of a comic is coloured with page 1's inks.
"""

from __future__ import annotations

import cv2
import numpy as np

CLUSTERS = 12
SAMPLE = 40_000  # reference pixels clustered (a regular subsample)
SNAP_DELTA_E = 60.0  # a region farther than this (Lab) from every reference colour keeps its moved colour


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """float RGB in [0, 1] ``(..., 3)`` -> Lab (L 0..100)."""
    rgb = np.asarray(rgb, np.float32)
    return cv2.cvtColor(rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def from_lab(lab: np.ndarray) -> np.ndarray:
    lab = np.asarray(lab, np.float32)
    return np.clip(cv2.cvtColor(lab.reshape(-1, 1, 3), cv2.COLOR_Lab2RGB).reshape(lab.shape), 0.0, 1.0)


def reference_palette(reference: np.ndarray, clusters: int = CLUSTERS) -> tuple[np.ndarray, np.ndarray]:
    """``(colours float32 (k, 3) RGB in [0, 1], weights (k,) summing to 1)`` of a reference picture (uint8 or
    float, gray/RGB/RGBA); line-dark pixels are left out."""
    from anisketch_desktop.core.imageio import to_float_rgb

    rgb, alpha = to_float_rgb(np.asarray(reference))
    pixels = rgb.reshape(-1, 3)
    if alpha is not None:
        pixels = pixels[alpha.ravel() > 0.5]
    step = max(1, pixels.shape[0] // SAMPLE)
    pixels = pixels[::step]
    lab = to_lab(pixels)
    keep = lab[:, 0] > 12.0  # ink and deep shadow are not a palette colour
    lab = lab[keep] if keep.sum() >= clusters else lab
    distinct = np.unique(np.round(lab).astype(np.int32), axis=0).shape[0]  # no more clusters than colours
    k = max(1, min(clusters, lab.shape[0], distinct))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, assign, centres = cv2.kmeans(lab.astype(np.float32), k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    weights = np.bincount(assign.ravel(), minlength=k).astype(np.float32)
    weights /= max(weights.sum(), 1.0)
    order = np.argsort(-weights)
    return from_lab(centres[order]), weights[order]


def match_palette(colors: np.ndarray, areas: np.ndarray, palette: np.ndarray,
                  weights: np.ndarray) -> np.ndarray:
    """Region colours ``colors`` (float32 ``(n, 3)``) moved onto the reference ``palette`` (see module)."""
    if colors.shape[0] == 0 or palette.shape[0] == 0:
        return colors
    lab = to_lab(colors).astype(np.float64)
    ref = to_lab(palette).astype(np.float64)
    a = np.asarray(areas, np.float64) + 1e-9
    mean, std = _weighted_stats(lab, a / a.sum())
    ref_mean, ref_std = _weighted_stats(ref, np.asarray(weights, np.float64))
    moved = (lab - mean) / np.maximum(std, 1.0) * ref_std + ref_mean
    dist = np.sqrt(((moved[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    nearest = dist.argmin(1)
    snap = dist[np.arange(len(moved)), nearest] <= SNAP_DELTA_E
    moved[snap] = ref[nearest[snap]]
    return from_lab(moved.astype(np.float32))


def _weighted_stats(lab: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = w / max(w.sum(), 1e-12)
    mean = (lab * w[:, None]).sum(0)
    std = np.sqrt((((lab - mean) ** 2) * w[:, None]).sum(0))
    return mean, std
