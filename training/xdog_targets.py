"""XDoG targets made on the fly from color images: the student project's recipe, and our pre-training data.

The targets are mapped like real line art (``data.clean_sketch``) so that both kinds of pair teach the same
ink/paper levels.
"""

from __future__ import annotations

import numpy as np

from anisketch_desktop.core.xdog import PRESETS, XDoGParams, auto_tune, xdog


def xdog_target(rgb: np.ndarray, params: XDoGParams | None = None, auto: bool = True) -> np.ndarray:
    """uint8 gray line art (255 = paper) of a uint8 RGB picture: tuned per picture, or with ``params``."""
    from training.data import clean_sketch

    if params is None:
        params = auto_tune(rgb)[0] if auto else PRESETS["default"]
    sketch = xdog(rgb, params, speck_size=4)
    gray = np.clip(np.round(sketch * 255.0), 0, 255).astype(np.uint8)
    return clean_sketch(gray)
