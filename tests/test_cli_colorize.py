"""``anisketch colorize`` with hints, layers and several outputs; ``anisketch style``; end to end on files."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from anisketch_desktop.cli import main
from anisketch_desktop.core.imageio import read_image

RED, BLUE = "#dc1e28", "#1e3cdc"


@pytest.fixture
def pages(tmp_path):
    """Two line pictures (a box and a circle) and a hints folder holding one good and one bad hint file."""
    src = tmp_path / "in"
    src.mkdir()
    for name, shift in (("p1", 0), ("p2", 10)):
        lines = np.full((120, 160), 255, np.uint8)
        cv2.rectangle(lines, (10 + shift, 10), (80 + shift, 110), 0, 2)
        cv2.circle(lines, (125, 60), 25, 0, 2)
        cv2.imwrite(str(src / f"{name}.png"), lines)
    hints = tmp_path / "hints"
    hints.mkdir()
    (hints / "p1.json").write_text(json.dumps({
        "points": [{"x": 40, "y": 60, "color": RED}],
        "strokes": [{"points": [[115, 60], [135, 60]], "color": BLUE, "width": 4}]}))
    (hints / "p2.json").write_text(json.dumps({"points": [{"x": 400, "y": 60, "color": RED}]}))  # outside
    return src, hints


def test_hints_file_colours_the_regions_and_layers_write_a_psd(pages, tmp_path, tiny_flats_model):
    from psd_tools import PSDImage

    src, hints = pages
    out = tmp_path / "out"
    code = main(["colorize", str(src / "p1.png"), "-o", str(out), "--hints", str(hints / "p1.json"), "--layers",
                 "--write", "color,flats,lines", "--model", str(tiny_flats_model), "-q", "--name", "{stem}_{mode}"])
    assert code == 0
    color = read_image(out / "p1_color.png")
    assert color.shape == (120, 160, 3)
    assert tuple(color[60, 40]) == (0xDC, 0x1E, 0x28) and tuple(color[60, 125]) == (0x1E, 0x3C, 0xDC)
    assert color[10, 40].max() < 10  # the lines on top
    flats = read_image(out / "p1_flats.png")
    assert tuple(flats[60, 40]) == (0xDC, 0x1E, 0x28)
    assert tuple(flats[10, 40]) in {(0xDC, 0x1E, 0x28), tuple(flats[5, 40])}  # no lines: a region's colour
    lines = read_image(out / "p1_lines.png")
    assert lines.shape == (120, 160, 4) and lines[60, 40, 3] == 0 and lines[10, 40, 3] == 255
    psd = PSDImage.open(out / "p1_colorize.psd")
    assert [layer.name for layer in psd] == ["flats", "lines"]
    np.testing.assert_array_equal(np.asarray(psd[0].topil().convert("RGB")), flats)
    assert np.abs(np.asarray(psd.composite(force=True).convert("RGB")).astype(int) - color).max() <= 1
    # a second run does not overwrite, and says so
    assert main(["colorize", str(src / "p1.png"), "-o", str(out), "--hints", str(hints / "p1.json"), "--layers",
                 "--model", str(tiny_flats_model), "-q"]) == 0


def test_hints_folder_bad_file_fails_that_picture_only(pages, tmp_path, tiny_flats_model, capsys):
    src, hints = pages
    out = tmp_path / "out"
    code = main(["colorize", str(src), "-o", str(out), "--hints", str(hints), "--model", str(tiny_flats_model),
                 "-q", "--layers", "--name", "{stem}_{mode}"])
    assert code == 1
    err = capsys.readouterr().err
    assert "p2.json: point 1 at (400, 60) is outside the 160x120 picture" in err
    assert "Traceback" not in err
    assert tuple(read_image(out / "p1_color.png")[60, 40]) == (0xDC, 0x1E, 0x28)
    assert (out / "p1_colorize.psd").is_file()
    assert not (out / "p2_color.png").exists() and not (out / "p2_colorize.psd").exists()
    # a picture without a hint file in the folder is coloured from the proposal alone
    (hints / "p2.json").unlink()
    assert main(["colorize", str(src / "p2.png"), "-o", str(out), "--hints", str(hints),
                 "--model", str(tiny_flats_model), "-q", "--write", "color,flats"]) == 0
    assert read_image(out / "p2_color-tiny_flats.png").shape == (120, 160, 3)  # the default names: model variant
    assert read_image(out / "p2_flats-tiny_flats.png").shape == (120, 160, 3)


def test_bad_usage_is_refused_up_front(pages, tmp_path, tiny_flats_model, capsys):
    src, hints = pages
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--hints", str(hints / "p1.json")]) == 2
    assert "one picture's hints" in capsys.readouterr().err
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--reference", str(tmp_path / "none.png")]) == 2
    assert "Reference" in (err := capsys.readouterr().err) and "none.png: no such file" in err
    with pytest.raises(SystemExit):
        main(["colorize", str(src), "-o", str(tmp_path / "o"), "--write", "color,shadows"])
    assert "unknown output shadows" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["colorize", str(src / "p1.png"), "-o", str(tmp_path / "o"), "--hints", str(broken),
                 "--model", str(tiny_flats_model), "-q"]) == 1
    assert "broken.json: not valid JSON" in capsys.readouterr().err


def test_reference_palette_recolours(pages, tmp_path, tiny_flats_model):
    src, _ = pages
    ref = np.zeros((50, 50, 3), np.uint8)
    ref[:, :25] = (20, 160, 40)
    ref[:, 25:] = (240, 200, 30)
    cv2.imwrite(str(tmp_path / "ref.png"), ref[..., ::-1])
    out = tmp_path / "out"
    assert main(["colorize", str(src / "p1.png"), "-o", str(out), "--reference", str(tmp_path / "ref.png"),
                 "--model", str(tiny_flats_model), "-q", "--write", "flats", "--name", "{stem}_{mode}"]) == 0
    flats = read_image(out / "p1_flats.png").reshape(-1, 3).astype(int)
    palette = np.array([(20, 160, 40), (240, 200, 30)])
    near = np.abs(flats[:, None, :] - palette[None]).max(-1).min(1) <= 6
    assert near.mean() > 0.9  # the regions took the reference's colours


def test_style_cli_keeps_size_in_a_subprocess(tmp_path, tiny_sketch_model):
    pic = np.full((90, 140, 3), 235, np.uint8)
    cv2.rectangle(pic, (10, 10), (60, 80), (40, 50, 200), -1)
    cv2.imwrite(str(tmp_path / "pic.jpg"), pic)
    out = subprocess.run([sys.executable, "-m", "anisketch_desktop.cli", "style", str(tmp_path / "pic.jpg"), "-o",
                          str(tmp_path / "out"), "--model", str(tiny_sketch_model), "--layers", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert read_image(tmp_path / "out" / "pic_style-tiny_sketch.png").shape == (90, 140, 3)
    assert (tmp_path / "out" / "pic_style.psd").is_file()


def test_application_process_takes_live_hints(tiny_flats_model):
    """The window's path: ``process`` with ``Options.hint_data`` (no files) gives the coloured picture."""
    from anisketch_desktop.application import Options, process
    from anisketch_desktop.core.hints import HintError, HintPoint, Hints

    lines = np.full((120, 160), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (80, 110), 0, 2)
    options = Options(mode="colorize", models={"colorize": str(tiny_flats_model)}, device="cpu",
                      hint_data=Hints(points=(HintPoint(40, 60, (10, 200, 30)),)))
    out, info = process(lines, options)
    assert out.shape == (120, 160, 3) and tuple(out[60, 40]) == (10, 200, 30) and info.seconds > 0
    with pytest.raises(HintError, match="outside the 160x120 picture"):
        process(lines, options.with_(hint_data=Hints(points=(HintPoint(500, 60, (1, 2, 3)),))))
