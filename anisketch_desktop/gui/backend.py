"""The work the window hands to worker threads, as plain functions on numpy arrays and paths (no Qt).

``core.pipeline`` / ``core.engine`` (and so torch) are imported inside these functions, which only ever run
on worker threads, so the window is up before torch loads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from anisketch_desktop.core.errors import AniSketchError, Cancelled

MODES = {
    "sketch": "Sketch (U-Net)",
    "xdog": "Sketch (XDoG)",
    "colorize": "Colorize",
    "style": "Style",
}
MODE_SUFFIX = {"sketch": "sketch", "xdog": "sketch", "colorize": "color", "style": "style"}  # as the CLI
IF_EXISTS = {"skip": "Skip it", "overwrite": "Overwrite it", "rename": "Add a number"}
DEFAULT_TEMPLATE = "{stem}_{mode}.png"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")

Progress = Callable[[float], None] | None
Cancel = Callable[[], bool] | None


@dataclass
class ProcessOptions:
    """Everything that decides a result, captured when a job is queued."""

    mode: str = "sketch"
    sketch_model: str = ""  # "" = the installed default
    color_model: str = ""
    xdog: dict = field(default_factory=dict)  # XDoGParams fields; empty = defaults
    xdog_auto: bool = False
    transparent: bool = False
    flats: bool = True  # colorize: one flat colour per closed region (models that paint a colour layer)
    speck_size: int = 0
    device: str = "auto"
    tile: int = 1024

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunInfo:
    device: str  # e.g. "CPU", "CUDA (NVIDIA H100)"
    note: str | None  # why a GPU was not used, when it was skipped
    seconds: float


@dataclass
class JobOutcome:
    output: Path
    skipped: bool
    info: RunInfo | None


def describe_device(device) -> str:
    """A short, readable name of a ``torch.device``."""
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        import torch

        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA ({torch.cuda.get_device_name(index)})"
    if kind == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def _xdog_params(values: dict):
    from anisketch_desktop.core import xdog

    try:
        return xdog.XDoGParams.from_dict(values or {})
    except (TypeError, ValueError) as exc:
        raise AniSketchError(f"Invalid XDoG parameters: {exc}") from exc


def _engine(model: str, task: str, opts: ProcessOptions):
    from anisketch_desktop.core import engine, models

    path = models.resolve_model(model or None, task)
    return engine.get_engine(path, opts.device, tile_size=opts.tile or None)


def process(
    image: np.ndarray, opts: ProcessOptions, progress: Progress = None, cancel: Cancel = None
) -> tuple[np.ndarray, RunInfo]:
    """Run ``opts.mode`` on ``image``; returns the uint8 result and where/how long it ran."""
    from anisketch_desktop.core import pipeline

    start = time.perf_counter()
    if opts.mode == "xdog":
        out = pipeline.sketch(
            image,
            engine="xdog",
            xdog_params=_xdog_params(opts.xdog),
            auto=opts.xdog_auto,
            transparent=opts.transparent,
            speck_size=opts.speck_size,
            progress=progress,
            cancel=cancel,
        )
        return out, RunInfo("CPU (XDoG)", None, time.perf_counter() - start)
    if opts.mode not in MODES:
        raise AniSketchError(f"Unknown mode {opts.mode!r}")
    used = None
    if opts.mode == "sketch":
        used = _engine(opts.sketch_model, "sketch", opts)
        out = pipeline.sketch(
            image,
            model=used,
            transparent=opts.transparent,
            speck_size=opts.speck_size,
            progress=progress,
            cancel=cancel,
        )
    elif opts.mode == "colorize":
        used = _engine(opts.color_model, "colorize", opts)
        out = pipeline.colorize(image, model=used, flats=opts.flats, progress=progress, cancel=cancel)
    else:
        sketcher = _engine(opts.sketch_model, "sketch", opts)
        used = _engine(opts.color_model, "colorize", opts)
        out = pipeline.style(
            image,
            sketch_model=sketcher,
            color_model=used,
            flats=opts.flats,
            speck_size=opts.speck_size,
            progress=progress,
            cancel=cancel,
        )
    return out, RunInfo(describe_device(used.device), used.device_note, time.perf_counter() - start)


def output_path(source: Path, rel: Path | None, out_dir: str | Path | None, template: str, mode: str) -> Path:
    """Where a job's result goes: ``out_dir/<rel folders>/<template>``; next to ``source`` without out_dir."""
    rel = Path(rel) if rel else Path(source.name)
    try:
        name = (template or DEFAULT_TEMPLATE).format(
            stem=rel.stem, mode=MODE_SUFFIX.get(mode, mode), ext=rel.suffix.lstrip(".")
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise AniSketchError(
            f"Bad file name template {template!r}: use {{stem}}, {{mode}} and {{ext}}"
        ) from exc
    if Path(name).name != name or name in {"", ".", ".."}:
        raise AniSketchError(f"The file name template must give a file name, not a path: {name!r}")
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        name += ".png"
    folder = Path(out_dir) / rel.parent if out_dir else source.parent
    from anisketch_desktop.core.imageio import fit_name

    return folder / fit_name(name)


def numbered(path: Path) -> Path:
    """``path``, or ``stem (2).png``, ``stem (3).png``… — the first that does not exist."""
    from anisketch_desktop.core.imageio import fit_name

    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(fit_name(f"{path.stem} ({n}){path.suffix}"))
        n += 1
    return candidate


def run_job(
    source: Path,
    target: Path,
    opts: ProcessOptions,
    if_exists: str = "skip",
    progress: Progress = None,
    cancel: Cancel = None,
) -> JobOutcome:
    """Read ``source``, process it, write ``target`` atomically; ``if_exists``: skip / overwrite / rename."""
    from anisketch_desktop.core import imageio

    if target.exists():
        if if_exists == "skip":
            return JobOutcome(target, True, None)
        if if_exists == "rename":
            target = numbered(target)
    image = imageio.read_image(source)
    out, info = process(image, opts, progress, cancel)
    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    target = imageio.save_image(target, out, overwrite=if_exists == "overwrite")
    return JobOutcome(target, False, info)


def save_result(path: Path, image: np.ndarray, overwrite: bool) -> Path:
    from anisketch_desktop.core import imageio

    imageio.save_image(path, image, overwrite=overwrite)
    return path


def xdog_preview(
    image: np.ndarray, values: dict, transparent: bool, speck_size: int, cancel: Cancel = None
) -> np.ndarray:
    """XDoG of a (downscaled) preview with the panel's parameters."""
    from anisketch_desktop.core import pipeline

    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    return pipeline.sketch(
        image, engine="xdog", xdog_params=_xdog_params(values), transparent=transparent, speck_size=speck_size
    )


def xdog_auto(image: np.ndarray, progress: Progress = None, cancel: Cancel = None) -> tuple[dict, float]:
    """Parameters tuned for ``image`` (``auto_tune``) as a dict, and their clarity score."""
    from anisketch_desktop.core import imageio, xdog

    rgb, _alpha = imageio.to_float_rgb(image)
    params, score = xdog.auto_tune(rgb, progress=progress, cancel=cancel)
    return params.to_dict(), float(score)
