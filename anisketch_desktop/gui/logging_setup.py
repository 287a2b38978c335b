"""A rotating log file in the user's logs folder, and a ``sys.excepthook`` that logs and tells the user once.

When frozen on Windows there is no console, so the log file is the only record of what went wrong.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from anisketch_desktop import paths

LOG_NAME = "anisketch.log"
_handler: RotatingFileHandler | None = None


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the ``anisketch_desktop`` loggers to ``logs_dir()/anisketch.log`` (1 MB x 3 files)."""
    global _handler
    path = paths.logs_dir() / LOG_NAME
    root = logging.getLogger("anisketch_desktop")
    if _handler is not None and Path(_handler.baseFilename) == path:
        return path
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True)
    _handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    root.addHandler(_handler)
    root.setLevel(level)
    return path


class ExceptionHook:
    """Logs every unexpected exception with its traceback; shows the user a message for each new one once."""

    def __init__(self, show: Callable[[str, str], None] | None = None):
        self.show = show
        self._seen: set[tuple[str, str]] = set()
        self._previous = sys.excepthook
        self._previous_thread = threading.excepthook

    def install(self) -> ExceptionHook:
        sys.excepthook = self
        threading.excepthook = self._thread_hook
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._previous
        threading.excepthook = self._previous_thread

    def _thread_hook(self, args) -> None:
        self(args.exc_type, args.exc_value, args.exc_traceback)

    def __call__(self, exc_type, exc_value, exc_tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous(exc_type, exc_value, exc_tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc_value, exc_tb))
        logging.getLogger("anisketch_desktop").error("Unexpected error:\n%s", text)
        key = (exc_type.__name__, str(exc_value))
        if key in self._seen:
            return
        self._seen.add(key)
        summary = f"{exc_type.__name__}: {exc_value}"
        if self.show is not None:
            try:
                self.show(summary, str(paths.logs_dir() / LOG_NAME))
            except Exception:  # the hook must never raise
                logging.getLogger("anisketch_desktop").exception("could not show the error dialog")
        else:
            print(text, file=sys.stderr)
