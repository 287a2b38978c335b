"""Where colour hints and colour palettes live in the user data folder (plain files, no Qt).

Hints of each drawing are saved as ``hints/<path key>-<content key>.json`` in the CLI's hint format
(``core.hints.save_hints``): the path key is a hash of the file's full path, the content key a hash of its
pixels. Reopening the drawing finds its hints by both; a drawing edited in place (same path, new pixels) or
moved (same pixels, new path) still finds them, as long as every hint lies inside the picture.

Palettes are ``palettes/<name>.json`` = ``{"name": ..., "colors": ["#rrggbb", ...]}``, one per character.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anisketch_desktop import paths
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.hints import RGB, HintError, Hints, color_to_hex, load_hints, parse_color, save_hints

log = logging.getLogger(__name__)
MAX_PALETTE = 64


# ------------------------------------------------------------------------------------------------ hints
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


# ------------------------------------------------------------------------------------------------ palettes
@dataclass
class Palette:
    name: str
    colors: list[RGB] = field(default_factory=list)


def palettes_dir() -> Path:
    return paths.user_data_dir() / "palettes"


def _file_name(name: str) -> str:
    slug = re.sub(r"[^\w\- ]+", "_", name.strip(), flags=re.UNICODE).strip(" ._") or "palette"
    return slug[:80] + ".json"


def list_palettes() -> list[Palette]:
    """Every saved palette, by name; an unreadable file is skipped (and logged), never fatal."""
    folder = palettes_dir()
    found = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            colors = [parse_color(c, str(file)) for c in data.get("colors", [])][:MAX_PALETTE]
            found.append(Palette(str(data.get("name") or file.stem), colors))
        except (OSError, ValueError, AttributeError, AniSketchError) as exc:
            log.warning("palette %s skipped: %s", file, exc)
    return sorted(found, key=lambda p: p.name.casefold())


def save_palette(palette: Palette) -> Path:
    """Write ``palette`` atomically (replacing the palette of the same name)."""
    from anisketch_desktop.core.imageio import _write_atomic

    if not palette.name.strip():
        raise AniSketchError("A palette needs a name (e.g. the character's name)")
    target = palettes_dir() / _file_name(palette.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {"name": palette.name.strip(), "colors": [color_to_hex(c) for c in palette.colors[:MAX_PALETTE]]}
    _write_atomic(target, (json.dumps(data, indent=1) + "\n").encode("utf-8"), overwrite=True)
    return target


def delete_palette(name: str) -> None:
    (palettes_dir() / _file_name(name)).unlink(missing_ok=True)
