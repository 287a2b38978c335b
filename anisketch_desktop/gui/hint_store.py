"""Where colour hints and colour palettes live in the user data folder (plain files, no Qt).

Hints of each drawing: ``application.saved_hints`` (re-exported here; queued batches read them too).

Palettes are ``palettes/<name>.json`` = ``{"name": ..., "colors": ["#rrggbb", ...]}``, one per character.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop import paths
from anisketch_desktop.application.saved_hints import drawing_key, find_hints, hints_dir, store_hints
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.hints import RGB, color_to_hex, parse_color

__all__ = ["MAX_PALETTE", "Palette", "delete_palette", "drawing_key", "find_hints", "hints_dir", "list_palettes",
           "palettes_dir", "save_palette", "store_hints"]
log = logging.getLogger(__name__)
MAX_PALETTE = 64


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
