"""Start-up: the window appears before torch is imported; --version and --self-test work without Qt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

from anisketch_desktop import __version__

SHOW_WINDOW = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    from anisketch_desktop.app import run_gui
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    def check():
        window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "main_window")
        print("visible", window.isVisible(), "torch", "torch" in sys.modules, "t", time.perf_counter() - t0)
        combo = window.options.sketch_model_combo
        items = lambda: "|".join(combo.itemText(i) for i in range(combo.count()))
        QTimer.singleShot(300, lambda: print("torch_later", "torch" in sys.modules, "models", items()))
        QTimer.singleShot(350, QApplication.instance().quit)
    QTimer.singleShot(0, check)
    sys.exit(run_gui([]))
    """
)


def _env(home) -> dict:
    env = dict(os.environ, ANISKETCH_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONSTARTUP", None)
    return env


def test_window_appears_before_torch_is_imported(tmp_path, tiny_sketch_model):
    (tmp_path / "models").mkdir()
    shutil.copy(tiny_sketch_model, tmp_path / "models" / "mine.safetensors")  # listing it must not load torch
    result = subprocess.run([sys.executable, "-c", SHOW_WINDOW], env=_env(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("visible"))
    assert line.startswith("visible True torch False"), result.stdout
    # listing the installed models after start-up does not load torch either
    later = next(x for x in result.stdout.splitlines() if x.startswith("torch_later"))
    assert later.startswith("torch_later False models") and "tiny test model (yours)" in later, result.stdout
    assert (tmp_path / "logs" / "anisketch.log").is_file()


def test_version_needs_no_display_and_no_qt(tmp_path):
    code = "import sys; from anisketch_desktop.app import main\n" \
           "try:\n    main(['--version'])\nexcept SystemExit as e:\n    print('qt', 'PySide6' in sys.modules)"
    env = _env(tmp_path)
    env.pop("QT_QPA_PLATFORM")
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert f"AniSketch {__version__}" in result.stdout
    assert "qt False" in result.stdout


def test_self_test_reports_each_check_and_its_exit_status(tmp_path):
    """No models shipped in this resources folder: XDoG passes, the missing models fail, exit status 1."""
    env = _env(tmp_path)
    env["ANISKETCH_RESOURCES"] = str(tmp_path / "empty_resources")
    result = subprocess.run([sys.executable, "-m", "anisketch_desktop", "--self-test"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok   xdog sketch" in result.stdout
    assert "FAIL shipped sketch model missing" in result.stdout
    assert "self-test FAILED" in result.stdout
