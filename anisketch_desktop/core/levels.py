"""Input levels: stretch an image's luminance percentiles to [0, 1] (numpy only).

Models trained with ``input_norm="levels"`` see every picture through this function, at training time and in
the engine, so dull scans and over-bright renders reach the network with the same contrast.
"""

from __future__ import annotations

import numpy as np

_BINS = 4096  # histogram bins of the percentile estimate (far finer than one 8-bit step)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_MIN_SPAN = 1.0 / 255.0  # a flatter image is left alone instead of amplifying noise
_SAMPLE_PIXELS = 4_000_000  # bigger images estimate their percentiles from a regular grid of this many pixels


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a float ``HxWx3``/``HxWx4`` image; ``HxW``/``HxWx1`` images are their own luma."""
    if image.ndim == 2:
        return image
    if image.shape[2] < 3:
        return image[..., 0]
    return image[..., :3] @ _LUMA


def percentiles(values: np.ndarray, low_pct: float, high_pct: float) -> tuple[float, float]:
    """``np.percentile(values, [low_pct, high_pct])`` for values in [0, 1], from one histogram pass."""
    flat = np.asarray(values, dtype=np.float32).ravel()
    if flat.size == 0:
        return 0.0, 1.0
    bins = np.clip(flat * (_BINS - 1) + 0.5, 0, _BINS - 1).astype(np.intp)
    cdf = np.cumsum(np.bincount(bins, minlength=_BINS))
    total = cdf[-1]
    low_bin = int(np.searchsorted(cdf, total * low_pct / 100.0, side="left"))
    high_bin = int(np.searchsorted(cdf, total * high_pct / 100.0, side="left"))
    return low_bin / (_BINS - 1), min(high_bin, _BINS - 1) / (_BINS - 1)


def sample_step(height: int, width: int) -> int:
    """The grid step of the levels estimate: every pixel up to ``_SAMPLE_PIXELS``, a regular grid above."""
    return max(1, int(np.sqrt(height * width / _SAMPLE_PIXELS)))


def levels_range(image: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> tuple[float, float] | None:
    """``(lo, hi)``: the luminance percentiles of float ``image`` (estimated on a grid of at most about
    ``_SAMPLE_PIXELS``), or None for a flat image (span under one 8-bit step), which is left alone."""
    if not 0.0 <= low_pct < high_pct <= 100.0:
        raise ValueError(f"need 0 <= low_pct < high_pct <= 100, got {low_pct}, {high_pct}")
    step = sample_step(image.shape[0], image.shape[1])
    sample = np.asarray(image[::step, ::step], dtype=np.float32)
    lo, hi = percentiles(luminance(sample), low_pct, high_pct)
    return None if hi - lo < _MIN_SPAN else (lo, hi)


def apply_levels(image: np.ndarray, span: tuple[float, float] | None) -> np.ndarray:
    """Map ``span`` = ``(lo, hi)`` to [0, 1] in place on float32 ``image`` (colour channels; alpha kept)."""
    if span is None:
        return image
    lo, hi = span
    colour = image if image.ndim == 2 or image.shape[2] != 4 else image[..., :3]
    colour -= lo
    colour *= 1.0 / (hi - lo)
    np.clip(colour, 0.0, 1.0, out=colour)
    return image


def normalize_levels(rgb: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> np.ndarray:
    """Stretch float ``HxWx3``/``HxW`` [0, 1] so the luminance percentiles land on 0 and 1.

    Every colour channel gets the same linear map (hues are kept); an alpha channel (``HxWx4``) is kept as is.
    A flat image (percentile span under one 8-bit step) is returned unchanged. Returns a new float32 array.
    The engine applies the same map tile by tile (``levels_range`` once, ``apply_levels`` per tile).
    """
    image = np.asarray(rgb, dtype=np.float32)
    span = levels_range(image, low_pct, high_pct)
    return apply_levels(image.copy(), span)
