"""Line art v2 training data and yardsticks: the artists' line layers (repainted), solid ink, the harder split."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training import augment, flats_data, solid_ink
from training.data import PatchSampler, clean_sketch


def _set(rng: np.random.Generator, size=(200, 240)):
    h, w = size
    flat = np.full((h, w, 3), 255, np.uint8)
    line = np.full((h, w), 255, np.uint8)
    for _ in range(5):
        c = tuple(int(v) for v in rng.integers(60, 250, 3))
        center, r = (int(rng.integers(30, w - 30)), int(rng.integers(30, h - 30))), int(rng.integers(15, 45))
        cv2.circle(flat, center, r, c, -1)
        cv2.circle(line, center, r, 0, 2)
    cv2.circle(line, (40, 40), 18, 0, -1)  # a filled pupil: solid ink
    color = flat.copy()
    color[line < 128] = 20
    return line, flat, color


@pytest.fixture
def flats_dir(tmp_path):
    root = tmp_path / "flats"
    for sub in ("line", "flat", "color"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(3)
    rows = ["name\tsource\tseries\twidth\theight\thas_flat\thas_shadow\tcolor_kind"]
    for name, series in (("a1", "D4"), ("a2", "D4"), ("b1", "M1"), ("c1", "smuist_0008")):
        line, flat, color = _set(rng)
        cv2.imwrite(str(root / "line" / f"{name}.png"), line)
        cv2.imwrite(str(root / "flat" / f"{name}.png"), flat[..., ::-1])
        cv2.imwrite(str(root / "color" / f"{name}.jpg"), color[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        rows.append(f"{name}\tsrc\t{series}\t240\t200\t1\t0\tcomposite")
    (root / "sets.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_series_stay_on_one_side(flats_dir):
    train, val = flats_data.split_names(flats_dir)
    assert train == ["a1", "a2"] and val == ["b1", "c1"]
    s = flats_data.load_set(flats_dir, "a1")
    assert s.flat.shape == s.color.shape and s.truth.shape == s.sketch.shape == s.color.shape[:2]
    assert np.array_equal(s.sketch, clean_sketch(s.truth))


def test_repaint_keeps_the_lines_where_the_artist_drew_them(flats_dir):
    s = flats_data.load_set(flats_dir, "a1")
    ink = s.truth < 128
    near = cv2.dilate(ink.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & ~ink
    kinds = set()
    for seed in range(40):
        out = flats_data.repaint(np.random.default_rng(seed), s.flat, s.truth, s.color)
        assert out.shape == s.color.shape and out.dtype == np.uint8
        if out is s.color:
            kinds.add("composite")
            continue
        gray = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
        assert gray[ink].mean() < gray[near].mean()  # lines stay darker than what is beside them
        kinds.add("repainted")
        assert not np.array_equal(out, s.color)
    assert kinds == {"composite", "repainted"}
    a = flats_data.repaint(np.random.default_rng(5), s.flat, s.truth, s.color)
    assert np.array_equal(a, flats_data.repaint(np.random.default_rng(5), s.flat, s.truth, s.color))


def test_sampler_repaints_flats_and_stamps_solid_ink(flats_dir):
    sets = flats_data.load_sets(flats_dir, ["a1", "a2"])
    sampler = PatchSampler(sets, "sketch", crop=128, photometric=0.0, levels=False, seed=1, solid_ink=1.0)
    x, y = sampler.batch(0, 6)
    assert x.shape == (6, 3, 128, 128) and y.shape == (6, 1, 128, 128)
    # every example got a stamp: a patch of target ink at least 9 px wide
    assert all(solid_ink.fill_interior(y[i, 0] < 0.5).any() for i in range(6))
    plain = PatchSampler(sets, "sketch", crop=128, photometric=0.0, levels=False, seed=1, solid_ink=0.0)
    _x, y0 = plain.batch(0, 6)
    assert (y < 0.5).sum() > (y0 < 0.5).sum()


def test_darken_flats_makes_main_colours_dark_but_not_ink_black(flats_dir):
    s = flats_data.load_set(flats_dir, "a1")
    lum = np.array([0.299, 0.587, 0.114])
    paper = s.flat.min(axis=2) >= 250
    changed_any = False
    for seed in range(8):
        out = flats_data.darken_flats(np.random.default_rng(seed), s.flat)
        assert out.shape == s.flat.shape and out.dtype == np.uint8
        assert np.array_equal(out[paper], s.flat[paper])  # the paper stays paper
        changed = np.abs(out.astype(int) - s.flat.astype(int)).max(axis=2) > 0
        if changed.any():
            changed_any = True
            y = out[changed].astype(float) @ lum / 255.0
            assert 0.07 < np.median(y) < 0.4  # dark paint, lighter than black ink
            assert (out[changed].astype(int) <= s.flat[changed].astype(int)).all()  # only ever darker
    assert changed_any
    # with the sampler's option on, the target is still the artist's line layer (a 200 px window of it)
    sets = flats_data.load_sets(flats_dir, ["a1"])
    kw = {"crop": 200, "scale": (1.0, 1.0), "photometric": 0.0, "levels": False, "seed": 2}
    _x, yd = PatchSampler(sets, "sketch", dark_flats=1.0, **kw).batch(0, 8)
    line = s.sketch.astype(np.float32) / 255.0
    windows = [line[:, x : x + 200] for x in range(line.shape[1] - 199)]
    windows += [w[:, ::-1] for w in windows]
    assert all(any(np.array_equal(y[0], w) for w in windows) for y in yd)


def test_resample_share_blurs_more_inputs_like_enlarged_small_pictures():
    img = np.full((96, 96, 3), 235, np.uint8)
    img[:, ::4] = 20  # 1-px lines: what an enlarged small picture loses

    def sharpness(resample: float) -> float:
        outs = [augment.photometric(np.random.default_rng(i), img, 1.0, resample) for i in range(40)]
        return float(np.mean([np.abs(np.diff(o.astype(float), axis=1)).mean() / max(1.0, np.ptp(o)) for o in outs]))

    assert sharpness(0.85) < 0.8 * sharpness(0.0)
    assert sharpness(0.15) > sharpness(0.85)


def test_dark_paint_is_outlined_not_filled():
    rng = np.random.default_rng(4)
    for _ in range(10):
        color = np.full((128, 128, 3), 230, np.uint8)
        sketch = np.full((128, 128), 255, np.uint8)
        solid_ink.dark_paint(rng, color, sketch)
        painted = (color.max(axis=2) < 200) & (sketch == 255)  # dark paint that the target leaves as paper
        assert painted.sum() > 200
        assert color[painted].mean() > 0.12 * 255  # darker than the paper, lighter than ink
        assert (sketch == 0).any() and (sketch[sketch == 0].size < painted.sum())  # only an outline is ink
        assert not solid_ink.fill_interior(sketch < 128).any()


def test_solid_ink_score_tells_filled_from_hollow():
    ink = np.zeros((120, 160), bool)
    cv2.circle(ink.view(np.uint8), (60, 60), 30, 1, -1)
    cv2.line(ink.view(np.uint8), (100, 10), (150, 110), 1, 2)  # a line is not a fill
    interior = solid_ink.fill_interior(ink)
    assert interior[60, 60] and not interior[60, 125] and not interior[60, 31]
    filled = np.where(ink, 0, 255).astype(np.uint8)
    hollow = np.full((120, 160), 255, np.uint8)
    cv2.circle(hollow, (60, 60), 30, 0, 3)
    assert solid_ink.solid_ink_score(filled, interior) == 1.0
    assert solid_ink.solid_ink_score(hollow, interior) < 0.05
    assert solid_ink.solid_ink_score(hollow, np.zeros_like(interior)) is None
    cases = solid_ink.synthetic_cases([np.full((200, 300, 3), 200, np.uint8)], per_picture=2)
    assert len(cases) == 2 and all(c[2].sum() > 100 and (c[1][c[2]] < 60).all() for c in cases)


def test_hard_evaluation_reports_per_picture_and_solid_ink(flats_dir, tmp_path, tiny_sketch_model):
    from training import evaluate_hard

    res = evaluate_hard.evaluate_hard(str(tmp_path / "no_pairs"), str(flats_dir), [str(tiny_sketch_model)],
                                      groups=("flats", "painted"), figure=str(tmp_path / "fig.png"),
                                      solid_figure=str(tmp_path / "solid.png"))
    assert res["pictures"] == ["flats/b1", "flats/c1", "painted/b1~painted", "painted/c1~painted"]
    assert res["best_fixed_preset"].startswith("xdog:")
    row = res["methods"]["tiny_sketch"]
    assert set(row) >= {"f1", "f1_flats", "f1_painted", "solid_real", "solid_synthetic", "wins_vs_best_preset",
                        "wins_vs_auto"}
    assert row["wins_vs_auto"].endswith("/4")
    assert len(res["f1_each"]["xdog:auto"]) == 4 and res["solid_real_pictures"]
    xdog = res["methods"][res["best_fixed_preset"]]
    assert xdog["f1_flats"] > 0.5  # XDoG finds drawn lines on flat colours
    assert cv2.imread(str(tmp_path / "fig.png")) is not None
    solid = cv2.imread(str(tmp_path / "solid.png"))
    assert solid is not None and solid.shape[0] == 6 * (320 + 4)  # 3 synthetic + 3 real rows
    assert "| tiny_sketch |" in evaluate_hard.table(res)


def test_hard_results_go_into_the_model_card(tmp_path):
    from training import evaluate_hard

    res = {"pictures": ["flats/a", "painted/a~painted"], "best_fixed_preset": "xdog:default",
           "f1_each": {"xdog:default": [0.9, 0.5], "xdog:auto": [0.8, 0.6], "m": [0.95, 0.7]},
           "methods": {"xdog:default": {"f1": 0.7, "f1_flats": 0.9, "f1_painted": 0.5},
                       "xdog:auto": {"f1": 0.7, "f1_flats": 0.8, "f1_painted": 0.6, "solid_synthetic": 0.0},
                       "m": {"f1": 0.825, "f1_flats": 0.95, "f1_painted": 0.7, "solid_synthetic": 0.5,
                             "wins_vs_best_preset": "2/2", "wins_vs_auto": "2/2"},
                       "other": {"f1": 0.1, "f1_flats": 0.1, "f1_painted": 0.1}}}
    card = tmp_path / "m.md"
    card.write_text("# m\n\n## Notes\n\nnotes\n\n## Limits\n\nlimits\n")
    for _ in range(2):  # replaced, not repeated
        evaluate_hard.add_to_card(card, res, "m")
    text = card.read_text()
    assert text.count(evaluate_hard.HARD_HEADER) == 1 and text.index("## Harder split") < text.index("## Notes")
    assert "| m | 0.8250 |" in text and "| painted/a~painted | 0.500 | 0.600 | 0.700 |" in text
    assert "| other |" not in text  # only XDoG and the card's own model


def test_damaged_pictures_are_scored_against_the_artists_line_art(flats_dir, tmp_path, tiny_sketch_model):
    from training import evaluate, evaluate_damaged, evaluate_hard

    kw = {"groups": ("flats", "painted")}
    res = evaluate_damaged.evaluate_damaged(str(tmp_path / "no_pairs"), str(flats_dir), [str(tiny_sketch_model)],
                                            cache_path=str(tmp_path / "cache.json"), **kw)
    assert res["pictures"] == ["flats/b1", "flats/c1", "painted/b1~painted", "painted/c1~painted"]
    assert res["damages"][0] == "clean" and "jpeg q30" in res["damages"] and len(res["damages"]) == 8
    assert set(res["f1_each"]) == {"xdog:auto", "tiny_sketch"}
    auto = res["f1_each"]["xdog:auto"]
    # clean: the harder split's own figures; damaged copies score otherwise (noise hides XDoG's thin lines)
    hard = evaluate_hard.evaluate_hard(str(tmp_path / "no_pairs"), str(flats_dir), [str(tiny_sketch_model)], **kw)
    assert auto["clean"] == hard["f1_each"]["xdog:auto"]
    assert auto["noise s8"] != auto["clean"] and auto["half res"] != auto["clean"]
    assert res["methods"]["xdog:auto"]["clean"] == pytest.approx(np.mean(auto["clean"]), abs=1e-4)
    assert res["first"] == "tiny_sketch" and all(w.endswith("/4") for w in res["wins"]["xdog:auto"].values())
    assert "| tiny_sketch ahead of xdog:auto |" in evaluate_damaged.table(res)
    out = tmp_path / "damaged.json"  # the command, from the cache
    assert evaluate.main(["--damaged", "--pairs", str(tmp_path / "no_pairs"), "--flats", str(flats_dir),
                          "--groups", "flats", "painted", "--sketch", str(tiny_sketch_model),
                          "--cache", str(tmp_path / "cache.json"), "--json", str(out)]) == 0
    import json

    assert json.loads(out.read_text())["damaged"]["f1_each"] == json.loads(json.dumps(res["f1_each"]))
