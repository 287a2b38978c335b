"""Where things live: read-only resources (source tree or frozen bundle) and the user's data folders.

Set ``ANISKETCH_HOME`` to move every user folder (tests point it at a temporary directory).
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import platformdirs

from anisketch_desktop import APP_NAME, ORG_NAME

RESOURCE_PACKAGE = "anisketch_desktop.resources"


def resources_dir() -> Path:
    """The shipped resources folder (models + cards, icons, the .desktop file).

    In order: a PyInstaller bundle's ``resources/``; ``ANISKETCH_RESOURCES`` (tests); a source checkout's own
    top-level ``resources/``; else the installed package data of ``anisketch_desktop.resources`` (a wheel or an
    editable install), found through ``importlib.resources``.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    env = os.environ.get("ANISKETCH_RESOURCES")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        return checkout / "resources"
    try:
        found = importlib.resources.files(RESOURCE_PACKAGE)
    except ModuleNotFoundError:  # a broken install: report the folder where the models should be
        return Path(__file__).resolve().parent / "resources"
    return Path(str(found))  # installed on a file system (models are opened by path), never zipped


def resource_path(*parts: str) -> Path:
    """Path of a read-only resource, e.g. ``resource_path("models", "sketch.safetensors")``."""
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user writable folder for models, datasets, caches and logs (created on demand)."""
    env = os.environ.get("ANISKETCH_HOME")
    base = Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, ORG_NAME))
    base.mkdir(parents=True, exist_ok=True)
    return base


def user_models_dir() -> Path:
    """Models the user trained (the wizard saves here; the main window lists them)."""
    path = user_data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    path = user_data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
