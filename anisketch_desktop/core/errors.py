"""Errors with messages a user can read. Every layer raises these; the faces (CLI, GUI) word them.

A message never names a command-line flag or a widget: both faces show it. Where a change of setting would fix
the problem, the error carries it in ``fix`` (e.g. ``{"device": "cpu"}``) and each face adds its own hint
("--device cpu" on the command line, the Device menu in the window).
"""

from __future__ import annotations


class AniSketchError(Exception):
    """Base class: the message is meant for the user, not a traceback."""

    def __init__(self, *args, fix: dict[str, str] | None = None):
        super().__init__(*args)
        self.fix: dict[str, str] = dict(fix or {})


class ImageReadError(AniSketchError):
    """A file could not be read as an image (missing, empty, corrupt, truncated, unsupported)."""


class ImageTooLargeError(ImageReadError):
    """The image has more pixels than the configured limit."""


class ImageWriteError(AniSketchError):
    """An image could not be written (unwritable folder, full disk, unknown format)."""


class OutputExistsError(ImageWriteError):
    """The output file exists and overwriting was not asked for."""


class ModelLoadError(AniSketchError):
    """A model file is missing, not safetensors, or lacks the config metadata."""


class DeviceError(AniSketchError):
    """The requested compute device cannot be used."""


class InvalidOptionError(AniSketchError, ValueError):
    """A setting is out of range or malformed (an XDoG value, a file name template, a tile size...)."""


class Cancelled(AniSketchError):
    """The user cancelled a long-running operation."""
