"""Where the colour proposal under the hint fill comes from: one small switch.

The hint-conditioned network (``core.proposal.propose_colors``, which also draws colorize models without hint
inputs at its working size) when it is installed; until then the colorize U-Net's colour layer
(``engine.run(layer=True)``) drawn at a reduced working size, then scaled back. Only a model with hint inputs
is re-run per hint change.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import cv2
import numpy as np

WORKING_MEGAPIXELS = 0.25  # the fallback network's working size (its colour layer is smooth; the fill is not)


def hint_network() -> Callable | None:
    """``core.proposal.propose_colors`` when that module exists, else None."""
    try:
        module = importlib.import_module("anisketch_desktop.core.proposal")
    except ModuleNotFoundError as exc:
        if exc.name != "anisketch_desktop.core.proposal":
            raise
        return None
    return getattr(module, "propose_colors", None)


def propose(lines: np.ndarray, hints=None, reference=None, model=None, device: str = "auto",
            progress=None, cancel=None) -> tuple[np.ndarray, bool]:
    """``(proposal float32 HxWx3 in [0, 1], follows_hints)`` for normalised line art ``lines`` (``HxW``);
    ``follows_hints``: the model reads hints, so ``core.guided`` redraws the proposal per hint change."""
    network = hint_network()
    if network is not None:
        takes = takes_hints(model)
        out = network(lines, hints=hints if takes else None, reference=reference, model=model, device=device,
                      progress=progress, cancel=cancel)
        return np.asarray(out, np.float32), takes
    return colour_layer(lines, model=model, device=device, progress=progress, cancel=cancel), False


def takes_hints(model) -> bool:
    """Whether ``model`` (None = the hint network's default, a path, or an engine) has hint inputs."""
    import json

    from anisketch_desktop.core import engine as engine_mod

    if isinstance(model, engine_mod.InferenceEngine):
        return getattr(model.config, "hint_channels", 0) > 0
    if model is None:
        module = importlib.import_module("anisketch_desktop.core.proposal")
        default = getattr(module, "default_proposal_model", None)
        if default is None:
            return True
        try:
            model = default()
        except Exception:  # no model installed: the network's own call says so
            return False
    from anisketch_desktop.core.model_io import CONFIG_KEY, read_metadata

    try:
        config = json.loads(read_metadata(model)[CONFIG_KEY])
    except Exception:  # not an AniSketch model: the network's loader says so
        return False
    return int(config.get("hint_channels", 0) or 0) > 0


def colour_layer(lines: np.ndarray, model=None, device: str = "auto", progress=None, cancel=None,
                 megapixels: float = WORKING_MEGAPIXELS) -> np.ndarray:
    """The colorize U-Net's colour layer (no lines multiplied on) at a working size of ``megapixels``."""
    import copy

    from anisketch_desktop.core import engine as engine_mod
    from anisketch_desktop.core.models import resolve_model

    if isinstance(model, engine_mod.InferenceEngine):
        eng = model
        if eng.min_megapixels > 0 and eng.config.task == "colorize":  # the same weights without the upscale
            eng = copy.copy(eng)  # shares the loaded network (also one that lives only in memory: training)
            eng.min_megapixels = 0.0
    else:
        eng = engine_mod.get_engine(resolve_model(model, "colorize"), device, min_megapixels=0.0)
    if eng.config.task != "colorize":
        from anisketch_desktop.core.errors import AniSketchError

        raise AniSketchError(f"{eng.path.name} is a {eng.config.task} model; this needs a colorize model.")
    h, w = lines.shape[:2]
    scale = min(1.0, (megapixels * 1e6 / (h * w)) ** 0.5) if megapixels > 0 else 1.0
    small = lines
    if scale < 1.0:
        small = cv2.resize(lines, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    layer = eng.run(small[..., None], layer=eng.config.multiply_lines, progress=progress, cancel=cancel)
    if layer.shape[:2] != (h, w):
        layer = cv2.resize(layer, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(layer, 0.0, 1.0).astype(np.float32, copy=False)
