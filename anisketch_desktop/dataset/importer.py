"""Fill a dataset from the user's own pictures instead of crawling.

``import_folder(dataset_dir, folder)`` copies every readable picture of ``folder`` into ``images/`` as
``u<first 16 hex digits of its md5>.<ext>``: JPEG, PNG and WebP files byte for byte, other formats (BMP,
TIFF, GIF's first frame) converted to PNG. Each copy is written to a temporary file and renamed. A picture
whose md5 is already in the dataset (imported before, or the same file as a crawled original) is skipped,
so importing a folder twice adds nothing. The originals are never modified.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.dataset.download import sniff_extension
from anisketch_desktop.dataset.lock import dataset_lock
from anisketch_desktop.dataset.store import DatasetStore


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)


def import_folder(dataset_dir: str | Path, folder: str | Path, recursive: bool = True,
                  progress: Callable[[float], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> ImportReport:
    """Copy the pictures of ``folder`` (and its sub-folders when ``recursive``) into the dataset."""
    from anisketch_desktop.core import imageio

    files = imageio.iter_image_files([folder], recursive=recursive)
    report = ImportReport()
    with DatasetStore(dataset_dir) as store, dataset_lock(dataset_dir):
        for index, (path, _rel) in enumerate(files):
            if cancel and cancel():
                raise Cancelled("Import cancelled; the pictures copied so far are kept.")
            try:
                data = imageio.read_file(path)  # regular files within the size limit only
                md5 = hashlib.md5(data).hexdigest()
                if store.known_md5(md5):
                    report.duplicates += 1
                    continue
                image = imageio.decode_image(data, name=path.name)
                image_id = "u" + md5[:16]
                ext = sniff_extension(data)
                target = store.images_dir / f"{image_id}.{ext or 'png'}"
                if ext is None:  # BMP, TIFF, GIF: store a PNG of the decoded pixels
                    imageio.save_image(target, image, overwrite=True)
                else:
                    _write_atomic(target, data)
                stored_md5 = md5 if ext else hashlib.md5(target.read_bytes()).hexdigest()
                relative = target.relative_to(store.dir).as_posix()
                store.add_file(image_id, relative, stored_md5, int(image.shape[1]), int(image.shape[0]),
                               source=path.name, source_md5=md5)
                report.added += 1
            except (AniSketchError, OSError) as exc:
                report.failed.append((path, str(exc)))
            finally:
                if progress:
                    progress((index + 1) / len(files))
    return report


def _write_atomic(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
