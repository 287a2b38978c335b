"""``anisketch-desktop`` / ``python -m anisketch_desktop``: open the window (``--version``, ``--self-test``).

``--version`` and ``--self-test`` run before Qt is imported, so they work without a display.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from anisketch_desktop import __version__

    parser = argparse.ArgumentParser(prog="anisketch-desktop", description="AniSketch desktop app.")
    parser.add_argument("--version", action="version", version=f"AniSketch {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation on a built-in sample without opening a window; exit 0/1",
    )
    parser.add_argument("--device", default="auto", help="device for --self-test (auto, cpu, cuda)")
    parser.add_argument("inputs", nargs="*", help="pictures or folders to open")
    args, _qt_args = parser.parse_known_args(argv)
    return args


def run_gui(inputs: list[str] | None = None, argv: list[str] | None = None) -> int:
    """Create the application and the main window; returns the event loop's exit code."""
    from pathlib import Path

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from anisketch_desktop import paths
    from anisketch_desktop.gui import dialogs
    from anisketch_desktop.gui.logging_setup import ExceptionHook, setup_logging
    from anisketch_desktop.gui.main_window import MainWindow
    from anisketch_desktop.gui.settings import Settings, configure
    from anisketch_desktop.gui.theme import apply_theme

    started = time.perf_counter()
    log_file = setup_logging()
    configure()
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setWindowIcon(QIcon(str(paths.resource_path("icons", "anisketch.png"))))
    settings = Settings()
    apply_theme(app, settings.theme)
    hook = ExceptionHook(dialogs.show_unexpected_error).install()
    window = MainWindow(settings)
    window.show()
    import logging

    logging.getLogger("anisketch_desktop").info(
        "window shown %.2f s after start-up began (log: %s)", time.perf_counter() - started, log_file
    )
    if inputs:
        window.open_paths([Path(p) for p in inputs])
    try:
        return app.exec()
    finally:
        hook.uninstall()


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # first: a frozen build's worker processes must stop here
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        from anisketch_desktop.self_test import self_test

        return self_test(print, device=args.device)
    return run_gui(args.inputs)


if __name__ == "__main__":
    raise SystemExit(main())
