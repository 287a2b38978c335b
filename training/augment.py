"""Augmentation: geometry shared by input and target, photometric damage applied to the input only.

The photometric ranges cover what users feed the app (dark scans, washed-out prints, low contrast, gamma,
sensor noise, JPEG, small or blurred pictures), so the model learns the clean picture's line art from a
degraded copy. After the damage the input goes through the same level normalisation the engine uses.
"""

from __future__ import annotations

import cv2
import numpy as np

from anisketch_desktop.core.levels import normalize_levels as engine_levels


def normalize_levels(img: np.ndarray) -> np.ndarray:
    """The engine's level stretch (``core.levels.normalize_levels``) on a uint8 image, returning uint8."""
    out = engine_levels(img.astype(np.float32) * (1.0 / 255.0))
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def random_window(rng: np.random.Generator, shape, crop: int, scale_range=(0.5, 1.0)):
    """A crop window in source pixels and its scale: ``(y, x, size_y, size_x, scale)``."""
    h, w = shape[:2]
    scale = float(rng.uniform(*scale_range))
    # never upsample the source: if the image is small, use a larger scale so the window fits
    scale = max(scale, crop / min(h, w)) if min(h, w) >= crop else 1.0
    src = int(round(crop / scale))
    sy, sx = min(src, h), min(src, w)
    y = int(rng.integers(0, h - sy + 1))
    x = int(rng.integers(0, w - sx + 1))
    return y, x, sy, sx, scale


def flip(rng: np.random.Generator, *images: np.ndarray) -> list[np.ndarray]:
    if rng.random() < 0.5:
        return [np.ascontiguousarray(im[:, ::-1]) for im in images]
    return list(images)


def _tone_lut(rng: np.random.Generator) -> np.ndarray:
    """One LUT composing gamma, contrast and brightness changes (including strong washes)."""
    x = np.arange(256, dtype=np.float32) / 255.0
    if rng.random() < 0.5:
        x = x ** float(np.exp(rng.uniform(np.log(0.5), np.log(2.2))))
    kind = rng.random()
    if kind < 0.15:  # washed out: lift blacks
        a = rng.uniform(0.5, 0.8)
        x = x * a + rng.uniform(0.15, 1.0 - a)
    elif kind < 0.35:  # low contrast around mid gray
        c = rng.uniform(0.35, 0.8)
        x = (x - 0.5) * c + 0.5 + rng.uniform(-0.1, 0.1)
    elif kind < 0.5:  # dark
        x = x * rng.uniform(0.35, 0.8)
    elif kind < 0.7:  # mild
        x = (x - 0.5) * rng.uniform(0.8, 1.25) + 0.5 + rng.uniform(-0.1, 0.1)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def photometric(rng: np.random.Generator, img: np.ndarray, strength: float = 1.0, resample: float = 0.15) -> np.ndarray:
    """Random damage to a uint8 RGB (or gray) input; ``strength`` 0 returns it unchanged.

    ``resample``: the share of damaged inputs scaled down (0.4-0.8) and back up, like a small picture enlarged."""
    if strength <= 0 or rng.random() > strength:
        return img
    out = img
    if out.ndim == 3 and rng.random() < 0.3:  # hue / saturation shift
        hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + int(rng.integers(-8, 9))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.3), 0, 255)
        out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    out = cv2.LUT(out, _tone_lut(rng))
    r = rng.random()
    if r < 0.15:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.2))
    elif r < 0.15 + resample:
        h, w = out.shape[:2]
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(out, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.35:
        sigma = rng.uniform(1.0, 10.0)
        noisy = out.astype(np.float32) + rng.normal(0, sigma, out.shape).astype(np.float32)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if rng.random() < 0.35:
        q = int(rng.integers(25, 91))
        bgr = out[..., ::-1] if out.ndim == 3 else out
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, q])
        dec = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        out = np.ascontiguousarray(dec[..., ::-1]) if out.ndim == 3 else dec
    return out


def line_weight(rng: np.random.Generator, sketch: np.ndarray) -> np.ndarray:
    """Colorize inputs: vary the line weight (thin/thicken ink) and softness of a uint8 gray sketch."""
    out = sketch
    r = rng.random()
    if r < 0.25:
        out = cv2.erode(out, np.ones((2, 2), np.uint8))  # thicker ink
    elif r < 0.4:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))  # thinner ink
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    return out
