"""Tiling policy: the memory budget sets the tile plan, tiled and untiled outputs agree, out-of-memory halves
the tiles, and a uint8 picture goes through the network without whole-picture float copies."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from anisketch_desktop.core import memory, pipeline
from anisketch_desktop.core.engine import InferenceEngine
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.models import shipped_model_path
from anisketch_desktop.core.unet_model import UNetConfig


def _drawing(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A flat-shaded uint8 picture with dark outlines (what the sketch model is for)."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 235, np.uint8)
    for _ in range(25):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(10, w // 4)), int(rng.integers(10, h // 4)))
        colour = tuple(int(c) for c in rng.integers(40, 255, 3))
        cv2.ellipse(img, centre, axes, float(rng.integers(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(img, centre, axes, 0, 0, 360, (20, 20, 20), 2, cv2.LINE_AA)
    return img


def test_budget_sets_the_tile_plan(tiny_sketch_model):
    shipped = UNetConfig.sketch(base_channels=24, unshuffle=4)
    per_px = memory.bytes_per_pixel(shipped)
    # the desktop default runs 1080p and 4K whole, and tiles 8K
    assert memory.tile_side(1088, 1920, per_px, memory.CPU_BUDGET_MB, 64) is None
    assert memory.tile_side(2176, 3840, per_px, memory.CPU_BUDGET_MB, 64) is None
    side = memory.tile_side(4352, 7680, per_px, memory.CPU_BUDGET_MB, 64)
    assert side is not None and side % 64 == 0 and side * side * per_px <= memory.CPU_BUDGET_MB * 2**20
    # a smaller budget: smaller tiles, more of them; the engine's plan follows its budget
    plans = [InferenceEngine(tiny_sketch_model, "cpu", memory_mb=mb).plan(1000, 1500) for mb in (4000, 40, 10)]
    assert [p.count for p in plans][0] == 1
    assert plans[0].count < plans[1].count < plans[2].count
    assert plans[1].tile_h * plans[1].tile_w > plans[2].tile_h * plans[2].tile_w
    # an explicit tile size wins over the budget; 0 never tiles, whatever the budget
    assert InferenceEngine(tiny_sketch_model, "cpu", tile_size=256, memory_mb=4000).plan(1000, 1500).count > 1
    assert InferenceEngine(tiny_sketch_model, "cpu", tile_size=0, memory_mb=1).plan(1000, 1500).count == 1
    with pytest.raises(AniSketchError):
        InferenceEngine(tiny_sketch_model, "cpu", tile_size=-1)


def test_default_budget_follows_the_machine(monkeypatch):
    import torch

    cpu = torch.device("cpu")
    monkeypatch.setattr(memory, "total_memory_mb", lambda: 32768.0)
    assert memory.default_budget_mb(cpu) == memory.CPU_BUDGET_MB
    monkeypatch.setattr(memory, "total_memory_mb", lambda: 4096.0)
    assert memory.default_budget_mb(cpu) == 256.0  # 1/16 of a small machine
    monkeypatch.setattr(memory, "total_memory_mb", lambda: None)
    assert memory.default_budget_mb(cpu) == memory.CPU_BUDGET_MB


@pytest.mark.skipif(not shipped_model_path("sketch").is_file(), reason="no shipped sketch model")
def test_tiled_and_untiled_outputs_agree_with_the_shipped_model():
    """Tiles see less context than the whole picture near their borders (the U-Net's receptive field is
    wider than the 64-pixel overlap), so outputs are not bit-identical; the raised-cosine blend keeps the
    difference small and local. Measured on 1600x1280: mean 0.12 gray levels, 99th percentile 3 levels,
    ink/paper agreement 99.96 %. The bounds below leave room for other pictures without hiding a seam (a
    seam or a misplaced tile gives mean errors of several levels and thousands of flipped pixels)."""
    image = _drawing(768, 960)
    whole_eng = InferenceEngine(shipped_model_path("sketch"), "cpu", tile_size=0)
    tiled_eng = InferenceEngine(shipped_model_path("sketch"), "cpu", memory_mb=40)
    assert tiled_eng.plan(768, 960).count >= 4
    whole = pipeline.sketch(image, model=whole_eng).astype(np.int16)
    tiled = pipeline.sketch(image, model=tiled_eng).astype(np.int16)
    assert tiled_eng.last_plan.count >= 4 and whole_eng.last_plan.count == 1
    diff = np.abs(whole - tiled)
    assert (whole < 128).mean() > 0.01  # there are lines to compare
    assert diff.mean() < 0.5
    assert np.percentile(diff, 99) <= 8
    assert ((whole < 128) != (tiled < 128)).mean() < 0.002


def test_uint8_output_matches_the_float_path(tiny_sketch_model):
    from anisketch_desktop.core.imageio import to_uint8

    image = _drawing(200, 300)
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=128, overlap=16)
    as_float = eng.run(image.astype(np.float32) / 255.0)
    as_uint8 = eng.run(image, out_dtype=np.uint8)
    assert as_uint8.dtype == np.uint8
    np.testing.assert_array_equal(as_uint8, to_uint8(as_float))


def test_out_of_memory_halves_the_tiles(tiny_sketch_model, monkeypatch):
    """A device that runs out of memory above 130x130-pixel tiles (a fake OOM, as CUDA raises it): the engine
    halves the tile side until it fits, gives the same picture as tiles of that size, and keeps the side."""
    import torch

    monkeypatch.setattr(memory, "MIN_TILE", 32)
    image = _drawing(190, 250)
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=0, overlap=16)
    real = eng._predict_tile
    tried = []

    def predict(tile, multiply=True):
        tried.append(tile.shape[:2])
        if tile.shape[0] * tile.shape[1] > 130 * 130:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(tile, multiply)

    monkeypatch.setattr(eng, "_predict_tile", predict)
    out = eng.run(image, out_dtype=np.uint8)
    assert eng.oom_side == 128
    assert tried[0] == (192, 256)  # first the whole picture, then halves
    expected = InferenceEngine(tiny_sketch_model, "cpu", tile_size=128, overlap=16).run(image, out_dtype=np.uint8)
    np.testing.assert_array_equal(out, expected)
    tried.clear()
    eng.run(image, out_dtype=np.uint8)  # the next picture starts at the side that fitted
    assert all(h * w <= 130 * 130 for h, w in tried)


def test_out_of_memory_at_the_smallest_tile_is_a_clear_error(tiny_sketch_model, monkeypatch):
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=0)

    def predict(tile, multiply=True):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 99 bytes")

    monkeypatch.setattr(eng, "_predict_tile", predict)
    with pytest.raises(AniSketchError, match="Not enough memory"):
        eng.run(_drawing(600, 600))
    monkeypatch.setattr(eng, "_predict_tile", lambda tile, multiply=True: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # other errors are not retried
        eng.run(_drawing(64, 64))


def test_uint8_sketch_makes_no_whole_picture_float_copy(tiny_sketch_model):
    """A 1500x1500 RGB picture as float32 would be 27 MB; the sketch pipeline's numpy allocations stay far
    under that (the uint8 picture and result, one band of tiles, the levels sample)."""
    image = _drawing(1500, 1500)
    eng = InferenceEngine(tiny_sketch_model, "cpu", tile_size=512, min_megapixels=0)
    pipeline.sketch(image[:300, :300], model=eng)
    tracemalloc.start()
    try:
        out = pipeline.sketch(image, model=eng, transparent=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (1500, 1500, 4) and out.dtype == np.uint8
    assert peak < 20 * 2**20, f"numpy peak {peak / 2**20:.1f} MB"
