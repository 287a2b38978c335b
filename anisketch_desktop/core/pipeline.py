"""What the app does to a picture: ``sketch`` (U-Net or XDoG), ``colorize`` and ``style`` (both in a row).

Inputs are images as read by ``core.imageio`` (uint8/uint16/float, gray, RGB or RGBA); outputs are uint8.
Transparent inputs are composited over white paper before the network sees them and keep their alpha.
torch is only reached through ``core.engine``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from anisketch_desktop.core.errors import AniSketchError

Progress = Callable[[float], None] | None
Cancel = Callable[[], bool] | None
ENGINES = ("unet", "xdog")


def _alpha(image: np.ndarray) -> np.ndarray | None:
    """The alpha channel as float32 [0, 1], or None when the image has none."""
    if image.ndim != 3 or image.shape[2] not in (2, 4):
        return None
    alpha = image[..., -1]
    if np.issubdtype(alpha.dtype, np.integer):
        return alpha.astype(np.float32) / float(np.iinfo(alpha.dtype).max)
    return np.clip(alpha.astype(np.float32), 0.0, 1.0)


def _float_rgb(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(float RGB composited over white paper, alpha or None)``."""
    from anisketch_desktop.core.imageio import to_float_rgb

    rgb, alpha = to_float_rgb(image)  # a fresh array: safe to composite in place
    if alpha is not None:
        rgb *= alpha[..., None]
        rgb += 1.0 - alpha[..., None]
    return rgb, alpha


def _float_gray(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(float gray composited over white paper, alpha or None)``."""
    from anisketch_desktop.core.imageio import to_float_gray

    return to_float_gray(image), _alpha(image)


def _uint8(image: np.ndarray) -> np.ndarray:
    from anisketch_desktop.core.imageio import to_uint8

    return to_uint8(image)


def _sub_progress(progress: Progress, start: float, end: float) -> Progress:
    if progress is None:
        return None
    return lambda f: progress(start + (end - start) * f)


def _engine_for(model, task: str, device: str, tile: int | None):
    """An ``InferenceEngine`` for ``model`` (None: the default model; a path or a model name; or an engine)."""
    from anisketch_desktop.core import engine as engine_mod
    from anisketch_desktop.core.models import resolve_model

    if isinstance(model, engine_mod.InferenceEngine):
        eng = model
    else:
        path = resolve_model(model, task)
        eng = engine_mod.get_engine(path, device, tile_size=tile or None)
    if eng.config.task != task:
        raise AniSketchError(f"{eng.path.name} is a {eng.config.task} model; this needs a {task} model.")
    return eng


def _xdog_params(xdog_params):
    from anisketch_desktop.core import xdog

    if xdog_params is None:
        return xdog.PRESETS["default"]
    if isinstance(xdog_params, str):
        if xdog_params not in xdog.PRESETS:
            raise AniSketchError(
                f"Unknown XDoG preset {xdog_params!r}; choose from: {', '.join(sorted(xdog.PRESETS))}"
            )
        return xdog.PRESETS[xdog_params]
    return xdog_params


def _compose_sketch(gray: np.ndarray, alpha: np.ndarray | None, transparent: bool) -> np.ndarray:
    """uint8 output of a float sketch (1 = paper): gray, RGBA keeping ``alpha``, or ink-as-alpha."""
    gray = np.clip(gray, 0.0, 1.0)
    if transparent:
        ink = 1.0 - gray
        if alpha is not None:
            ink *= alpha
        rgba = np.zeros(gray.shape + (4,), dtype=np.float32)
        rgba[..., 3] = ink
        return _uint8(rgba)
    if alpha is None:
        return _uint8(gray)
    return _uint8(np.dstack([gray, gray, gray, alpha]))


def recompose_sketch(opaque: np.ndarray, transparent: bool) -> np.ndarray:
    """A finished ``sketch`` result made without ``transparent``, on the background asked for now.

    Lets a window switch "transparent background" without running the network again; equals ``sketch(...,
    transparent=True)`` within one level of rounding.
    """
    if not transparent:
        return opaque
    gray = opaque if opaque.ndim == 2 else opaque[..., 0]
    ink = 255 - gray.astype(np.uint16)
    if opaque.ndim == 3 and opaque.shape[2] == 4:  # the picture's own alpha: ink only where it was opaque
        ink = (ink * opaque[..., 3] + 127) // 255
    rgba = np.zeros(gray.shape + (4,), dtype=np.uint8)
    rgba[..., 3] = ink
    return rgba


def sketch(
    image: np.ndarray,
    *,
    engine: str = "unet",
    model=None,
    device: str = "auto",
    xdog_params=None,
    auto: bool = False,
    transparent: bool = False,
    speck_size: int = 0,
    tile: int | None = 1024,
    progress: Progress = None,
    cancel: Cancel = None,
) -> np.ndarray:
    """Line art of ``image``: uint8 ``HxW`` (``HxWx4`` if the input has alpha or ``transparent``).

    ``engine`` "unet" uses ``model`` (None: the installed default; a path; or an ``InferenceEngine``);
    "xdog" uses ``xdog_params`` (``XDoGParams``, a preset name, or None for the defaults) or, with ``auto``,
    parameters tuned for this picture. ``speck_size`` removes ink specks up to that many pixels.
    ``transparent`` gives black lines whose alpha is the ink darkness (paper fully transparent).
    """
    if engine not in ENGINES:
        raise AniSketchError(f"Unknown sketch engine {engine!r}; use one of: {', '.join(ENGINES)}")
    from anisketch_desktop.core import xdog

    if engine == "xdog":  # xdog reads any image array and puts transparent pixels on white paper itself
        if auto:
            params, _score = xdog.auto_tune(image, progress=_sub_progress(progress, 0.0, 0.9), cancel=cancel)
        else:
            params = _xdog_params(xdog_params)
        gray = xdog.xdog(image, params, speck_size=speck_size)
        if progress is not None:
            progress(1.0)
    else:
        eng = _engine_for(model, "sketch", device, tile)
        rgb, _ = _float_rgb(image)
        gray = eng.run(rgb, progress=progress, cancel=cancel)[..., 0]
        del rgb
        if speck_size > 0:
            gray = xdog.remove_specks(gray, speck_size)
    return _compose_sketch(gray, _alpha(image), transparent)


def colorize(
    image: np.ndarray,
    *,
    model=None,
    device: str = "auto",
    tile: int | None = 1024,
    flats: bool | None = None,
    progress: Progress = None,
    cancel: Cancel = None,
) -> np.ndarray:
    """Colour a sketch: uint8 ``HxWx3`` (``HxWx4`` keeping the input's alpha); colour inputs are grayed.

    ``flats``: give every closed region of the drawing one colour (``core.flats``); None = the model's own
    setting (``flat_fill`` in its config). Only models that paint a colour layer under the lines can do it.
    """
    gray, alpha = _float_gray(image)
    eng = _engine_for(model, "colorize", device, tile)
    cfg = eng.config
    if cfg.multiply_lines and (cfg.flat_fill if flats is None else flats):
        from anisketch_desktop.core import flats as flat_colours
        from anisketch_desktop.core.levels import normalize_levels

        layer = eng.run(gray[..., None], layer=True, progress=_sub_progress(progress, 0.0, 0.95), cancel=cancel)
        lines = normalize_levels(gray) if cfg.input_norm == "levels" else gray  # what the network saw
        # the regions come from the normalised lines; the Multiply layer is the line art as drawn (validation:
        # PSNR 11.32 -> 11.49 dB, SSIM 0.677 -> 0.680 against multiplying the normalised lines)
        filled = flat_colours.flat_fill(layer, lines)
        del layer, lines
        rgb = flat_colours.multiply(filled, gray, out=filled)
        if progress is not None:
            progress(1.0)
    else:
        rgb = eng.run(gray[..., None], progress=progress, cancel=cancel)
    del gray
    if alpha is not None:
        rgb = np.dstack([rgb, alpha])
    return _uint8(rgb)


def style(
    image: np.ndarray,
    *,
    sketch_model=None,
    color_model=None,
    engine: str = "unet",
    device: str = "auto",
    tile: int | None = 1024,
    flats: bool | None = None,
    progress: Progress = None,
    cancel: Cancel = None,
    **sketch_kw,
) -> np.ndarray:
    """Re-draw a picture in the models' style: ``colorize(sketch(image))``; uint8 RGB (RGBA keeps alpha)."""
    sketch_kw.pop("transparent", None)  # the colorizer needs lines on paper
    lines = sketch(
        image,
        engine=engine,
        model=sketch_model,
        device=device,
        tile=tile,
        progress=_sub_progress(progress, 0.0, 0.5),
        cancel=cancel,
        **sketch_kw,
    )
    return colorize(
        lines, model=color_model, device=device, tile=tile, flats=flats,
        progress=_sub_progress(progress, 0.5, 1.0), cancel=cancel,
    )
