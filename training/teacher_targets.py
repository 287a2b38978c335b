"""Targets made by a trained sketch model (the teacher) from colour pictures: distillation data.

A small, fast student learns the teacher's line art on every colour picture, not just on the hand-drawn pairs:
the teacher's output is aligned with its picture to the pixel (real pairs are not always) and there is one for
every picture, including those whose line art is missing or misaligned. The targets are the teacher's outputs
on the clean picture, averaged with its output on the mirrored picture; the student still sees photometrically
damaged inputs, so it inherits the teacher's robustness too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np


def teacher_key(model_path: str | Path, scale: float = 1.0) -> str:
    """A short content hash (and the scale): the cache of one teacher's targets is never reused for another."""
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    return f"{Path(model_path).stem}-{digest[:10]}" + (f"-x{scale:g}" if scale != 1.0 else "")


class TeacherTarget:
    """``TeacherTarget(path)(rgb) -> uint8 gray`` (255 = paper), in the same levels as the teacher's training
    targets (``data.clean_sketch``), so real and distilled pairs teach the same ink/paper levels."""

    def __init__(self, model_path: str | Path, device: str = "cpu", scale: float = 1.0):
        from anisketch_desktop.core.engine import InferenceEngine

        if not 0.25 <= scale <= 4.0:
            raise ValueError(f"teacher scale must be within [0.25, 4], not {scale}")
        self.scale = scale
        # the teacher draws at the picture's own size (times ``scale``): its inference-time working size
        # (min_megapixels) is not applied, so targets match those the shipped student was trained on
        self.engine = InferenceEngine(model_path, device, tile_size=1024, min_megapixels=0.0)
        if self.engine.config.task != "sketch":
            raise ValueError(f"{model_path} is a {self.engine.config.task} model; a teacher must be a sketch model")

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        image = rgb.astype(np.float32) / 255.0
        if self.scale != 1.0:  # a teacher often draws a little better on an upscaled picture
            size = (max(1, round(w * self.scale)), max(1, round(h * self.scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)
        out = self.engine.run(image)[..., 0]
        out = 0.5 * (out + self.engine.run(image[:, ::-1].copy())[:, ::-1, 0])
        if out.shape != (h, w):
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
        return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
