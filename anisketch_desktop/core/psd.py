"""Layered PSD of a colorize result (psd-tools): what Krita, Clip Studio and Photoshop open as separate layers.

From the top: ``lines`` (black ink whose alpha is the ink's darkness over a transparent background, blend
mode Multiply), ``shading`` (a Multiply layer, only when the result has one), ``flats`` (the flat colours,
opaque, no lines). Shown together they give the coloured PNG; the merged image stored with the file is that
picture too, so viewers without layer support show the right thing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from anisketch_desktop.core.errors import ImageWriteError, OutputExistsError


def lines_rgba(lines: np.ndarray) -> np.ndarray:
    """uint8 ``HxWx4``: the line art (uint8 ``HxW``, 255 = paper) as ink on transparency. Black ink with
    alpha ``255 - gray`` multiplies (and normal-blends) onto any colour exactly like the gray lines do."""
    lines = np.asarray(lines, np.uint8)
    rgba = np.zeros(lines.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - lines
    return rgba


def write_layers_psd(path: str | os.PathLike, result, overwrite: bool = False) -> Path:
    """Write ``result`` (``core.guided.ColorizeResult``) as a layered PSD, atomically; returns the path."""
    from PIL import Image
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import BlendMode

    from anisketch_desktop.core.imageio import _write_atomic

    path = Path(path)
    if path.suffix.lower() != ".psd":
        raise ImageWriteError(f"{path.name}: a layered file must end in .psd")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists (pass overwrite to replace it)")
    h, w = result.lines.shape[:2]
    # an RGBA document keeps the line layer's alpha as layer transparency (an RGB one would make it a mask)
    psd = PSDImage.new("RGBA", (w, h), color=(255, 255, 255, 255), depth=8)
    PixelLayer.frompil(Image.fromarray(np.ascontiguousarray(result.flats), "RGB"), psd, "flats")  # appends
    if result.shading is not None:
        shading = PixelLayer.frompil(Image.fromarray(np.ascontiguousarray(result.shading), "RGB"), psd, "shading")
        shading.blend_mode = BlendMode.MULTIPLY
    lines = PixelLayer.frompil(Image.fromarray(lines_rgba(result.lines), "RGBA"), psd, "lines")
    lines.blend_mode = BlendMode.MULTIPLY
    _set_merged(psd, result.rgb)
    buffer = io.BytesIO()
    try:
        psd.save(buffer)
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(f"cannot write {path.name}: {exc.strerror or exc}") from None
    _write_atomic(path, buffer.getvalue(), overwrite)
    return path


def _set_merged(psd, rgb: np.ndarray) -> None:
    """Store the finished picture as the file's merged image (the preview of viewers without layers)."""
    from psd_tools.psd.image_data import ImageData

    rgb = np.asarray(rgb, np.uint8)[..., :3]
    planes = [rgb[..., c] for c in range(3)] + [np.full(rgb.shape[:2], 255, np.uint8)]
    data = ImageData(compression=psd._record.image_data.compression)
    data.set_data([np.ascontiguousarray(p).tobytes() for p in planes[: psd._record.header.channels]],
                  psd._record.header)
    psd._record.image_data = data
