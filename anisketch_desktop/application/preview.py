"""The window's live XDoG tools as plain functions: the preview of a (downscaled) copy with the panel's values,
and Auto (values tuned for the picture). The same ``Options`` checks as a run apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from anisketch_desktop.application.options import Options
from anisketch_desktop.core.errors import Cancelled


def xdog_preview(
    image: np.ndarray, options: Options, scale: float = 1.0, cancel: Callable[[], bool] | None = None
) -> np.ndarray:
    """XDoG of ``image`` with ``options``' XDoG values, transparency and speck size (uint8). ``image`` may be
    a copy ``scale`` times the picture's size: every size-dependent value (sigma, speck size) is scaled with
    it, so the preview looks like the saved file scaled down."""
    from anisketch_desktop.core import pipeline

    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    params = options.xdog_params()
    if scale != 1.0:
        params = replace(params, sigma=params.sigma * scale)
    return pipeline.sketch(image, engine="xdog", xdog_params=params, transparent=options.transparent,
                           speck_size=round(options.speck_size * scale * scale), lines=options.line_options())


def xdog_auto(
    image: np.ndarray, progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None
) -> tuple[dict, float]:
    """XDoG values tuned for ``image`` (``core.xdog.auto_tune``) as a dict, and their clarity score."""
    from anisketch_desktop.core import imageio, xdog

    rgb, _alpha = imageio.to_float_rgb(image)
    params, score = xdog.auto_tune(rgb, progress=progress, cancel=cancel)
    return params.to_dict(), float(score)
