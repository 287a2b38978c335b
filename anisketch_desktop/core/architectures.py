"""Network architectures a model file can hold, by the key stored in its metadata (``anisketch_arch``).

A model file says which architecture built it; files without the key (the shipped ones and every file written
before the key existed) are U-Nets. Each entry names a module and its config and model classes: the config class
has ``from_json``/``to_json`` and the fields the engine reads (``task``, ``multiple``, ``input_norm``...), the model
class is built from a config and keeps it as ``.config``. A second architecture is one new module plus one line
in ``ARCHITECTURES``; the module is imported only when such a model is loaded (torch stays lazy).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from anisketch_desktop.core.errors import ModelLoadError

ARCH_KEY = "anisketch_arch"
DEFAULT_ARCH = "unet"


@dataclass(frozen=True)
class Architecture:
    key: str
    module: str
    config_class: str
    model_class: str

    def config_type(self) -> Any:
        return getattr(importlib.import_module(self.module), self.config_class)

    def model_type(self) -> Any:
        return getattr(importlib.import_module(self.module), self.model_class)


ARCHITECTURES: dict[str, Architecture] = {
    arch.key: arch
    for arch in (
        Architecture("unet", "anisketch_desktop.core.unet_model", "UNetConfig", "UNet"),
    )
}


def architecture(key: str | None, source: str = "the model") -> Architecture:
    """The architecture stored under ``key`` (None: a file from before the key = U-Net); ``ModelLoadError``
    naming ``source`` if this version of AniSketch does not know it."""
    key = DEFAULT_ARCH if key is None else key
    try:
        return ARCHITECTURES[key]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelLoadError(
            f"{source} needs the network architecture {key!r}, which this version of AniSketch does not have "
            f"(it has: {known}); a newer AniSketch may open it."
        ) from None


def key_of(model) -> str:
    """The key of the architecture that ``model`` (a network built by one of ``ARCHITECTURES``) belongs to."""
    for arch in ARCHITECTURES.values():
        if type(model).__name__ == arch.model_class and type(model).__module__ == arch.module:
            return arch.key
    raise ValueError(f"{type(model).__name__} is not a registered architecture (core/architectures.py)")
