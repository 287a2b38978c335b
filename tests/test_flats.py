"""Flat colours under line art: regions, gap closing, one colour per region, the Multiply layer."""

import cv2
import numpy as np
import pytest

from anisketch_desktop.core import flats


def _split_page(gap: int = 6) -> np.ndarray:
    """White 100x200 page cut in two by a vertical line with a ``gap``-pixel hole in it."""
    lines = np.ones((100, 200), np.float32)
    cv2.line(lines, (100, 0), (100, 46 - gap // 2), 0.0, 2)
    cv2.line(lines, (100, 46 + gap - gap // 2), (100, 99), 0.0, 2)
    return lines


def test_trapped_ball_closes_small_gaps_only():
    lines = _split_page(gap=6)
    _, open_labels = flats.regions(lines, close=0)
    assert open_labels[50, 20] == open_labels[50, 180] != 0  # the gap joins both halves
    _, labels = flats.regions(lines, close=3)
    assert labels[50, 20] != labels[50, 180] and labels[50, 20] > 0 and labels[50, 180] > 0
    assert labels[50, 100] == 0  # ink is no region
    assert (labels[:, 95] > 0).all() and (labels[:, 105] > 0).all()  # regions reach the line again
    _, wide = flats.regions(_split_page(gap=20), close=3)
    assert wide[50, 20] == wide[50, 180]  # a real opening stays open


def test_tiny_regions_are_left_alone():
    lines = np.ones((60, 60), np.float32)
    cv2.rectangle(lines, (20, 20), (26, 26), 0.0, 1)  # a 5x5 hole: under MIN_AREA
    _, labels = flats.regions(lines, close=0)
    assert labels[23, 23] == 0 and labels[5, 5] > 0


def test_flat_fill_gives_each_region_its_mean_colour():
    lines = _split_page(gap=4)
    rng = np.random.default_rng(0)
    layer = np.empty((100, 200, 3), np.float32)
    layer[:, :100] = np.clip(rng.normal([0.8, 0.3, 0.3], 0.1, (100, 100, 3)), 0, 1)  # noisy red guess
    layer[:, 100:] = np.clip(rng.normal([0.3, 0.4, 0.8], 0.1, (100, 100, 3)), 0, 1)  # noisy blue guess
    out = flats.flat_fill(layer, lines, close=3, large_share=1.0)
    left, right = out[:, 5:90].reshape(-1, 3), out[:, 110:195].reshape(-1, 3)
    assert left.std(axis=0).max() < 1e-3 and right.std(axis=0).max() < 1e-3  # one colour each
    assert left[0, 0] > 0.7 and left[0, 2] < 0.4  # still red
    assert right[0, 2] > 0.7 and right[0, 0] < 0.4  # still blue
    assert layer[:, 5:90].std(axis=(0, 1)).min() > 0.05  # (the guess really was noisy)


def test_flat_fill_smooths_a_region_that_covers_the_page_instead_of_flattening_it():
    lines = np.ones((80, 160), np.float32)
    ramp = np.linspace(0.1, 0.9, 160, dtype=np.float32)
    layer = np.dstack([np.tile(ramp, (80, 1))] * 3)
    out = flats.flat_fill(layer, lines, large_share=0.5)
    assert out[40, 150, 0] - out[40, 10, 0] > 0.5  # the left-to-right gradient survives
    flattened = flats.flat_fill(layer, lines, large_share=1.0)
    assert np.ptp(flattened) < 1e-3


def test_multiply_puts_ink_on_the_layer():
    layer = np.full((4, 4, 3), 0.5, np.float32)
    lines = np.ones((4, 4), np.float32)
    lines[1, 1] = 0.0
    out = flats.multiply(layer, lines)
    assert out[1, 1].max() == 0.0 and out[0, 0] == pytest.approx([0.5, 0.5, 0.5])
