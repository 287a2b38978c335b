"""sketch / colorize / style on numpy images, and the model registry behind their defaults."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from anisketch_desktop import paths
from anisketch_desktop.core import models, pipeline
from anisketch_desktop.core.engine import InferenceEngine
from anisketch_desktop.core.errors import AniSketchError, Cancelled, ModelLoadError


@pytest.fixture(autouse=True)
def _no_shipped_models(tmp_path_factory, monkeypatch):
    """Tests decide which models exist: the resources folder starts empty."""
    monkeypatch.setenv("ANISKETCH_RESOURCES", str(tmp_path_factory.mktemp("resources")))


def _picture(h: int = 96, w: int = 128) -> np.ndarray:
    """uint8 RGB: white paper, a dark blue disc, a red bar and a thin black stroke."""
    img = np.full((h, w, 3), 255, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    img[(yy - h // 2) ** 2 + (xx - w // 3) ** 2 < (h // 4) ** 2] = (30, 40, 120)
    img[h // 6 : h // 6 + 12, w // 2 : w - 10] = (200, 30, 30)
    img[h - 20 : h - 18, 10 : w - 10] = 0
    return img


def _with_alpha(img: np.ndarray) -> np.ndarray:
    alpha = np.zeros(img.shape[:2], np.uint8)
    alpha[:, img.shape[1] // 4 :] = 255
    alpha[:, img.shape[1] // 4 : img.shape[1] // 2] = 128
    return np.dstack([img, alpha])


# -------------------------------------------------------------------------------------------------- sketch


def test_xdog_sketch_draws_the_edges():
    img = _picture()
    out = pipeline.sketch(img, engine="xdog")
    assert out.dtype == np.uint8 and out.shape == img.shape[:2]
    ink = out < 128
    assert ink[74:80, 20:100].any()  # the black stroke is drawn
    assert not ink[2:10, 2:30].any()  # blank paper stays blank
    assert 0.005 < ink.mean() < 0.5


def test_xdog_presets_and_auto():
    img = _picture()
    default = pipeline.sketch(img, engine="xdog")
    bold = pipeline.sketch(img, engine="xdog", xdog_params="bold")
    assert (bold < 128).sum() > (default < 128).sum()  # bold lines are wider
    seen = []
    auto = pipeline.sketch(img, engine="xdog", auto=True, progress=seen.append)
    assert auto.shape == img.shape[:2] and seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(AniSketchError, match="Unknown XDoG preset"):
        pipeline.sketch(img, engine="xdog", xdog_params="nope")
    with pytest.raises(AniSketchError, match="Unknown sketch engine"):
        pipeline.sketch(img, engine="magic")


def test_unet_sketch(tiny_sketch_model):
    img = _picture()
    out = pipeline.sketch(img, model=tiny_sketch_model, device="cpu")
    assert out.dtype == np.uint8 and out.shape == img.shape[:2]
    expected = InferenceEngine(tiny_sketch_model, "cpu").run(img.astype(np.float32) / 255.0)[..., 0]
    assert np.abs(out.astype(np.float32) - expected * 255).max() <= 1.0


def test_gray_input_is_replicated_to_rgb(tiny_sketch_model):
    gray = _picture()[..., 0]
    out = pipeline.sketch(gray, model=tiny_sketch_model, device="cpu")
    np.testing.assert_array_equal(out, pipeline.sketch(np.dstack([gray] * 3), model=tiny_sketch_model))


def test_rgba_input_keeps_alpha(tiny_sketch_model):
    img = _with_alpha(_picture())
    for kw in ({"engine": "xdog"}, {"model": tiny_sketch_model}):
        out = pipeline.sketch(img, **kw)
        assert out.shape == img.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out[..., 3], img[..., 3])
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    # transparent pixels are on white paper, whatever colour they hide
    hidden = img.copy()
    hidden[:, : img.shape[1] // 4, :3] = 0
    a = pipeline.sketch(img, engine="xdog")
    b = pipeline.sketch(hidden, engine="xdog")
    np.testing.assert_array_equal(a[:, : img.shape[1] // 4 - 8], b[:, : img.shape[1] // 4 - 8])


def test_transparent_output_has_alpha_equal_to_ink(tiny_sketch_model):
    img = _picture()
    gray = pipeline.sketch(img, engine="xdog")
    out = pipeline.sketch(img, engine="xdog", transparent=True)
    assert out.shape == img.shape[:2] + (4,)
    assert (out[..., :3] == 0).all()  # black lines
    assert np.abs(out[..., 3].astype(int) - (255 - gray.astype(int))).max() <= 1
    assert (out[5, 5, 3] == 0) and out[..., 3].max() > 200  # paper fully transparent, ink opaque
    # with an alpha input, ink outside the picture's own shape is transparent too
    rgba = _with_alpha(img)
    out = pipeline.sketch(rgba, model=tiny_sketch_model, transparent=True)
    assert (out[:, : img.shape[1] // 4, 3] == 0).all()


def test_speck_removal(tiny_sketch_model):
    img = _picture()
    img[40, 110] = 0  # a single dark pixel on paper
    plain = pipeline.sketch(img, engine="xdog")
    cleaned = pipeline.sketch(img, engine="xdog", speck_size=30)
    assert plain[38:43, 108:113].min() < 128 and cleaned[38:43, 108:113].min() >= 128
    assert (cleaned[74:80, 20:100] < 128).any()  # the long stroke survives
    out = pipeline.sketch(img, model=tiny_sketch_model, speck_size=5)
    assert out.shape == img.shape[:2]


# ------------------------------------------------------------------------------------------ colorize, style


def test_colorize_returns_rgb(tiny_colorize_model):
    sketch = pipeline.sketch(_picture(), engine="xdog")
    out = pipeline.colorize(sketch, model=tiny_colorize_model, device="cpu")
    assert out.dtype == np.uint8 and out.shape == sketch.shape + (3,)
    assert out.std() > 0
    # a colour (or RGB-gray) input is grayed first: same result as the gray sketch
    np.testing.assert_array_equal(pipeline.colorize(np.dstack([sketch] * 3), model=tiny_colorize_model), out)
    rgba = pipeline.colorize(_with_alpha(np.dstack([sketch] * 3)), model=tiny_colorize_model)
    assert rgba.shape == sketch.shape + (4,)
    np.testing.assert_array_equal(rgba[..., 3], _with_alpha(_picture())[..., 3])


def test_style_returns_rgb(tiny_sketch_model, tiny_colorize_model):
    img = _picture()
    seen = []
    out = pipeline.style(
        img, sketch_model=tiny_sketch_model, color_model=tiny_colorize_model, progress=seen.append
    )
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(0.0 < f < 0.9 for f in seen)
    # the colours come from the picture itself, region by region (not from the colorize network)
    lines = pipeline.sketch(img, model=tiny_sketch_model)
    result = pipeline.style_result(img, sketch_model=tiny_sketch_model)
    np.testing.assert_array_equal(result.lines, lines)
    np.testing.assert_array_equal(out, result.rgb)
    via_xdog = pipeline.style(img, engine="xdog", color_model=tiny_colorize_model, transparent=True)
    assert via_xdog.shape == img.shape


def test_cancel_raises(tiny_sketch_model):
    with pytest.raises(Cancelled):
        pipeline.sketch(_picture(), model=tiny_sketch_model, cancel=lambda: True)


def test_wrong_task_model_is_refused(tiny_sketch_model, tiny_colorize_model):
    with pytest.raises(AniSketchError, match="is a colorize model"):
        pipeline.sketch(_picture(), model=tiny_colorize_model)
    engine = InferenceEngine(tiny_sketch_model, "cpu")
    with pytest.raises(AniSketchError, match="is a sketch model"):
        pipeline.colorize(_picture(), model=engine)
    assert pipeline.sketch(_picture(), model=engine).shape == (96, 128)


# ------------------------------------------------------------------------------------------------- registry


def test_no_model_installed_is_a_clear_error():
    with pytest.raises(ModelLoadError, match=r"No sketch model installed.*or use the XDoG filter") as info:
        models.default_model("sketch")
    assert "--" not in str(info.value) and info.value.fix == {"engine": "xdog", "model": "PATH"}  # the CLI's hint
    with pytest.raises(ModelLoadError, match="No sketch model installed"):
        pipeline.sketch(_picture())
    with pytest.raises(ModelLoadError, match=r"No colorize model installed.*choose a model file"):
        pipeline.colorize(_picture())
    assert models.list_models() == []


def test_user_model_is_listed_and_becomes_the_default(tiny_sketch_model, tiny_colorize_model):
    user = paths.user_models_dir()
    shutil.copy(tiny_sketch_model, user / "mine.safetensors")
    shutil.copy(tiny_colorize_model, user / "colours.safetensors")
    (user / "junk.safetensors").write_bytes(b"not a model")
    found = models.list_models("sketch")
    assert [(m.name, m.label, m.task, m.path.name, m.shipped) for m in found] == [
        ("mine", "tiny test model (yours)", "sketch", "mine.safetensors", False)
    ]
    assert {m.task for m in models.list_models()} == {"sketch", "colorize"}
    assert models.default_model("sketch") == user / "mine.safetensors"
    assert pipeline.sketch(_picture()).shape == (96, 128)


def test_shipped_model_wins(tiny_sketch_model, monkeypatch, tmp_path):
    resources = tmp_path / "res"
    (resources / "models").mkdir(parents=True)
    shutil.copy(tiny_sketch_model, resources / "models" / "sketch.safetensors")
    shutil.copy(tiny_sketch_model, paths.user_models_dir() / "mine.safetensors")
    monkeypatch.setenv("ANISKETCH_RESOURCES", str(resources))
    assert models.shipped_model_path("sketch") == resources / "models" / "sketch.safetensors"
    assert models.default_model("sketch") == resources / "models" / "sketch.safetensors"
    listed = models.list_models("sketch")
    assert [m.shipped for m in listed] == [True, False]
    # another shipped sketch model, newer on disk, still lists after the task's default (menus select the first)
    shutil.copy(tiny_sketch_model, resources / "models" / "a_sketch_hq.safetensors")
    os.utime(resources / "models" / "sketch.safetensors", (1_000_000, 1_000_000))
    assert [m.path.name for m in models.list_models("sketch")] == [
        "sketch.safetensors", "a_sketch_hq.safetensors", "mine.safetensors"]


def test_colorize_flat_fill_gives_closed_regions_one_colour(tiny_flats_model):
    import cv2

    model = tiny_flats_model
    lines = np.full((96, 128), 255, np.uint8)
    cv2.rectangle(lines, (20, 20), (100, 70), 0, 2)
    cv2.circle(lines, (60, 45), 12, 0, 2)
    out = pipeline.colorize(lines, model=model, device="cpu")
    plain = pipeline.colorize(lines, model=model, device="cpu", flats=False)
    ring = out[30:38, 75:95].reshape(-1, 3)  # inside the rectangle, outside the circle
    assert np.ptp(ring, axis=0).max() <= 1  # one flat colour
    assert np.ptp(plain[30:38, 75:95].reshape(-1, 3), axis=0).max() > 1  # the network alone varies
    assert out[20, 60].max() < 40  # the lines stay ink


def test_model_names_and_labels_are_unique(tiny_sketch_model, tiny_colorize_model, monkeypatch, tmp_path):
    """A user model named like a shipped one gets its own name and label; names pick models for --model."""
    resources = tmp_path / "res"
    (resources / "models").mkdir(parents=True)
    shutil.copy(tiny_sketch_model, resources / "models" / "sketch.safetensors")
    monkeypatch.setenv("ANISKETCH_RESOURCES", str(resources))
    user = paths.user_models_dir()
    shutil.copy(tiny_sketch_model, user / "sketch.safetensors")  # same stem and title as the shipped one
    shutil.copy(tiny_sketch_model, user / "sketch-yours.safetensors")  # ...and one named like its new name
    shutil.copy(tiny_colorize_model, user / "Mine.safetensors")
    listed = models.list_models()
    names = [m.name for m in listed]
    sketch_labels = [m.label for m in listed if m.task == "sketch"]
    assert len(set(n.casefold() for n in names)) == len(names) == 4
    assert len(set(sketch_labels)) == len(sketch_labels) == 3  # unique within a task (one menu)
    shipped = listed[0]
    assert (shipped.name, shipped.label, shipped.shipped) == ("sketch", "tiny test model", True)
    by_path = {m.path: m for m in listed}
    assert by_path[user / "sketch.safetensors"].name != "sketch"
    assert by_path[user / "sketch.safetensors"].label.startswith("tiny test model (yours)")
    for info in listed:  # every listed name resolves to its own file, whatever the case
        assert models.resolve_model(info.name, info.task) == info.path
        assert models.resolve_model(info.name.upper()) == info.path
    assert models.resolve_model(None, "sketch") == resources / "models" / "sketch.safetensors"
    assert models.resolve_model(str(tiny_sketch_model), "sketch") == tiny_sketch_model


def test_unknown_or_wrong_model_name_is_a_clear_error(tiny_sketch_model, tiny_colorize_model):
    shutil.copy(tiny_sketch_model, paths.user_models_dir() / "lines.safetensors")
    shutil.copy(tiny_colorize_model, paths.user_models_dir() / "paint.safetensors")
    with pytest.raises(ModelLoadError, match=r"No model named 'nope'. Installed sketch models: lines\."):
        models.resolve_model("nope", "sketch")
    with pytest.raises(ModelLoadError, match=r"paint is a colorize model; this needs a sketch model"):
        models.resolve_model("paint", "sketch")
    with pytest.raises(ModelLoadError, match=r"Model file not found: .*missing.safetensors"):
        models.resolve_model("missing.safetensors", "sketch")
    out = pipeline.sketch(_picture(), model="lines", device="cpu")  # the pipeline takes names too
    assert np.array_equal(out, pipeline.sketch(_picture(), model=tiny_sketch_model, device="cpu"))
