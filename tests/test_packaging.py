"""Packaging: the spec, the launcher, the build scripts and the Linux installer, checked without building.

The real build (several minutes) runs only with ANISKETCH_BUILD_TEST=1: see test_build_and_verify.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = ROOT / "resources" / "anisketch.desktop"
SCRIPTS = ["build.sh", "verify.sh", "make_tarball.sh", "linux/install.sh", "linux/uninstall.sh",
           "macos/make_dmg.sh"]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------- the spec
class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT/BUNDLE and remembers how the spec called them."""

    def __init__(self, binaries, datas):
        self.calls: dict[str, list] = {}
        self.binaries, self.datas = binaries, datas

    def make(self, kind):
        def build(*args, **kwargs):
            self.calls.setdefault(kind, []).append((args, kwargs))
            obj = types.SimpleNamespace(args=args, kwargs=kwargs, name=kwargs.get("name"))
            if kind == "Analysis":
                obj.binaries, obj.datas, obj.pure, obj.scripts = list(self.binaries), list(self.datas), [], []
            return obj
        return build


def _run_spec(tmp_path, monkeypatch, binaries=(), datas=()):
    fake_hooks = types.ModuleType("PyInstaller.utils.hooks")
    fake_hooks.collect_data_files = lambda package, **kw: [(f"/src/{package}/data.txt", package)]
    fake_hooks.collect_submodules = lambda package, **kw: [package, f"{package}.sub"]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", fake_hooks)
    monkeypatch.setenv("ANISKETCH_PRUNE_REPORT", str(tmp_path / "report.txt"))
    monkeypatch.delenv("ANISKETCH_NO_PRUNE", raising=False)
    monkeypatch.delenv("ANISKETCH_BUILD_RESOURCES", raising=False)
    monkeypatch.syspath_prepend(str(PACKAGING))
    rec = _Recorder(binaries, datas)
    dist = tmp_path / "dist"
    (dist / "AniSketch").mkdir(parents=True)
    namespace = {name: rec.make(name) for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace.update(SPECPATH=str(PACKAGING), DISTPATH=str(dist), __file__=str(PACKAGING / "anisketch.spec"))
    code = compile((PACKAGING / "anisketch.spec").read_text(), "anisketch.spec", "exec")
    exec(code, namespace)
    return rec, namespace, dist


def test_spec_builds_one_folder_app_with_resources_and_no_upx(tmp_path, monkeypatch):
    rec, ns, dist = _run_spec(tmp_path, monkeypatch)
    (analysis_args, analysis_kw), = rec.calls["Analysis"]
    assert analysis_args[0][0].endswith("entry.py")
    assert (str(ROOT / "resources"), "resources") in analysis_kw["datas"]
    assert any(dest == "qdarkstyle" for _src, dest in analysis_kw["datas"])
    assert "anisketch_desktop.sub" in analysis_kw["hiddenimports"]
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQuick", "PySide6.Qt3DCore", "PyQt5", "tkinter"} <= set(
        analysis_kw["excludes"])
    assert "PySide6.QtWidgets" not in analysis_kw["excludes"] and "PySide6.QtSvg" not in analysis_kw["excludes"]
    modes = analysis_kw["module_collection_mode"]
    assert modes["torch"] == "pyz"  # byte-code only, except the config modules that read their own source:
    assert modes["torch.distributed.config"] == modes["torch.utils._config_module"] == "pyz+py"
    site = Path(torch.__file__).parent
    readers = {str(p.relative_to(site.parent).with_suffix("")).replace("/", ".") for p in site.rglob("*.py")
               if "install_config_module(sys.modules[__name__])" in p.read_text(errors="ignore")}
    assert {r for r in readers if ".testing." not in r} <= set(modes)  # a new torch adds none we miss
    exes = rec.calls["EXE"]
    assert all(kw["upx"] is False and kw["exclude_binaries"] is True for _a, kw in exes)
    names = [kw["name"] for _a, kw in exes]
    assert names[0] == "AniSketch" and exes[0][1]["console"] is False
    (_coll_args, coll_kw), = rec.calls["COLLECT"]
    assert coll_kw["name"] == "AniSketch" and coll_kw["upx"] is False
    if sys.platform.startswith("linux"):
        assert names == ["AniSketch"] and coll_kw["strip"] is False  # strip=True corrupts numpy's OpenBLAS
        link = dist / "AniSketch" / "anisketch"  # the CLI is a symlink to the one executable
        assert link.is_symlink() and os.readlink(link) == "AniSketch"
    else:
        assert names == ["AniSketch", "anisketch-cli"]


def test_spec_prunes_test_programs_but_keeps_torch_shm_manager(tmp_path, monkeypatch):
    def entry(dest, size=10, kind="DATA"):
        src = tmp_path / "src" / dest
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(b"x" * size)
        return (dest, str(src), kind)

    datas = [entry("torch/bin/torch_shm_manager"), entry("torch/bin/test_api", 1000), entry("torch/test/atest", 500),
             entry("PySide6/Qt/translations/qtbase_de.qm", 70), entry("resources/models/sketch.safetensors")]
    binaries = [entry("torch/lib/libtorch_cpu.so", kind="BINARY"), entry("torch/lib/libtorchbind_test.so", 5, "BINARY"),
                ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
                entry("PySide6/Qt/lib/libQt6Network.so.6", 20, "BINARY"),
                entry("PySide6/Qt/plugins/platforms/libqxcb.so", kind="BINARY"),
                entry("PySide6/Qt/plugins/platforms/libqoffscreen.so", kind="BINARY")]
    rec, ns, _dist = _run_spec(tmp_path, monkeypatch, binaries, datas)
    analysis = ns["a"]
    kept = {d[0] for d in analysis.datas} | {b[0] for b in analysis.binaries}
    assert kept == {"torch/bin/torch_shm_manager", "resources/models/sketch.safetensors", "torch/lib/libtorch_cpu.so",
                    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so"}
    report = (tmp_path / "report.txt").read_text()
    assert "torch/bin/test_api" in report and "libQt6Network.so.6  (symlink to a pruned file)" in report
    assert "pruned in all (6 files" in report


def test_orphaned_libraries_go_with_the_plugin_that_needed_them(tmp_path):
    rules = _load("prune_rules")
    files = {}
    for name in ("theme.so", "libgtk.so", "libglib.so", "libQt6Gui.so", "QtGui.so"):
        files[name] = tmp_path / name
        files[name].write_bytes(b"\x7fELF")
    deps = {"theme.so": ["libgtk.so", "libglib.so"], "libgtk.so": ["libglib.so"], "QtGui.so": ["libQt6Gui.so"],
            "libQt6Gui.so": ["libglib.so"]}
    toc = [("PySide6/Qt/plugins/platformthemes/theme.so", str(files["theme.so"]), "BINARY"),
           ("libgtk.so", str(files["libgtk.so"]), "BINARY"), ("libglib.so", str(files["libglib.so"]), "BINARY"),
           ("PySide6/Qt/lib/libQt6Gui.so", str(files["libQt6Gui.so"]), "BINARY"),
           ("PySide6/QtGui.so", str(files["QtGui.so"]), "EXTENSION")]
    kept, dropped = rules.prune(toc, get_imports=lambda path: deps.get(Path(path).name, []))
    assert [e[0] for e in kept] == ["libglib.so", "PySide6/Qt/lib/libQt6Gui.so", "PySide6/QtGui.so"]
    assert {d[0]: d[3] for d in dropped}["libgtk.so"] == "library only a pruned file needed"


@pytest.mark.parametrize("path, keep", [
    ("torch/bin/torch_shm_manager", True), ("torch/lib/libtorch_cpu.so", True), ("torch/lib/libc10.so", True),
    ("torch/lib/libgomp.so.1", True), ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True), ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True), ("qdarkstyle/dark/rc/arrow_down.png", True),
    ("torch/bin/protoc", False), ("torch/include/ATen/core/Tensor.h", False), ("torch/lib/libtorch_cpu.a", False),
    ("PySide6/Qt/plugins/platforms/libqwayland-egl.so", False), ("PySide6/QtCore.pyi", False),
    ("numpy/_core/tests/data/umath-validation-set-README.txt", False),
])
def test_prune_rules(path, keep):
    rules = _load("prune_rules")
    assert (rules.reason_to_drop(path) is None) is keep


def test_only_torch_libraries_are_stripped(tmp_path):
    rules = _load("prune_rules")
    for name in ("torch/lib/libtorch_cpu.so", "torch/lib/libgomp.so.1", "torch/_C.cpython-311-x86_64-linux-gnu.so",
                 "numpy.libs/libscipy_openblas64_.so", "cv2/cv2.abi3.so", "PIL/_imaging.so"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    matched = {str(p.relative_to(tmp_path)) for g in rules.STRIP_GLOBS for p in tmp_path.glob(g)}
    assert matched == {"torch/lib/libtorch_cpu.so", "torch/lib/libgomp.so.1",
                       "torch/_C.cpython-311-x86_64-linux-gnu.so"}


# --------------------------------------------------------------------------------------------- entry script
@pytest.mark.parametrize("argv0, xoptions, mode", [
    ("/opt/AniSketch/AniSketch", {}, "gui"), ("/home/u/.local/bin/anisketch", {}, "cli"), ("anisketch", {}, "cli"),
    (r"C:\AniSketch\anisketch-cli.exe", {}, "cli"), (r"C:\AniSketch\AniSketch.exe", {}, "gui"),
    ("anisketch", {"anisketch_mode": "gui"}, "gui"),  # Windows: typing "anisketch" may start AniSketch.exe
    ("AniSketch", {"anisketch_mode": "cli"}, "cli"),
])
def test_entry_picks_gui_or_cli(argv0, xoptions, mode):
    assert _load("entry").run_mode(argv0, xoptions) == mode


def test_entry_cli_accepts_self_test_and_version(monkeypatch, capsys):
    entry = _load("entry")
    calls = []
    import anisketch_desktop.cli as cli

    monkeypatch.setattr(cli, "main", lambda argv=None: calls.append(argv) or 0)
    monkeypatch.setattr(sys, "argv", ["/opt/AniSketch/anisketch", "--self-test"])
    assert entry.main() == 0
    monkeypatch.setattr(sys, "argv", ["anisketch", "sketch", "a.png", "-o", "out"])
    assert entry.main() == 0
    assert calls == [["self-test"], ["sketch", "a.png", "-o", "out"]]
    text = (PACKAGING / "entry.py").read_text()
    assert text.index("multiprocessing.freeze_support()") < text.index("raise SystemExit(main())")


# --------------------------------------------------------------------------------------------- launcher
def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_desktop_file_is_a_valid_launcher_for_the_built_exe():
    entry = _desktop_entry(DESKTOP)
    for key in ("Type", "Name", "Exec", "Icon", "Categories", "MimeType", "Terminal"):
        assert entry.get(key), f"missing {key}"
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == "AniSketch" and entry["Exec"].split()[1] in ("%F", "%f", "%U")
    assert entry["Icon"] == "anisketch"
    assert {"Graphics", "2DGraphics"} <= set(entry["Categories"].rstrip(";").split(";"))
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";")
    assert {"image/png", "image/jpeg"} <= set(entry["MimeType"].rstrip(";").split(";"))
    icons = ROOT / "resources" / "icons"
    if icons.is_dir() and any(icons.iterdir()):
        assert (icons / "anisketch.png").is_file() or (icons / "anisketch.svg").is_file()
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_placeholder_icon_is_a_256px_png(tmp_path):
    out = tmp_path / "icon.png"
    assert _load("placeholder_icon").main([str(out)]) == 0
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (256, 256) and im.mode == "RGBA"
        assert im.getpixel((0, 0))[3] == 0 and im.getpixel((128, 128))[3] == 255  # rounded corner, opaque middle


# --------------------------------------------------------------------------------------------- scripts
@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_and_parse(script):
    path = PACKAGING / script
    assert path.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"
    assert path.read_text().startswith("#!/usr/bin/env bash")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_windows_and_macos_recipes_name_the_built_programs():
    iss = (PACKAGING / "windows" / "anisketch.iss").read_text()
    assert r"{app}\AniSketch.exe" in iss and r"{app}\anisketch-cli.exe" in iss
    assert "{autodesktop}" in iss and "{autoprograms}" in iss and r"dist\AniSketch" in iss
    ps1 = (PACKAGING / "build.ps1").read_text()
    assert "packaging\\anisketch.spec" in ps1 and "anisketch.iss" in ps1
    assert "hdiutil create" in (PACKAGING / "macos" / "make_dmg.sh").read_text()


# --------------------------------------------------------------------------------------------- installer
def _fake_bundle(folder: Path) -> Path:
    """A tiny stand-in for dist/AniSketch: programs that record how they were started, plus the resources."""
    folder.mkdir(parents=True)
    program = '#!/bin/sh\necho "$(basename "$0") $*" >> "$ANISKETCH_TEST_LOG"\n'
    (folder / "AniSketch").write_text(program)
    (folder / "AniSketch").chmod(0o755)
    (folder / "anisketch").symlink_to("AniSketch")
    resources = folder / "_internal" / "resources"
    (resources / "icons").mkdir(parents=True)
    shutil.copy(DESKTOP, resources / "anisketch.desktop")
    (resources / "icons" / "anisketch.png").write_bytes(b"\x89PNG fake")
    for script in ("install.sh", "uninstall.sh"):
        shutil.copy(PACKAGING / "linux" / script, folder / script)
    return folder


def _sh(args, home: Path, log: Path | None = None, check=True):
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "ANISKETCH_TEST_LOG": str(log or home / "log")}
    result = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_install_then_uninstall_in_a_temporary_home(tmp_path):
    home = tmp_path / "home"
    bundle = _fake_bundle(tmp_path / "pkg" / "AniSketch-0.1.0")
    (home / ".local" / "bin").mkdir(parents=True)
    foreign = home / ".local" / "bin" / "anisketch"  # e.g. from `pip install --user`: must survive both scripts
    foreign.write_text("#!/bin/sh\necho pip\n")
    data = home / ".local" / "share" / "AniSketch" / "models"
    data.mkdir(parents=True)
    (data / "mine.safetensors").write_bytes(b"user model")

    out = _sh([bundle / "install.sh"], home)
    dest = home / ".local" / "opt" / "AniSketch"
    assert (dest / "AniSketch").is_file() and (dest / "uninstall.sh").is_file()
    gui_link = home / ".local" / "bin" / "AniSketch"
    assert gui_link.is_symlink() and Path(os.readlink(gui_link)) == dest / "AniSketch"
    assert foreign.read_text().endswith("echo pip\n") and "not ours" in out.stderr
    desktop = home / ".local" / "share" / "applications" / "anisketch.desktop"
    entry = _desktop_entry(desktop)
    assert entry["Exec"] == f'"{dest / "AniSketch"}" %F' and entry["TryExec"] == str(dest / "AniSketch")
    assert entry["Icon"] == "anisketch"
    icon = home / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "anisketch.png"
    assert icon.read_bytes() == b"\x89PNG fake"

    # The launcher's command line starts the installed program, with the user's file.
    command = entry["Exec"].replace("%F", "picture.png").replace('"', "")
    _sh(command.split(), home)
    assert (home / "log").read_text() == "AniSketch picture.png\n"

    # Installing again (an update) replaces the old copy in place.
    (dest / "leftover-from-old-version").write_text("x")
    _sh([bundle / "install.sh"], home)
    assert not (dest / "leftover-from-old-version").exists() and (dest / "AniSketch").is_file()

    _sh([dest / "uninstall.sh"], home)
    assert not dest.exists() and not gui_link.exists() and not desktop.exists() and not icon.exists()
    assert foreign.is_file()  # not ours: kept
    assert (data / "mine.safetensors").read_bytes() == b"user model"  # user data kept without --purge
    assert (bundle / "AniSketch").is_file()  # the unpacked package is untouched


def test_install_links_the_cli_and_purge_removes_user_data(tmp_path):
    home = tmp_path / "home"
    bundle = _fake_bundle(tmp_path / "AniSketch")
    _sh([bundle / "install.sh"], home)
    cli = home / ".local" / "bin" / "anisketch"
    assert cli.is_symlink()
    _sh([cli, "--version"], home)
    assert (home / "log").read_text() == "anisketch --version\n"  # argv[0] names the CLI: entry.py's switch
    settings = home / ".config" / "AniSketch"
    settings.mkdir(parents=True)
    (home / ".local" / "share" / "AniSketch").mkdir(parents=True)
    _sh([home / ".local" / "opt" / "AniSketch" / "uninstall.sh", "--purge"], home)
    assert not cli.exists() and not settings.exists() and not (home / ".local" / "share" / "AniSketch").exists()


def test_install_refuses_to_replace_a_folder_it_did_not_create(tmp_path):
    home = tmp_path / "home"
    bundle = _fake_bundle(tmp_path / "AniSketch")
    dest = home / ".local" / "opt" / "AniSketch"
    dest.mkdir(parents=True)
    (dest / "precious.txt").write_text("mine")
    result = _sh([bundle / "install.sh"], home, check=False)
    assert result.returncode == 1 and "--force" in result.stderr
    assert (dest / "precious.txt").read_text() == "mine"
    _sh([bundle / "install.sh", "--force"], home)
    assert not (dest / "precious.txt").exists() and (dest / "AniSketch").is_file()


def test_make_tarball_packs_an_installable_archive(tmp_path):
    dist = tmp_path / "dist"
    _fake_bundle(dist / "AniSketch")
    env = dict(os.environ, ANISKETCH_DIST=str(dist))
    result = subprocess.run(["bash", str(PACKAGING / "make_tarball.sh")], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    archive, = dist.glob("AniSketch-*-linux-*.tar.xz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        assert {f"{top}/install.sh", f"{top}/AniSketch", f"{top}/INSTALL.txt"} <= set(names)
        assert all(member.uid == 0 and member.uname in ("", "root") for member in tar.getmembers())
        safe = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
        tar.extractall(tmp_path / "unpacked", **safe)
    home = tmp_path / "home"
    _sh([tmp_path / "unpacked" / top / "install.sh"], home)
    assert (home / ".local" / "opt" / "AniSketch" / "AniSketch").is_file()
    assert not list(dist.glob(".stage*"))  # the staging folder is cleaned up


# --------------------------------------------------------------------------------------------- real build
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ANISKETCH_BUILD_TEST"), reason="set ANISKETCH_BUILD_TEST=1 (builds, minutes)")
def test_build_and_verify(tmp_path):
    """The documented build produces a bundle whose self-test, training smoke test and window check pass."""
    env = dict(os.environ, ANISKETCH_DIST=str(tmp_path / "dist"), ANISKETCH_WORK=str(tmp_path / "work"),
               PYTHON=sys.executable)
    models = ROOT / "resources" / "models"
    if not all((models / f"{task}.safetensors").is_file() for task in ("sketch", "colorize")):
        # Before the trained models exist: the real resources plus tiny random models.
        from conftest import _tiny_model

        from anisketch_desktop.core.unet_model import UNetConfig

        resources = tmp_path / "resources"
        shutil.copytree(ROOT / "resources", resources)
        _tiny_model(resources / "models" / "sketch.safetensors", UNetConfig.sketch(base_channels=4, depth=2))
        _tiny_model(resources / "models" / "colorize.safetensors", UNetConfig.colorize(base_channels=4, depth=2))
        env["ANISKETCH_BUILD_RESOURCES"] = str(resources)
    build = subprocess.run(["bash", str(PACKAGING / "build.sh")], env=env, capture_output=True, text=True,
                           timeout=3600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    verify = subprocess.run(["bash", str(PACKAGING / "verify.sh"), str(tmp_path / "dist" / "AniSketch")], env=env,
                            capture_output=True, text=True, timeout=1800)
    assert verify.returncode == 0, verify.stdout[-5000:] + verify.stderr[-3000:]
    assert "PASS anisketch --self-test" in verify.stdout and "visible under Xvfb" in verify.stdout
