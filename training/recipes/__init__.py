"""Recipes: one JSON file per shipped model, read by ``python -m training --recipe NAME``."""

from __future__ import annotations

import json
from pathlib import Path

RECIPE_DIR = Path(__file__).parent


def load_recipe(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPE_DIR / f"{name_or_path}.json"
    return json.loads(path.read_text())
