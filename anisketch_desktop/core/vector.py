"""Vector line art: trace a finished sketch into an SVG of filled paths with vtracer (visioncortex).

The ink (pixels at least half dark, as the PNG reads at a glance) is traced into closed spline paths filled
with the line colour: black, or for tinted line art one path set per colour (the line colours quantised to
at most ``MAX_COLOURS``). Inkscape, Illustrator, Krita and browsers open the result.

The ink is traced at ``trace_scale`` times the picture's size (the viewBox scales it back) into polygons with
sub-pixel corners: at 1x the paths cut the corners of 1-2 px lines and small dots (the SVG drawn back matched
the PNG with line F1 0.83 at 1 px on a 1 MP sketch), at 3x 0.94; vtracer's spline mode lost whole shapes on a
busy 3.5 MP page at 2x (F1 0.83, ink area 0.69x) where polygons keep F1 0.9997 (``python -m benchmarks.bench_svg``).
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from anisketch_desktop.core.errors import AniSketchError

MAX_COLOURS = 8
SPECKLE_PX = 2  # vtracer drops patches smaller than this (traced px); the Remove specks control does the real work
_TRACE = dict(colormode="binary", mode="polygon", filter_speckle=SPECKLE_PX, path_precision=1,
              corner_threshold=60, length_threshold=4.0, splice_threshold=45)


def trace_scale(shape) -> int:
    """3x for pictures up to 2.5 MP, 2x up to 8 MP, else 1x (time and memory stay about 1-2 s, < 1 GB)."""
    pixels = shape[0] * shape[1]
    return 3 if pixels <= 2_500_000 else 2 if pixels <= 8_000_000 else 1


def _trace_mask(mask: np.ndarray) -> list[str]:
    """The ``<path .../>`` elements vtracer draws for the ``True`` pixels of ``mask`` (filled black)."""
    import vtracer

    if not mask.any():
        return []
    picture = np.where(mask, 0, 255).astype(np.uint8)
    ok, png = cv2.imencode(".png", picture)
    if not ok:
        raise AniSketchError("Could not prepare the line art for tracing")
    svg = vtracer.convert_raw_image_to_svg(png.tobytes(), img_format="png", **_TRACE)
    return [p for p in re.findall(r"<path\b[^>]*/>", svg) if 'd=""' not in p]  # tiny clusters give empty paths


def _hex(rgb: np.ndarray) -> str:
    r, g, b = (int(round(float(c) * 255.0)) for c in np.clip(rgb, 0.0, 1.0))
    return f"#{r:02x}{g:02x}{b:02x}"


def _palette(colour: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels HxW int32, centres Kx3)``: the line colours under ``mask`` quantised by k-means."""
    pixels = colour[mask].astype(np.float32)
    k = int(min(MAX_COLOURS, max(1, len(np.unique((pixels * 31).astype(np.int32), axis=0)))))
    rng = np.random.default_rng(0)
    sample = pixels[rng.choice(len(pixels), size=min(len(pixels), 20000), replace=False)]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-3)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(sample, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    dist = ((colour[..., None, :] - centres[None, None]) ** 2).sum(axis=-1)
    return np.argmin(dist, axis=-1).astype(np.int32), centres


def trace(ink: np.ndarray, colour: np.ndarray | None = None, *, background: bool = True) -> str:
    """An SVG document of the line art whose ink darkness (0 paper .. 1 ink, ``HxW``) is ``ink``.

    ``colour`` (``HxWx3`` float RGB): the lines' colour per pixel (tinted lines); None draws them black.
    ``background`` adds white paper under the lines (off: lines on a transparent page).
    """
    ink = np.asarray(ink, dtype=np.float32)
    h, w = ink.shape
    scale = trace_scale(ink.shape)
    big = cv2.resize(ink, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR) if scale > 1 else ink
    mask = big >= 0.5
    paths: list[str] = []
    if colour is None or not mask.any():
        paths += _trace_mask(mask)
    else:
        labels, centres = _palette(np.asarray(colour, dtype=np.float32), ink >= 0.5)
        if scale > 1:
            labels = cv2.resize(labels, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
        for index, centre in enumerate(centres):
            fill = _hex(centre)
            paths += [p.replace('fill="#000000"', f'fill="{fill}"') for p in _trace_mask(mask & (labels == index))]
    paper = '<rect width="100%" height="100%" fill="#ffffff"/>\n' if background else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w * scale} {h * scale}">\n<!-- line art traced by AniSketch with VTracer -->\n'
        + paper + "\n".join(paths) + "\n</svg>\n"
    )
