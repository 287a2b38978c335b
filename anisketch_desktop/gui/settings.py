"""Persistent settings: organisation/application names set once, typed getters with defaults, a version key.

Settings live in the platform's usual place; when ``ANISKETCH_HOME`` is set (tests, portable installs) they
are an INI file under it instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings

from anisketch_desktop import APP_NAME, ORG_NAME, __version__
from anisketch_desktop.application.naming import DEFAULT_TEMPLATE

SETTINGS_VERSION = 2
OLD_DEFAULT_TEMPLATE = "{stem}_{mode}.png"  # version 1's default, which gave every model the same file name
MAX_RECENT = 10


def configure() -> None:
    """Set the names QSettings keys on, and the INI location when ``ANISKETCH_HOME`` is set."""
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    home = os.environ.get("ANISKETCH_HOME")
    if home:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(home) / "settings"))


class _Setting:
    """A typed attribute of ``Settings`` backed by one QSettings key."""

    def __init__(self, key: str, default: Any, kind: type):
        self.key, self.default, self.kind = key, default, kind

    def __get__(self, obj: Settings | None, owner=None):
        if obj is None:
            return self
        return obj.get(self.key, self.default, self.kind)

    def __set__(self, obj: Settings, value) -> None:
        obj.set(self.key, value, self.kind)


class Settings:
    """Typed view of the app's QSettings. Create one where needed; they all share the same store."""

    mode = _Setting("process/mode", "sketch", str)
    device = _Setting("process/device", "auto", str)
    sketch_model = _Setting("process/sketch_model", "", str)
    color_model = _Setting("process/color_model", "", str)
    transparent = _Setting("process/transparent", False, bool)
    flats = _Setting("process/flats", True, bool)
    speck_size = _Setting("process/speck_size", 0, int)
    line_weight = _Setting("process/line_weight", 0, int)
    line_threshold = _Setting("process/line_threshold", 0, int)  # percent
    line_tint = _Setting("process/line_tint", False, bool)
    xdog_params = _Setting("process/xdog_params", {}, dict)
    theme = _Setting("ui/theme", "dark", str)
    compare_layout = _Setting("ui/compare_layout", "split", str)
    geometry = _Setting("ui/geometry", QByteArray(), QByteArray)
    window_state = _Setting("ui/window_state", QByteArray(), QByteArray)
    last_open_dir = _Setting("files/last_open_dir", "", str)
    last_save_dir = _Setting("files/last_save_dir", "", str)
    recent_files = _Setting("files/recent", [], list)
    output_dir = _Setting("batch/output_dir", "", str)
    name_template = _Setting("batch/name_template", DEFAULT_TEMPLATE, str)
    if_exists = _Setting("batch/if_exists", "skip", str)

    def __init__(self) -> None:
        configure()
        self._store = QSettings()
        self._migrate()

    def _migrate(self) -> None:
        version = self.get("version", 0, int)
        if version < 2 and self._store.value("batch/name_template") == OLD_DEFAULT_TEMPLATE:
            self.name_template = DEFAULT_TEMPLATE  # the old default, kept by nobody's choice: models apart now
        if version < SETTINGS_VERSION:
            self._store.setValue("version", SETTINGS_VERSION)

    def get(self, key: str, default: Any, kind: type) -> Any:
        raw = self._store.value(key)
        if raw is None:
            return default
        try:
            if kind is bool:
                return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
            if kind in (int, float, str):
                return kind(raw)
            if kind in (list, dict):
                value = json.loads(raw) if isinstance(raw, str) else raw
                return value if isinstance(value, kind) else default
            if kind is QByteArray:
                return raw if isinstance(raw, QByteArray) else QByteArray(raw)
        except (TypeError, ValueError):
            return default
        return raw

    def set(self, key: str, value: Any, kind: type | None = None) -> None:
        if kind in (list, dict):
            value = json.dumps(value)
        self._store.setValue(key, value)

    def add_recent(self, path: str | Path) -> list[str]:
        path = str(path)
        recent = [p for p in self.recent_files if p != path]
        self.recent_files = [path, *recent][:MAX_RECENT]
        return self.recent_files

    def sync(self) -> None:
        self._store.sync()

    def file_name(self) -> str:
        return self._store.fileName()
