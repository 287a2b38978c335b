"""The architecture key in model files and the registry: old files are U-Nets, unknown keys are refused with a
clear message (and not listed), and a second architecture plugs in with one module and one registry line."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file
from torch import nn

from anisketch_desktop import paths
from anisketch_desktop.core import architectures, models
from anisketch_desktop.core.architectures import ARCH_KEY, Architecture
from anisketch_desktop.core.errors import ModelLoadError
from anisketch_desktop.core.model_io import load_model, read_metadata, save_model
from anisketch_desktop.core.unet_model import UNet


def _rewrite_metadata(src, dst, change) -> None:
    """Copy a model file with its metadata dict passed through ``change``."""
    from safetensors import safe_open

    with safe_open(str(src), framework="numpy") as handle:
        meta = dict(handle.metadata())
    save_file(load_file(str(src)), str(dst), metadata=change(meta))


def test_saved_models_name_their_architecture(tiny_sketch_model):
    assert read_metadata(tiny_sketch_model)[ARCH_KEY] == "unet"


def test_files_without_the_key_load_as_unet(tiny_sketch_model, tmp_path):
    old = tmp_path / "old.safetensors"
    _rewrite_metadata(tiny_sketch_model, old, lambda m: {k: v for k, v in m.items() if k != ARCH_KEY})
    assert ARCH_KEY not in read_metadata(old)
    model, _ = load_model(old)
    assert isinstance(model, UNet)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), load_model(tiny_sketch_model)[0](x))


def test_unknown_architecture_is_refused_and_not_listed(tiny_sketch_model, tmp_path):
    future = paths.user_models_dir() / "future.safetensors"
    _rewrite_metadata(tiny_sketch_model, future, lambda m: {**m, ARCH_KEY: "diffusion9"})
    with pytest.raises(ModelLoadError, match=r"future.safetensors needs the network architecture 'diffusion9'"):
        load_model(future)
    shutil.copy(tiny_sketch_model, paths.user_models_dir() / "mine.safetensors")
    assert [m.name for m in models.list_models() if not m.shipped] == ["mine"]


# A second architecture, as a contributor would add it: a config dataclass and a module built from it.
@dataclass
class TinyConfig:
    task: str = "sketch"
    width: int = 3

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TinyConfig:
        return cls(**json.loads(text))


class TinyNet(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        self.config = config
        self.conv = nn.Conv2d(3, 1, config.width, padding=config.width // 2)

    def forward(self, x):
        return torch.sigmoid(self.conv(x))


def test_a_second_architecture_is_one_module_and_one_line(monkeypatch):
    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", Architecture("tiny", __name__, "TinyConfig", "TinyNet"))
    torch.manual_seed(1)
    net = TinyNet(TinyConfig(width=5)).eval()
    path = save_model(net, paths.user_models_dir() / "tiny.safetensors", {"name": "Tiny"}, half=False)
    assert read_metadata(path)[ARCH_KEY] == "tiny"
    loaded, meta = load_model(path)
    assert isinstance(loaded, TinyNet) and loaded.config == TinyConfig(width=5)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert np.allclose(loaded(x).numpy(), net(x).numpy())
    assert [(m.name, m.label) for m in models.list_models() if not m.shipped] == [("tiny", "Tiny (yours)")]


def test_unregistered_network_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not a registered architecture"):
        save_model(TinyNet(TinyConfig()), tmp_path / "x.safetensors")
