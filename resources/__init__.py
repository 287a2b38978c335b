"""Read-only resources shipped with AniSketch: ``models/`` (safetensors + model cards), ``icons/``, the .desktop
file. Installed as the package data of ``anisketch_desktop.resources``; find them with
``anisketch_desktop.paths.resource_path``."""
