"""Inference engine: pick a device, load a safetensors U-Net, run it tile by tile on numpy images.

torch is imported inside functions so that importing this module (the GUI does at start-up) stays cheap.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from anisketch_desktop.core import memory, tiling
from anisketch_desktop.core.denoise import noise_sigma, smooth
from anisketch_desktop.core.errors import AniSketchError, DeviceError
from anisketch_desktop.core.imageio import to_float
from anisketch_desktop.core.levels import apply_levels, levels_range, sample_step

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_USE_CPU = "Run it on the CPU instead."
_CPU = {"device": "cpu"}



@lru_cache(maxsize=8)
def _cuda_problem(index: int) -> str | None:
    """Why CUDA device ``index`` cannot run our kernels, or None when it can."""
    import torch

    try:
        major, minor = torch.cuda.get_device_capability(index)
        name = torch.cuda.get_device_name(index)
        arch_list = torch.cuda.get_arch_list()
        sm = major * 10 + minor
        archs = {int(a.split("_")[1]) for a in arch_list if a.split("_")[-1].isdigit()}
        ptx = [int(a.split("_")[1]) for a in arch_list if a.startswith("compute_") and a[8:].isdigit()]
        if archs and sm not in archs and not any(p <= sm for p in ptx):
            return (
                f"{name} has compute capability {major}.{minor}, which this PyTorch build does not support "
                f"(built for {' '.join(arch_list)})"
            )
        probe = torch.nn.functional.conv2d(
            torch.ones(1, 1, 4, 4, device=f"cuda:{index}"), torch.ones(1, 1, 3, 3, device=f"cuda:{index}")
        )
        if float(probe.sum().item()) != 36.0:
            return f"{name} returned a wrong result for a test kernel"
    except Exception as exc:  # driver errors, out of memory, "no kernel image is available"
        return f"a test kernel failed on the GPU ({exc})".replace("\n", " ")
    return None


def _mps_problem() -> str | None:
    import torch

    backend = getattr(torch.backends, "mps", None)
    if backend is None or not backend.is_available():
        return "Apple Metal (MPS) is not available on this machine"
    try:
        torch.ones(2, device="mps").sum().item()
    except Exception as exc:
        return f"a test kernel failed on MPS ({exc})".replace("\n", " ")
    return None


def resolve_device(name: str = "auto") -> tuple[torch.device, str | None]:
    """``(device, note)`` for "auto", "cpu", "cuda", "cuda:N" or "mps".

    "auto" tries CUDA, then MPS, then CPU; ``note`` says why a present GPU was skipped. An explicitly named
    device that cannot be used raises ``DeviceError``.
    """
    import torch

    name = (name or "auto").strip().lower()
    if name == "auto":
        note = None
        if torch.cuda.is_available():
            problem = _cuda_problem(torch.cuda.current_device())
            if problem is None:
                return torch.device("cuda", torch.cuda.current_device()), None
            note = f"GPU not used: {problem}; running on the CPU"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available() and _mps_problem() is None:
            return torch.device("mps"), note
        return torch.device("cpu"), note
    if name == "cpu":
        return torch.device("cpu"), None
    if name == "cuda" or name.startswith("cuda:"):
        if torch.version.cuda is None:
            raise DeviceError(
                f"CUDA was requested, but this PyTorch build has no CUDA support. {_USE_CPU}", fix=_CPU
            )
        if not torch.cuda.is_available():
            raise DeviceError(
                f"CUDA was requested, but no usable NVIDIA GPU/driver was found. {_USE_CPU}", fix=_CPU
            )
        index = torch.cuda.current_device() if name == "cuda" else _device_index(name)
        if index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise DeviceError(
                f"{name} was requested, but only {count} GPU(s) are present. {_USE_CPU}", fix=_CPU
            )
        problem = _cuda_problem(index)
        if problem is not None:
            raise DeviceError(f"CUDA cannot be used: {problem}. {_USE_CPU}", fix=_CPU)
        return torch.device("cuda", index), None
    if name == "mps":
        problem = _mps_problem()
        if problem is not None:
            raise DeviceError(f"{problem}. {_USE_CPU}", fix=_CPU)
        return torch.device("mps"), None
    raise DeviceError(f"Unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps.")


def _device_index(name: str) -> int:
    try:
        return int(name.split(":", 1)[1])
    except ValueError:
        raise DeviceError(f"Unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps.") from None


def _fold_batchnorm(model) -> int:
    """Fold every eval-mode BatchNorm2d into the Conv2d before it (in place); returns how many were folded."""
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    folded = 0
    for module in model.modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:], strict=False):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(module, bn_name, nn.Identity())
                folded += 1
    return folded


def _autocast_dtype(device, precision: str):
    """The autocast dtype for ``precision`` on ``device``, or None for plain fp32.

    "auto" is fp16 on CUDA and fp32 elsewhere. On the CPU, bf16 autocast made the sketch U-Net slower on an
    AVX512-BF16 machine without AMX (1080p: 1368 ms vs 961 ms in fp32 with BatchNorm folded and channels_last,
    2 threads), so it is only used when asked for. MPS stays fp32 unless fp16 is asked for (untested here).
    """
    import torch

    if precision not in PRECISIONS:
        raise AniSketchError(f"Unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}.")
    if precision == "fp32":
        return None
    if device.type == "cuda":
        return torch.bfloat16 if precision == "bf16" else torch.float16
    if device.type == "cpu":
        if precision == "fp16":
            raise AniSketchError("fp16 is only available on a GPU; use fp32 or bf16 on the CPU.")
        return torch.bfloat16 if precision == "bf16" else None
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)


class InferenceEngine:
    """A loaded U-Net on a device; ``run`` maps float ``HxWxC`` images to float ``HxWxC_out`` in [0, 1]."""

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        *,
        tile_size: int | None = None,
        overlap: int = 64,
        precision: str = "auto",
        min_megapixels: float | None = None,
        memory_mb: float | None = None,
    ):
        """``tile_size``: None = tile only when the picture's working set exceeds the memory budget, with tiles
        as large as the budget allows; 0 = never tile (the whole picture in one pass); N = tiles of at most N
        pixels a side. ``memory_mb``: the budget (None: ``memory.default_budget_mb`` of the device, on a GPU
        the free VRAM at each run). ``min_megapixels``: the working size of small pictures (None: the model's
        own ``min_megapixels``; 0: always the picture's own size)."""
        from anisketch_desktop.core.model_io import load_model

        model, metadata = load_model(model_path, "cpu")
        self._setup(model, model_path, metadata, device, tile_size, overlap, precision, min_megapixels, memory_mb)

    @classmethod
    def from_model(cls, model, device: str = "auto", *, tile_size: int | None = None, overlap: int = 64,
                   precision: str = "auto", min_megapixels: float | None = None,
                   memory_mb: float | None = None) -> InferenceEngine:
        """An engine around a network in memory (training validates through it, so its scores are the app's).
        It runs a copy: the caller's network, its BatchNorm layers and its device are left as they are."""
        import copy

        engine = cls.__new__(cls)
        twin = copy.deepcopy(model).to("cpu").eval()
        engine._setup(twin, "<in memory>", {}, device, tile_size, overlap, precision, min_megapixels, memory_mb)
        return engine

    def _setup(
        self, model, model_path, metadata, device, tile_size, overlap, precision, min_megapixels, memory_mb
    ) -> None:
        import torch

        self.path = Path(model_path)
        self.metadata = metadata
        self.device, self.device_note = resolve_device(device)
        if tile_size is not None and tile_size < 0:
            raise AniSketchError(f"Tile size must be 0 (never tile) or a positive number of pixels, not {tile_size}.")
        self.tile_size = tile_size
        self.memory_mb = memory_mb
        self.overlap = overlap
        self.oom_side: int | None = None  # the tile side that fitted after the device ran out of memory
        self.last_plan: tiling.TilePlan | None = None
        self.last_smoothed = False  # whether the last picture was smoothed as noisy (config.denoise)
        self.precision = precision
        self._autocast = _autocast_dtype(self.device, precision)
        self.config = model.config
        self.min_megapixels = model.config.min_megapixels if min_megapixels is None else min_megapixels
        _fold_batchnorm(model)
        model = model.to(self.device)
        if self.device.type != "mps":
            model = model.to(memory_format=torch.channels_last)
        self.model = model.eval()
        self._lock = threading.Lock()

    @property
    def task(self) -> str:
        return self.config.task

    def _predict_tile(self, tile: np.ndarray, multiply: bool = True) -> np.ndarray:
        import torch

        x = torch.from_numpy(tile).permute(2, 0, 1).unsqueeze(0)
        x = x.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            if self._autocast is not None:
                with torch.autocast(self.device.type, dtype=self._autocast):
                    raw = self.model(x)
            else:
                raw = self.model(x)
            out = self.model.to_image(raw, multiply=multiply)
            return out[0].permute(1, 2, 0).float().cpu().numpy()

    def budget_mb(self) -> float:
        """The working-memory budget of one network pass, in MB (see ``memory.default_budget_mb``)."""
        return self.memory_mb if self.memory_mb else memory.default_budget_mb(self.device)

    def tile_for(self, height: int, width: int) -> int | None:
        """The tile side for a ``height x width`` working picture; None = the whole picture in one pass."""
        multiple = self.config.multiple
        if self.tile_size == 0:
            side = None
        elif self.tile_size:
            side = self.tile_size
        else:
            per_pixel = memory.bytes_per_pixel(self.config, half=self._autocast is not None)
            padded_h, padded_w = tiling.round_up(height, multiple), tiling.round_up(width, multiple)
            side = memory.tile_side(padded_h, padded_w, per_pixel, self.budget_mb(), multiple)
        if self.oom_side is not None:
            side = min(side or max(height, width), self.oom_side)
        return side

    def plan(self, height: int, width: int) -> tiling.TilePlan:
        """The tile plan ``run`` uses for a ``height x width`` picture (after the model's working size)."""
        scale = working_scale(height, width, self.min_megapixels, self.config.max_upscale)
        high, wide = (max(1, round(height * scale)), max(1, round(width * scale))) if scale > 1 else (height, width)
        return tiling.plan_tiles(high, wide, self.config.multiple, self.tile_for(high, wide), self.overlap)

    def run(
        self,
        image: np.ndarray,
        *,
        progress: Callable[[float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        layer: bool = False,
        out_dtype=np.float32,
    ) -> np.ndarray:
        """``HxWxC`` (C = ``config.in_channels``, or one more for an alpha channel: transparent pixels are put
        on white paper; ``HxW`` when C is 1) -> ``HxWxC_out`` in [0, 1] (float32) or 0..255 (``out_dtype``
        uint8). Any of uint8, uint16 or float [0, 1]; tiles are converted one at a time, so a uint8 picture with
        a uint8 output never exists as a whole float array.

        ``layer=True`` (``multiply_lines`` colorize models): the colour layer without the lines multiplied on."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        channels = self.config.in_channels
        if self.config.hint_channels and image.ndim == 3 and image.shape[2] == self.config.line_channels:
            # a hint model without hints: empty hint planes (``core.proposal`` passes real ones)
            pad = np.zeros(image.shape[:2] + (self.config.hint_channels,), dtype=np.float32)
            image = np.concatenate([to_float(image), pad], axis=2)
        alpha_ok = self.config.line_channels == channels  # an alpha channel only where there are no hint planes
        if image.ndim != 3 or image.shape[2] not in ((channels, channels + 1) if alpha_ok else (channels,)):
            got = "x".join(str(s) for s in image.shape)
            kind = "RGB (3-channel)" if channels == 3 else "grayscale (1-channel)"
            raise AniSketchError(
                f"This {self.config.task} model expects {kind} images; got an array of shape {got}."
            )
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise AniSketchError("The image is empty.")
        height, width = image.shape[:2]
        span = None
        if self.config.input_norm == "levels":  # estimated once on a grid sample, applied to every tile
            step = sample_step(height, width)
            sample = _prepare_tile(image[::step, ::step], channels=channels, span=None)
            span = levels_range(sample[..., : self.config.line_channels])  # hint colours are exact
        # a noisy picture (a phone photo, a scan) is smoothed first, if the model asks for it (config.denoise)
        level = self.config.denoise
        self.last_smoothed = bool(level > 0 and not self.config.hint_channels and noise_sigma(image) >= level)
        prepare = partial(_prepare_tile, channels=channels, span=span, lines=self.config.line_channels,
                          smoothed=self.last_smoothed)
        scale = working_scale(height, width, self.min_megapixels, self.config.max_upscale)
        fn = partial(self._predict_tile, multiply=not layer)
        if scale <= 1.0:
            out = np.empty((height, width, self.config.out_channels), dtype=out_dtype)
            return self._run_tiles(image, fn, prepare, out, progress, cancel)
        # a small picture: the network draws it at a larger working size, then it is scaled back
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = np.clip(cv2.resize(prepare(image), size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        work = work.reshape(size[1], size[0], channels)
        out = np.empty((size[1], size[0], self.config.out_channels), dtype=np.float32)
        out = self._run_tiles(work, fn, None, out, progress, cancel)
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA).reshape(height, width, -1)
        if np.dtype(out_dtype) == np.float32:
            return out
        result = np.empty(out.shape, dtype=out_dtype)
        tiling.store(result, out)
        return result

    def _run_tiles(self, image, fn, prepare, out, progress, cancel) -> np.ndarray:
        """``tiling.run_tiled`` with this engine's tile policy; on out-of-memory, halve the tile side and
        start the picture again (the smaller side is kept for later pictures)."""
        height, width = image.shape[:2]
        multiple = self.config.multiple
        with self._lock:
            while True:
                side = self.tile_for(height, width)
                self.last_plan = tiling.plan_tiles(height, width, multiple, side, self.overlap)
                tile_fn = fn if self.last_plan.count == 1 else partial(_then_release, fn)
                try:
                    return tiling.run_tiled(
                        image, tile_fn, multiple=multiple, out_channels=self.config.out_channels, tile=side,
                        overlap=self.overlap, progress=progress, cancel=cancel, prepare=prepare, out=out,
                    )
                except Exception as exc:
                    if not memory.is_out_of_memory(exc):
                        raise
                    current = side or max(self.last_plan.padded_h, self.last_plan.padded_w)
                    smaller = current // 2 // multiple * multiple
                    if smaller < max(memory.MIN_TILE, multiple):
                        raise AniSketchError(
                            f"Not enough memory on the {self.device.type.upper()} for this picture, even in "
                            f"{current}-pixel tiles: close other programs or use a smaller picture."
                        ) from exc
                    del exc
                    memory.free_device_cache(self.device)
                    self.oom_side = smaller


def _then_release(fn, tile: np.ndarray) -> np.ndarray:
    """``fn(tile)``, then the allocator's free pages go back to the system: between the tiles of a big picture
    the freed working set of one pass would otherwise stay resident and add to the next pass's peak."""
    out = fn(tile)
    memory.release_free_memory()
    return out


def _prepare_tile(
    raw: np.ndarray, *, channels: int, span: tuple[float, float] | None, lines: int | None = None,
    smoothed: bool = False,
) -> np.ndarray:
    """A raw tile (uint8/uint16/float, ``channels`` channels, maybe + alpha) as the float32 the network takes:
    scaled to [0, 1], transparent pixels on white paper, smoothed if ``smoothed`` (a noisy picture: the filter
    reaches 2 pixels, well inside the tiles' overlap), input levels applied to the first ``lines`` channels
    (the picture; hint planes after them are kept exact)."""
    tile = to_float(raw)
    if tile.shape[2] == channels + 1:
        alpha = tile[..., channels:]
        tile = tile[..., :channels] * alpha
        tile += 1.0 - alpha
    tile = np.ascontiguousarray(tile)
    if smoothed:
        tile = smooth(tile)
    apply_levels(tile if lines in (None, channels) else tile[..., :lines], span)
    return tile


MAX_UPSCALE = 2.0  # the enlargement cap of models whose config does not name one (``max_upscale``)
FULL_SIZE_MEGAPIXELS = 1920 * 1080 / 1e6  # pictures this big are drawn at their own size, whatever the model asks
FADE_FROM_MEGAPIXELS = 1.5  # between this and FULL_SIZE_MEGAPIXELS the enlargement fades out


def working_scale(height: int, width: int, min_megapixels: float, max_upscale: float = MAX_UPSCALE) -> float:
    """How much a ``height x width`` picture is enlarged before the network: enough to reach
    ``min_megapixels`` (a model's config; 0 = never), at most ``max_upscale`` (also the model's: a model
    trained on shrunk-and-enlarged inputs draws a thumbnail better enlarged 3x than 2x); 1.0 for large pictures.

    Up to 1.5 MP a picture is enlarged to the full ``min_megapixels``; from there to a 1920x1080 frame the
    added area fades linearly to none: a bigger picture is never enlarged more, the working size has no jump,
    and a full-HD picture costs what its own pixels cost (a model asking for 2.5 MP does not make 1080p 20 %
    slower)."""
    pixels = height * width / 1e6
    if min_megapixels <= 0 or pixels <= 0 or pixels >= min_megapixels:
        return 1.0
    keep = min(1.0, max(0.0, (FULL_SIZE_MEGAPIXELS - pixels) / (FULL_SIZE_MEGAPIXELS - FADE_FROM_MEGAPIXELS)))
    target = pixels + (min_megapixels - pixels) * keep
    return float(min(max_upscale, max(1.0, (target / pixels) ** 0.5)))


_CACHE: OrderedDict[tuple, InferenceEngine] = OrderedDict()
_CACHE_SIZE = 3
_CACHE_LOCK = threading.Lock()


def get_engine(model_path: str | Path, device: str = "auto", **kw) -> InferenceEngine:
    """A cached ``InferenceEngine`` (reloaded when the file changes); keyword arguments as for the class."""
    from anisketch_desktop.core.errors import ModelLoadError

    path = Path(model_path).expanduser()
    try:
        path = path.resolve()
        stat = path.stat()
    except OSError:
        raise ModelLoadError(f"Model file not found: {model_path}") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size, (device or "auto").lower(), tuple(sorted(kw.items())))
    with _CACHE_LOCK:
        engine = _CACHE.get(key)
        if engine is not None:
            _CACHE.move_to_end(key)
            return engine
    engine = InferenceEngine(path, device, **kw)
    with _CACHE_LOCK:
        _CACHE[key] = engine
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return engine
