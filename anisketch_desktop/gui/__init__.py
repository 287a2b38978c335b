"""The desktop app (PySide6). The only package that imports Qt.

``main_window.MainWindow`` delegates to panels: ``compare_view`` (canvas, before/after), ``queue_panel`` /
``queue_model`` / ``queue_runner`` (batch), ``xdog_panel`` and ``options_panel``. Long work runs through
``workers.TaskRunner`` (a QObject worker moved to a QThread). ``backend`` holds the Qt-free job functions
that call ``anisketch_desktop.core``; torch is only imported inside worker threads.
"""
