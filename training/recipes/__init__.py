"""Recipes: one JSON file per shipped model, read by ``python -m training --recipe NAME``."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

RECIPE_DIR = Path(str(importlib.resources.files(__name__)))  # package data: also in a wheel


def load_recipe(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPE_DIR / f"{name_or_path}.json"
    return json.loads(path.read_text())
