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

from anisketch_desktop.core import tiling
from anisketch_desktop.core.errors import AniSketchError, DeviceError
from anisketch_desktop.core.levels import normalize_levels

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
        tile_size: int | None = 1024,
        overlap: int = 64,
        precision: str = "auto",
        min_megapixels: float | None = None,
    ):
        """``min_megapixels``: the working size of small pictures (None: the model's own ``min_megapixels``;
        0: always the picture's own size)."""
        from anisketch_desktop.core.model_io import load_model

        model, metadata = load_model(model_path, "cpu")
        self._setup(model, model_path, metadata, device, tile_size, overlap, precision, min_megapixels)

    @classmethod
    def from_model(cls, model, device: str = "auto", *, tile_size: int | None = None, overlap: int = 64,
                   precision: str = "auto", min_megapixels: float | None = None) -> InferenceEngine:
        """An engine around a network in memory (training validates through it, so its scores are the app's).
        It runs a copy: the caller's network, its BatchNorm layers and its device are left as they are."""
        import copy

        engine = cls.__new__(cls)
        twin = copy.deepcopy(model).to("cpu").eval()
        engine._setup(twin, "<in memory>", {}, device, tile_size, overlap, precision, min_megapixels)
        return engine

    def _setup(self, model, model_path, metadata, device, tile_size, overlap, precision, min_megapixels) -> None:
        import torch

        self.path = Path(model_path)
        self.metadata = metadata
        self.device, self.device_note = resolve_device(device)
        self.tile_size = tile_size
        self.overlap = overlap
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

    def run(
        self,
        image: np.ndarray,
        *,
        progress: Callable[[float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        layer: bool = False,
    ) -> np.ndarray:
        """float32 ``HxWxC`` (C = ``config.in_channels``; ``HxW`` when C is 1) in [0, 1] -> ``HxWxC_out``.

        ``layer=True`` (``multiply_lines`` colorize models): the colour layer without the lines multiplied on."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        channels = self.config.in_channels
        if self.config.hint_channels and image.ndim == 3 and image.shape[2] == self.config.line_channels:
            # a hint model without hints: empty hint planes (``core.proposal`` passes real ones)
            pad = np.zeros(image.shape[:2] + (self.config.hint_channels,), dtype=np.float32)
            image = np.concatenate([image.astype(np.float32, copy=False), pad], axis=2)
        if image.ndim != 3 or image.shape[2] != channels:
            got = "x".join(str(s) for s in image.shape)
            kind = "RGB (3-channel)" if channels == 3 else "grayscale (1-channel)"
            raise AniSketchError(
                f"This {self.config.task} model expects {kind} images; got an array of shape {got}."
            )
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise AniSketchError("The image is empty.")
        image = image.astype(np.float32, copy=False)
        if self.config.input_norm == "levels":
            lines = self.config.line_channels
            if lines == channels:
                image = normalize_levels(image)
            else:  # only the picture's levels: hint colours are exact
                image = np.concatenate([normalize_levels(image[..., :lines]), image[..., lines:]], axis=2)
        height, width = image.shape[:2]
        scale = working_scale(height, width, self.min_megapixels)
        if scale > 1.0:  # a small picture: the network draws it at a larger working size, then it is scaled back
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
            image = image.reshape(size[1], size[0], channels)
        with self._lock:
            out = tiling.run_tiled(
                image,
                partial(self._predict_tile, multiply=not layer),
                multiple=self.config.multiple,
                out_channels=self.config.out_channels,
                tile=self.tile_size,
                overlap=self.overlap,
                progress=progress,
                cancel=cancel,
            )
        if scale > 1.0:
            out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA).reshape(height, width, -1)
        return out


MAX_UPSCALE = 2.0


def working_scale(height: int, width: int, min_megapixels: float) -> float:
    """How much a ``height x width`` picture is enlarged before the network: enough to reach
    ``min_megapixels`` (a model's config; 0 = never), at most ``MAX_UPSCALE``; 1.0 for large pictures."""
    if min_megapixels <= 0 or height * width <= 0:
        return 1.0
    return float(min(MAX_UPSCALE, max(1.0, (min_megapixels * 1e6 / (height * width)) ** 0.5)))


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
