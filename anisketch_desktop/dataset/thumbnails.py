"""Thumbnails of pictures and sketches, built on demand and cached in ``cache/thumbs/<size>/``.

``thumbnail_path(dataset_dir, id, size, kind)`` returns a JPEG whose longest side is at most ``size`` px
(never enlarged). It is built the first time it is asked for, and again when the source file is newer
(a regenerated sketch), so a review grid only pays for the tiles it shows. numpy + OpenCV only; safe to
call from several worker threads (each writes its own temporary file, then renames it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import cv2

from anisketch_desktop.core.errors import ImageReadError
from anisketch_desktop.dataset.download import existing_file
from anisketch_desktop.dataset.store import check_id

KINDS = ("color", "sketch")


def thumbnail_path(dataset_dir: str | Path, image_id: str, size: int = 256, kind: str = "color") -> Path:
    """Path of the cached thumbnail of picture ``image_id`` (``kind="color"``) or of its sketch."""
    from anisketch_desktop.core import imageio

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if not 16 <= size <= 2048:
        raise ValueError(f"thumbnail size must be 16..2048 px, not {size}")
    dataset = Path(dataset_dir)
    check_id(image_id)
    if kind == "color":
        source = existing_file(dataset / "images", image_id)
    else:
        source = dataset / "sketches" / f"{image_id}.png"
    if source is None or not source.is_file():
        raise ImageReadError(f"No {'picture' if kind == 'color' else 'sketch'} for {image_id} in {dataset}")
    target = dataset / "cache" / "thumbs" / str(size) / f"{image_id}.{kind}.jpg"
    try:
        if target.stat().st_mtime_ns >= source.stat().st_mtime_ns:
            return target
    except FileNotFoundError:
        pass
    image = imageio.read_image(source)
    if kind == "color":
        image = cv2.cvtColor(imageio.to_uint8_rgb(image), cv2.COLOR_RGB2BGR)
    else:
        image = imageio.to_uint8(imageio.to_float_gray(image))
    h, w = image.shape[:2]
    scale = size / max(h, w)
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ImageReadError(f"Cannot encode a thumbnail of {source.name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(buffer.tobytes())
    os.replace(tmp, target)
    return target
