"""Errors with messages a user can read. Every layer raises these; the CLI and GUI show ``str(err)``."""


class AniSketchError(Exception):
    """Base class: the message is meant for the user, not a traceback."""


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


class Cancelled(AniSketchError):
    """The user cancelled a long-running operation."""
