"""The GUI benchmark and the screenshot script run end to end (small sizes, offscreen, XDoG)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_gui import gap_stats

REPO = Path(__file__).resolve().parent.parent


def _screenshot_module():
    spec = importlib.util.spec_from_file_location("screenshot", REPO / "scripts" / "screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(tmp_path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ANISKETCH_HOME=str(tmp_path / "home"))
    env.pop("PYTHONSTARTUP", None)
    return env


def test_gap_stats():
    ticks = [0.0, 0.005, 0.010, 0.160, 0.165]  # one 150 ms stall among 5 ms ticks
    stats = gap_stats(ticks)
    assert stats["max_ms"] == pytest.approx(150.0)
    assert stats["p50_ms"] == pytest.approx(5.0)
    assert stats["over_100"] == 1 and stats["ticks"] == 5
    assert gap_stats([1.0])["max_ms"] is None


def test_generated_illustration_is_colourful_with_outlines():
    img = _screenshot_module().illustration(384, 256)
    assert img.shape == (256, 384, 3) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 500  # gradients and many flat colours
    assert (img.max(axis=2) < 80).mean() > 0.01  # dark outlines


def test_screenshot_script_writes_the_window_and_wizard_pages(tmp_path):
    out = tmp_path / "main.png"
    cmd = [sys.executable, str(REPO / "scripts" / "screenshot.py"), "-o", str(out), "--mode", "xdog",
           "--size", "1000x700", "--queue", "1", "--wizard-pages", str(tmp_path / "wizard"),
           "--wizard-pictures", "4", "--timeout", "120"]
    result = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    from PIL import Image

    with Image.open(out) as shot:
        assert shot.size == (1000, 700)
        assert np.asarray(shot.convert("RGB")).std() > 10
    pages = sorted(p.name for p in (tmp_path / "wizard").iterdir())
    assert pages == ["wizard_0_folder.png", "wizard_1_crawl.png", "wizard_2_pairs.png", "wizard_3_review.png",
                     "wizard_4_train.png"]


def test_bench_gui_prints_figures_and_a_json_line(tmp_path):
    cmd = [sys.executable, "-m", "benchmarks.bench_gui", "--starts", "1", "--batch", "1", "--batch-size", "96x64",
           "--canvas-size", "128x96", "--idle", "0.2", "--timeout", "120"]
    result = subprocess.run(cmd, cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    run = summary["startup"]["runs"][0]
    assert run["shown"] > 0 and run["torch_at_shown"] is False
    phases = summary["stall"]["phases"]
    assert {"idle", "batch", "canvas_open", "canvas_run"} <= set(phases)
    assert phases["batch"]["tally"]["done"] == 1
    assert all(phases[k]["max_ms"] is not None for k in ("idle", "batch", "canvas_open", "canvas_run"))
    assert "max gap ms" in result.stdout


def test_screenshot_script_shoots_the_hint_tool(tmp_path):
    out = tmp_path / "hints.png"
    cmd = [sys.executable, str(REPO / "scripts" / "screenshot.py"), "--scene", "hints", "-o", str(out),
           "--size", "1000x700", "--queue", "0", "--hint-picture", "480x320", "--device", "cpu", "--timeout", "120"]
    result = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hints: " in result.stdout
    from PIL import Image

    with Image.open(out) as shot:
        assert shot.size == (1000, 700)


def test_bench_hints_prints_figures_and_a_json_line(tmp_path):
    cmd = [sys.executable, "-m", "benchmarks.bench_hints", "--size", "320x240", "--hints", "2", "--timeout", "120"]
    result = subprocess.run(cmd, cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["drawing"] == [320, 240] and summary["click"]["n"] == 2 and summary["undo"]["n"] == 2
    assert 0 < summary["click"]["max_s"] < 60 and summary["drag"]["renders_during_drag"] >= 1
