"""``anisketch`` end to end in a temporary folder: real files in, real files out."""

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from anisketch_desktop.cli import main
from anisketch_desktop.core.imageio import read_image
from anisketch_desktop.self_test import sample_picture


@pytest.fixture
def pictures(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    img = sample_picture(96, 128)
    cv2.imwrite(str(src / "a.png"), img[..., ::-1])
    cv2.imwrite(str(src / "sub" / "b.jpg"), img[::-1, :, ::-1])
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (src / "notes.txt").write_text("not an image")
    return src


def test_xdog_auto_writes_a_sketch(pictures, tmp_path):
    out = tmp_path / "out"
    assert main(["sketch", str(pictures / "a.png"), "-o", str(out), "--engine", "xdog", "--auto", "-q"]) == 0
    result = read_image(out / "a_sketch-xdog.png")
    assert result.shape == (96, 128)
    ink = (result < 128).mean()
    assert 0.005 < ink < 0.5


def test_unet_path_with_given_model(pictures, tmp_path, tiny_sketch_model):
    out = tmp_path / "out"
    code = main(["sketch", str(pictures / "a.png"), "-o", str(out), "--model", str(tiny_sketch_model), "-q"])
    assert code == 0
    assert read_image(out / "a_sketch-tiny_sketch.png").shape == (96, 128)  # not the default model: named


def test_colorize_and_style_with_given_models(pictures, tmp_path, tiny_sketch_model, tiny_colorize_model):
    out = tmp_path / "out"
    assert main(["colorize", str(pictures / "a.png"), "-o", str(out), "--model", str(tiny_colorize_model)]) == 0
    assert read_image(out / "a_color-tiny_colorize.png").shape == (96, 128, 3)
    # style takes its colours from the picture: its one model is the sketch model
    code = main(["style", str(pictures / "a.png"), "-o", str(out), "--model", str(tiny_sketch_model)])
    assert code == 0
    assert read_image(out / "a_style-tiny_sketch.png").shape == (96, 128, 3)


def test_colorize_flats_switch(tmp_path, tiny_flats_model):
    model = tiny_flats_model
    lines = np.full((64, 96), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (80, 50), 0, 2)
    cv2.imwrite(str(tmp_path / "l.png"), lines)
    for flag, folder in (([], "flats"), (["--no-flats"], "plain")):
        assert main(["colorize", str(tmp_path / "l.png"), "-o", str(tmp_path / folder), "--model", str(model),
                     "-q", *flag]) == 0
    flat = read_image(tmp_path / "flats" / "l_color-tiny_flats.png")[15:45, 15:75].reshape(-1, 3)
    plain = read_image(tmp_path / "plain" / "l_color-tiny_flats.png")[15:45, 15:75].reshape(-1, 3)
    assert np.ptp(flat, axis=0).max() <= 1 < np.ptp(plain, axis=0).max()


def test_bad_file_is_skipped_and_batch_goes_on(pictures, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["xdog", str(pictures), "-o", str(out), "--recursive", "-q"])
    assert code == 1  # something failed
    assert (out / "a_sketch-xdog.png").is_file()
    assert (out / "sub" / "b_sketch-xdog.png").is_file()  # folder structure kept
    assert not (out / "broken_sketch-xdog.png").exists()
    err = capsys.readouterr().err
    assert "broken.png" in err and "2 written" in err and "1 failed" in err
    assert not list(out.rglob("*.part")) and not list(out.rglob(".*"))


def test_existing_outputs_are_kept_unless_overwrite(pictures, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "a_sketch-xdog.png"
    target.write_bytes(b"user's file")
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "-q"]) == 0
    assert target.read_bytes() == b"user's file"
    assert "exists" in capsys.readouterr().err
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "-q", "--overwrite"]) == 0
    assert read_image(target).shape == (96, 128)


def test_non_recursive_folder_and_template(pictures, tmp_path):
    out = tmp_path / "out"
    main(["xdog", str(pictures), "-o", str(out), "-q", "--name", "{stem}.lines.png", "--preset", "pencil"])
    assert (out / "a.lines.png").is_file()
    assert not (out / "sub").exists()


def test_transparent_lines_keep_alpha(pictures, tmp_path):
    out = tmp_path / "out"
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--transparent", "-q"]) == 0
    rgba = read_image(out / "a_sketch-xdog.png")
    assert rgba.shape == (96, 128, 4)
    alpha = rgba[..., 3]
    assert (alpha == 0).mean() > 0.3  # paper is see-through
    assert (alpha > 200).any()  # lines are opaque


def test_unknown_preset_and_missing_input_are_clear(tmp_path, capsys):
    assert main(["xdog", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o")]) == 1
    assert "nope.png" in capsys.readouterr().err
    (tmp_path / "x.png").write_bytes(b"")
    assert main(["xdog", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--preset", "zzz"]) == 2
    assert "zzz" in capsys.readouterr().err


def test_help_and_version_from_the_console_script():
    out = subprocess.run([sys.executable, "-m", "anisketch_desktop.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "sketch" in out.stdout and "colorize" in out.stdout
    ver = subprocess.run([sys.executable, "-m", "anisketch_desktop.cli", "--version"], capture_output=True,
                         text=True)
    assert ver.stdout.startswith("anisketch 0.")
    sub = subprocess.run([sys.executable, "-m", "anisketch_desktop.cli", "sketch", "--help"],
                         capture_output=True, text=True)
    assert "--transparent" in sub.stdout and "--recursive" in sub.stdout


def test_sketch_output_is_the_sketch_of_the_input(pictures, tmp_path):
    """Pixels, not just files: the CLI output equals the pipeline's XDoG sketch of the same picture."""
    from anisketch_desktop.core import pipeline

    out = tmp_path / "out"
    main(["xdog", str(pictures / "a.png"), "-o", str(out), "-q"])
    expected = pipeline.sketch(read_image(pictures / "a.png"), engine="xdog")
    assert np.array_equal(read_image(out / "a_sketch-xdog.png"), expected)


def test_models_lists_unique_names_that_model_accepts(pictures, tmp_path, capsys, tiny_sketch_model, monkeypatch):
    """`anisketch models` never prints one name twice, and `--model NAME` runs the model of that name."""
    from anisketch_desktop import paths

    resources = tmp_path / "res"
    (resources / "models").mkdir(parents=True)
    shutil.copy(tiny_sketch_model, resources / "models" / "sketch.safetensors")
    monkeypatch.setenv("ANISKETCH_RESOURCES", str(resources))
    shutil.copy(tiny_sketch_model, paths.user_models_dir() / "sketch.safetensors")
    assert main(["models"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    names = [row[1] for row in rows]
    assert len(rows) == 2 and len(set(names)) == 2 and names[0] == "sketch"
    user_name = names[1]
    out = tmp_path / "out"
    assert main(["sketch", str(pictures / "a.png"), "-o", str(out / "by_name"), "-q", "--model", user_name,
                 "--device", "cpu"]) == 0
    assert main(["sketch", str(pictures / "a.png"), "-o", str(out / "by_path"), "-q", "--model",
                 str(tiny_sketch_model), "--device", "cpu"]) == 0
    by_name = out / "by_name" / f"a_sketch-{user_name}.png"  # the model's unique name keeps outputs apart
    assert np.array_equal(read_image(by_name), read_image(out / "by_path" / "a_sketch-tiny_sketch.png"))
    assert main(["sketch", str(pictures / "a.png"), "-o", str(out / "x"), "-q", "--model", "no_such"]) == 1
    assert "No model named 'no_such'" in capsys.readouterr().err


def test_line_weight_and_threshold_change_the_ink(pictures, tmp_path):
    inks, mids = {}, {}
    for weight in (-2, 0, 2):
        out = tmp_path / f"w{weight}"
        assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--line-weight", str(weight), "-q"]) == 0
        inks[weight] = read_image(out / "a_sketch-xdog.png").astype(int)
    assert np.all(inks[2] <= inks[0]) and np.all(inks[0] <= inks[-2])  # more weight never gives less ink
    assert (inks[2] < 128).sum() > (inks[0] < 128).sum() > (inks[-2] < 128).sum()
    for t in ("0", "0.9"):
        out = tmp_path / f"t{t}"
        assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--threshold", t, "--sigma", "1.2",
                     "--phi", "2", "-q"]) == 0
        img = read_image(out / "a_sketch-xdog.png")
        mids[t] = int(((img > 25) & (img < 230)).sum())
    assert mids["0.9"] < mids["0"] / 2


def test_bad_line_controls_are_usage_errors(pictures, tmp_path, capsys):
    for flags in (["--line-weight", "3"], ["--line-weight", "1.5"], ["--threshold", "2"]):
        with pytest.raises(SystemExit) as exc:
            main(["xdog", str(pictures / "a.png"), "-o", str(tmp_path / "o"), *flags])
        assert exc.value.code == 2
    assert "from -2 (thinnest) to 2 (boldest)" in capsys.readouterr().err


def test_svg_format_writes_filled_paths(pictures, tmp_path, tiny_sketch_model):
    from lxml import etree

    out = tmp_path / "out"
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--format", "svg", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a_sketch-xdog.svg"]
    root = etree.parse(str(out / "a_sketch-xdog.svg")).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and (root.get("width"), root.get("height")) == ("128", "96")
    assert root.findall(f"{ns}path") and all(p.get("fill") for p in root.findall(f"{ns}path"))
    before = (out / "a_sketch-xdog.svg").read_bytes()
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--format", "svg", "--tint", "--name",
                 "{stem}_sketch-xdog", "-q"]) == 0  # exists: skipped, not replaced
    assert (out / "a_sketch-xdog.svg").read_bytes() == before
    assert main(["sketch", str(pictures / "a.png"), "-o", str(out), "--model", str(tiny_sketch_model),
                 "--format", "svg", "--tint", "--name", "{stem}_{mode}", "-q"]) == 0
    etree.parse(str(out / "a_sketch.svg"))
    with pytest.raises(SystemExit) as exc:  # colour pictures are not traced: no such flag
        main(["colorize", str(pictures / "a.png"), "-o", str(out), "--format", "svg"])
    assert exc.value.code == 2


def test_tint_gives_coloured_lines(pictures, tmp_path):
    out = tmp_path / "out"
    assert main(["xdog", str(pictures / "a.png"), "-o", str(out), "--tint", "-q"]) == 0
    img = read_image(out / "a_sketch-xdog.png")
    assert img.ndim == 3 and img.shape[2] == 3
    ink = img.min(axis=2) < 200
    assert ink.any() and (np.ptp(img[ink].astype(int), axis=1) > 15).mean() > 0.3  # not gray
