"""Full-image inference for validation, through the app's own code path.

The network being trained is wrapped in ``core.engine.InferenceEngine.from_model`` and run by
``core.pipeline.sketch`` / ``colorize`` exactly as the app runs a saved model (input levels, the working size
of small pictures, padding, flat colours for ``flat_fill`` models), so validation scores are what users get.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def validation_runner(model, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """``image -> output`` for ``model`` as it is now (a frozen copy): uint8 RGB -> uint8 gray line art for a
    sketch model, uint8 gray line art -> uint8 RGB for a colorize model."""
    from anisketch_desktop.core import pipeline
    from anisketch_desktop.core.engine import InferenceEngine

    engine = InferenceEngine.from_model(model, device, tile_size=None)
    if engine.task == "sketch":
        return lambda image: pipeline.sketch(image, model=engine)
    return lambda image: pipeline.colorize(image, model=engine)


def run_model(model, image: np.ndarray, device: str = "cpu") -> np.ndarray:
    """One picture through ``validation_runner`` (build the runner once when there are many)."""
    return validation_runner(model, device)(image)
