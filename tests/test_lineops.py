"""Line controls (weight, threshold, tint) and vector output, on pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from lxml import etree

from anisketch_desktop.core import lineops, pipeline, vector
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.lineops import LineOptions
from training.metrics import skeleton_f1

SVG_NS = "http://www.w3.org/2000/svg"


def _drawing(h: int = 240, w: int = 320) -> np.ndarray:
    """float sketch (1 = paper): thin and thick strokes, a filled disc, an anti-aliased curve, faint haze."""
    img = np.full((h, w), 255, np.uint8)
    cv2.line(img, (10, 20), (300, 30), 0, 1)
    cv2.line(img, (10, 60), (300, 80), 0, 3)
    cv2.line(img, (10, 110), (300, 110), 0, 7)
    cv2.circle(img, (80, 180), 35, 0, -1)
    cv2.ellipse(img, (230, 180), (60, 35), 15, 0, 300, 40, 2, cv2.LINE_AA)
    out = img.astype(np.float32) / 255.0
    out[200:230, 150:170] = np.minimum(out[200:230, 150:170], 0.75)  # pencil haze
    return out


def _picture(h: int = 240, w: int = 320) -> np.ndarray:
    rgb = np.full((h, w, 3), 255, np.uint8)
    rgb[:, : w // 2] = (220, 60, 60)  # red left half
    rgb[:, w // 2 :] = (60, 90, 230)  # blue right half
    return rgb


def test_options_are_checked():
    assert LineOptions().is_default
    with pytest.raises(AniSketchError, match="-2 to 2"):
        LineOptions(weight=3)
    with pytest.raises(AniSketchError, match="between 0 and 1"):
        LineOptions(threshold=1.5)
    assert LineOptions.from_dict({"weight": -1, "threshold": 0.5, "tint": True}) == LineOptions(-1, 0.5, True)


def test_more_weight_never_gives_less_ink_at_any_pixel():
    gray = _drawing()
    outs = [lineops.apply(gray, LineOptions(weight=w)) for w in lineops.WEIGHTS]
    assert np.array_equal(outs[2], gray)  # 0 leaves the drawing alone
    for thinner, bolder in zip(outs, outs[1:], strict=False):
        assert np.all(bolder <= thinner + 1e-6)  # ink never lost anywhere
        assert (bolder < 0.5).sum() > (thinner < 0.5).sum()  # and the ink area grows at every step
    # thinning keeps every stroke: even the 1-px line still has ink along its whole length at -2
    thinnest = outs[0]
    columns = np.nonzero((thinnest[10:40] < 0.5).any(axis=0))[0]
    assert columns.min() <= 12 and columns.max() >= 298 and len(columns) > 280
    # the wide stroke lost its edges: less ink across it than at 0
    assert (thinnest[100:121, 150] < 0.5).sum() < (gray[100:121, 150] < 0.5).sum()


def test_weight_scales_with_the_picture():
    small, big = (cv2.resize(_drawing(), (160 * f, 120 * f), interpolation=cv2.INTER_NEAREST) for f in (12, 24))
    grow = [int(((lineops.apply(g, LineOptions(weight=2)) < 0.5) & ~(g < 0.5)).sum()) for g in (small, big)]
    base = [int((g < 0.5).sum()) for g in (small, big)]
    # relative growth of the ink at +2 is about the same at 1920 px and at 3840 px (scaled radius)
    assert 0.5 < (grow[1] / base[1]) / (grow[0] / base[0]) < 2.0


def test_higher_threshold_gives_fewer_mid_grays():
    gray = cv2.GaussianBlur(_drawing(), (0, 0), 1.5)
    mids = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        out = lineops.apply(gray, LineOptions(threshold=t))
        mids.append(int(((out > 0.1) & (out < 0.9)).sum()))
    assert lineops.apply(gray, LineOptions(threshold=0.0)) is gray or np.array_equal(
        lineops.apply(gray, LineOptions(threshold=0.0)), gray)
    assert all(a > b for a, b in zip(mids, mids[1:], strict=False)) and mids[-1] == 0
    binary = lineops.apply(gray, LineOptions(threshold=1.0))
    assert set(np.unique(binary)) <= {0.0, 1.0}
    assert np.array_equal(binary < 0.5, gray < 0.5)  # crisp ink sits where the soft lines were half dark


def test_tint_colours_lines_by_the_picture_under_them():
    gray = _drawing()
    out = pipeline.finish_sketch(gray, _picture(), lines=LineOptions(tint=True))
    assert out.shape == gray.shape + (3,)
    left, right = out[105:116, 20:120].reshape(-1, 3), out[105:116, 200:300].reshape(-1, 3)
    left, right = left[left.sum(axis=1) < 300].astype(int), right[right.sum(axis=1) < 300].astype(int)
    assert (left[:, 0] > left[:, 2] + 20).mean() > 0.9  # reddish lines on the red half
    assert (right[:, 2] > right[:, 0] + 20).mean() > 0.9  # bluish lines on the blue half
    assert out[5, 5].tolist() == [255, 255, 255]  # paper stays white
    assert out.max(axis=2)[gray < 0.01].max() <= 255 * lineops.TINT_MAX_VALUE + 1  # lines stay dark
    clear = pipeline.finish_sketch(gray, _picture(), lines=LineOptions(tint=True), transparent=True)
    assert clear.shape == gray.shape + (4,) and clear[5, 5, 3] == 0 and clear[110, 50, 0] > clear[110, 50, 2]


def test_finish_matches_sketch_for_every_control():
    picture = _picture()
    picture[100:105, 20:300] = 0
    gray = pipeline.sketch_lines(picture, engine="xdog")
    for lines in (LineOptions(), LineOptions(weight=2), LineOptions(weight=-1, threshold=0.6),
                  LineOptions(tint=True)):
        for transparent in (False, True):
            whole = pipeline.sketch(picture, engine="xdog", lines=lines, transparent=transparent, speck_size=5)
            again = pipeline.finish_sketch(gray, picture, lines=lines, transparent=transparent, speck_size=5)
            assert np.array_equal(whole, again)


def _render(svg: str, size: tuple[int, int]) -> np.ndarray:
    """The SVG drawn by Qt's SVG renderer (an independent reader) onto white: uint8 gray."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode()))
    assert renderer.isValid()
    image = QImage(size[0], size[1], QImage.Format.Format_Grayscale8)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(size[1], image.bytesPerLine())[:, : size[0]].copy()


def test_svg_is_filled_paths_that_render_back_like_the_png(qapp):
    gray = _drawing()
    svg = pipeline.finish_sketch_svg(gray, _picture())
    root = etree.fromstring(svg.encode())
    assert root.tag == f"{{{SVG_NS}}}svg" and root.get("width") == "320" and root.get("height") == "240"
    paths = root.findall(f"{{{SVG_NS}}}path")
    assert paths and all(p.get("fill") == "#000000" and p.get("d", "").startswith("M") for p in paths)
    png = pipeline.finish_sketch(gray, _picture())
    back = _render(svg, (320, 240))
    f1 = skeleton_f1(back < 128, png < 128, tolerance=1.0)["f1"]
    assert f1 > 0.9, f1
    assert abs(int((back < 128).sum()) - int((png < 128).sum())) < 0.1 * (png < 128).sum()


def test_tinted_svg_uses_the_line_colours(qapp):
    svg = pipeline.finish_sketch_svg(_drawing(), _picture(), lines=LineOptions(tint=True), transparent=True)
    root = etree.fromstring(svg.encode())
    fills = {p.get("fill") for p in root.iter(f"{{{SVG_NS}}}path")}
    assert 2 <= len(fills) <= vector.MAX_COLOURS and "#000000" not in fills
    assert root.find(f"{{{SVG_NS}}}rect") is None  # transparent: no paper


def test_blank_sketch_gives_an_empty_but_valid_svg():
    svg = vector.trace(np.zeros((20, 30), np.float32))
    root = etree.fromstring(svg.encode())
    assert root.findall(f"{{{SVG_NS}}}path") == [] and root.get("viewBox") == "0 0 90 60"  # traced at 3x


def test_application_options_carry_the_line_controls(tmp_path):
    from pathlib import Path

    from anisketch_desktop.application import Options, output_path, process
    from anisketch_desktop.application.modes import MODES, draw_lines, finish_lines
    from anisketch_desktop.core.errors import InvalidOptionError

    picture = _picture()
    picture[100:106, 20:300] = 0
    for bad in (dict(line_weight=3), dict(threshold=-0.1), dict(format="pdf"),
                dict(mode="colorize", format="svg"), dict(mode="style", tint=True)):
        with pytest.raises(InvalidOptionError):
            Options(**{"mode": "xdog", **bad}).validate()
    plain = Options(mode="xdog")
    svg = plain.with_(format="svg")
    assert output_path(Path("a.png"), None, tmp_path, svg).name == "a_sketch-xdog.svg"
    tagged = plain.with_(template="{stem}_{settings}")
    names = {output_path(Path("a.png"), None, tmp_path, tagged.with_(**c)).name
             for c in (dict(), dict(line_weight=1), dict(threshold=0.5), dict(tint=True))}
    assert len(names) == 4  # every line control changes the {settings} tag
    for opts in (plain, plain.with_(line_weight=2, threshold=0.7), plain.with_(tint=True, transparent=True)):
        out, _info = process(picture, opts)
        again = finish_lines(draw_lines(picture, opts, {}), picture, opts)
        assert np.array_equal(out, again)  # the preview path (cached lines + finish) is the saved result
    text, _info = process(picture, svg)
    assert isinstance(text, str) and etree.fromstring(text.encode()).findall(f"{{{SVG_NS}}}path")
    assert "lines" in MODES["style"].options and "format" not in MODES["style"].options
