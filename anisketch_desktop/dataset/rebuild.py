"""Rebuild a dataset's manifest from the pictures in its folder (after the manifest was damaged or lost).

``rebuild_manifest(dataset_dir)`` moves a damaged ``dataset.sqlite`` (and its ``-wal``/``-shm`` files) aside as
``dataset.sqlite.damaged-<time>`` -- never deleted -- and records every readable picture of ``images/`` in a new
manifest: ``<digits>.<ext>`` as a crawled post of that id, ``u<hex>.<ext>`` as an imported picture. Their
sizes and md5s are read from the files. What only the old manifest knew is lost and the report says so: the
crawl query and cursor of each post (the next crawl lists the site again and skips what is there), review
decisions, and sketch parameters (``anisketch pairs`` makes the sketches again).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.dataset.lock import dataset_lock
from anisketch_desktop.dataset.store import DB_NAME, DatasetError, DatasetStore, check_id, picture_files

LOST = ("review decisions, crawl queries and sketch settings were only in the old manifest: review again, and "
        "run `anisketch pairs` to make the sketches again")


@dataclass
class RebuildReport:
    recorded: int = 0
    duplicates: int = 0
    kept_as: Path | None = None  # where the damaged manifest was moved
    failed: list[tuple[Path, str]] = field(default_factory=list)


def rebuild_manifest(dataset_dir: str | Path, progress: Callable[[float], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> RebuildReport:
    """A new manifest for ``dataset_dir`` from its ``images/`` (the old one kept aside); see the module doc."""
    from anisketch_desktop.core import imageio

    folder = Path(dataset_dir).expanduser()
    if not (folder / "images").is_dir():
        raise DatasetError(f"{folder} has no images/ folder: there is nothing to rebuild a manifest from.")
    report = RebuildReport()
    with dataset_lock(folder):
        report.kept_as = _move_aside(folder)
        files = picture_files(folder / "images")
        with DatasetStore(folder, rebuilding=True) as store:
            for index, path in enumerate(files):
                if cancel and cancel():
                    raise Cancelled("Rebuild cancelled; run it again to finish (pictures are untouched).")
                try:
                    image_id = check_id(path.stem)
                    data = imageio.read_file(path)
                    image = imageio.decode_image(data, name=path.name)
                    md5 = hashlib.md5(data).hexdigest()
                    if store.known_md5(md5):
                        report.duplicates += 1
                        continue
                    _record(store, image_id, path.relative_to(folder).as_posix(), md5, image.shape)
                    report.recorded += 1
                except (AniSketchError, OSError) as exc:
                    report.failed.append((path, str(exc)))
                if progress:
                    progress((index + 1) / len(files))
    return report


def _move_aside(folder: Path) -> Path | None:
    db = folder / DB_NAME
    if not db.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = db.with_name(f"{DB_NAME}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = folder / (DB_NAME + suffix)
        if part.exists():
            os.replace(part, kept.with_name(kept.name + suffix))
    return kept


def _record(store: DatasetStore, image_id: str, relative: str, md5: str, shape) -> None:
    crawled = image_id.isdigit() and 0 < int(image_id) < 2**63
    now = time.time()
    with store.transaction() as conn:
        try:
            conn.execute(
                "INSERT INTO images(id, origin, post_id, state, path, md5, width, height, source, added_at,"
                " updated_at) VALUES (?, ?, ?, 'done', ?, ?, ?, ?, 'rebuilt', ?, ?)",
                (image_id, "crawl" if crawled else "import", int(image_id) if crawled else None, relative, md5,
                 int(shape[1]), int(shape[0]), now, now),
            )
        except sqlite3.IntegrityError as exc:
            raise DatasetError(f"{relative}: {exc}") from None
