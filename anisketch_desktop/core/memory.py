"""How big a tile the network may take: a memory budget in MB, the network's bytes per pixel, out-of-memory.

Tiling costs overlap work and buys nothing when the picture fits, so the engine runs a picture whole unless
its working set would exceed the budget; then tiles are as large as the budget allows (chaiNNer's policy).
On a GPU the default budget comes from the free VRAM at the time of the run; when the device still runs out of
memory the engine halves the tile side and tries again (``is_out_of_memory``).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from functools import lru_cache

CPU_BUDGET_MB = 512  # a desktop's default: 1080p and 4K run whole with the default sketch model; 8K peaks < 1.2 GB
CPU_BUDGET_FRACTION = 1 / 16  # ... but never more than this share of the machine's memory
MIN_BUDGET_MB = 128
GPU_FREE_FRACTION = 0.6  # of the free VRAM (cuDNN workspaces and the allocator's slack take the rest)
MIN_TILE = 128  # the smallest tile side the engine halves down to


def total_memory_mb() -> float | None:
    """The machine's physical memory in MB, or None when the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (AttributeError, ValueError, OSError):
        pass
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                        ("avail", ctypes.c_ulonglong), ("pf_total", ctypes.c_ulonglong),
                        ("pf_avail", ctypes.c_ulonglong), ("v_total", ctypes.c_ulonglong),
                        ("v_avail", ctypes.c_ulonglong), ("v_ext", ctypes.c_ulonglong)]

        status = _Status(length=ctypes.sizeof(_Status))
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return status.total / 2**20
    return None


def default_budget_mb(device) -> float:
    """The network's default working-memory budget on ``device`` (a ``torch.device``), in MB.

    CPU and Apple MPS (unified memory): ``CPU_BUDGET_MB``, at most 1/16 of the machine's memory (an 8 GB laptop
    gets 512 MB), at least ``MIN_BUDGET_MB``. CUDA: ``GPU_FREE_FRACTION`` of the VRAM free right now.
    """
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        return max(MIN_BUDGET_MB, free / 2**20 * GPU_FREE_FRACTION)
    total = total_memory_mb()
    if total is None:
        return CPU_BUDGET_MB
    return max(MIN_BUDGET_MB, min(CPU_BUDGET_MB, total * CPU_BUDGET_FRACTION))


def bytes_per_pixel(config, half: bool = False) -> float:
    """Peak working memory of one pass of a ``UNetConfig`` network, in bytes per input pixel (fp32).

    The peak is the first decoder level (skip + upsampled + concatenation + convolution outputs, about seven
    maps of ``base_channels`` at 1/``unshuffle`` resolution), plus the colorize head's ab bins, plus the tile's
    float input and output. Measured peak RSS over the interpreter (2 CPU threads, fp32): default sketch model
    (unshuffle 4) 33-39 B/px (estimate 58), sketch_hq (unshuffle 2) 185 (estimate 184), colorize with 259 bins
    296-324 (estimate 339). ``half``: fp16/bf16 autocast roughly halves the activations.
    """
    per_level0 = 7 * config.base_channels / config.unshuffle**2
    bins = 0.6 * config.color_bins / config.unshuffle**2
    activations = 4.0 * (per_level0 + bins)
    if half:
        activations /= 2
    return activations + 4.0 * (config.in_channels + config.out_channels)


def tile_side(height: int, width: int, per_pixel: float, budget_mb: float, multiple: int) -> int | None:
    """The largest square tile side that keeps ``per_pixel * side**2`` within the budget; None when the whole
    ``height x width`` picture fits (no tiling)."""
    budget = budget_mb * 2**20
    if height * width * per_pixel <= budget:
        return None
    side = int(math.sqrt(budget / per_pixel)) // multiple * multiple
    return max(side, MIN_TILE, multiple)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the errors a device raises when it runs out of memory (CUDA, MPS, CPU allocator, numpy)."""
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover - older torch
        pass
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's ``malloc_trim`` (Linux), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc only; a no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def free_device_cache(device) -> None:
    """Give cached blocks back after an out-of-memory error so the retry starts from a clean allocator."""
    import torch

    if getattr(device, "type", "") == "cuda":
        torch.cuda.empty_cache()
    elif getattr(device, "type", "") == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()
