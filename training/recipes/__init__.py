"""Recipes: one JSON file per shipped model, read by ``python -m training --recipe NAME``."""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import fields
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError

RECIPE_DIR = Path(str(importlib.resources.files(__name__)))  # package data: also in a wheel


class RecipeError(AniSketchError):
    """A recipe that cannot be used: missing, not JSON, or naming options the trainer does not have."""


def shipped_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPE_DIR.glob("*.json"))


def load_recipe(name_or_path: str) -> dict:
    """The recipe ``name_or_path`` (a shipped name or a JSON file), checked before any training starts:
    ``RecipeError`` with one line naming the file and what is wrong."""
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPE_DIR / f"{name_or_path}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe (shipped: {', '.join(shipped_recipes())}; "
                          "or give the path of a .json file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot be read ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    try:
        recipe = json.loads(text)
    except ValueError as exc:
        raise RecipeError(f"{path}: not valid JSON ({exc}): fix the file") from None
    problem = recipe_problem(recipe)
    if problem:
        raise RecipeError(f"{path}: {problem}")
    return recipe


def recipe_problem(recipe) -> str | None:
    """What is wrong with a recipe's shape, or None: stages are a list of named objects, and every key of a
    stage's ``train`` and of ``model`` is an option the trainer and the network have (a misspelt option would
    otherwise stop the run with a traceback, after its data is loaded)."""
    from anisketch_desktop.core.unet_model import UNetConfig
    from training.loop import TrainArgs

    if not isinstance(recipe, dict):
        return "not a recipe (a JSON object with task, name and stages)"
    model = recipe.get("model", {})
    if not isinstance(model, dict):
        return '"model" must be an object of network options'
    unknown = sorted(set(model) - {f.name for f in fields(UNetConfig)})
    if unknown:
        return f"unknown model option(s) {', '.join(unknown)}: remove or correct them"
    stages = recipe.get("stages", [])
    if not isinstance(stages, list) or not all(isinstance(s, dict) and isinstance(s.get("name"), str)
                                               for s in stages):
        return '"stages" must be a list of objects, each with a "name"'
    known = {f.name for f in fields(TrainArgs)}
    for stage in stages:
        train = stage.get("train", {})
        if not isinstance(train, dict):
            return f'stage {stage["name"]}: "train" must be an object of training options'
        unknown = sorted(set(train) - known)
        if unknown:
            return f"stage {stage['name']}: unknown training option(s) {', '.join(unknown)}: remove or correct them"
    return None
