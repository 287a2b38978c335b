"""Noisy pictures: the noise estimate tells grain from clean and JPEG pictures; the engine smooths only noisy
pictures, only for models that ask; the shipped line-art models draw a noisy picture closer to its clean self."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from anisketch_desktop.core import denoise
from anisketch_desktop.core.engine import InferenceEngine, _prepare_tile
from anisketch_desktop.core.models import resolve_model


def _drawing(h: int = 384, w: int = 320, seed: int = 0) -> np.ndarray:
    """A flat-coloured anime-like picture: paper, coloured shapes with black outlines, a filled black shape."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 250, np.uint8)
    for _ in range(7):
        colour = tuple(int(v) for v in rng.integers(60, 240, 3))
        centre, r = (int(rng.integers(40, w - 40)), int(rng.integers(40, h - 40))), int(rng.integers(18, 60))
        cv2.circle(img, centre, r, colour, -1, cv2.LINE_AA)
        cv2.circle(img, centre, r, (15, 15, 15), 2, cv2.LINE_AA)
    cv2.rectangle(img, (20, 20), (60, 44), (10, 10, 10), -1)
    return img


def _noisy(img: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, sigma, img.shape)
    return np.clip(np.round(img.astype(np.float32) + noise), 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def test_the_estimate_tells_sensor_noise_from_clean_and_jpeg_pictures():
    clean = _drawing()
    assert denoise.noise_sigma(clean) < 1.0
    assert denoise.noise_sigma(_jpeg(clean, 30)) < 2.0  # blocky, but not grain
    assert denoise.noise_sigma(_noisy(clean, 8.0)) > 3.5
    flat_noise = _noisy(np.full((300, 300), 128, np.uint8), 8.0)  # gray, nothing clipped: the estimate is the sigma
    assert denoise.noise_sigma(flat_noise) == pytest.approx(8.0, rel=0.1)
    # any dtype and layout: uint16, float [0, 1], gray, gray + alpha give the same level in 8-bit units
    noisy = _noisy(clean, 8.0)
    level = denoise.noise_sigma(noisy)
    assert denoise.noise_sigma(noisy.astype(np.uint16) * 257) == pytest.approx(level, rel=0.05)
    assert denoise.noise_sigma(noisy.astype(np.float32) / 255.0) == pytest.approx(level, rel=0.05)
    gray = cv2.cvtColor(noisy, cv2.COLOR_RGB2GRAY)
    assert denoise.noise_sigma(gray) > 3.5 and denoise.noise_sigma(np.dstack([gray, np.full_like(gray, 255)])) > 3.5
    assert denoise.noise_sigma(np.zeros((2, 2, 3), np.uint8)) == 0.0


def test_the_estimate_of_a_huge_picture_reads_a_bounded_sample():
    big = np.full((6000, 6000, 3), 200, np.uint8)
    big[::37] = 20  # lines
    tracemalloc.start()
    level = denoise.noise_sigma(big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert level < 1.0 and peak < 16 * 2**20  # a float copy of the picture would be 144 MB
    big[:] = _noisy(big[:1000, :1000], 8.0)[np.arange(6000) % 1000][:, np.arange(6000) % 1000]
    assert denoise.noise_sigma(big) > 3.5


def test_smoothing_removes_grain_and_keeps_edges():
    tile = np.full((64, 64, 3), 0.8, np.float32)
    tile[:, 32:] = 0.1  # an ink edge
    rng = np.random.default_rng(2)
    noisy = np.clip(tile + rng.normal(0, 8 / 255, tile.shape).astype(np.float32), 0, 1)
    out = denoise.smooth(noisy)
    assert out.shape == tile.shape and out.dtype == np.float32
    assert out[:, 4:28].std() < 0.5 * noisy[:, 4:28].std()  # the grain is mostly gone
    assert out[:, 29].mean() - out[:, 34].mean() > 0.65  # the edge is as steep as before
    gray = denoise.smooth(noisy[..., :1])
    assert gray.shape == (64, 64, 1)


def test_the_engine_smooths_only_noisy_pictures_of_models_that_ask(tiny_sketch_model, tmp_path, monkeypatch):
    from anisketch_desktop.core.model_io import load_model, save_model

    model, _ = load_model(tiny_sketch_model)
    model.config.denoise = 2.8
    asking = InferenceEngine(save_model(model, tmp_path / "asks.safetensors", half=False), "cpu", tile_size=None,
                             min_megapixels=0.0)
    plain = InferenceEngine(tiny_sketch_model, "cpu", tile_size=None, min_megapixels=0.0)
    clean, noisy = _drawing(), _noisy(_drawing(), 8.0)
    seen = []
    predict = asking._predict_tile
    monkeypatch.setattr(asking, "_predict_tile", lambda tile, **kw: seen.append(tile.copy()) or predict(tile, **kw))

    np.testing.assert_array_equal(asking.run(clean), plain.run(clean))  # a clean picture: untouched
    assert not asking.last_smoothed
    out = asking.run(noisy)
    assert asking.last_smoothed and not np.array_equal(out, plain.run(noisy))
    assert not plain.last_smoothed  # a model that does not ask: never
    # what the network saw is the smoothed picture (this model takes its input without level changes)
    assert model.config.input_norm == "none"
    expected = _prepare_tile(noisy, channels=3, span=None, smoothed=True)
    h, w = noisy.shape[:2]
    np.testing.assert_allclose(seen[-1][:h, :w], expected, atol=1e-6)
    grain = np.abs(cv2.Laplacian(seen[-1][:h, :w, 0], cv2.CV_32F)).mean()
    assert grain < 0.5 * np.abs(cv2.Laplacian(_prepare_tile(noisy, channels=3, span=None)[..., 0], cv2.CV_32F)).mean()


@pytest.mark.parametrize("name", ["sketch", "sketch_hq"])
def test_the_shipped_line_art_models_draw_a_noisy_picture_like_the_clean_one(name, tmp_path):
    from anisketch_desktop.core.model_io import load_model, save_model

    path = resolve_model(name, "sketch")
    model, _ = load_model(path)
    assert model.config.denoise == 2.8
    model.config.denoise = 0.0
    unsmoothed = InferenceEngine(save_model(model, tmp_path / "off.safetensors", half=True), "cpu")
    shipped = InferenceEngine(path, "cpu")
    clean = _drawing(seed=3)
    for k in range(6):  # faint one-pixel strokes, like pencil: what grain hides first
        cv2.line(clean, (10 + 50 * k, 380), (60 + 50 * k, 200), (150, 150, 150), 1, cv2.LINE_AA)
    noisy = _noisy(clean, 8.0)
    reference = shipped.run(clean)[..., 0] < 0.5
    np.testing.assert_array_equal(unsmoothed.run(clean)[..., 0] < 0.5, reference)  # same weights, clean: same
    smoothed = shipped.run(noisy)[..., 0] < 0.5
    assert shipped.last_smoothed
    unsmoothed_ink = unsmoothed.run(noisy)[..., 0] < 0.5
    # pixels drawn differently from the clean picture's line art (measured: 15-20 % fewer with the smoothing)
    assert (smoothed ^ reference).sum() < 0.92 * (unsmoothed_ink ^ reference).sum()
