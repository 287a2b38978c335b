"""The application layer: one mode registry that the CLI derives from, options validated up front, output
names (models kept apart, no two inputs of a batch on one path, own outputs left out), the same in both faces."""

import argparse
from pathlib import Path

import cv2
import numpy as np
import pytest

from anisketch_desktop.application import (
    DEFAULT_TEMPLATE,
    MODES,
    OPTION_GROUPS,
    Options,
    check_template,
    output_path,
    plan_batch,
)
from anisketch_desktop.cli import OPTION_FLAGS, build_parser, main
from anisketch_desktop.core.errors import DeviceError, InvalidOptionError, ModelLoadError
from anisketch_desktop.core.imageio import iter_image_files, read_image
from anisketch_desktop.self_test import sample_picture


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_every_mode_is_a_cli_command_with_the_flags_of_its_options():
    commands = _subparsers(build_parser())
    assert set(OPTION_FLAGS) == set(OPTION_GROUPS)
    group_flags = {"xdog": "--sigma", "transparent": "--transparent", "specks": "--specks", "flats": "--flats",
                   "device": "--device", "lines": "--line-weight", "format": "--format", "hints": "--hints",
                   "layers": "--layers"}
    for key, mode in MODES.items():
        assert key in commands, f"mode {key} has no CLI command"
        flags = _flags(commands[key])
        sharing = [m for m in MODES.values() if m is mode or m.also_in == key]  # sketch --engine xdog
        for group in OPTION_GROUPS:
            assert (group_flags[group] in flags) == any(group in m.options for m in sharing), (key, group)
        if mode.tasks:
            assert "--model" in flags
        assert mode.tip in commands[key].description
    assert "--engine" in _flags(commands["sketch"]) and "--sigma" in _flags(commands["sketch"])


@pytest.fixture
def pics(tmp_path):
    src = tmp_path / "pics"
    src.mkdir()
    img = sample_picture(64, 80)
    cv2.imwrite(str(src / "pic.png"), img[..., ::-1])
    cv2.imwrite(str(src / "pic.jpg"), img[::-1, ::-1, ::-1])  # another picture, same stem
    return src


def test_default_names_keep_models_apart(tmp_path, tiny_sketch_model):
    src = tmp_path / "a.png"
    assert DEFAULT_TEMPLATE == "{stem}_{mode}{variant}"
    assert output_path(src, None, tmp_path / "o", Options(mode="sketch")).name == "a_sketch.png"  # shipped model
    assert output_path(src, None, None, Options(mode="xdog")) == tmp_path / "a_sketch-xdog.png"
    mine = Options(mode="sketch", models={"sketch": str(tiny_sketch_model)})
    assert output_path(src, None, None, mine).name == "a_sketch-tiny_sketch.png"
    hq = Options(mode="sketch", models={"sketch": "sketch_hq"})
    assert output_path(src, None, None, hq).name == "a_sketch-sketch_hq.png"
    assert output_path(src, None, None, Options(mode="colorize")).name == "a_color.png"
    named = Options(mode="xdog", template="{stem}-{model}-{ext}.jpg")
    assert output_path(src, None, None, named).name == "a-xdog-png.jpg"


def test_settings_tag_changes_with_the_result_only():
    tmp = Path("a.png")
    base = Options(mode="xdog", template="{stem}_{settings}")
    name = output_path(tmp, None, None, base).name
    assert len(name) == len("a_123456.png")
    assert output_path(tmp, None, None, base.with_(xdog={"sigma": 0.9})).name != name
    assert output_path(tmp, None, None, base.with_(device="cpu", if_exists="overwrite")).name == name


@pytest.mark.parametrize("template, words", [
    ("{foo}.png", "Unknown field {foo}"),
    ("{stem", "Bad file name template"),
    ("sub/{stem}", "not a path"),
    ("{stem!r}", "Write the field as {stem}"),
    ("", "empty"),
])
def test_bad_templates_are_refused_with_a_readable_message(template, words):
    with pytest.raises(InvalidOptionError, match=words.replace("{", r"\{").replace("}", r"\}")):
        check_template(template)


def test_extension_is_added_or_kept():
    opts = Options(mode="xdog")
    assert output_path(Path("a.gif"), None, None, opts.with_(template="{stem}")).name == "a.png"
    assert output_path(Path("a.gif"), None, None, opts.with_(template="{stem}.webp")).name == "a.webp"
    assert output_path(Path("a.gif"), None, None, opts.with_(template="{stem}.{ext}")).name == "a.gif.png"


def test_stem_template_never_writes_onto_the_input(pics, capsys):
    """``{stem}`` gives ``pic.png`` in both faces; next to the input that is the input itself: refused."""
    plan = plan_batch(iter_image_files([pics]), pics, Options(mode="xdog", template="{stem}"))
    assert [p.name for p, _ in plan.failed] == ["pic.png"]
    assert "is the picture itself" in str(plan.failed[0][1])
    assert [j.target.name for j in plan.jobs] == ["pic (2).jpg"]  # pic.png is an input: never written over
    before = (pics / "pic.png").read_bytes()
    assert main(["xdog", str(pics), "-o", str(pics), "--name", "{stem}", "--overwrite", "-q"]) == 1
    assert (pics / "pic.png").read_bytes() == before
    assert "is the picture itself" in capsys.readouterr().err


def test_two_inputs_never_share_an_output(pics, capsys):
    out = pics.parent / "out"
    assert main(["xdog", str(pics), "-o", str(out), "-q", "--overwrite"]) == 0
    assert "2 written" in capsys.readouterr().err
    first, second = sorted(out.iterdir())
    assert {first.name, second.name} == {"pic_sketch-xdog.png", "pic.png_sketch-xdog.png"}
    assert not np.array_equal(read_image(first), read_image(second))  # each picture's own result
    again = sorted(out.iterdir())
    assert main(["xdog", str(pics), "-o", str(out), "-q", "--overwrite"]) == 0  # the same names on a re-run
    assert sorted(out.iterdir()) == again


def test_reruns_leave_out_the_tools_own_outputs(pics, capsys):
    out = pics / "out"
    assert main(["xdog", str(pics), "-o", str(out), "-r", "-q"]) == 0
    written = sorted(p.name for p in out.rglob("*"))
    assert main(["xdog", str(pics), "-o", str(out), "-r", "-q"]) == 0
    assert sorted(p.name for p in out.rglob("*")) == written  # no out/out/..., nothing of its own re-sketched
    assert "left out 2" in capsys.readouterr().err
    # outputs next to the inputs: a second run (another mode too) does not sketch the sketches
    assert main(["xdog", str(pics), "-o", str(pics), "-q"]) == 0
    assert main(["xdog", str(pics), "-o", str(pics), "-q", "--preset", "bold", "--name", "{stem}_sketch-bold"]) == 0
    names = sorted(p.name for p in pics.iterdir() if p.is_file())
    assert not [n for n in names if n.count("sketch") > 1], names


@pytest.mark.parametrize("flags, words", [
    (["--sigma", "1e9"], "sigma must be between"),
    (["--sigma", "-1"], "sigma must be between"),
    (["--k", "nan"], "k must be between"),
    (["--preset", "zzz"], "Unknown XDoG preset 'zzz'"),
    (["--name", "{foo}.png"], "Unknown field {foo}"),
    (["--auto", "--sigma", "1"], "Auto picks the XDoG values itself"),
])
def test_bad_options_give_one_line_and_exit_2(pics, tmp_path, capsys, flags, words):
    for command in (["xdog"], ["sketch", "--engine", "xdog"]):
        assert main([*command, str(pics), "-o", str(tmp_path / "o"), "-q", *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()


def test_a_fix_becomes_a_flag_on_the_command_line_only():
    pytest.importorskip("PySide6")
    from anisketch_desktop.cli import _message
    from anisketch_desktop.gui.workers import describe_error

    exc = DeviceError("CUDA was requested, but no GPU was found. Run it on the CPU instead.", fix={"device": "cpu"})
    assert _message(exc).endswith("instead. (--device cpu)")
    assert "--" not in str(exc)
    assert describe_error(exc).endswith("instead. (choose “CPU” under Device)")
    none = ModelLoadError("No sketch model installed.", fix={"engine": "xdog", "model": "PATH"})
    assert _message(none) == "No sketch model installed. (--engine xdog or --model PATH)"
    assert describe_error(none) == "No sketch model installed. (use Sketch (XDoG) or pick a model under Model)"


def test_options_validate_every_field():
    assert Options().validate() == Options()
    for bad in (dict(mode="paint"), dict(speck_size=-1), dict(device="tpu"), dict(tile=8), dict(if_exists="x"),
                dict(max_pixels=0), dict(mode="xdog", xdog={"sigma": "thin"}), dict(mode="xdog", xdog={"q": 1})):
        with pytest.raises(InvalidOptionError):
            Options(**bad).validate()
    assert Options(device="cuda:1").validate().device == "cuda:1"


def test_no_model_installed_names_the_flags_on_the_command_line(pics, tmp_path, capsys, no_shipped_models):
    assert main(["sketch", str(pics / "pic.png"), "-o", str(tmp_path / "o"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "No sketch model installed" in err and "(--engine xdog or --model PATH)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("flags", [["--sigma", "1e9"], ["--k", "nan"], ["--sigma", "-1"]])
def test_pairs_checks_xdog_values_like_every_xdog_run(tmp_path, capsys, flags):
    assert main(["pairs", "--dataset", str(tmp_path / "ds"), *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: XDoG ") and "must be between" in err and len(err.strip().splitlines()) == 1


def _invert(image, opts, engines, progress, cancel):
    from anisketch_desktop.core.imageio import to_uint8

    return 255 - to_uint8(image)


def test_a_new_mode_is_one_registry_entry(pics, tmp_path, monkeypatch):
    """Adding a mode touches modes.py only: the CLI gets its command, flags, help and output names from it."""
    from anisketch_desktop.application.modes import Mode

    mode = Mode("invert", "Invert", "Negative of the picture", "negative", (), frozenset({"specks"}), _invert)
    monkeypatch.setitem(MODES, "invert", mode)
    commands = _subparsers(build_parser())
    assert "--specks" in _flags(commands["invert"]) and "--device" not in _flags(commands["invert"])
    assert commands["invert"].description.startswith("Negative of the picture")
    assert main(["invert", str(pics / "pic.png"), "-o", str(tmp_path / "o"), "-q"]) == 0
    out = read_image(tmp_path / "o" / "pic_negative-invert.png")
    assert np.array_equal(out, 255 - read_image(pics / "pic.png"))
