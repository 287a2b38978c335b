"""The line metric: F1 of 1-px skeletons matched within 3 px, and robustness to input perturbations.

This is exactly how the shipped sketch model is scored on a hidden set of real line art:
prediction ink = gray < 128, truth ink = gray < min(p90(gray) - 50, 160); both are thinned to skeletons
(Zhang-Suen, vectorised in numpy), the prediction is resized to the truth's size first, and a skeleton pixel
counts as matched when the other skeleton has a pixel within ``tolerance`` px (distance transform).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

TOLERANCE = 3.0


def to_gray_u8(image: np.ndarray) -> np.ndarray:
    """uint8 gray from uint8/float, gray/RGB(A) input (float is taken as [0, 1])."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
    return img


def truth_ink(sketch: np.ndarray) -> np.ndarray:
    """Boolean ink mask of a real line-art image (tolerates gray paper and light pencil)."""
    gray = to_gray_u8(sketch)
    thr = min(float(np.percentile(gray, 90)) - 50.0, 160.0)
    return gray < thr


def pred_ink(sketch: np.ndarray) -> np.ndarray:
    return to_gray_u8(sketch) < 128


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to a 1-px skeleton (vectorised; works on the bounding box)."""
    mask = np.asarray(mask, dtype=bool)
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    img = np.pad(mask[y0:y1, x0:x1], 1).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = img
            p2, p3, p4 = p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:]
            p5, p6, p7 = p[2:, 2:], p[2:, 1:-1], p[2:, :-2]
            p8, p9 = p[1:-1, :-2], p[:-2, :-2]
            nbrs = (p2, p3, p4, p5, p6, p7, p8, p9)
            b = sum(n.astype(np.int16) for n in nbrs)
            seq = nbrs + (p2,)
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.int16) for i in range(8))
            if step == 0:
                c1, c2 = p2 * p4 * p6, p4 * p6 * p8
            else:
                c1, c2 = p2 * p4 * p8, p2 * p6 * p8
            center = p[1:-1, 1:-1]
            kill = (center == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
            if kill.any():
                center[kill] = 0
                changed = True
        if not changed:
            break
    out[y0:y1, x0:x1] = img[1:-1, 1:-1].astype(bool)
    return out


def _within(skel_a: np.ndarray, skel_b: np.ndarray, tolerance: float) -> float:
    """Fraction of skel_a pixels that have a skel_b pixel within tolerance."""
    n = int(skel_a.sum())
    if n == 0:
        return 0.0
    if not skel_b.any():
        return 0.0
    dist = cv2.distanceTransform((~skel_b).astype(np.uint8), cv2.DIST_L2, 5)
    return float((dist[skel_a] <= tolerance).sum()) / n


def skeleton_f1(pred_mask: np.ndarray, truth_mask: np.ndarray, tolerance: float = TOLERANCE) -> dict:
    """Precision, recall and F1 of two ink masks of the same size, after thinning both."""
    sp, st = thin(pred_mask), thin(truth_mask)
    precision = _within(sp, st, tolerance)
    recall = _within(st, sp, tolerance)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


def line_f1(pred: np.ndarray, truth: np.ndarray, tolerance: float = TOLERANCE, detail: bool = False):
    """The line metric of a predicted sketch against real line art (any dtypes, gray or RGB)."""
    truth_mask = truth_ink(truth)
    gray = to_gray_u8(pred)
    if gray.shape != truth_mask.shape:
        gray = cv2.resize(gray, truth_mask.shape[::-1], interpolation=cv2.INTER_AREA)
    scores = skeleton_f1(gray < 128, truth_mask, tolerance)
    return scores if detail else scores["f1"]


def self_f1(pred: np.ndarray, reference: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """F1 between two predicted sketches (both binarized at 128): the robustness score."""
    ref = to_gray_u8(reference)
    gray = to_gray_u8(pred)
    if gray.shape != ref.shape:
        gray = cv2.resize(gray, ref.shape[::-1], interpolation=cv2.INTER_AREA)
    return skeleton_f1(gray < 128, ref < 128, tolerance)["f1"]


def _lut(fn) -> np.ndarray:
    x = np.arange(256, dtype=np.float32)
    return np.clip(np.round(fn(x)), 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def _noise(img: np.ndarray, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(1234)
    noisy = img.astype(np.float32) + rng.normal(0.0, sigma, img.shape).astype(np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def _half(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


PERTURBATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "dark x0.5": lambda im: cv2.LUT(im, _lut(lambda x: x * 0.5)),
    "washed out": lambda im: cv2.LUT(im, _lut(lambda x: x * 0.6 + 110.0)),
    "contrast x0.45": lambda im: cv2.LUT(im, _lut(lambda x: (x - 128.0) * 0.45 + 128.0)),
    "gamma 2.2": lambda im: cv2.LUT(im, _lut(lambda x: 255.0 * (x / 255.0) ** 2.2)),
    "noise s8": lambda im: _noise(im, 8.0),
    "jpeg q30": lambda im: _jpeg(im, 30),
    "half res": _half,
}


def robustness(
    model_fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray, clean_output: np.ndarray | None = None
) -> dict[str, float]:
    """F1 between ``model_fn`` on each perturbed copy of ``image`` (uint8 RGB) and on the clean image.

    ``model_fn`` maps uint8 RGB to a sketch (gray, uint8 or float); outputs at another size (half resolution)
    are resized back to the clean output's size.
    """
    clean = clean_output if clean_output is not None else model_fn(image)
    return {name: self_f1(model_fn(perturb(image)), clean) for name, perturb in PERTURBATIONS.items()}
