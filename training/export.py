"""Export: fp16 safetensors with config + metadata, and a model card markdown next to it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from anisketch_desktop.core.model_io import new_temp_file, save_model
from anisketch_desktop.core.unet_model import count_parameters

SHIPPED_DATASET = "real anime line-art pairs (color/sketch), see the model card"


def export(model, path: str | Path, recipe: dict | None = None, summary: dict | None = None,
           command: str = "", metrics: dict | None = None, *, name: str = "", description: str = "",
           dataset: str = SHIPPED_DATASET) -> Path:
    """Write ``path`` (fp16 safetensors) with the recipe, command, data and best metrics in the metadata
    (``name``/``description`` default to the recipe's title and description)."""
    path = Path(path)
    meta = {
        "name": name or (recipe or {}).get("title") or (recipe or {}).get("name", path.stem),
        "description": description or (recipe or {}).get("description", ""),
        "recipe": json.dumps(recipe or {}, sort_keys=True),
        "command": command,
        "metrics": json.dumps(metrics or {k: v.get("best", {}) for k, v in (summary or {}).items()}),
        "parameters": str(count_parameters(model)),
        "dataset": dataset,
    }
    return save_model(model.eval(), path, meta, half=True)


def write_card(path: str | Path, text: str) -> Path:
    """Write a model card atomically."""
    path = Path(path)
    tmp = new_temp_file(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
