"""What a drop or a paste holds: local files and folders, raw image data (browsers), or only web links."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from anisketch_desktop.gui.imaging import from_qimage

IMAGE_MIME_PREFIX = "image/"


@dataclass
class DropPayload:
    paths: list[Path] = field(default_factory=list)  # existing local files and folders
    images: list[np.ndarray] = field(default_factory=list)  # decoded raw image data
    remote_urls: list[str] = field(default_factory=list)  # http(s) links we do not download
    errors: list[str] = field(default_factory=list)


def has_droppable(mime: QMimeData | None) -> bool:
    if mime is None:
        return False
    if mime.hasUrls() or mime.hasImage():
        return True
    return any(fmt.startswith(IMAGE_MIME_PREFIX) for fmt in mime.formats())


def _local_paths(mime: QMimeData) -> tuple[list[Path], list[str]]:
    urls: list[QUrl] = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():  # some file managers put paths / file:// URLs in plain text only
        for line in mime.text().splitlines():
            line = line.strip()
            if line:
                urls.append(QUrl(line) if "://" in line else QUrl.fromLocalFile(line))
    paths, remote = [], []
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.exists() and path not in paths:
                paths.append(path)
        elif url.scheme() in ("http", "https"):
            remote.append(url.toString())
    return paths, remote


def _raw_images(mime: QMimeData) -> tuple[list[np.ndarray], list[str]]:
    """Image bytes a browser put in the drag (``image/png`` and co.), else Qt's own image format."""
    from anisketch_desktop.core import imageio
    from anisketch_desktop.core.errors import AniSketchError

    errors: list[str] = []
    for fmt in mime.formats():
        if not fmt.startswith(IMAGE_MIME_PREFIX):
            continue
        data = bytes(mime.data(fmt).data())
        if not data:
            continue
        try:
            return [imageio.decode_image(data)], []
        except AniSketchError as exc:
            errors.append(str(exc))
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return [from_qimage(image)], []
    return [], errors


def parse_mime(mime: QMimeData | None) -> DropPayload:
    """Local paths win; raw image data is used only when no local file came with it (browser drags)."""
    payload = DropPayload()
    if mime is None:
        return payload
    payload.paths, payload.remote_urls = _local_paths(mime)
    if not payload.paths:
        payload.images, payload.errors = _raw_images(mime)
    return payload
