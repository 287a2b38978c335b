"""Shared fixtures. Qt runs offscreen; user folders and QSettings point at temporary directories."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own user data folder (models, logs, caches, settings)."""
    home = tmp_path_factory.mktemp("anisketch_home")
    monkeypatch.setenv("ANISKETCH_HOME", str(home))
    return home


def _tiny_model(path, config):
    import torch

    from anisketch_desktop.core.model_io import save_model
    from anisketch_desktop.core.unet_model import UNet

    torch.manual_seed(0)
    model = UNet(config)
    with torch.no_grad():  # random BatchNorm statistics so outputs vary with the input
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    save_model(model.eval(), path, {"name": "tiny test model"})
    return path


@pytest.fixture
def tiny_sketch_model(tmp_path):
    """A small random sketch U-Net (RGB -> 1) saved as safetensors; path returned."""
    from anisketch_desktop.core.unet_model import UNetConfig

    return _tiny_model(tmp_path / "tiny_sketch.safetensors", UNetConfig.sketch(base_channels=4, depth=2))


@pytest.fixture
def tiny_colorize_model(tmp_path):
    """A small random colorize U-Net (1 -> RGB, ab bins) saved as safetensors; path returned."""
    from anisketch_desktop.core.unet_model import UNetConfig

    return _tiny_model(tmp_path / "tiny_colorize.safetensors", UNetConfig.colorize(base_channels=4, depth=2))


@pytest.fixture
def tiny_flats_model(tmp_path):
    """A small random colorize U-Net that paints a colour layer under the lines, with flat colours on."""
    from anisketch_desktop.core.unet_model import UNetConfig

    config = UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True, flat_fill=True)
    return _tiny_model(tmp_path / "tiny_flats.safetensors", config)


@pytest.fixture
def no_shipped_models(tmp_path_factory, monkeypatch):
    """The app's resources without the shipped models (icons etc. kept): tests decide which models exist."""
    import shutil

    from anisketch_desktop import paths

    resources = tmp_path_factory.mktemp("resources")
    shutil.copytree(paths.resource_path(), resources, dirs_exist_ok=True, ignore=shutil.ignore_patterns("models"))
    monkeypatch.setenv("ANISKETCH_RESOURCES", str(resources))
    return resources
