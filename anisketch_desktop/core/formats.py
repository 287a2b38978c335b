"""The one table of image file formats and devices the app knows, importable without numpy, OpenCV or torch
(the window and the CLI's argument parser read it at start-up)."""

from __future__ import annotations

DEFAULT_MAX_PIXELS = 100_000_000
# What read_image reads.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
# What save_image writes: suffix -> Pillow format, the default (.png) first.
SAVE_FORMATS: dict[str, str] = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
}
WRITABLE_SUFFIXES: tuple[str, ...] = tuple(SAVE_FORMATS)

# The compute devices a user can choose (``core.engine.resolve_device`` also takes "cuda:N").
DEVICES: dict[str, str] = {
    "auto": "Auto (GPU if usable)",
    "cuda": "CUDA (NVIDIA GPU)",
    "mps": "Apple GPU (MPS)",
    "cpu": "CPU",
}


def open_filter() -> str:
    """A file dialog's filter for the pictures the app reads."""
    return f"Pictures ({' '.join('*' + s for s in sorted(SUPPORTED_SUFFIXES))});;All files (*)"


def save_filter() -> str:
    """A file dialog's filter with one entry per format the app writes, PNG first."""
    formats = dict.fromkeys(SAVE_FORMATS.values())
    return ";;".join(
        f"{fmt} ({' '.join('*' + s for s, f in SAVE_FORMATS.items() if f == fmt)})" for fmt in formats
    )
