"""The desktop app (PySide6). The only package that imports Qt.

``main_window.MainWindow`` delegates to panels: ``compare_view`` (canvas, before/after), ``queue_panel`` /
``queue_model`` / ``queue_runner`` (batch), ``xdog_panel`` and ``options_panel``. Long work runs through
``workers.TaskRunner`` (a QObject worker moved to a QThread) calling the Qt-free job functions of
``anisketch_desktop.application`` (the same ones the CLI calls); torch is only imported inside worker threads.
"""
