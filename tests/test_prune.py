"""training.prune: a narrow U-Net started from a wide one keeps the wide one's strongest channels exactly."""

from __future__ import annotations

import pytest
import torch

from anisketch_desktop.core.unet_model import UNet, UNetConfig
from training.prune import can_prune, prune_into


def _wide() -> UNet:
    torch.manual_seed(0)
    wide = UNet(UNetConfig.sketch(base_channels=8, depth=2, unshuffle=2, dropout=0.1)).eval()
    for m in wide.modules():  # BatchNorm scales that make a clear choice, and non-trivial running stats
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data = torch.linspace(0.1, 2.0, m.num_features)[torch.randperm(m.num_features)]
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return wide


def test_pruning_with_no_dropped_strong_channels_gives_the_same_network_output():
    wide = _wide()
    for m in wide.modules():  # silence the channels pruning will drop: the narrow net must then match exactly
        if isinstance(m, torch.nn.BatchNorm2d):
            weak = torch.argsort(m.weight.abs(), descending=True)[m.num_features * 3 // 4:]
            m.weight.data[weak] = 1e-6
            m.bias.data[weak] = -100.0  # ReLU -> exactly 0
    narrow = UNet(UNetConfig.sketch(base_channels=6, depth=2, unshuffle=2, dropout=0.1)).eval()
    assert can_prune(wide, narrow)
    prune_into(wide, narrow)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(narrow(x), wide(x), rtol=1e-4, atol=1e-4)


def test_pruning_refuses_other_shapes():
    wide = _wide()
    with pytest.raises(ValueError):
        prune_into(wide, UNet(UNetConfig.sketch(base_channels=6, depth=3, unshuffle=2)))
    assert not can_prune(wide, UNet(UNetConfig.sketch(base_channels=8, depth=2, unshuffle=2)))
