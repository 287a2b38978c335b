"""``--self-test``: prove an installation works without a screen.

Loads each shipped model, sketches and colorizes a built-in synthetic sample, checks the outputs are sane
pictures (right size, not blank, plausible ink coverage, actual colour) and reports. Exit status 0/1.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def sample_picture(height: int = 384, width: int = 512) -> np.ndarray:
    """A deterministic anime-ish test card: coloured gradient, a face-like shape, strokes (uint8 RGB)."""
    import cv2

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([180 + 60 * xx / width, 170 + 50 * yy / height, 230 - 40 * xx / width], axis=-1)
    img = img.clip(0, 255).astype(np.uint8)
    cx, cy = width // 2, height // 2
    cv2.ellipse(img, (cx, cy + 20), (110, 130), 0, 0, 360, (245, 220, 200), -1, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy + 20), (110, 130), 0, 0, 360, (60, 40, 40), 3, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy - 60), (140, 90), 0, 180, 360, (90, 60, 150), -1, cv2.LINE_AA)
    for dx in (-45, 45):
        cv2.circle(img, (cx + dx, cy + 10), 22, (40, 90, 170), -1, cv2.LINE_AA)
        cv2.circle(img, (cx + dx, cy + 10), 22, (30, 30, 30), 2, cv2.LINE_AA)
        cv2.circle(img, (cx + dx + 6, cy + 2), 6, (255, 255, 255), -1, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy + 80), (30, 12), 0, 0, 180, (50, 30, 30), 2, cv2.LINE_AA)
    for i in range(6):
        cv2.line(img, (40 + 15 * i, height - 20), (120 + 25 * i, 60), (70, 50, 90), 2, cv2.LINE_AA)
    return img


def _check_sketch(out: np.ndarray, shape: tuple[int, int]) -> str | None:
    gray = out if out.ndim == 2 else out[..., 0]
    if gray.shape[:2] != shape:
        return f"wrong size {gray.shape[:2]} (expected {shape})"
    ink = float((gray < 128).mean())
    if not 0.002 < ink < 0.6:
        return f"implausible ink coverage {ink:.1%}"
    return None


def _check_color(out: np.ndarray, shape: tuple[int, int]) -> str | None:
    if out.ndim != 3 or out.shape[:2] != shape or out.shape[2] < 3:
        return f"wrong shape {out.shape}"
    rgb = out[..., :3].astype(np.float32)
    if rgb.std() < 5:
        return "output is flat"
    chroma = np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean()
    if chroma < 1.0:
        return f"output has no colour (mean chroma {chroma:.2f})"
    return None


def self_test(report: Callable[[str], None] = print, device: str = "auto") -> int:
    """Run the checks, report a line each, return 0 when all pass."""
    from anisketch_desktop import __version__
    from anisketch_desktop.core import models, pipeline

    report(f"AniSketch {__version__} self-test")
    image = sample_picture()
    shape = image.shape[:2]
    failures = 0

    def check(name: str, fn, checker) -> None:
        nonlocal failures
        start = time.perf_counter()
        try:
            problem = checker(fn(), shape)
        except Exception as exc:  # the self-test reports every failure rather than stopping at the first
            problem = f"{type(exc).__name__}: {exc}"
        took = time.perf_counter() - start
        if problem:
            failures += 1
            report(f"FAIL {name}: {problem}")
        else:
            report(f"ok   {name} ({took:.2f} s)")

    check("xdog sketch", lambda: pipeline.sketch(image, engine="xdog"), _check_sketch)
    for task in ("sketch", "colorize"):
        path = models.shipped_model_path(task)
        if not path.is_file():
            failures += 1
            report(f"FAIL shipped {task} model missing: {path}")
    sketch_path = models.shipped_model_path("sketch")
    color_path = models.shipped_model_path("colorize")
    if sketch_path.is_file():
        check("U-Net sketch", lambda: pipeline.sketch(image, model=sketch_path, device=device), _check_sketch)
    if color_path.is_file():
        check(
            "U-Net colorize",
            lambda: pipeline.colorize(pipeline.sketch(image, engine="xdog"), model=color_path, device=device),
            _check_color,
        )
    report("self-test passed" if failures == 0 else f"self-test FAILED ({failures} problem(s))")
    return 0 if failures == 0 else 1
