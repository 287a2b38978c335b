"""Colorize scores: PSNR, SSIM and colourfulness of predicted RGB pictures against the true ones."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of the same shape."""
    mse = float(np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window sigma 1.5) over channels of two uint8 images."""
    a = pred.astype(np.float64)
    b = truth.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]

        def blur(img):
            return cv2.GaussianBlur(img, (11, 11), 1.5)

        mx, my = blur(x), blur(y)
        sxx = blur(x * x) - mx * mx
        syy = blur(y * y) - my * my
        sxy = blur(x * y) - mx * my
        num = (2 * mx * my + c1) * (2 * sxy + c2)
        den = (mx * mx + my * my + c1) * (sxx + syy + c2)
        scores.append(float(np.mean(num / den)))
    return float(np.mean(scores))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's colourfulness (0 for gray; ~30-60 for typical illustrations)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def _match(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    if pred.shape[:2] != truth.shape[:2]:
        pred = cv2.resize(pred, truth.shape[1::-1], interpolation=cv2.INTER_AREA)
    if pred.ndim == 2:
        pred = np.repeat(pred[..., None], 3, axis=2)
    return pred


def colorize_scores(preds: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> dict:
    """Mean PSNR, SSIM and the colourfulness ratio (prediction / truth) over a validation set."""
    ps, ss, cp, ct = [], [], [], []
    for pred, truth in zip(preds, truths, strict=True):
        pred = _match(pred, truth)
        ps.append(psnr(pred, truth))
        ss.append(ssim(pred, truth))
        cp.append(colorfulness(pred))
        ct.append(colorfulness(truth))
    return {
        "psnr": float(np.mean(ps)),
        "ssim": float(np.mean(ss)),
        "colorfulness": float(np.mean(cp)),
        "colorfulness_ratio": float(np.mean(cp) / max(np.mean(ct), 1e-6)),
    }


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65; L in [0, 100]) of a uint8 RGB image, float32."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def delta_e_share(pred: np.ndarray, truth: np.ndarray, threshold: float = 10.0) -> float:
    """Share of pixels whose colour is within CIE76 ΔE ``threshold`` of the truth (uint8 RGB images)."""
    pred = _match(pred, truth)
    diff = lab(pred) - lab(truth)
    return float(np.mean(np.sqrt((diff * diff).sum(axis=2)) <= threshold))
