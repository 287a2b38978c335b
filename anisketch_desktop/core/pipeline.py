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


def _engine_for(model, task: str, device: str, tile: int | None, memory_mb: float | None = None):
    """An ``InferenceEngine`` for ``model`` (None: the default model; a path or a model name; or an engine).

    ``tile``: None = tile only when the picture does not fit ``memory_mb`` (None: the device's default budget),
    0 = never tile, N = tiles of at most N pixels (see ``InferenceEngine``)."""
    from anisketch_desktop.core import engine as engine_mod
    from anisketch_desktop.core.models import resolve_model

    if isinstance(model, engine_mod.InferenceEngine):
        eng = model
    else:
        path = resolve_model(model, task)
        eng = engine_mod.get_engine(path, device, tile_size=tile, memory_mb=memory_mb)
    if eng.config.task != task:
        raise AniSketchError(f"{eng.path.name} is a {eng.config.task} model; this needs a {task} model.")
    return eng


def _xdog_params(xdog_params):
    from anisketch_desktop.core import xdog

    return xdog.resolve_params(xdog_params)


def _rgb_source(image: np.ndarray) -> np.ndarray:
    """``image`` as the sketch network's input array, in its own dtype: RGB, or RGBA (the engine puts
    transparent pixels on white paper tile by tile). Gray pictures are repeated into three channels."""
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return image
    if image.ndim == 3 and image.shape[2] == 2:  # gray + alpha
        return image[..., [0, 0, 0, 1]]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise AniSketchError(f"Cannot read an image of shape {image.shape} as a picture.")
    return np.repeat(image[..., None], 3, axis=2)


def _alpha_uint8(image: np.ndarray) -> np.ndarray | None:
    """The alpha channel as uint8, or None when the image has none."""
    if image.ndim != 3 or image.shape[2] not in (2, 4):
        return None
    alpha = image[..., -1]
    if alpha.dtype == np.uint8:
        return alpha
    return _uint8(alpha if np.issubdtype(alpha.dtype, np.integer) else np.clip(alpha, 0.0, 1.0))


def _compose_uint8(gray: np.ndarray, alpha: np.ndarray | None, transparent: bool) -> np.ndarray:
    """``_compose_sketch`` for a uint8 sketch (255 = paper) and uint8 alpha, without whole-picture float
    copies: ink alpha is ``(255 - gray) * alpha / 255``, rounded."""
    import cv2

    if transparent:
        rgba = np.zeros(gray.shape + (4,), dtype=np.uint8)
        ink = np.subtract(255, gray, dtype=np.uint8)
        rgba[..., 3] = ink if alpha is None else cv2.multiply(ink, alpha, scale=1.0 / 255.0)
        return rgba
    if alpha is None:
        return gray
    rgba = np.empty(gray.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = gray[..., None]
    rgba[..., 3] = alpha
    return rgba


def _float_sketch(gray: np.ndarray) -> np.ndarray:
    """A sketch as float32 (1 = paper), from uint8 (255 = paper) or float."""
    if gray.dtype == np.uint8:
        return gray.astype(np.float32) * np.float32(1.0 / 255.0)
    return np.asarray(gray, dtype=np.float32)


def _compose_sketch(
    gray: np.ndarray, alpha: np.ndarray | None, transparent: bool, colour: np.ndarray | None = None
) -> np.ndarray:
    """uint8 output of a float sketch (1 = paper): gray, RGBA keeping ``alpha``, or ink-as-alpha.

    ``colour`` (float RGB, same size): the lines' colour (tinted line art); the output is then RGB(A).
    """
    gray = np.clip(gray, 0.0, 1.0)
    if transparent:
        ink = 1.0 - gray
        if alpha is not None:
            ink *= alpha
        rgba = np.zeros(gray.shape + (4,), dtype=np.float32)
        if colour is not None:
            rgba[..., :3] = colour
        rgba[..., 3] = ink
        return _uint8(rgba)
    if colour is not None:
        rgb = 1.0 - (1.0 - gray)[..., None] * (1.0 - colour)
        return _uint8(rgb if alpha is None else np.dstack([rgb, alpha]))
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


def sketch_lines(
    image: np.ndarray,
    *,
    engine: str = "unet",
    model=None,
    device: str = "auto",
    xdog_params=None,
    auto: bool = False,
    tile: int | None = None,
    memory_mb: float | None = None,
    dtype=np.float32,
    progress: Progress = None,
    cancel: Cancel = None,
) -> np.ndarray:
    """The engine's own line art of ``image``: ``HxW float32``, 1 = paper, before any line control
    (``dtype=np.uint8``: 255 = paper; the U-Net then streams tiles of the uint8 picture into a uint8 result,
    so memory is the picture, the result and one tile's work).

    This is the slow step; keep its result to try line controls with :func:`finish_sketch`.
    """
    if engine not in ENGINES:
        raise AniSketchError(f"Unknown sketch engine {engine!r}; use one of: {', '.join(ENGINES)}")
    from anisketch_desktop.core import xdog

    if engine == "xdog":  # xdog reads any image array and puts transparent pixels on white paper itself
        if auto:
            params, _score = xdog.auto_tune(image, progress=_sub_progress(progress, 0.0, 0.9), cancel=cancel)
        else:
            params = _xdog_params(xdog_params)
        gray = xdog.xdog(image, params)
        if progress is not None:
            progress(1.0)
        return _uint8(gray) if np.dtype(dtype) == np.uint8 else gray
    eng = _engine_for(model, "sketch", device, tile, memory_mb)
    gray = eng.run(_rgb_source(image), progress=progress, cancel=cancel, out_dtype=dtype)
    return np.ascontiguousarray(gray[..., 0])


def _finished(gray, image, lines, speck_size) -> tuple[np.ndarray, np.ndarray | None]:
    """``(gray after specks and line controls, the lines' colour or None)``; a uint8 sketch stays uint8 when
    no line control asks for float work."""
    from anisketch_desktop.core import lineops, xdog

    lines = lines or lineops.LineOptions()
    if speck_size > 0:
        gray = xdog.remove_specks(gray, speck_size)
    if gray.dtype == np.uint8 and lines.weight == 0 and lines.threshold <= 0.0 and not lines.tint:
        return gray, None
    gray = lineops.apply(_float_sketch(gray), lines)
    colour = None
    if lines.tint:
        rgb, _ = _float_rgb(image)
        if rgb.shape[:2] != gray.shape:
            import cv2

            rgb = cv2.resize(rgb, gray.shape[::-1], interpolation=cv2.INTER_AREA)
        colour = lineops.line_colours(gray, rgb)
    return gray, colour


def finish_sketch(
    gray: np.ndarray,
    image: np.ndarray,
    *,
    lines=None,
    transparent: bool = False,
    speck_size: int = 0,
) -> np.ndarray:
    """The uint8 sketch from the engine's line art ``gray`` of ``image``: specks, line controls, output form.

    ``lines`` is a ``core.lineops.LineOptions`` (None: the defaults). Cheap next to the network: the GUI
    reruns only this when a line control moves, so its preview is the saved file. ``gray`` may be float
    (1 = paper) or uint8 (255 = paper, from ``sketch_lines(dtype=np.uint8)``).
    """
    gray, colour = _finished(gray, image, lines, speck_size)
    if gray.dtype == np.uint8:
        return _compose_uint8(gray, _alpha_uint8(image), transparent)
    return _compose_sketch(gray, _alpha(image), transparent, colour)


def finish_sketch_svg(
    gray: np.ndarray,
    image: np.ndarray,
    *,
    lines=None,
    transparent: bool = False,
    speck_size: int = 0,
) -> str:
    """Like :func:`finish_sketch`, traced into an SVG document of filled paths (``core.vector``)."""
    from anisketch_desktop.core import vector

    gray, colour = _finished(gray, image, lines, speck_size)
    ink = 1.0 - np.clip(_float_sketch(gray), 0.0, 1.0)
    alpha = _alpha(image)
    if alpha is not None:
        ink *= alpha
    return vector.trace(ink, colour, background=not transparent)


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
    lines=None,
    tile: int | None = None,
    memory_mb: float | None = None,
    progress: Progress = None,
    cancel: Cancel = None,
) -> np.ndarray:
    """Line art of ``image``: uint8 ``HxW`` (``HxWx4`` if the input has alpha or ``transparent``).

    ``engine`` "unet" uses ``model`` (None: the installed default; a path; or an ``InferenceEngine``);
    "xdog" uses ``xdog_params`` (``XDoGParams``, a preset name, or None for the defaults) or, with ``auto``,
    parameters tuned for this picture. ``speck_size`` removes ink specks up to that many pixels.
    ``transparent`` gives black lines whose alpha is the ink darkness (paper fully transparent).
    ``lines`` (``core.lineops.LineOptions``): line weight, threshold and tint; a tint makes the output RGB(A).
    """
    gray = sketch_lines(
        image, engine=engine, model=model, device=device, xdog_params=xdog_params, auto=auto, tile=tile,
        memory_mb=memory_mb, dtype=np.uint8 if engine == "unet" else np.float32, progress=progress, cancel=cancel,
    )
    return finish_sketch(gray, image, lines=lines, transparent=transparent, speck_size=speck_size)


def colorize_result(
    image: np.ndarray,
    *,
    hints=None,
    reference: np.ndarray | None = None,
    model=None,
    device: str = "auto",
    flats: bool | None = None,
    soft: bool = False,
    progress: Progress = None,
    cancel: Cancel = None,
):
    """Colour line art with the guided fill (``core.guided``): a ``ColorizeResult`` (picture, flats, lines,
    shading). ``hints``: ``core.hints.Hints`` or None; ``reference``: a coloured picture whose palette the
    proposal takes; ``flats`` False keeps the network's variation inside regions (None = flat)."""
    from anisketch_desktop.core.guided import ColorizeSession

    session = ColorizeSession(image, model=model, device=device, reference=reference)
    session.prepare(progress=_sub_progress(progress, 0.0, 0.92), cancel=cancel)
    result = session.render(hints, flat=flats is not False, soft=soft, cancel=cancel)
    if progress is not None:
        progress(1.0)
    return result


def colorize(
    image: np.ndarray,
    *,
    model=None,
    device: str = "auto",
    tile: int | None = None,
    memory_mb: float | None = None,
    flats: bool | None = None,
    hints=None,
    reference: np.ndarray | None = None,
    soft: bool = False,
    progress: Progress = None,
    cancel: Cancel = None,
) -> np.ndarray:
    """Colour a sketch: uint8 ``HxWx3`` (``HxWx4`` keeping the input's alpha); colour inputs are grayed.

    Every closed region of the line art takes the colour of the hints in it, or else the network's proposal
    (``colorize_result`` gives the layers too). ``flats`` False keeps the proposal's variation inside regions.
    ``tile`` and ``memory_mb`` are kept for callers of the old signature (the proposal runs at a reduced
    working size).
    """
    result = colorize_result(image, hints=hints, reference=reference, model=model, device=device, flats=flats,
                             soft=soft, progress=progress, cancel=cancel)
    return keep_alpha(result.rgb, image)


def keep_alpha(rgb: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``rgb`` with the alpha of the input ``image`` when it has one that outlines a picture; a line layer whose
    ink is its alpha (one colour, transparent paper) gives an opaque picture instead."""
    alpha = _alpha(image)
    if alpha is None:
        return rgb
    colour = np.asarray(image)[..., :-1]
    seen = colour[alpha > 0.5].astype(np.float32)
    if np.issubdtype(colour.dtype, np.integer):
        seen /= float(np.iinfo(colour.dtype).max)
    if seen.size and np.ptp(seen, axis=0).max() <= 0.03:
        return rgb  # ink as alpha: colouring fills the whole page
    return np.dstack([rgb, _uint8(alpha)])


def style_result(
    image: np.ndarray,
    *,
    sketch_model=None,
    device: str = "auto",
    tile: int | None = None,
    memory_mb: float | None = None,
    flats: bool | None = None,
    progress: Progress = None,
    cancel: Cancel = None,
    **sketch_kw,
):
    """The style change as layers: the picture's line art (the sketch model), then every closed region filled
    with the picture's own colour there (``ColorizeResult``; clean lines over flat colours, same size)."""
    from anisketch_desktop.core.guided import ColorizeSession

    sketch_kw.pop("transparent", None)  # the fill needs lines on paper
    sketch_kw.pop("color_model", None)
    if sketch_kw.get("lines") is not None and sketch_kw["lines"].tint:  # lines in ink: they multiply on
        import dataclasses

        sketch_kw["lines"] = dataclasses.replace(sketch_kw["lines"], tint=False)
    drawn = sketch(image, model=sketch_model, device=device, tile=tile, memory_mb=memory_mb,
                   progress=_sub_progress(progress, 0.0, 0.8), cancel=cancel, **sketch_kw)
    rgb, _ = _float_rgb(image)
    session = ColorizeSession(drawn, proposal=rgb)
    session.prepare(cancel=cancel)
    result = session.render(None, flat=flats is not False, cancel=cancel)
    if progress is not None:
        progress(1.0)
    return result


def style(
    image: np.ndarray,
    *,
    sketch_model=None,
    color_model=None,
    engine: str = "unet",
    device: str = "auto",
    tile: int | None = None,
    memory_mb: float | None = None,
    flats: bool | None = None,
    progress: Progress = None,
    cancel: Cancel = None,
    **sketch_kw,
) -> np.ndarray:
    """Re-draw a picture as cel-shaded anime: clean line art over flat colours taken from the picture itself;
    uint8 RGB (RGBA keeps alpha), the picture's size. ``color_model`` is accepted for old callers and unused
    (the colours come from the picture, not from a network)."""
    result = style_result(image, sketch_model=sketch_model, engine=engine, device=device, tile=tile,
                          memory_mb=memory_mb, flats=flats, progress=progress, cancel=cancel, **sketch_kw)
    alpha = _alpha(image)
    return result.rgb if alpha is None else np.dstack([result.rgb, _uint8(alpha)])
