"""Entry script of the frozen app: the desktop app and the command line from one script.

``AniSketch`` opens the window; ``anisketch`` (``anisketch-cli`` on Windows and macOS, whose file systems
ignore case) is the command line. On Windows and macOS they are two executables (windowed and console) and each
carries its mode as a Python ``-X anisketch_mode=gui|cli`` option baked in by the spec. On Linux ``anisketch``
is a symlink to ``AniSketch`` and the name the program was started by decides.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

CLI_NAMES = ("anisketch", "anisketch-cli")


def run_mode(argv0: str, xoptions: dict) -> str:
    """The mode, "gui" or "cli": the one baked into the executable, else by program name (case matters)."""
    mode = xoptions.get("anisketch_mode")
    if mode in ("gui", "cli"):
        return mode
    name = argv0.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name[:-4] if name.lower().endswith(".exe") else name
    return "cli" if stem in CLI_NAMES else "gui"


def _log_to_file_without_console() -> None:
    """A windowed Windows build has no stdout/stderr: send both to a file in the user's logs folder."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    from anisketch_desktop import paths

    stream = open(paths.logs_dir() / "console.log", "a", encoding="utf-8", buffering=1)
    sys.stdout = sys.stdout or stream
    sys.stderr = sys.stderr or stream


def _preload_torch_on_windows() -> None:
    """Import torch before PySide6 on Windows.

    Qt ships an older MSVC runtime (msvcp140.dll); once Qt has loaded it, torch's c10.dll fails to load
    ("DLL load failed while importing _C"). The spec also bundles the newest runtime it can find, so this
    costs the start-up time of ``import torch`` only as a safety net; set ANISKETCH_NO_TORCH_PRELOAD=1 to
    skip it once a build has been checked without it.
    """
    if sys.platform != "win32" or os.environ.get("ANISKETCH_NO_TORCH_PRELOAD"):
        return
    try:
        import torch  # noqa: F401
    except ImportError:  # reported properly when a model is first used
        pass


def _quiet_missing_sources() -> None:
    """torch's byte-code-only modules warn at import that torch.jit overloads have no source; the app never
    scripts anything, so the warning is noise on the console (and in the log)."""
    import warnings

    warnings.filterwarnings("ignore", message="Unable to retrieve source for @torch.jit._overload")


def main() -> int:
    _quiet_missing_sources()
    if run_mode(sys.argv[0], sys._xoptions) == "gui":
        _log_to_file_without_console()
        _preload_torch_on_windows()
        from anisketch_desktop.app import main as gui_main

        return int(gui_main() or 0)
    from anisketch_desktop.cli import main as cli_main

    argv = sys.argv[1:]
    if argv[:1] == ["--self-test"]:  # the same spelling as the desktop app's option
        argv = ["self-test", *argv[1:]]
    return int(cli_main(argv) or 0)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # first: a frozen child process must not start a second app
    raise SystemExit(main())
