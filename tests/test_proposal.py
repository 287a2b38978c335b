"""The hint-conditioned colour proposal: model config, hint planes, engine, propose_colors, hint sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anisketch_desktop.core import proposal
from anisketch_desktop.core.errors import AniSketchError, Cancelled


@pytest.fixture
def tiny_hint_model(tmp_path):
    from anisketch_desktop.core.unet_model import UNetConfig
    from tests.conftest import _tiny_model

    config = UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True, hint_channels=4,
                                 work_megapixels=0.01)
    return _tiny_model(tmp_path / "tiny_hints.safetensors", config)


def _lines(h=120, w=160):
    lines = np.ones((h, w), np.float32)
    lines[:, w // 2 - 1 : w // 2 + 1] = 0.0  # two regions: left and right of a vertical line
    return lines


def test_old_config_without_hint_keys_still_loads():
    from anisketch_desktop.core.unet_model import UNetConfig

    old = json.loads(UNetConfig.colorize(base_channels=4, depth=2).to_json())
    del old["hint_channels"], old["work_megapixels"]
    cfg = UNetConfig.from_json(json.dumps(old))
    assert cfg.in_channels == 1 and cfg.hint_channels == 0 and cfg.line_channels == 1


def test_hint_config_is_self_describing():
    from anisketch_desktop.core.unet_model import UNetConfig

    cfg = UNetConfig.colorize(base_channels=4, depth=2, hint_channels=4, work_megapixels=0.3)
    assert (cfg.in_channels, cfg.line_channels) == (5, 1)
    assert UNetConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError):
        UNetConfig.sketch(hint_channels=4)


def test_multiply_uses_only_the_line_channel():
    import torch

    from anisketch_desktop.core.unet_model import UNet, UNetConfig

    model = UNet(UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True, hint_channels=4)).eval()
    x = torch.ones(1, 5, 32, 32)
    x[:, 0, :, 10] = 0.0  # a black line
    x[:, 1:4] = 0.0
    with torch.no_grad():
        out = model.predict(x)
    assert out.shape == (1, 3, 32, 32)
    assert float(out[0, :, :, 10].max()) < 0.02  # ink is black whatever the colour layer
    assert float(out[0, :, :, 20].mean()) > 0.05


def test_draw_hints_dots_and_strokes():
    rgb, mask = proposal.draw_hints((40, 60), points=[(10, 20, (255, 0, 0))],
                                    strokes=[([(30, 5), (50, 5)], (0, 0, 255), 3.0)], radius=1.0)
    assert mask[20, 10] == 1 and tuple(rgb[20, 10]) == (1.0, 0.0, 0.0)
    assert mask[20, 13] == 0 and mask[30, 10] == 0
    assert mask[5, 40] == 1 and tuple(rgb[5, 40]) == (0.0, 0.0, 1.0)
    assert mask[:, 40].sum() <= 5 and mask[:, 10].sum() == 3  # a stroke of width ~3, a dot of radius 1


def test_spread_hints_give_every_pixel_its_nearest_hint_and_a_falling_confidence():
    rgb, mask = proposal.draw_hints((40, 60), points=[(5, 20, (255, 0, 0)), (55, 20, (0, 0, 255))], radius=1.0)
    dots_rgb, dots_mask = proposal.encode_hints(rgb, mask, "dots")
    np.testing.assert_array_equal(dots_mask, mask)
    spread, confidence = proposal.encode_hints(rgb, mask, "spread", reach=10.0)
    assert tuple(spread[0, 0]) == (1.0, 0.0, 0.0) and tuple(spread[39, 59]) == (0.0, 0.0, 1.0)
    assert tuple(spread[20, 25]) == (1.0, 0.0, 0.0) and tuple(spread[20, 35]) == (0.0, 0.0, 1.0)
    assert confidence[20, 5] == 1.0 and abs(confidence[20, 15] - np.exp(-0.9)) < 0.01  # 9 px from the dot's edge
    assert confidence[20, 5] > confidence[20, 15] > confidence[20, 25] > 0.0
    none_rgb, none_conf = proposal.encode_hints(np.zeros_like(rgb), np.zeros_like(mask), "spread")
    assert not none_rgb.any() and not none_conf.any()
    with pytest.raises(AniSketchError):
        proposal.encode_hints(rgb, mask, "blobs")


def test_region_hints_are_sure_inside_the_hinted_region_only():
    lines = np.ones((40, 60), np.float32)
    lines[:, 30] = 0.0  # a line cuts the page in two
    rgb, mask = proposal.draw_hints((40, 60), points=[(10, 20, (255, 0, 0))], radius=1.0)
    colour, confidence = proposal.encode_hints(rgb, mask, "regions", reach=10.0, lines=lines)
    assert tuple(colour[5, 55]) == (1.0, 0.0, 0.0)  # the nearest hint's colour everywhere
    assert confidence[0, 0] == 1.0 and confidence[39, 29] == 1.0  # the whole left region, far from the dot
    assert 0.0 < confidence[20, 31] <= 0.5 and confidence[20, 59] < confidence[20, 31]  # across the line: a guess
    with pytest.raises(AniSketchError):
        proposal.encode_hints(rgb, mask, "regions")  # needs the lines


def test_hint_planes_scale_to_the_working_size():
    from training.hint_eval import as_hints

    hints = as_hints([(399.0, 0.0, (0, 255, 0))])
    rgb, mask = proposal.hint_planes(hints, (200, 400), (100, 200))
    ys, xs = np.nonzero(mask)
    assert xs.max() == 199 and ys.min() == 0 and np.allclose(rgb[ys, xs], (0, 1, 0))


def test_working_shape():
    assert proposal.working_shape(1000, 1000, 0.25, 32) == (512, 512)
    assert proposal.working_shape(100, 60, 0.3, 32) == (96, 64)  # small pictures are not enlarged


def test_engine_pads_empty_hints_for_a_gray_picture(tiny_hint_model):
    from anisketch_desktop.core.engine import InferenceEngine

    eng = InferenceEngine(tiny_hint_model, "cpu")
    gray = _lines()[..., None]
    plain = eng.run(gray)
    explicit = eng.run(np.dstack([gray, np.zeros(gray.shape[:2] + (4,), np.float32)]))
    assert plain.shape == (120, 160, 3)
    np.testing.assert_allclose(plain, explicit, atol=1e-6)


def test_propose_colors_shape_hints_and_cancel(tiny_hint_model):
    from training.hint_eval import as_hints

    lines = _lines()
    none = proposal.propose_colors(lines, model=tiny_hint_model, device="cpu")
    assert none.shape == (120, 160, 3) and none.dtype == np.float32
    assert 0.0 <= none.min() and none.max() <= 1.0
    hints = as_hints([(x, y, (255, 0, 0)) for x in range(10, 70, 6) for y in range(10, 110, 6)])
    hinted = proposal.propose_colors(lines, hints, model=tiny_hint_model, device="cpu")
    assert np.abs(hinted - none).max() > 1e-4  # the network reads the hint planes (random weights: a small effect)
    with pytest.raises(Cancelled):
        proposal.propose_colors(lines, model=tiny_hint_model, device="cpu", cancel=lambda: True)
    with pytest.raises(AniSketchError):
        proposal.propose_colors(np.zeros((0, 0), np.float32), model=tiny_hint_model, device="cpu")


def test_propose_colors_with_a_model_without_hint_inputs(tiny_flats_model):
    from training.hint_eval import as_hints

    out = proposal.propose_colors(_lines(), as_hints([(40, 60, (255, 0, 0))]), model=tiny_flats_model,
                                  device="cpu")
    assert out.shape == (120, 160, 3)


def test_claimed_hints_paint_only_the_hinted_region():
    lines = np.ones((40, 60), np.float32)
    lines[:, 30] = 0.0
    rgb, mask = proposal.draw_hints((40, 60), points=[(10, 20, (255, 0, 0))], radius=1.0)
    colour, confidence = proposal.encode_hints(rgb, mask, "claimed", lines=lines)
    assert tuple(colour[39, 0]) == (1.0, 0.0, 0.0) and confidence[39, 0] == 1.0  # the whole left region
    assert not colour[:, 30:].any() and not confidence[:, 30:].any()  # nothing crosses the line
    none = proposal.encode_hints(*proposal.draw_hints((40, 60)), "claimed", lines=lines)
    assert not none[0].any() and not none[1].any()


def test_hint_sampler_weighs_down_the_claimed_regions():
    from training.data import Sample
    from training.hint_sampler import HintPatchSampler

    lines = np.full((96, 96), 255, np.uint8)
    lines[:, 47:49] = 0
    colour = np.zeros((96, 96, 3), np.uint8)
    colour[:, :48], colour[:, 48:] = (200, 60, 60), (60, 60, 200)
    sample = Sample("two", colour, lines)
    plain = HintPatchSampler([sample], "colorize", crop=64, scale=(1.0, 1.0), photometric=0.0, levels=False,
                             hints={"p_none": 0.0}, encoding="claimed")
    assert plain.batch(0, 2)[1].shape == (2, 3, 64, 64)
    weighted = HintPatchSampler([sample], "colorize", crop=64, scale=(1.0, 1.0), photometric=0.0, levels=False,
                                hints={"p_none": 0.0, "claimed_weight": 0.25, "max_points": 1, "p_strokes": 0.0},
                                encoding="claimed")
    x, y = weighted.batch(0, 4)
    assert y.shape == (4, 4, 64, 64)
    for xi, yi in zip(x, y, strict=True):  # weight 0.25 exactly where the input paints a claimed region
        assert set(np.unique(yi[3]).tolist()) <= {0.25, 1.0}
        assert np.array_equal(yi[3] == 0.25, xi[4] == 1.0) and (yi[3] == 0.25).any()


def test_colorize_loss_weight_ignores_what_it_weighs_to_zero():
    import torch

    from training import losses

    torch.manual_seed(0)
    from anisketch_desktop.core import color

    raw = (torch.randn(1, 1, 32, 32), torch.randn(1, len(color.bin_centers()), 16, 16))
    target = torch.rand(1, 3, 32, 32)
    ones = torch.ones(1, 1, 32, 32)
    assert torch.allclose(losses.colorize_loss(raw, target, weight=ones)[0], losses.colorize_loss(raw, target)[0])
    half = ones.clone()
    half[..., 16:] = 0.0
    other = target.clone()
    other[..., 16:] = 1.0 - other[..., 16:]  # change only what weight 0 hides
    a = losses.colorize_loss(raw, target, weight=half)[0]
    assert torch.allclose(a, losses.colorize_loss(raw, other, weight=half)[0])
    assert not torch.allclose(a, losses.colorize_loss(raw, other)[0])


def test_sampled_hints_keep_away_from_lines_and_take_true_colours():
    from training.hint_sampler import HintSpec, away_from_lines, sample_hints

    rng = np.random.default_rng(1)
    lines = np.full((64, 64), 255, np.uint8)
    lines[:, 30:33] = 0
    truth = np.zeros((64, 64, 3), np.uint8)
    truth[:, :32] = (200, 40, 40)
    truth[:, 32:] = (40, 40, 200)
    ok = away_from_lines(lines, 2)
    assert not ok[:, 28:35].any() and ok[:, :27].all()
    for _ in range(20):
        points, strokes = sample_hints(rng, truth, lines, HintSpec(p_none=0.0, p_strokes=1.0))
        assert points
        for x, y, c in points:
            assert ok[int(y), int(x)]
            assert c == ((200, 40, 40) if x < 30 else (40, 40, 200))
        for pts, _c, _w in strokes:  # strokes never cross the line into the other colour
            xs = [p[0] for p in pts]
            assert max(xs) < 30 or min(xs) > 32
    points, _ = sample_hints(rng, truth, lines, count=24)
    assert len(points) == 24


def test_voronoi_and_region_hints():
    from training.hint_eval import region_hints, voronoi_fill

    fill = voronoi_fill((10, 20), [(2, 5, (255, 0, 0)), (17, 5, (0, 0, 255))])
    assert tuple(fill[5, 0]) == (255, 0, 0) and tuple(fill[5, 19]) == (0, 0, 255)
    flat = np.zeros((40, 60, 3), np.uint8)
    flat[:, :30] = (10, 200, 10)
    flat[:, 30:] = (250, 250, 250)
    lines = np.full((40, 60), 255, np.uint8)
    lines[:, 29:31] = 0
    pts = region_hints(flat, lines, min_area=16)
    assert sorted(c for _, _, c in pts) == [(10, 200, 10), (250, 250, 250)]


def test_a_colorize_model_starts_a_hint_model_exactly():
    import torch

    from anisketch_desktop.core.unet_model import UNet, UNetConfig
    from training.loop import _init_weights

    torch.manual_seed(0)
    old = UNet(UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True)).eval()
    new = UNet(UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True, hint_channels=4)).eval()
    import tempfile
    from pathlib import Path

    from anisketch_desktop.core.model_io import save_model

    with tempfile.TemporaryDirectory() as tmp:
        path = save_model(old, Path(tmp) / "old.safetensors", half=False)
        _init_weights(new, str(path))
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        a = old.predict(x)
        b = new.predict(torch.cat([x, torch.zeros(1, 4, 32, 32)], 1))
    torch.testing.assert_close(a, b)


def test_evaluate_hints_scores_the_pipeline_and_the_baselines(tiny_hint_model, tmp_path):
    from training.data import Sample
    from training.evaluate_hints import run

    lines = np.full((96, 128), 255, np.uint8)
    lines[:, 62:66] = 0
    flat = np.zeros((96, 128, 3), np.uint8)
    flat[:, :64] = (200, 60, 60)
    flat[:, 64:] = (60, 60, 200)
    truth = np.round(flat * (lines[..., None] / 255.0)).astype(np.uint8)
    s = Sample("two.png", truth, lines, truth=lines, flat=flat, truth_color=truth)
    grid = tmp_path / "grid.png"
    res = run([s], str(tiny_hint_model), None, count=24, grid=str(grid))
    per = res["per_picture"][0]
    assert per["region_hints"] == 2
    # one hint per region: the hint fill gives each side its true colour
    assert res["one hint per flat region"]["within_de10"] > 0.9
    assert per["psnr_hints"] > 30 and per["psnr_hints"] > per["psnr_voronoi"] + 5  # Voronoi crosses the line
    assert grid.is_file()


def test_the_shipped_colorize_model_is_a_hint_model_and_proposes_colours():
    from anisketch_desktop.core.model_io import load_model
    from anisketch_desktop.core.models import shipped_model_path

    path = shipped_model_path("colorize")
    model, meta = load_model(path)
    assert model.config.hint_channels == 4 and model.config.work_megapixels == 0.2
    assert proposal.default_proposal_model() == path
    lines = _lines(240, 320)
    out = proposal.propose_colors(lines, device="cpu")
    assert out.shape == (240, 320, 3)
    assert 0.3 < out.mean() < 1.0 and np.isfinite(out).all()  # a colour layer (paper light), not black or blank
