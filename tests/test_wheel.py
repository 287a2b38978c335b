"""The wheel: built from this checkout it carries the models, model cards, icons, .desktop file and recipes, and
installed into a fresh virtual environment it passes ``anisketch self-test`` with the models it carries.

The fresh venv sees this environment's packages (torch, Qt...) through a ``.pth`` line, so nothing is downloaded;
AniSketch itself comes only from the wheel (no PYTHONPATH, run from an empty folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "setup.py", "README.md", "anisketch_desktop", "training", "resources"]


def _source_packages() -> set[str]:
    """Every package of the source tree, as a folder path inside the wheel."""
    found = {"anisketch_desktop/resources"}
    for top in ("anisketch_desktop", "training"):
        found |= {str(init.parent.relative_to(ROOT)) for init in (ROOT / top).rglob("__init__.py")}
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel`` of a copy of the checkout (the build writes build/ and *.egg-info next to its sources)."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    assert (major, minor) >= (70, 1), "building the wheel needs setuptools >= 70.1 (make setup installs it)"
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "runs")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(out), str(src)], check=True, timeout=300)
    (found,) = out.glob("anisketch_desktop-*.whl")
    return found


def test_wheel_holds_models_cards_icons_recipes_and_every_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    res = "anisketch_desktop/resources"
    shipped = sorted(p.name for p in (ROOT / "resources" / "models").glob("*.safetensors"))
    assert shipped, "no shipped models in the checkout"
    for model in shipped:
        assert f"{res}/models/{model}" in names
        assert f"{res}/models/{Path(model).stem}.md" in names, f"{model} ships without its model card"
    for path in (ROOT / "resources" / "icons").iterdir():
        assert f"{res}/icons/{path.name}" in names
    assert f"{res}/anisketch.desktop" in names
    for recipe in (ROOT / "training" / "recipes").glob("*.json"):
        assert f"training/recipes/{recipe.name}" in names
    folders = {name.rsplit("/", 1)[0] for name in names if name.endswith(".py")}
    missing = _source_packages() - folders
    assert not missing, f"packages left out of the wheel: {sorted(missing)}"
    with zipfile.ZipFile(wheel) as archive:  # the model bytes are the committed ones, not a stand-in
        data = archive.read(f"{res}/models/{shipped[0]}")
    assert data == (ROOT / "resources" / "models" / shipped[0]).read_bytes()


def test_wheel_installed_in_fresh_venv_passes_self_test(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # torch, numpy, Qt... from this environment, after the venv's own site-packages (no editable finders: .pth
    # files in an added folder are not run).
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "host_packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "-q", str(wheel)], check=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANISKETCH_RESOURCES")}
    env["ANISKETCH_HOME"] = str(tmp_path / "home")
    scripts = python.parent

    where = subprocess.run([str(python), "-c", "import anisketch_desktop.paths as p; print(p.resources_dir())"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).resolve() == (Path(site) / "anisketch_desktop" / "resources").resolve()

    listed = subprocess.run([str(scripts / "anisketch"), "models"], cwd=work, env=env, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert site in listed.stdout or str(Path(site).resolve()) in listed.stdout
    assert "shipped" in listed.stdout and str(ROOT) not in listed.stdout

    result = subprocess.run([str(scripts / "anisketch"), "self-test"], cwd=work, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "ok   U-Net sketch" in result.stdout and "ok   U-Net colorize" in result.stdout
