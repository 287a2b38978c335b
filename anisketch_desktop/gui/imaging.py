"""numpy <-> QImage, and the preview pyramid that keeps 8K pictures smooth when zoomed out.

QImage (unlike QPixmap or widgets) may be built in a worker thread, so pyramids are made off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QImage

PYRAMID_MIN_SIDE = 384  # stop halving once the longer side is this small


def to_display_uint8(arr: np.ndarray) -> np.ndarray:
    """uint8 gray/RGB/RGBA for display (16-bit and float images scaled, extra channels dropped)."""
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # gray + alpha
        arr = np.dstack([arr[..., 0]] * 3 + [arr[..., 1]])
    return arr


def to_qimage(arr: np.ndarray) -> QImage:
    """A QImage in a fast-to-draw format (RGB32 or premultiplied ARGB32) owning a copy of the pixels."""
    arr = np.ascontiguousarray(to_display_uint8(arr))
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
        return img.convertToFormat(QImage.Format.Format_RGB32)
    if arr.shape[2] == 3:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
        return img.convertToFormat(QImage.Format.Format_RGB32)
    img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGBA8888)
    return img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def from_qimage(img: QImage) -> np.ndarray:
    """uint8 RGB (or RGBA when the image has alpha) copy of a QImage."""
    has_alpha = img.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    img = img.convertToFormat(fmt)
    channels = 4 if has_alpha else 3
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    rows = buf.reshape(h, img.bytesPerLine())[:, : w * channels]
    return rows.reshape(h, w, channels).copy()


@dataclass
class Pyramid:
    """Levels of one picture, largest first; ``factors[i]`` = level width / full width."""

    width: int
    height: int
    levels: list[QImage] = field(default_factory=list)
    factors: list[float] = field(default_factory=list)

    def level_for(self, scale: float) -> tuple[QImage, float]:
        """The smallest level that still has at least one pixel per screen pixel at ``scale``."""
        best = 0
        for i, factor in enumerate(self.factors):
            if factor >= scale * 0.999:
                best = i
        return self.levels[best], self.factors[best]


def build_pyramid(arr: np.ndarray, full_size: tuple[int, int] | None = None) -> Pyramid:
    """Pyramid of ``arr``; ``full_size`` (w, h) is the picture it stands for when ``arr`` is a preview."""
    import cv2

    arr = to_display_uint8(arr)
    h, w = arr.shape[:2]
    full_w, full_h = full_size or (w, h)
    pyramid = Pyramid(full_w, full_h)
    level = arr
    while True:
        pyramid.levels.append(to_qimage(level))
        pyramid.factors.append(level.shape[1] / full_w)
        lh, lw = level.shape[:2]
        if max(lh, lw) <= PYRAMID_MIN_SIDE * 2 or min(lh, lw) < 4:
            break
        level = cv2.resize(level, (max(lw // 2, 1), max(lh // 2, 1)), interpolation=cv2.INTER_AREA)
    return pyramid


def downscale(arr: np.ndarray, max_side: int) -> np.ndarray:
    """``arr`` shrunk (area filter) so its longer side is at most ``max_side``; unchanged when smaller."""
    import cv2

    h, w = arr.shape[:2]
    if max(h, w) <= max_side:
        return arr
    f = max_side / max(h, w)
    return cv2.resize(arr, (max(round(w * f), 1), max(round(h * f), 1)), interpolation=cv2.INTER_AREA)
