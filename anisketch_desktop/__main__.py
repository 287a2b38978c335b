"""``python -m anisketch_desktop`` runs the desktop app, like ``anisketch-desktop``."""

from anisketch_desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
