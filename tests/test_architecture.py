"""Layering and lint: Qt only in gui/, data flows one way (import-linter), ruff clean."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool(name):
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else shutil.which(name)


def test_import_contracts_hold():
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_ruff_clean():
    result = subprocess.run(
        [_tool("ruff"), "check", "anisketch_desktop", "training", "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_sql_outside_the_dataset_layer():
    """The GUI and the faces read the dataset store through its typed methods, never with SQL of their own."""
    import re

    sql = re.compile(r"\.query\(|\.execute\(|\bSELECT\b|\bUPDATE\s+\w+\s+SET\b|\bINSERT\s+INTO\b|where=")
    found = []
    for path in sorted((ROOT / "anisketch_desktop").rglob("*.py")):
        if "dataset" in path.relative_to(ROOT / "anisketch_desktop").parts[:1]:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if sql.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "SQL outside anisketch_desktop/dataset/:\n" + "\n".join(found)


def test_mypy_clean():
    """`make lint` runs mypy with the [tool.mypy] settings of pyproject.toml (the app package; see its scope)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_channels_last_unshuffle_equals_pixel_unshuffle():
    """The engine's channels-last fast path folds pixels exactly as ``F.pixel_unshuffle`` does."""
    import torch
    from torch.nn import functional as F

    from anisketch_desktop.core.unet_model import _unshuffle

    x = torch.rand(2, 3, 32, 48)
    for r in (2, 4):
        fast = _unshuffle(x.contiguous(memory_format=torch.channels_last), r)
        assert torch.equal(fast.contiguous(), F.pixel_unshuffle(x, r))
        assert torch.equal(_unshuffle(x, r), F.pixel_unshuffle(x, r))  # plain NCHW: the built-in
