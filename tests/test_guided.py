"""ColorizeSession (prepare once, render per hint change), the layered PSD, the style change."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anisketch_desktop.core import pipeline
from anisketch_desktop.core.errors import Cancelled, OutputExistsError
from anisketch_desktop.core.guided import ColorizeResult, ColorizeSession, compose, style_hints
from anisketch_desktop.core.hints import HintPoint, Hints
from anisketch_desktop.core.psd import write_layers_psd

RED, BLUE = (220, 30, 40), (30, 60, 220)


def _lines() -> np.ndarray:
    lines = np.full((120, 160), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (80, 110), 0, 2)
    cv2.circle(lines, (120, 60), 30, 0, 2)
    return lines


def test_render_fills_hinted_regions_and_multiplies_the_lines(tiny_flats_model):
    session = ColorizeSession(_lines(), model=tiny_flats_model, device="cpu")
    seen = []
    session.prepare(progress=seen.append)
    assert seen[-1] == 1.0 and session.prepared
    result = session.render(Hints(points=(HintPoint(40, 60, RED), HintPoint(120, 60, BLUE))))
    assert isinstance(result, ColorizeResult) and result.shading is None
    assert (result.flats[30:90, 20:70] == RED).all() and (result.flats[50:70, 110:130] == BLUE).all()
    assert (result.rgb[60, 40] == RED).all()  # paper: the colour as is
    assert result.rgb[10, 40].max() < 10 and result.flats[10, 40].max() > 0  # ink in the picture, not in flats
    np.testing.assert_array_equal(result.lines, _lines())
    np.testing.assert_array_equal(result.rgb, compose(result.flats, result.lines))
    plain = session.render(None)  # no hints: the proposal, and the cached regions are reused
    assert not (plain.flats[30:90, 20:70] == RED).all()
    assert np.ptp(plain.flats[30:90, 20:70].reshape(-1, 3), axis=0).max() == 0  # one flat colour


def test_soft_adds_a_shading_layer_and_no_flats_keeps_variation(tiny_flats_model):
    session = ColorizeSession(_lines(), model=tiny_flats_model, device="cpu")
    soft = session.render(Hints(points=(HintPoint(40, 60, RED),)), soft=True)
    assert soft.shading is not None and soft.shading.shape == (120, 160, 3)
    np.testing.assert_array_equal(soft.rgb, compose(soft.flats, soft.lines, soft.shading))
    varied = session.render(None, flat=False)
    assert np.ptp(varied.flats[30:90, 20:70].reshape(-1, 3), axis=0).max() > 0


def test_render_cancels(tiny_flats_model):
    session = ColorizeSession(_lines(), model=tiny_flats_model, device="cpu")
    with pytest.raises(Cancelled):
        session.prepare(cancel=lambda: True)
    session.prepare()
    with pytest.raises(Cancelled):
        session.render(None, cancel=lambda: True)


def test_psd_has_named_layers_and_composites_to_the_png(tmp_path, tiny_flats_model):
    from psd_tools import PSDImage
    from psd_tools.constants import BlendMode

    session = ColorizeSession(_lines(), model=tiny_flats_model, device="cpu")
    for soft in (False, True):
        result = session.render(Hints(points=(HintPoint(40, 60, RED),)), soft=soft)
        path = write_layers_psd(tmp_path / f"page{soft}.psd", result)
        psd = PSDImage.open(path)
        names = [layer.name for layer in psd]
        assert names == (["flats", "shading", "lines"] if soft else ["flats", "lines"])
        layers = {layer.name: layer for layer in psd}
        assert layers["lines"].blend_mode == BlendMode.MULTIPLY
        np.testing.assert_array_equal(np.asarray(layers["flats"].topil().convert("RGB")), result.flats)
        lines = np.asarray(layers["lines"].topil())
        assert lines.shape == (120, 160, 4) and lines[60, 40, 3] == 0 and lines[10, 40, 3] == 255  # paper: clear
        merged = np.asarray(psd.composite(force=True).convert("RGB")).astype(int)  # from the layers
        assert np.abs(merged - result.rgb).max() <= 1
        stored = np.asarray(psd.composite().convert("RGB"))  # the merged image viewers show
        np.testing.assert_array_equal(stored, result.rgb)
        assert not layers["lines"].has_mask()
    with pytest.raises(OutputExistsError):
        write_layers_psd(tmp_path / "pageFalse.psd", result)
    assert sorted(p.name for p in tmp_path.glob("*psd*")) == ["pageFalse.psd", "pageTrue.psd"]  # no temporary files


def test_style_keeps_size_and_stays_close_to_the_source(tiny_sketch_model):
    from training.color_metrics import colorfulness, psnr

    rng = np.random.default_rng(0)
    source = np.zeros((90, 140, 3), np.uint8)
    source[:] = (240, 230, 200)
    cv2.rectangle(source, (10, 10), (60, 80), (200, 40, 50), -1)
    cv2.circle(source, (100, 45), 25, (40, 90, 200), -1)
    source = np.clip(source + rng.normal(0, 4, source.shape), 0, 255).astype(np.uint8)
    result = pipeline.style_result(source, engine="xdog")
    assert result.rgb.shape == source.shape
    assert psnr(result.rgb, source) >= 17
    assert colorfulness(result.rgb) >= 0.7 * colorfulness(source)
    assert (result.lines < 128).mean() > 0.01  # visible line art
    assert np.abs(result.flats[45, 35].astype(int) - (200, 40, 50)).max() <= 12  # the region's own colour
    out = pipeline.style(source, sketch_model=tiny_sketch_model)
    assert out.shape == source.shape and out.dtype == np.uint8


def test_style_hints_give_one_hint_per_region_with_the_pictures_colour():
    lines = _lines()
    picture = np.full((120, 160, 3), 250, np.uint8)
    picture[12:109, 12:79] = RED
    hints = style_hints(picture, lines)
    inside = [p for p in hints.points if 12 <= p.x < 79 and 12 <= p.y < 109]
    assert len(inside) == 1 and inside[0].color == RED
    assert len(hints.points) == 3  # box, circle, page


def test_a_hint_network_is_rerun_per_new_hints_and_quick_renders_skip_it(monkeypatch):
    """With a proposal that reads hints (a stand-in network here), new hints redraw it once; the same hints
    and ``quick`` renders reuse the latest one."""
    from anisketch_desktop.core import proposer

    calls = []

    def network(lines, hints=None, **_kw):
        calls.append(hints)
        colour = (0.5, 0.5, 0.5) if hints is None else tuple(c / 255 for c in hints.points[0].color)
        return np.broadcast_to(np.array(colour, np.float32), lines.shape + (3,)).copy()

    monkeypatch.setattr(proposer, "hint_network", lambda: network)
    monkeypatch.setattr(proposer, "takes_hints", lambda model: True)
    session = ColorizeSession(_lines(), device="cpu")
    session.prepare()
    assert session.follows_hints and calls == [None]
    first = Hints(points=(HintPoint(40, 60, RED),))
    out = session.render(first)
    assert len(calls) == 2 and (out.flats[60, 120] == RED).all()  # the unhinted circle follows the network
    session.render(first, soft=True)
    assert len(calls) == 2  # same hints: the proposal is reused
    second = Hints(points=(HintPoint(40, 60, BLUE),))
    quick = session.render(second, quick=True)
    assert len(calls) == 2 and (quick.flats[60, 40] == BLUE).all()
    circle = quick.flats[60, 120].astype(int)  # the old proposal, pulled towards the new hint by the fill
    assert np.abs(circle - BLUE).sum() < np.abs(circle - RED).sum()
    full = session.render(second)
    assert len(calls) == 3 and (full.flats[60, 120] == BLUE).all()


def test_colorize_keeps_a_pictures_alpha_but_fills_a_line_layer_whose_ink_is_alpha(tiny_flats_model):
    lines = _lines()
    layer = np.zeros(lines.shape + (4,), np.uint8)  # a Krita/CSP line layer: black ink, alpha = ink
    layer[..., 3] = 255 - lines
    out = pipeline.colorize(layer, model=tiny_flats_model, device="cpu")
    assert out.shape == (120, 160, 3)  # opaque: the colours fill the page
    assert out[10, 40].max() < 10 and out[60, 40].min() > 0  # ink where the layer's alpha was, colour elsewhere
    picture = np.dstack([np.dstack([lines] * 3), np.full(lines.shape, 255, np.uint8)])
    picture[:, :20, 3] = 0  # a picture with a transparent margin keeps it
    kept = pipeline.colorize(picture, model=tiny_flats_model, device="cpu")
    assert kept.shape == (120, 160, 4) and (kept[:, :20, 3] == 0).all() and (kept[:, 30:, 3] == 255).all()
