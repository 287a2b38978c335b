"""Regions of line art and the hint fill: a hint's colour fills its region and stops at the lines."""

from __future__ import annotations

import cv2
import numpy as np

from anisketch_desktop.core import fill, palette
from anisketch_desktop.core.hints import HintPoint, Hints, HintStroke
from anisketch_desktop.core.regions import cut_regions, region_means

RED, BLUE, GREEN = (220, 30, 40), (30, 60, 220), (20, 200, 60)


def _page() -> np.ndarray:
    """200x300 page: a box (left) with a small closed cell inside, a circle (right), a 4 px gap in the box."""
    lines = np.ones((200, 300), np.float32)
    cv2.rectangle(lines, (20, 20), (140, 180), 0.0, 2)
    lines[98:102, 139:142] = 1.0  # a gap in the box's right side: closed by the trapped ball
    cv2.circle(lines, (220, 100), 50, 0.0, 2)
    cv2.rectangle(lines, (60, 60), (64, 64), 0.0, 1)  # a 3x3 speck of paper: a tiny region
    return lines


def _paint(lines, hints, proposal=None):
    regions = cut_regions(lines)
    props = region_means(regions, np.full(lines.shape + (3,), 0.8, np.float32) if proposal is None else proposal)
    assigned = fill.assign_hints(regions, hints)
    return regions, fill.paint(regions, fill.region_colors(regions, props, assigned), assigned)


def test_regions_close_gaps_and_give_ink_a_region():
    regions = cut_regions(_page())
    lab = regions.labels
    assert lab[100, 80] != lab[100, 200] != lab[5, 5] != lab[100, 80]  # box, circle, paper around
    assert lab[100, 80] != lab[100, 145]  # the gap is closed
    assert (lab > 0).all()  # every pixel has a region, ink included
    assert regions.paper[100, 80] and not regions.paper[20, 80]
    speck = lab[62, 62]
    assert regions.tiny[speck] and regions.parent[speck] == lab[100, 80]  # it inherits the box


def test_a_real_opening_stays_open():
    lines = np.ones((100, 200), np.float32)
    cv2.line(lines, (100, 0), (100, 36), 0.0, 2)
    cv2.line(lines, (100, 56), (100, 99), 0.0, 2)  # a 20 px opening: wider than the ball
    regions = cut_regions(lines)
    assert regions.labels[50, 20] == regions.labels[50, 180]


def test_a_dot_fills_its_region_and_stops_at_the_lines():
    lines = _page()
    regions, out = _paint(lines, Hints(points=(HintPoint(80, 120, RED),)))
    box = regions.labels == regions.labels[100, 80]
    assert (out[box & regions.paper] == RED).all()
    assert (out[100, 200] != RED).any() and (out[5, 5] != RED).any()  # circle and paper untouched
    assert (out[62, 62] == RED).all()  # the tiny cell inside the box inherits its colour
    assert (out[100, 145] != RED).any()  # nothing leaks through the closed gap


def test_a_hint_in_a_tiny_region_colours_it():
    _, out = _paint(_page(), Hints(points=(HintPoint(80, 120, RED), HintPoint(62, 62, BLUE))))
    assert (out[62, 62] == BLUE).all() and (out[120, 80] == RED).all()


def test_a_stroke_claims_the_regions_it_runs_through_not_those_it_brushes():
    # a stroke along the box's inside, 8 px wide, touching the line at x=20: the outside paper stays unhinted
    stroke = HintStroke(((24, 40), (24, 160)), GREEN, 8.0)
    regions, out = _paint(_page(), Hints(strokes=(stroke,)))
    assert (out[100, 80] == GREEN).all()
    assert (out[100, 5] != GREEN).any()


def test_two_colours_in_one_region_split_it_by_nearest_hint():
    lines = _page()
    regions, out = _paint(lines, Hints(points=(HintPoint(40, 100, RED), HintPoint(120, 100, BLUE))))
    assert (out[100, 45] == RED).all() and (out[100, 115] == BLUE).all()
    assert (out[100, 200] != RED).any() and (out[100, 200] != BLUE).any()


def test_unhinted_regions_with_the_same_proposal_follow_a_nearby_hint():
    lines = np.ones((100, 300), np.float32)
    for x in (100, 200):
        cv2.line(lines, (x, 0), (x, 99), 0.0, 2)
    proposal = np.zeros((100, 300, 3), np.float32)
    proposal[:, :100] = (0.9, 0.7, 0.6)  # two "skin" regions ...
    proposal[:, 100:200] = (0.2, 0.2, 0.8)  # ... and a blue one between
    proposal[:, 200:] = (0.9, 0.7, 0.6)
    regions, out = _paint(lines, Hints(points=(HintPoint(50, 50, (200, 120, 100)),)), proposal)
    assert np.abs(out[50, 250].astype(int) - (200, 120, 100)).max() <= 20  # the other skin follows
    assert np.abs(out[50, 150].astype(int) - (51, 51, 204)).max() <= 3  # the blue one does not


def test_follow_weights_default_to_the_hand_set_rule_and_take_moves_to_the_hint():
    rng = np.random.default_rng(3)
    lines = np.ones((120, 400), np.float32)
    for x in (100, 200, 300):
        cv2.line(lines, (x, 0), (x, 119), 0.0, 2)
    regions = cut_regions(lines)
    proposal = rng.uniform(0.2, 0.9, (regions.count, 3)).astype(np.float32)
    assigned = fill.assign_hints(regions, Hints(points=(HintPoint(50, 60, RED), HintPoint(250, 60, GREEN))))
    got = fill.region_colors(regions, proposal, assigned)
    # the rule as written before the weights had names: shift = sum w (hint - own guess) / (0.05 + sum w)
    src = np.flatnonzero(assigned.hinted & ~regions.tiny)
    dst = np.flatnonzero(~assigned.hinted & ~regions.tiny & (np.arange(regions.count) > 0))
    diag = float(np.hypot(*regions.shape))
    dc = ((proposal[dst, None] - proposal[None, src]) ** 2).sum(-1) / 0.07 ** 2
    dp = ((regions.centroid[dst, None] - regions.centroid[None, src]) ** 2).sum(-1) / (0.5 * diag) ** 2
    w = np.exp(-dc - dp)
    want = proposal[dst] + w @ (assigned.color[src] - proposal[src]) / (0.05 + w.sum(1, keepdims=True))
    assert np.allclose(got[dst], np.clip(want, 0, 1), atol=1e-5)
    assert np.allclose(got[src], assigned.color[src])
    # take 1 with a strong pull: every unhinted region moves onto a hint colour
    pulled = fill.region_colors(regions, proposal, assigned,
                                weights=fill.FollowWeights(bias=20.0, color=0.0, place=0.0, take=1.0))
    hint_colours = assigned.color[src]
    assert all(np.abs(hint_colours - pulled[d]).max(axis=1).min() < 0.51 for d in dst)
    assert not np.allclose(pulled[dst], got[dst])


def test_fit_follow_lowers_the_error_it_reports():
    from training import fit_follow

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(6):  # unhinted regions whose true colour is the hint of the region with the same guess
        n_dst, n_src = 12, 3
        p_src = rng.uniform(0, 1, (n_src, 3))
        hint = rng.uniform(0, 1, (n_src, 3))
        which = rng.integers(0, n_src, n_dst)
        p_dst = p_src[which] + rng.normal(0, 0.01, (n_dst, 3))
        area = np.log(rng.uniform(50, 500, n_dst + n_src))
        rows.append({
            "dst": np.arange(n_dst), "proposal_dst": p_dst, "truth": hint[which], "area": np.ones(n_dst),
            "dc": ((p_dst[:, None] - p_src[None]) ** 2).sum(-1) / fill.COLOR_UNIT ** 2,
            "dp": rng.uniform(0, 0.5, (n_dst, n_src)),
            "dh": ((p_dst[:, None] - hint[None]) ** 2).sum(-1) / fill.COLOR_UNIT ** 2,
            "da": np.abs(area[:n_dst, None] - area[None, n_dst:]),
            "delta_src": hint - p_src, "delta_dst": hint[None] - p_dst[:, None]})
    before = fit_follow.error(rows, fill.FollowWeights())
    fitted = fit_follow.fit(rows, steps=60, lr=0.1, say=lambda *a: None)
    assert fit_follow.error(rows, fitted) < before - 1.0  # dB
    assert fit_follow.error(rows, None, follow=False) > before  # following already beats the guess alone


def test_reference_palette_moves_regions_onto_the_reference_colours():
    ref = np.zeros((60, 60, 3), np.uint8)
    ref[:, :30] = (230, 60, 60)
    ref[:, 30:] = (60, 200, 90)
    colours, weights = palette.reference_palette(ref, clusters=2)
    assert np.isclose(weights.sum(), 1.0)
    got = {tuple(np.round(c * 255).astype(int)) for c in colours}
    assert any(np.abs(np.array(g) - (230, 60, 60)).max() <= 3 for g in got)
    regions = np.array([[0.8, 0.8, 0.9], [0.3, 0.3, 0.4]], np.float32)  # a light and a dark lavender
    moved = palette.match_palette(regions, np.array([10.0, 10.0]), colours, weights)
    moved255 = np.round(moved * 255).astype(int)
    ref255 = np.round(colours * 255).astype(int)
    assert all(np.abs(ref255 - m).max(axis=1).min() <= 2 for m in moved255)  # snapped onto reference colours
    assert tuple(moved255[0]) != tuple(moved255[1])  # the light one and the dark one stay apart
