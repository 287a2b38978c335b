"""Colour hints: the JSON format, validation with one clear line per problem, rasterizing, atomic saving."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.hints import (
    HintError,
    HintPoint,
    Hints,
    HintStroke,
    load_hints,
    parse_color,
    rasterize,
    save_hints,
)

SAMPLE = {
    "points": [{"x": 120, "y": 34, "color": "#e8b4a0"}],
    "strokes": [{"points": [[10, 12], [40, 15]], "color": "#334455", "width": 6}],
}


def test_from_json_reads_the_cli_contract_format():
    hints = Hints.from_json(SAMPLE, shape=(100, 200))
    assert hints.points == (HintPoint(120.0, 34.0, (0xE8, 0xB4, 0xA0)),)
    assert hints.strokes == (HintStroke(((10.0, 12.0), (40.0, 15.0)), (0x33, 0x44, 0x55), 6.0),)
    assert not hints.is_empty() and Hints().is_empty()
    assert hints.to_json() == SAMPLE  # round trip, colours as #rrggbb


def test_save_and_load_round_trip(tmp_path):
    hints = Hints.from_json(SAMPLE)
    path = tmp_path / "sub" / "page.json"
    save_hints(hints, path)
    assert load_hints(path, shape=(100, 200)) == hints
    assert [p.name for p in path.parent.iterdir()] == ["page.json"]  # no temporary file left
    save_hints(Hints(), path)  # replaces its own file
    assert load_hints(path).is_empty()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"points": [{"x": 250, "y": 10, "color": "#ffffff"}]}, "point 1 at (250, 10) is outside the 200x100"),
        ({"points": [{"x": 5, "y": -1, "color": "#ffffff"}]}, "outside the 200x100 picture"),
        ({"points": [{"x": 5, "y": 5, "color": "#ggg000"}]}, "bad colour '#ggg000'"),
        ({"points": [{"x": 5, "y": 5, "color": 12}]}, "bad colour 12"),
        ({"points": [{"x": "a", "y": 5, "color": "#fff"}]}, "x is not a number"),
        ({"points": [{"x": 5, "color": "#fff"}]}, "must be an object with \"x\", \"y\" and \"color\""),
        ({"strokes": [{"points": [[1, 2], [300, 2]], "color": "#fff"}]}, "stroke 1 point 2 at (300, 2)"),
        ({"strokes": [{"points": [], "color": "#fff"}]}, "stroke 1 has no points"),
        ({"strokes": [{"points": [[1, 2]], "color": "#fff", "width": 0}]}, "width 0 must be between"),
        ({"points": {}}, "\"points\" must be a list"),
        ({"colours": []}, "unknown key(s) colours"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_hints_raise_one_clear_line_naming_the_source(data, message):
    with pytest.raises(HintError) as err:
        Hints.from_json(data, shape=(100, 200), source="page.json")
    text = str(err.value)
    assert text.startswith("page.json: ") and message in text and "\n" not in text
    assert isinstance(err.value, AniSketchError)


def test_load_hints_names_the_file_for_missing_and_broken_json(tmp_path):
    with pytest.raises(HintError, match="missing.json: hint file not found"):
        load_hints(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"points": [', encoding="utf-8")
    with pytest.raises(HintError, match=r"broken.json: not valid JSON \(line 1"):
        load_hints(broken)


def test_parse_color_forms():
    assert parse_color("#abc") == (0xAA, 0xBB, 0xCC)
    assert parse_color("A0B1C2") == (0xA0, 0xB1, 0xC2)
    assert parse_color([1, 2, 3]) == (1, 2, 3)
    for bad in ("#12345", [1, 2, 256], [1.0, 2, 3], None, "red"):
        with pytest.raises(HintError):
            parse_color(bad)


def test_rasterize_draws_strokes_and_points_later_on_top():
    hints = Hints(
        points=(HintPoint(20, 10, (255, 0, 0)),),
        strokes=(HintStroke(((5, 10), (35, 10)), (0, 0, 255), 4.0),),
    )
    rgb, mask = rasterize(hints, (30, 50))
    assert rgb.shape == (30, 50, 3) and rgb.dtype == np.float32 and mask.dtype == np.float32
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert np.allclose(rgb[10, 8], [0, 0, 1]) and mask[10, 8] == 1  # the stroke
    assert mask[9:12, 30].all() and not mask[20, 30]  # its width, not more
    assert np.allclose(rgb[10, 20], [1, 0, 0])  # the point over the stroke
    assert mask[0, 0] == 0 and not rgb[0, 0].any()
    assert np.allclose(rgb[10, 17], [0, 0, 1]) and np.allclose(rgb[10, 23], [0, 0, 1])  # a small disc only


def test_rasterize_point_disc_scales_with_the_picture():
    hint = Hints(points=(HintPoint(500, 500, (10, 20, 30)),))
    _, small = rasterize(hint, (1000, 1000))
    _, large = rasterize(Hints(points=(HintPoint(1000, 1000, (10, 20, 30)),)), (2000, 2000))
    assert 9 <= small.sum() <= 30  # radius ~2 px at 1 MP
    assert large.sum() > 2.5 * small.sum()
    _, edge = rasterize(Hints(points=(HintPoint(999.9, 0, (1, 2, 3)),)), (1000, 1000))
    assert edge[0, 999] == 1  # a point on the last pixel is drawn


def test_hints_json_is_plain_json(tmp_path):
    path = tmp_path / "h.json"
    save_hints(Hints.from_json(SAMPLE), path)
    assert json.loads(path.read_text()) == SAMPLE
