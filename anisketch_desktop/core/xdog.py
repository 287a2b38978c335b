"""XDoG line extraction (Winnemöller et al. 2012), a clarity score for line art, and a per-image auto-tuner.

numpy + OpenCV only. Sketches are ``HxW float32`` in [0, 1] with 1 = paper and 0 = ink.

The filter works on luma in [0, 1] (not 0..255)::

    D = (1 + p) * G_sigma(L) - p * G_{k*sigma}(L)
    T = 1                              where D >= epsilon
    T = 1 + tanh(phi * (D - epsilon))  elsewhere

In flat regions ``D == L``, so ``epsilon`` is a luminance level: flat areas darker than it turn to ink.
Because the two Gaussian weights sum to one, brightening or stretching the input (``a * L + b``) is the same
as moving ``epsilon`` to ``a * epsilon + b`` and dividing ``phi`` by ``a``; the auto-tuner uses that to adapt
to dark and low-contrast pictures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

from anisketch_desktop.core.errors import Cancelled
from anisketch_desktop.core.imageio import to_float_gray
from anisketch_desktop.core.levels import percentiles

_TUNE_SIDE = 512  # the tuner scores candidates on a copy at most this long


@dataclass(frozen=True)
class XDoGParams:
    """XDoG parameters in the ``p`` form, for luma in [0, 1] (:meth:`from_tau` converts the ``tau`` form)."""

    sigma: float = 0.5  # inner Gaussian (pixels); line width grows with it
    k: float = 1.6  # outer Gaussian is k * sigma
    p: float = 20.0  # edge sharpening strength; tau = p / (1 + p)
    epsilon: float = 0.2  # luminance threshold: darker (sharpened) pixels become ink
    phi: float = 40.0  # softness of the ink ramp; 1e9 is binary

    def __post_init__(self) -> None:
        if not (self.sigma > 0 and self.k > 1 and self.p >= 0 and self.phi > 0):
            raise ValueError(f"invalid XDoG parameters {self}: need sigma > 0, k > 1, p >= 0, phi > 0")

    @property
    def tau(self) -> float:
        """The ``tau`` of the equivalent ``D = G_sigma - tau * G_{k*sigma}`` form."""
        return self.p / (1.0 + self.p)

    @classmethod
    def from_tau(cls, sigma: float, k: float, tau: float, epsilon: float, phi: float) -> XDoGParams:
        """From the ``tau`` form, whose ``epsilon`` and ``phi`` apply to ``G_sigma - tau * G_{k*sigma}``."""
        if not 0.0 <= tau < 1.0:
            raise ValueError(f"tau must be in [0, 1), got {tau}")
        p = tau / (1.0 - tau)
        return cls(sigma=sigma, k=k, p=p, epsilon=epsilon * (1.0 + p), phi=phi / (1.0 + p))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> XDoGParams:
        """Build from a dict (extra keys are ignored, missing ones take the defaults)."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: float(value) for key, value in d.items() if key in names})


PRESETS: dict[str, XDoGParams] = {
    "default": XDoGParams(),
    # AlacGAN's synthetic-sketch setting: thin binary lines.
    "alacgan": XDoGParams(sigma=0.4, k=4.5, p=19.0, epsilon=0.01, phi=1e9),
    "pencil": XDoGParams(sigma=0.6, k=1.6, p=12.0, epsilon=0.45, phi=6.0),
    "bold": XDoGParams(sigma=1.2, k=1.6, p=25.0, epsilon=0.3, phi=60.0),
}


def xdog(image: np.ndarray, params: XDoGParams = PRESETS["default"], *, speck_size: int = 0) -> np.ndarray:
    """Line art of ``image`` (any array from :mod:`imageio`) as ``HxW float32`` in [0, 1], 1 = paper.

    ``speck_size > 0`` removes ink blobs smaller than that many pixels (see :func:`remove_specks`).
    """
    gray = to_float_gray(image)
    g1, g2 = _blurs(gray, params.sigma, params.k)
    out = _threshold(_dog(g1, g2, params.p), params.epsilon, params.phi)
    if speck_size > 0:
        out = remove_specks(out, speck_size)
    return out


def _blurs(gray: np.ndarray, sigma: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    g1 = cv2.GaussianBlur(gray, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    g2 = cv2.GaussianBlur(gray, (0, 0), sigma * k, borderType=cv2.BORDER_REPLICATE)
    return g1, g2


def _dog(g1: np.ndarray, g2: np.ndarray, p: float) -> np.ndarray:
    return cv2.addWeighted(g1, 1.0 + p, g2, -p, 0.0)


def _threshold(d: np.ndarray, epsilon: float, phi: float) -> np.ndarray:
    """``1`` where ``d >= epsilon``, else ``1 + tanh(phi * (d - epsilon))``, in place on ``d``."""
    below = d < epsilon
    np.subtract(d, epsilon, out=d)
    np.minimum(d, 0.0, out=d)  # the ramp only applies below epsilon; also keeps huge phi finite
    np.multiply(d, np.float32(min(phi, 1e30)), out=d)
    np.tanh(d, out=d)
    d += 1.0
    d[~below] = 1.0
    return d


def remove_specks(sketch: np.ndarray, min_size: int, threshold: float = 0.5) -> np.ndarray:
    """Turn ink components (8-connected pixels darker than ``threshold``) under ``min_size`` px into paper."""
    out = np.array(sketch, dtype=np.float32, copy=True)
    if min_size <= 1:
        return out
    ink = (out < threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < min_size
    small[0] = False  # label 0 is the paper
    if small.any():
        out[small[labels]] = 1.0
    return out


# --------------------------------------------------------------------------------------------------- clarity

_INK_LOW, _INK_HIGH = 0.03, 0.20  # ink coverage of typical line art


def clarity_score(sketch: np.ndarray) -> float:
    """How much ``sketch`` looks like clean line art, in [0, 1] (higher is clearer).

    The product of four terms, each in [0, 1]: ink coverage inside about 3-20 %; little ink in tiny specks;
    ink in long connected strokes rather than short fragments; few solid black areas. A blank page, a black
    page and noise all score near zero.
    """
    ink = np.asarray(sketch) < 0.5
    h, w = ink.shape
    total = int(np.count_nonzero(ink))
    if total == 0:
        return 0.0
    coverage = total / ink.size
    scale = max(h, w) / _TUNE_SIDE
    cov = _coverage_term(coverage)
    if cov == 0.0:
        return 0.0
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    extent = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) / max(scale, 1e-6)
    speck = areas[areas < max(3.0, 6.0 * scale * scale)].sum() / total
    strokes = areas[extent >= 12.0].sum() / total
    dist = cv2.distanceTransform(ink.view(np.uint8), cv2.DIST_L2, 3)
    fill = np.count_nonzero(dist > max(3.0, 3.0 * scale)) / total
    return float(cov * (1.0 - speck) ** 2 * strokes * (1.0 - fill) ** 2)


def _coverage_term(coverage: float) -> float:
    if coverage < _INK_LOW:
        return max(0.0, (coverage - 0.002) / (_INK_LOW - 0.002))
    if coverage > _INK_HIGH:
        return max(0.0, (0.5 - coverage) / (0.5 - _INK_HIGH))
    return 1.0


# ---------------------------------------------------------------------------------------------------- tuning

_SIGMAS = (0.4, 0.7, 1.0)  # on the <= 512 px copy
_PS = (10.0, 20.0, 40.0)
_EPSILONS = (0.1, 0.25, 0.4, 0.55, 0.7)  # on levels stretched so the 1st/99th percentiles are 0/1


def auto_tune(
    image: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    base: XDoGParams = PRESETS["default"],
) -> tuple[XDoGParams, float]:
    """Pick XDoG parameters for this picture by :func:`clarity_score`; returns ``(params, score)``.

    Candidates (``sigma`` x ``p`` x ``epsilon``; ``k`` and the ramp from ``base``) are scored on a copy at
    most 512 px long, with levels stretched between the 1st and 99th luma percentiles. The winner is mapped
    back to the original image: ``sigma`` scales with the size and ``epsilon``/``phi`` absorb the levels
    stretch, so ``xdog(image, params)`` gives the scored sketch at full size. Deterministic; ties go to the
    earlier candidate.
    """
    gray = to_float_gray(image)
    h, w = gray.shape
    factor = min(1.0, _TUNE_SIDE / max(h, w))
    small = gray
    if factor < 1.0:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    lo, hi = percentiles(small, 1.0, 99.0)
    span = max(hi - lo, 1.0 / 255.0)
    norm = (small - lo) / span
    total = len(_SIGMAS) * len(_PS) * len(_EPSILONS)
    best: tuple[float, float, float, float] | None = None
    done = 0
    for sigma in _SIGMAS:
        g1, g2 = _blurs(norm, sigma, base.k)
        for p in _PS:
            dog = _dog(g1, g2, p)
            for eps in _EPSILONS:
                if cancel is not None and cancel():
                    raise Cancelled("auto-tune cancelled")
                score = clarity_score(_threshold(dog.copy(), eps, base.phi))
                if best is None or score > best[0]:
                    best = (score, sigma, p, eps)
                done += 1
                if progress is not None:
                    progress(done / total)
    score, sigma, p, eps = best
    params = XDoGParams(sigma=sigma / factor, k=base.k, p=p, epsilon=lo + eps * span, phi=base.phi / span)
    return params, score
