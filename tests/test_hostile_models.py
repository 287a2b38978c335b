"""Hostile model files: a tiny file asking for a huge network, tensors that do not match the config, NaN
weights, and broken files in the user's models folder (which must never empty the model lists)."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save as save_numpy

from anisketch_desktop import paths
from anisketch_desktop.cli import main
from anisketch_desktop.core import models
from anisketch_desktop.core.errors import ModelLoadError
from anisketch_desktop.core.model_io import CONFIG_KEY, FORMAT_KEY, load_model


def rewrite(source: Path, target: Path, config: dict | None = None, change=None) -> Path:
    """A copy of the model ``source`` with its config and/or tensors changed."""
    with safe_open(str(source), framework="numpy") as handle:
        meta = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    if config is not None:
        meta[CONFIG_KEY] = json.dumps({**json.loads(meta[CONFIG_KEY]), **config})
    if change is not None:
        change(tensors)
    target.write_bytes(save_numpy(tensors, metadata=meta))
    return target


def bare(path: Path, config: dict | str, tensors: dict | None = None) -> Path:
    text = config if isinstance(config, str) else json.dumps(config)
    path.write_bytes(save_numpy(tensors or {"x": np.zeros(1, np.float16)},
                                metadata={CONFIG_KEY: text, FORMAT_KEY: "1"}))
    return path


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


HUGE = {"task": "sketch", "in_channels": 3, "out_channels": 1, "base_channels": 1024, "depth": 4}


def test_a_tiny_file_asking_for_a_huge_network_is_refused_before_building(tmp_path):
    import torch  # noqa: F401 - loaded before measuring

    path = bare(tmp_path / "huge.safetensors", HUGE)
    assert path.stat().st_size < 5000
    before, started = rss_mb(), time.monotonic()
    with pytest.raises(ModelLoadError, match="base_channels must be a whole number from 1 to 128, not 1024"):
        load_model(path)
    widest = bare(tmp_path / "wide.safetensors", {**HUGE, "base_channels": 128, "depth": 4})  # in bounds
    with pytest.raises(ModelLoadError, match="tensors missing"):  # ~300 MB of weights, none in the file
        load_model(widest)
    assert time.monotonic() - started < 5 and rss_mb() - before < 100


@pytest.mark.parametrize("config, reason", [
    ({"depth": 9}, "depth must be"), ({"unshuffle": 64}, "unshuffle must be"),
    ({"base_channels": 64, "depth": 6}, "widest layer would have 4096"), ({"in_channels": 300}, "takes 3"),
    ({"color_bins": 10**9}, "color_bins must be"), ({"base_channels": 2.5}, "base_channels must be"),
    ({"max_upscale": 100.0}, "max_upscale must be a number from 1 to 4"), ({"max_upscale": "3"}, "max_upscale must"),
    ({"max_upscale": 0.5}, "max_upscale must"), ({"denoise": -1.0}, "denoise must be a number from 0 to 64"),
    ({"denoise": "3.5"}, "denoise must"), ({"denoise": float("nan")}, "denoise must"),
    ({"denoise": 1e9}, "denoise must"),
])
def test_config_bounds(tmp_path, tiny_sketch_model, config, reason):
    with pytest.raises(ModelLoadError, match=reason):
        load_model(rewrite(tiny_sketch_model, tmp_path / "m.safetensors", config))


def test_tensors_must_match_the_config_in_name_shape_and_dtype(tmp_path, tiny_sketch_model):
    other = rewrite(tiny_sketch_model, tmp_path / "a.safetensors", {"base_channels": 8})
    with pytest.raises(ModelLoadError, match=r"is \[4, 12, 3, 3\], the config needs \[8, 12, 3, 3\]"):
        load_model(other)

    def rename(tensors):
        tensors["evil"] = tensors.pop(sorted(tensors)[0])

    with pytest.raises(ModelLoadError, match="1 tensors missing, 1 unexpected"):
        load_model(rewrite(tiny_sketch_model, tmp_path / "b.safetensors", change=rename))

    def as_ints(tensors):
        key = next(k for k in tensors if k.endswith("weight"))
        tensors[key] = tensors[key].astype(np.int32)

    with pytest.raises(ModelLoadError, match="is stored as I32"):
        load_model(rewrite(tiny_sketch_model, tmp_path / "c.safetensors", change=as_ints))
    model, _ = load_model(tiny_sketch_model)  # the untouched file still loads
    assert model.config.base_channels == 4


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_weights_are_refused(tmp_path, tiny_sketch_model, bad):
    def poison(tensors):
        key = next(k for k in tensors if k.endswith("weight"))
        tensors[key] = tensors[key].copy()
        tensors[key].flat[3] = bad

    with pytest.raises(ModelLoadError, match="NaN or infinite"):
        load_model(rewrite(tiny_sketch_model, tmp_path / "n.safetensors", change=poison))


def broken_models_folder(tiny_sketch_model) -> Path:
    folder = paths.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    rewrite(tiny_sketch_model, folder / "good.safetensors")
    bare(folder / "nested.safetensors", '{"task": ' + "[" * 2000 + "]" * 2000 + "}")  # RecursionError
    bare(folder / "long.safetensors", '{"task": ' + "[" * 100_000 + "]" * 100_000 + "}")
    data = (folder / "good.safetensors").read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[:40])
    (folder / "cut_header.safetensors").write_bytes(data[:8] + b'{"a": ')
    bare(folder / "huge.safetensors", HUGE)
    (folder / "dangling.safetensors").symlink_to(folder / "gone.safetensors")
    (folder / "empty.safetensors").write_bytes(b"")
    return folder


def test_broken_files_in_the_models_folder_are_skipped_and_named(tiny_sketch_model, capsys):
    broken_models_folder(tiny_sketch_model)
    listed = models.list_models()
    assert "good" in [m.name for m in listed if not m.shipped]
    assert [m for m in listed if m.shipped] or not paths.resource_path("models").is_dir()
    skipped = {path.name: reason for path, reason in models.skipped_models()}
    assert "unreadable model config" in skipped["nested.safetensors"]
    assert set(skipped) == {"nested.safetensors", "long.safetensors", "truncated.safetensors", "cut_header.safetensors",
                            "huge.safetensors", "dangling.safetensors", "empty.safetensors"}
    assert "base_channels" in skipped["huge.safetensors"]
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "good" in out and "Traceback" not in err
    assert all(f"skipped {paths.user_models_dir() / name}" in err for name in skipped)


def test_the_gui_model_menus_survive_broken_files(qtbot, tiny_sketch_model):
    pytest.importorskip("pytestqt")
    from anisketch_desktop.gui.main_window import MainWindow

    broken_models_folder(tiny_sketch_model)
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        combo = window.options.sketch_model_combo
        qtbot.waitUntil(lambda: combo.count() > 0 and combo.itemText(0) != "none installed", timeout=10_000)
        labels = [combo.itemText(i) for i in range(combo.count())]
        assert any("(yours)" in label for label in labels), labels
        shipped = [m for m in models.list_models("sketch") if m.shipped]
        assert len(labels) == len(shipped) + 1
    finally:
        window.queue.runner.shutdown()
        window.session.shutdown()
