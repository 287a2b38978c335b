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

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

from anisketch_desktop.core.errors import Cancelled, InvalidOptionError
from anisketch_desktop.core.imageio import to_float_gray
from anisketch_desktop.core.levels import percentiles

_TUNE_SIDE = 512  # the tuner scores candidates on a copy at most this long


@dataclass(frozen=True)
class XDoGParams:
    """XDoG parameters in the ``p`` form, for luma in [0, 1] (:meth:`from_tau` converts the ``tau`` form)."""

    sigma: float = 0.5  # inner Gaussian (pixels); line width grows with it
    k: float = 1.6  # outer Gaussian is k * sigma
    p: float = 20.0  # edge sharpening strength; tau = p / (1 + p)
    epsilon: float = -0.3  # ink where D < epsilon; below 0, flat areas never turn to ink (edges only)
    phi: float = 50.0  # steepness of the ink ramp; 1e9 is binary

    def __post_init__(self) -> None:
        for f in fields(self):
            if not math.isfinite(getattr(self, f.name)):
                raise InvalidOptionError(f"XDoG {f.name} must be a number, not {getattr(self, f.name)}")
        if not (self.sigma > 0 and self.k > 1 and self.p >= 0 and self.phi > 0):
            raise InvalidOptionError(f"Invalid XDoG parameters {self}: need sigma > 0, k > 1, p >= 0, phi > 0")

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


# What a user may ask for (command line, settings, the options object): wider than the panel's sliders, narrow
# enough that no value makes a blur that takes minutes. ``auto_tune`` may go beyond (large pictures get a larger
# sigma), so ``XDoGParams`` itself refuses only non-finite and impossible values.
USER_LIMITS: dict[str, tuple[float, float]] = {
    "sigma": (0.05, 50.0),
    "k": (1.01, 20.0),
    "p": (0.0, 1000.0),
    "epsilon": (-10.0, 10.0),
    "phi": (1e-3, 1e12),
}


def check_user_params(values: dict) -> XDoGParams:
    """``XDoGParams`` from user values (missing ones take the defaults), each finite and inside ``USER_LIMITS``;
    ``InvalidOptionError`` naming the value otherwise. Unknown keys are refused too."""
    names = {f.name for f in fields(XDoGParams)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidOptionError(f"Unknown XDoG parameter {unknown[0]!r}; use {', '.join(sorted(names))}")
    checked = {}
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidOptionError(f"XDoG {key} must be a number, not {value!r}") from None
        lo, hi = USER_LIMITS[key]
        if not lo <= number <= hi:  # NaN fails too
            raise InvalidOptionError(f"XDoG {key} must be between {lo:g} and {hi:g}, not {number:g}")
        checked[key] = number
    return XDoGParams(**checked)


PRESETS: dict[str, XDoGParams] = {
    # Edges only: thin anti-aliased lines, no filled areas (the closest preset to hand-drawn line art).
    "default": XDoGParams(),
    # The AlacGAN synthetic-sketch setting (sigma 0.3-0.5, k 4.5, p 19, eps 0.01, binary): denser, with the
    # darkest areas filled.
    "alacgan": XDoGParams(sigma=0.4, k=4.5, p=19.0, epsilon=0.01, phi=1e9),
    # Softer grey strokes that fade out instead of stopping.
    "pencil": XDoGParams(sigma=0.6, k=1.6, p=10.0, epsilon=-0.05, phi=4.0),
    # Thick lines.
    "bold": XDoGParams(sigma=1.2, k=1.6, p=15.0, epsilon=-0.3, phi=50.0),
}


def resolve_params(spec: str | dict | XDoGParams | None = None, values: dict | None = None) -> XDoGParams:
    """The one way a setting becomes ``XDoGParams``: None = the defaults, a preset name, a dict of user values
    (missing ones from the defaults), or ``XDoGParams`` as they are; ``values`` override the preset's. User
    values are checked (:func:`check_user_params`); ``InvalidOptionError`` names a bad preset or value."""
    if isinstance(spec, XDoGParams) and not values:
        return spec
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise InvalidOptionError(f"Unknown XDoG preset {spec!r}; choose from: {', '.join(sorted(PRESETS))}")
        base = PRESETS[spec].to_dict()
    elif isinstance(spec, XDoGParams):
        base = spec.to_dict()
    elif spec is None:
        base = {}
    elif isinstance(spec, dict):
        base = dict(spec)
    else:
        raise InvalidOptionError(f"Not XDoG parameters: {spec!r}")
    return check_user_params({**base, **(values or {})})


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
    """Turn ink components (8-connected pixels darker than ``threshold``) under ``min_size`` px into paper.

    float sketches (1 = paper) give a float32 copy, uint8 sketches (255 = paper) a uint8 copy."""
    paper: float
    if sketch.dtype == np.uint8:
        out, paper, below = sketch.copy(), 255, threshold * 255.0
    else:
        out, paper, below = np.array(sketch, dtype=np.float32, copy=True), 1.0, threshold
    if min_size <= 1:
        return out
    ink = (out < below).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    del ink
    small = stats[:, cv2.CC_STAT_AREA] < min_size
    small[0] = False  # label 0 is the paper
    if small.any():
        out[small[labels]] = paper
    return out


# --------------------------------------------------------------------------------------------------- clarity

_INK_LOW, _INK_HIGH = 0.015, 0.10  # ink coverage of real line art (1-9 % on the reference pairs)


def clarity_score(sketch: np.ndarray) -> float:
    """How much ``sketch`` (1 = paper) looks like clean line art, in [0, 1]; higher is clearer.

    The product of four terms in [0, 1]: ink coverage (1 between 1.5 % and 10 %, falling off outside);
    little ink in tiny specks; ink in long connected strokes rather than short fragments; no solid black
    areas. Sizes are measured relative to a 512 px picture. A blank page, a black page and noise score low.
    """
    terms = _clarity_terms(sketch)
    score = terms["coverage"] * (1.0 - terms["fill"]) ** 2
    return float(score * np.sqrt(1.0 - terms["specks"]) * terms["strokes"] ** 0.25)


def _clarity_terms(sketch: np.ndarray) -> dict[str, float]:
    ink = np.ascontiguousarray(np.asarray(sketch) < 0.5)
    h, w = ink.shape
    total = int(np.count_nonzero(ink))
    coverage = total / max(ink.size, 1)
    terms = {"ink": coverage, "coverage": _coverage_term(coverage), "specks": 1.0, "strokes": 0.0, "fill": 1.0}
    if total == 0:
        return terms
    scale = max(h, w) / _TUNE_SIDE
    mask = ink.view(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    extent = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    terms["specks"] = float(areas[areas < max(3.0, 6.0 * scale * scale)].sum() / total)
    terms["strokes"] = float(areas[extent >= max(6.0, 12.0 * scale)].sum() / total)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    terms["fill"] = float(np.count_nonzero(dist > max(3.0, 3.0 * scale)) / total)
    return terms


def _coverage_term(coverage: float) -> float:
    """1 inside [_INK_LOW, _INK_HIGH], a log-Gaussian fall-off outside (x2 off the range scores about 0.4)."""
    if coverage <= 0.0:
        return 0.0
    if _INK_LOW <= coverage <= _INK_HIGH:
        return 1.0
    edge = _INK_LOW if coverage < _INK_LOW else _INK_HIGH
    return float(np.exp(-(np.log(coverage / edge) ** 2) / (2 * 0.5**2)))


# ---------------------------------------------------------------------------------------------------- tuning

# Candidates on the <= 512 px copy with levels stretched to [0, 1]. The first is the reference; another one
# must score _MARGIN times higher to replace it: on real line art, smaller clarity gains did not match the
# drawings better (they chose denser sketches).
_REFERENCE = (0.4, 10.0, -0.2)
_SIGMAS = (0.4, 0.7)
_PS = (5.0, 10.0, 20.0, 40.0)
_EPSILONS = (-0.6, -0.4, -0.2, 0.0, 0.1, 0.25)
_MARGIN = 2.0


def auto_tune(
    image: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    base: XDoGParams = PRESETS["default"],
) -> tuple[XDoGParams, float]:
    """Pick XDoG parameters for this picture by :func:`clarity_score`; returns ``(params, score)``.

    Candidates (``sigma`` x ``p`` x ``epsilon``; ``k`` and ``phi`` from ``base``) are scored on a copy at
    most 512 px long whose luma is stretched so its 1st/99th percentiles land on 0 and 1. The winner is mapped
    back to the original picture: ``sigma`` grows with the size, ``epsilon`` and ``phi`` absorb the stretch
    (a darker picture gets a lower ``epsilon``, a flatter one a steeper ``phi``), so ``xdog(image, params)``
    reproduces the scored sketch at full size. Deterministic.
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
    norm = (small - lo) * (1.0 / span)
    grid = [_REFERENCE] + [c for c in itertools.product(_SIGMAS, _PS, _EPSILONS) if c != _REFERENCE]
    blurs: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    scores = []
    for index, (sigma, p, eps) in enumerate(grid):
        if cancel is not None and cancel():
            raise Cancelled("auto-tune cancelled")
        if sigma not in blurs:
            blurs[sigma] = _blurs(norm, sigma, base.k)
        sketch = _threshold(_dog(*blurs[sigma], p), eps, base.phi)
        scores.append(clarity_score(sketch))
        if progress is not None:
            progress((index + 1) / len(grid))
    best = int(np.argmax(scores))  # the first of equal scores
    if scores[best] < _MARGIN * scores[0]:
        best = 0
    sigma, p, eps = grid[best]
    params = XDoGParams(sigma=sigma / factor, k=base.k, p=p, epsilon=lo + eps * span, phi=base.phi / span)
    return params, float(scores[best])
