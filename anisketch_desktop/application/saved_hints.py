"""Each drawing's colour hints as the window's hint tool saves them (plain files in the user data folder).

Hints of a drawing are saved as ``hints/<path key>-<content key>.json`` in the CLI's hint format
(``core.hints.save_hints``): the path key is a hash of the file's full path, the content key a hash of its
pixels. Reopening the drawing finds its hints by both; a drawing edited in place (same path, new pixels) or
moved (same pixels, new path) still finds them, as long as every hint lies inside the picture. A queued
colorize batch of the window (``Options.saved_hints``) reads them the same way, so a drawing hinted on the
canvas and then queued comes out with its hints.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from anisketch_desktop import paths
from anisketch_desktop.core.hints import HintError, Hints, load_hints, save_hints

log = logging.getLogger(__name__)


def hints_dir() -> Path:
    return paths.user_data_dir() / "hints"


def drawing_key(path: Path | None, image: np.ndarray) -> str:
    """``<path key>-<content key>`` of a drawing (``pasted-<content key>`` without a file)."""
    content = hashlib.blake2b(digest_size=8)
    content.update(repr((image.shape, image.dtype.str)).encode())
    content.update(np.ascontiguousarray(image).data)
    if path is None:
        where = "pasted"
    else:
        where = hashlib.blake2b(str(Path(path).resolve()).encode("utf-8"), digest_size=8).hexdigest()
    return f"{where}-{content.hexdigest()}"


def find_hints(key: str, shape: tuple[int, int]) -> Hints | None:
    """The saved hints of the drawing ``key``, or of the same file / same pixels under another key."""
    folder = hints_dir()
    where, content = key.split("-", 1)
    candidates = [folder / f"{key}.json"]
    by_age = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    if where != "pasted":
        candidates += [p for p in by_age if p.stem.startswith(f"{where}-")]
    candidates += [p for p in by_age if p.stem.endswith(f"-{content}")]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            return load_hints(candidate, shape[:2])
        except HintError as exc:  # another version of the drawing whose hints do not fit: not these
            log.info("saved hints not used: %s", exc)
    return None


def store_hints(key: str, hints: Hints) -> Path:
    """Save (or, when empty, forget) the hints of the drawing ``key``; returns the file."""
    target = hints_dir() / f"{key}.json"
    if hints.is_empty():
        target.unlink(missing_ok=True)
    else:
        save_hints(hints, target)
    return target
