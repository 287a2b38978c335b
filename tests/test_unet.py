"""The U-Net, the Lab colour bins and the safetensors model files."""

import os
import stat

import pytest
import torch

from anisketch_desktop.core import color
from anisketch_desktop.core.errors import ModelLoadError
from anisketch_desktop.core.model_io import load_model, read_metadata, save_model
from anisketch_desktop.core.unet_model import UNet, UNetConfig


@pytest.mark.parametrize("depth,unshuffle", [(2, 1), (3, 2), (4, 2)])
def test_sketch_unet_shapes_and_range(depth, unshuffle):
    cfg = UNetConfig.sketch(base_channels=4, depth=depth, unshuffle=unshuffle)
    model = UNet(cfg).eval()
    x = torch.rand(2, 3, 2 * cfg.multiple, cfg.multiple)
    with torch.inference_mode():
        y = model.predict(x)
    assert y.shape == (2, 1, 2 * cfg.multiple, cfg.multiple)
    assert 0.0 <= y.min() and y.max() <= 1.0
    assert cfg.multiple == unshuffle * 2**depth


def test_colorize_unet_outputs_rgb_and_logits():
    cfg = UNetConfig.colorize(base_channels=4, depth=2)
    model = UNet(cfg).eval()
    x = torch.rand(1, 1, 32, 48)
    with torch.inference_mode():
        raw = model(x)
        rgb = model.to_image(raw)
    l_logits, ab_logits = raw
    assert l_logits.shape == (1, 1, 32, 48)
    assert ab_logits.shape == (1, cfg.color_bins, 16, 24)
    assert rgb.shape == (1, 3, 32, 48)


def test_last_layer_is_plain_conv_and_dropout_present():
    model = UNet(UNetConfig.sketch(dropout=0.2))
    assert isinstance(model.head.conv, torch.nn.Conv2d)
    assert any(isinstance(m, torch.nn.Dropout2d) for m in model.modules())
    assert not any(isinstance(m, torch.nn.Dropout2d) for m in UNet(UNetConfig.sketch(dropout=0)).modules())


def test_config_json_roundtrip_and_rejects_unknown_keys():
    cfg = UNetConfig.colorize(base_channels=8, depth=3, input_norm="levels")
    assert UNetConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        UNetConfig.from_json('{"task": "sketch", "evil": 1}')
    with pytest.raises(ValueError):
        UNetConfig(task="upscale")


def test_lab_roundtrip_and_known_values():
    rgb = torch.rand(1, 3, 8, 8)
    assert torch.allclose(color.lab_to_rgb(color.rgb_to_lab(rgb)), rgb, atol=1e-4)
    white = color.rgb_to_lab(torch.ones(1, 3, 1, 1))[0, :, 0, 0]
    assert abs(white[0] - 100) < 0.01 and abs(white[1]) < 0.01 and abs(white[2]) < 0.01
    red = color.rgb_to_lab(torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1))[0, :, 0, 0]
    assert torch.allclose(red, torch.tensor([53.24, 80.09, 67.20]), atol=0.1)


def test_ab_bins_encode_decode():
    assert 200 < color.num_bins() < 400
    ab = torch.tensor([[40.0, -20.0], [0.0, 0.0], [-30.0, 60.0]]).T.reshape(1, 2, 3, 1)
    target = color.encode_ab(ab)
    assert torch.allclose(target.sum(dim=1), torch.ones(1, 3, 1))
    decoded = color.decode_ab(torch.log(target + 1e-9), temperature=1.0)
    assert (decoded - ab).abs().max() < 6.0  # within about half a bin


def test_save_and_load_roundtrip(tmp_path):
    torch.manual_seed(1)
    model = UNet(UNetConfig.sketch(base_channels=4, depth=2)).eval()
    path = save_model(model, tmp_path / "m.safetensors", {"name": "test", "metrics": {"f1": 0.8}})
    loaded, meta = load_model(path)
    assert meta["name"] == "test" and '"f1": 0.8' in meta["metrics"]
    assert loaded.config == model.config
    x = torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        assert (loaded.predict(x) - model.predict(x)).abs().max() < 2e-3  # fp16 storage
    assert not list(tmp_path.glob("*.part"))
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # like any new file, not private to the user


def test_refuses_pickles_and_non_safetensors(tmp_path):
    pickled = tmp_path / "model.pth"
    torch.save({"x": torch.zeros(1)}, pickled)
    with pytest.raises(ModelLoadError, match="pickled"):
        load_model(pickled)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="not a valid safetensors"):
        read_metadata(junk)
    from safetensors.torch import save_file

    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, str(bare))
    with pytest.raises(ModelLoadError, match="no AniSketch model config"):
        load_model(bare)
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "missing.safetensors")


def test_colorize_multiplies_the_input_lines_onto_its_colour_layer():
    torch.manual_seed(0)
    cfg = UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True)
    model = UNet(cfg).eval()
    lines = torch.ones(1, 1, 32, 48)
    lines[..., 10:12, :] = 0.0  # an ink stroke
    lines[..., 20, :] = 0.5  # a soft pencil stroke
    with torch.no_grad():
        raw = model(lines)
        out = model.predict(lines)
        plain = UNet(UNetConfig.colorize(base_channels=4, depth=2)).eval()
        plain.load_state_dict(model.state_dict())
        layer = plain.predict(lines)  # the same weights without the multiply: the colour layer
    assert len(raw) == 3 and torch.equal(raw[2], lines)
    assert out[..., 10:12, :].abs().max() < 1e-5  # ink is black whatever the layer's colour
    assert torch.allclose(out[..., 0:5, :], layer[..., 0:5, :], atol=1e-5)  # paper shows the layer
    from anisketch_desktop.core import color

    half = color.rgb_to_lab(out[..., 20:21, :])[:, 0]
    full = color.rgb_to_lab(layer[..., 20:21, :])[:, 0]
    assert torch.allclose(half, full * 0.5, atol=0.5)  # a 50% stroke halves the lightness

