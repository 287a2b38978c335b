"""Inference engine: devices, model loading, padding, tiling without seams, progress and cancel."""

from __future__ import annotations

import numpy as np
import pytest

from anisketch_desktop.core import engine as engine_mod
from anisketch_desktop.core import tiling
from anisketch_desktop.core.engine import InferenceEngine, get_engine, resolve_device
from anisketch_desktop.core.errors import AniSketchError, Cancelled, DeviceError, ModelLoadError
from anisketch_desktop.core.levels import normalize_levels


def _picture(h: int, w: int, channels: int = 3) -> np.ndarray:
    """Smooth colour waves with a few hard edges: enough structure for the network to react to."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / 40.0
    img = np.stack([0.5 + 0.5 * np.sin(xx), 0.5 + 0.5 * np.cos(yy * 1.3), 0.5 + 0.5 * np.sin(xx + yy)], -1)
    img[h // 3 : h // 3 + 3, :] = 0.05
    img[:, w // 2 : w // 2 + 2] = 0.95
    img = img.astype(np.float32)
    return img if channels == 3 else img.mean(axis=2, keepdims=True)


def _contrasty(path, out_path):
    """The fixture model with a 40x head, so its outputs span most of [0, 1] (seams would show)."""
    import torch

    from anisketch_desktop.core.model_io import load_model, save_model

    model, _ = load_model(path)
    with torch.no_grad():
        model.head.conv.weight.mul_(40.0)
        model.head.conv.bias.zero_()
    return save_model(model, out_path, {"name": "contrasty"}, half=False)


@pytest.fixture
def contrasty_sketch_model(tiny_sketch_model, tmp_path):
    return _contrasty(tiny_sketch_model, tmp_path / "contrasty.safetensors")


def _seam_ratio(out: np.ndarray, columns: list[int]) -> float:
    """Mean horizontal gradient at ``columns`` over the median of all columns."""
    energy = np.abs(np.diff(out[..., 0], axis=1)).mean(axis=0)  # energy[x-1]: between columns x-1 and x
    return float(energy[[c - 1 for c in columns]].mean() / np.median(energy))


# ------------------------------------------------------------------------------------------------- devices


def test_resolve_device_cpu_and_auto():
    device, note = resolve_device("cpu")
    assert device.type == "cpu" and note is None
    import torch

    if not torch.cuda.is_available():
        device, _ = resolve_device("auto")
        assert device.type in ("cpu", "mps")


def test_explicit_cuda_without_cuda_raises_readable_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="CUDA was requested.*on the CPU instead") as info:
        resolve_device("cuda")
    assert "--" not in str(info.value)  # no command-line flag: the window shows this message too
    assert info.value.fix == {"device": "cpu"}


def test_unknown_device_name():
    with pytest.raises(DeviceError, match="Unknown device 'tpu'"):
        resolve_device("tpu")


def test_unsupported_gpu_falls_back_to_cpu_with_note(monkeypatch):
    """A card whose compute capability the torch build lacks: auto notes it and uses the CPU."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: (3, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "GeForce GT 710")
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: ["sm_50", "sm_60", "sm_70", "sm_80"])
    monkeypatch.setattr(torch.version, "cuda", "12.1")
    engine_mod._cuda_problem.cache_clear()
    try:
        device, note = resolve_device("auto")
        assert device.type in ("cpu", "mps")
        assert "GT 710" in note and "3.5" in note
        with pytest.raises(DeviceError, match="compute capability 3.5"):
            resolve_device("cuda")
    finally:
        engine_mod._cuda_problem.cache_clear()


# ------------------------------------------------------------------------------------------------- loading


def test_refuses_pickle_files(tmp_path):
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(ModelLoadError, match="pickled"):
        InferenceEngine(pt, "cpu")


def test_refuses_non_safetensors(tmp_path):
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"GIF89a this is not a model")
    with pytest.raises(ModelLoadError, match="not a valid safetensors"):
        InferenceEngine(bogus, "cpu")


def test_refuses_safetensors_without_config(tmp_path):
    import torch
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(plain), metadata={"name": "someone else's"})
    with pytest.raises(ModelLoadError, match="no AniSketch model config"):
        InferenceEngine(plain, "cpu")


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        get_engine(tmp_path / "nope.safetensors", "cpu")


def test_engine_matches_the_unfolded_model(tiny_sketch_model):
    """BatchNorm folding and channels_last change speed, not results."""
    import torch

    from anisketch_desktop.core.model_io import load_model

    image = _picture(64, 96)
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=None, precision="fp32")
    model, _ = load_model(tiny_sketch_model)
    with torch.inference_mode():
        ref = model.predict(torch.from_numpy(image).permute(2, 0, 1)[None])[0, 0].numpy()
    out = eng.run(image)
    assert eng.metadata["name"] == "tiny test model"
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in eng.model.modules())
    assert out.shape == (64, 96, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], ref, atol=1e-5)


def test_get_engine_caches_and_reloads_changed_files(tiny_sketch_model):
    import os

    a = get_engine(tiny_sketch_model, "cpu")
    assert get_engine(tiny_sketch_model, "cpu") is a
    assert get_engine(tiny_sketch_model, "cpu", tile_size=256) is not a
    stat = os.stat(tiny_sketch_model)
    os.utime(tiny_sketch_model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert get_engine(tiny_sketch_model, "cpu") is not a


def test_channel_mismatch_is_a_readable_error(tiny_sketch_model, tiny_colorize_model):
    with pytest.raises(AniSketchError, match="expects RGB"):
        InferenceEngine(tiny_sketch_model, "cpu").run(np.zeros((8, 8), np.float32))
    with pytest.raises(AniSketchError, match="expects grayscale"):
        InferenceEngine(tiny_colorize_model, "cpu").run(np.zeros((8, 8, 3), np.float32))


# ------------------------------------------------------------------------------------------- padding, tiles


@pytest.mark.parametrize("size", [(1, 1), (17, 33), (2, 70)])
def test_odd_sizes_keep_their_size(tiny_sketch_model, tiny_colorize_model, size):
    h, w = size
    out = InferenceEngine(tiny_sketch_model, "cpu").run(_picture(h, w))
    assert out.shape == (h, w, 1)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    colour = InferenceEngine(tiny_colorize_model, "cpu").run(_picture(h, w, 1)[..., 0])
    assert colour.shape == (h, w, 3)


def test_big_odd_image_with_big_tiles(tiny_sketch_model):
    """3001x2001 (not a multiple of anything) goes through in a few tiles and comes back 3001x2001."""
    image = np.tile(_picture(667, 1001), (3, 3, 1))[:2001, :3001]
    seen = []
    out = InferenceEngine(tiny_sketch_model, "cpu", tile_size=2048).run(image, progress=seen.append)
    assert out.shape == (2001, 3001, 1)
    assert len(seen) == 2 and seen[-1] == 1.0
    assert out.std() > 1e-3  # the network responded to the picture, everywhere
    assert out[-50:, -50:].std() > 1e-3


def test_padding_reflects_and_replicates():
    assert tiling.pad_index(5, 8).tolist() == [0, 1, 2, 3, 4, 3, 2, 1]
    assert tiling.pad_index(1, 4).tolist() == [0, 0, 0, 0]
    assert tiling.pad_index(3, 8).tolist() == [0, 1, 2, 2, 2, 2, 2, 2]


def test_tile_plan_covers_with_overlap_and_no_waste():
    for length in (32, 96, 1088, 1920, 4320, 7680, 3008):
        size, starts = tiling.axis_tiles(length, 1024, 64, 32)
        assert size <= 1024 and size % 32 == 0 and all(s % 32 == 0 for s in starts)
        assert starts[0] == 0 and starts[-1] + size == length
        assert all(b - a <= size - 64 for a, b in zip(starts, starts[1:], strict=False))
        # the fewest tiles, each no bigger than needed
        assert len(starts) == (1 if length <= 1024 else 1 + -(-(length - 1024) // (1024 - 64)))
    assert tiling.axis_tiles(1088, 1024, 64, 32) == (576, [0, 512])


def test_blend_weights_sum_to_one():
    size, starts = tiling.axis_tiles(3008, 800, 64, 32)
    weights = tiling.axis_weights(starts, size, 3008)
    total = np.zeros(3008)
    for s, w in zip(starts, weights, strict=True):
        total[s : s + size] += w
        assert w.min() > 0
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_tiled_equals_untiled_without_seams(contrasty_sketch_model):
    image = _picture(240, 320)
    whole = InferenceEngine(contrasty_sketch_model, "cpu", tile_size=None).run(image)
    assert np.percentile(whole, 95) - np.percentile(whole, 5) > 0.15  # outputs vary enough to show seams
    tiled = InferenceEngine(contrasty_sketch_model, "cpu", tile_size=96, overlap=32).run(image)
    naive = InferenceEngine(contrasty_sketch_model, "cpu", tile_size=96, overlap=0).run(image)
    plan = tiling.plan_tiles(240, 320, 8, 96, 0)
    borders = [x for x in plan.xs[1:]]
    assert len(borders) >= 2
    assert np.abs(naive - whole).max() > 0.1  # the control: hard tile borders are visible
    assert _seam_ratio(naive, borders) > 1.5 * _seam_ratio(whole, borders)
    assert np.abs(tiled - whole).max() < 0.02
    blended_plan = tiling.plan_tiles(240, 320, 8, 96, 32)
    edges = [x for x in blended_plan.xs[1:]] + [x + blended_plan.tile_w for x in blended_plan.xs[:-1]]
    assert _seam_ratio(tiled, edges) < 1.1 * _seam_ratio(whole, edges) + 0.05


def test_levels_are_applied_to_the_whole_image(tiny_sketch_model, tmp_path):
    """A levels model sees the same picture whatever its contrast, and tiles do not re-level themselves."""
    import torch

    from anisketch_desktop.core.model_io import load_model, save_model

    model, _ = load_model(tiny_sketch_model)
    model.config.input_norm = "levels"
    with torch.no_grad():
        model.head.conv.weight.mul_(40.0)
    path = save_model(model, tmp_path / "levels.safetensors", half=False)
    image = _picture(160, 224)
    dull = image * 0.5 + 0.25
    eng = InferenceEngine(path, "cpu", tile_size=64, overlap=16)
    whole = InferenceEngine(path, "cpu", tile_size=None).run(dull)
    np.testing.assert_allclose(eng.run(dull), whole, atol=0.02)
    np.testing.assert_allclose(eng.run(image), eng.run(dull), atol=0.02)


def test_normalize_levels():
    rng = np.random.default_rng(1)
    shade = 0.3 + 0.3 * rng.random((50, 60, 1))
    dull = (shade + np.array([0.0, 0.02, -0.02])).astype(np.float32)  # a tinted gray: hue must survive
    gray = normalize_levels(np.repeat(shade, 3, axis=2).astype(np.float32))
    assert np.percentile(gray, 0.5) < 0.005 and np.percentile(gray, 99.5) > 0.995
    out = normalize_levels(dull)
    assert out.dtype == np.float32 and out.shape == dull.shape
    assert np.all(np.diff(out[..., 0].ravel()[np.argsort(dull[..., 0].ravel())]) >= 0)  # order kept
    assert (out[..., 1] >= out[..., 2]).all()  # one linear map for all channels: the tint survives
    flat = np.full((10, 10, 3), 0.4, np.float32)
    np.testing.assert_array_equal(normalize_levels(flat), flat)
    rgba = np.dstack([dull, np.full((50, 60), 0.25, np.float32)])
    out4 = normalize_levels(rgba)
    np.testing.assert_array_equal(out4[..., 3], 0.25)
    np.testing.assert_allclose(out4[..., :3], out, atol=1e-6)
    gray = normalize_levels(dull[..., 0])
    assert gray.shape == (50, 60) and gray.min() == 0.0 and gray.max() == 1.0
    assert dull[..., 0].min() >= 0.3  # the input is untouched


# ---------------------------------------------------------------------------------------- progress, cancel


def test_progress_is_monotone_and_reaches_one(tiny_sketch_model):
    seen = []
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=64, overlap=16)
    eng.run(_picture(150, 200), progress=seen.append)
    assert len(seen) > 4
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] > 0.0


def test_cancel_stops_between_tiles(tiny_sketch_model):
    seen = []
    calls = iter(range(1000))

    def cancel():
        return next(calls) >= 3

    with pytest.raises(Cancelled):
        InferenceEngine(tiny_sketch_model, "cpu", tile_size=64, overlap=16).run(
            _picture(150, 200), progress=seen.append, cancel=cancel
        )
    assert len(seen) == 3 and seen[-1] < 1.0


def test_bf16_on_cpu_is_close(tiny_sketch_model):
    image = _picture(64, 64)
    ref = InferenceEngine(tiny_sketch_model, "cpu", precision="fp32").run(image)
    out = InferenceEngine(tiny_sketch_model, "cpu", precision="bf16").run(image)
    assert np.abs(out - ref).max() < 0.02
    with pytest.raises(AniSketchError, match="fp16 is only available on a GPU"):
        InferenceEngine(tiny_sketch_model, "cpu", precision="fp16")


def test_working_scale():
    assert engine_mod.working_scale(1080, 1920, 2.0) == 1.0  # 1080p is big enough
    assert engine_mod.working_scale(1000, 1000, 2.0) == pytest.approx(2**0.5)
    assert engine_mod.working_scale(100, 100, 2.0) == engine_mod.MAX_UPSCALE  # never more than 2x
    assert engine_mod.working_scale(100, 100, 0.0) == 1.0  # off
    # a model asking for 2.5 MP: small pictures get all of it, 1080p none; between, a bigger picture is never
    # enlarged more and the working size has no jump where the enlargement stops
    assert engine_mod.working_scale(1000, 1000, 2.5) == pytest.approx(2.5**0.5)
    assert engine_mod.working_scale(1080, 1920, 2.5) == 1.0
    sides = range(1000, 1500, 5)
    scales = [engine_mod.working_scale(s, s, 2.5) for s in sides]
    assert all(b <= a for a, b in zip(scales, scales[1:], strict=False))
    work = [(s * f) ** 2 / 1e6 for s, f in zip(sides, scales, strict=True)]
    assert max(abs(b - a) for a, b in zip(work, work[1:], strict=False)) < 0.05
    assert engine_mod.working_scale(1300, 1300, 2.5) > engine_mod.working_scale(1400, 1400, 2.5) > 1.0
    # a model's own cap (max_upscale): a 500x500 thumbnail reaches 2.5 MP only with 3.16x
    assert engine_mod.working_scale(500, 500, 2.5) == 2.0
    assert engine_mod.working_scale(500, 500, 2.5, 3.0) == 3.0
    assert engine_mod.working_scale(1000, 1000, 2.5, 3.0) == pytest.approx(2.5**0.5)  # under the cap: unchanged


def test_small_pictures_are_drawn_at_the_working_size_and_scaled_back(tiny_sketch_model, tmp_path, monkeypatch):
    import cv2

    from anisketch_desktop.core.model_io import load_model, save_model

    model, _ = load_model(tiny_sketch_model)
    model.config.min_megapixels = 0.02  # 20,000 pixels: a 50x60 picture is enlarged 2x (the cap)
    path = save_model(model, tmp_path / "upscaling.safetensors", half=False)
    eng = InferenceEngine(path, "cpu", tile_size=None)
    seen = []
    predict = eng._predict_tile
    monkeypatch.setattr(eng, "_predict_tile", lambda tile, **kw: seen.append(tile.shape) or predict(tile, **kw))
    small = _picture(50, 60)
    out = eng.run(small)
    assert out.shape == (50, 60, 1)
    assert seen[-1][0] >= 100 and seen[-1][1] >= 120  # the network saw the 100x120 enlargement (padded)
    plain = InferenceEngine(tiny_sketch_model, "cpu", tile_size=None)
    big = cv2.resize(small, (120, 100), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    expected = cv2.resize(plain.run(big), (60, 50), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(out[..., 0], expected, atol=1e-4)  # = the plain model on the enlargement
    large = _picture(200, 100)  # 20,000 pixels: already big enough
    np.testing.assert_allclose(eng.run(large), plain.run(large), atol=1e-5)
    native = InferenceEngine(path, "cpu", tile_size=None, min_megapixels=0.0)  # the caller turns it off
    np.testing.assert_allclose(native.run(small), plain.run(small), atol=1e-5)

    model.config.min_megapixels = 0.03  # 3.16x for a 50x60 picture: 2x under the default cap, 3x under the model's
    model.config.max_upscale = 3.0  # the model's own cap, kept in its file
    wider = InferenceEngine(save_model(model, tmp_path / "wider.safetensors", half=False), "cpu", tile_size=None)
    assert wider.config.max_upscale == 3.0
    monkeypatch.setattr(wider, "_predict_tile", lambda tile, **kw: seen.append(tile.shape) or predict(tile, **kw))
    wider.run(small)
    assert seen[-1][0] >= 150 and seen[-1][1] >= 180 and seen[-1][0] < 200
    assert InferenceEngine(tiny_sketch_model, "cpu").config.max_upscale == engine_mod.MAX_UPSCALE == 2.0  # older files
