"""Package list for setuptools (the rest of the configuration is in pyproject.toml).

Every package under ``anisketch_desktop/`` and ``training/``, plus ``anisketch_desktop.resources``: the top-level
``resources/`` folder (models, model cards, icons, the .desktop file) mapped into the package in pyproject.toml.
pyproject.toml's ``packages.find`` cannot add a mapped package, hence this file.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["anisketch_desktop*", "training*"]), "anisketch_desktop.resources"])
