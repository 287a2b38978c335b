"""The main window: wires the canvas, the side panel, the queue dock, menus and the status bar together.

It owns no processing logic: ``ImageSession`` handles the picture on the canvas, ``QueuePanel`` the batch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox

from anisketch_desktop import paths
from anisketch_desktop.application import MODES, Options, jobs
from anisketch_desktop.application.modes import draws_lines
from anisketch_desktop.application.naming import output_path
from anisketch_desktop.core import formats
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.gui import dialogs
from anisketch_desktop.gui.colorize_tool import ColorizeTool
from anisketch_desktop.gui.compare_view import CompareView
from anisketch_desktop.gui.drop import parse_mime
from anisketch_desktop.gui.image_session import ImageSession
from anisketch_desktop.gui.imaging import to_qimage
from anisketch_desktop.gui.input_policy import HoldSpaceFilter, guard_wheel
from anisketch_desktop.gui.menus import build_menus
from anisketch_desktop.gui.options_panel import OptionsPanel
from anisketch_desktop.gui.queue_model import Job
from anisketch_desktop.gui.queue_panel import QueuePanel
from anisketch_desktop.gui.settings import Settings
from anisketch_desktop.gui.theme import apply_theme, current_theme

OPEN_FILTER = formats.open_filter()
SAVE_FILTER = formats.save_filter()


PENDING_TEXT = {"save": "saving", "save_as": "Save As", "copy": "copying"}
QUEUE_DOCK_HEIGHT = 190
TORCH_PRELOAD_MS = 1500  # after the window is up and painted; 0 or less: never


def _preload_torch() -> None:
    """Import torch on a background thread while the user looks at the new window.

    Loading torch's libraries holds the interpreter lock for ~150 ms on a 2-core machine; done here, that pause
    falls at start-up instead of freezing the window on the first job of a batch (measured by bench_gui).
    """
    import os
    import threading

    if TORCH_PRELOAD_MS <= 0 or os.environ.get("ANISKETCH_NO_TORCH_PRELOAD"):
        return

    def load() -> None:
        try:
            import torch  # noqa: F401
        except Exception:  # reported with a readable message when a model is first used
            pass

    threading.Thread(target=load, name="torch-preload", daemon=True).start()


class MainWindow(QMainWindow):
    models_refreshed = Signal()

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.setObjectName("main_window")
        self.setWindowTitle("AniSketch")
        self.setWindowIcon(QIcon(str(paths.resource_path("icons", "anisketch.png"))))
        self.setAcceptDrops(True)
        self._device_note_shown = False
        self._pending: str | None = None  # Save / Save As / Copy asked for while the full picture renders
        self._wizard = None

        self.canvas = CompareView(self)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.session = ImageSession(self)
        self.options = OptionsPanel(self.settings, self)
        self.options_dock = self._dock(
            "Options", "options_dock", self.options, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.queue = QueuePanel(self.settings, self)
        self.queue_dock = self._dock(
            "Batch queue", "queue_dock", self.queue, Qt.DockWidgetArea.BottomDockWidgetArea
        )

        self.colorize = ColorizeTool(self)  # the hint tool, its dock and the live guided result
        self.zoom_label, self.device_label, self.time_label = (
            QLabel("100%"),
            QLabel("Device: Auto"),
            QLabel(""),
        )
        for label in (self.time_label, self.device_label, self.zoom_label):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
        self.actions = build_menus(self)
        # Hold Space shows the original wherever the focus is (never toggling the focused control), and the
        # wheel over a value control scrolls the panel unless that control has focus.
        self._space_filter = HoldSpaceFilter(self, self.canvas.set_show_original)
        QApplication.instance().installEventFilter(self._space_filter)
        guard_wheel(self.options)
        guard_wheel(self.queue)
        self._connect()
        self.restore_state()
        QTimer.singleShot(0, self.refresh_models)
        QTimer.singleShot(TORCH_PRELOAD_MS, _preload_torch)

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        c, s, o = self.canvas, self.session, self.options
        c.dropped.connect(self.open_mime)
        c.zoom_changed.connect(lambda scale: self.zoom_label.setText(f"{scale:.0%}"))
        s.source_changed.connect(self._on_source_changed)
        s.result_changed.connect(self._on_result_changed)
        s.busy_changed.connect(self._on_busy)
        self.colorize.colorizer.busy_changed.connect(self._on_busy)  # "Preparing colours… 40%"
        self.actions["cancel"].triggered.connect(self.colorize.cancel)
        s.failed.connect(lambda title, reason: dialogs.show_error(self, title, reason))
        s.run_finished.connect(self._on_run_finished)
        s.run_finished.connect(self._do_pending)
        s.source_changed.connect(lambda *_: setattr(self, "_pending", None))
        s.auto_finished.connect(lambda values: o.xdog_panel.set_params(values, notify=True))
        s.auto_progress.connect(lambda f: o.xdog_panel.set_auto_running(f >= 0, max(f, 0.0)))
        o.mode_changed.connect(self._on_mode_changed)
        o.xdog_panel.params_changed.connect(self._request_preview)
        o.xdog_panel.auto_requested.connect(self._auto_xdog)
        o.line_options_changed.connect(self._on_line_options_changed)
        o.options_changed.connect(self._update_actions)
        o.run_requested.connect(self.run_current)
        o.enqueue_requested.connect(self.enqueue_current)
        self.queue.message.connect(self.statusBar().showMessage)
        self.queue.open_requested.connect(
            lambda job: self.session.open_result(job.source, job.output, job.mode))
        self.queue.runner.device_used.connect(self._on_device_used)
        s.exported.connect(self._on_exported)

    # ------------------------------------------------------------------ opening
    def open_paths(self, items: list[Path]) -> int:
        """Open dropped/chosen files and folders: one picture goes on the canvas, more go to the queue."""
        from anisketch_desktop.core import imageio

        try:
            found = imageio.iter_image_files([str(p) for p in items], recursive=True)
        except AniSketchError as exc:
            dialogs.show_error(self, "Could not open", str(exc))
            return 0
        if not found:
            self.statusBar().showMessage("No pictures found there", 5000)
            return 0
        single = len(found) == 1 and not any(Path(p).is_dir() for p in items)
        if single or not self.session.source:
            self.session.open_path(found[0][0])
            self.settings.add_recent(found[0][0])
        if not single:
            self.enqueue([(f, rel) for f, rel in found])
            self.queue_dock.show()
        folder = Path(items[0]) if Path(items[0]).is_dir() else Path(items[0]).parent
        self.settings.last_open_dir = str(folder)
        return len(found)

    def open_mime(self, mime: QMimeData) -> None:
        payload = parse_mime(mime)
        if payload.paths:
            self.open_paths(payload.paths)
        elif payload.images:
            self.session.open_array(payload.images[0])
        elif payload.remote_urls:
            dialogs.show_error(
                self,
                "Cannot open a web link",
                "Only pictures on this computer (or image data) can be opened. Save the "
                f"picture first, then drop the file.\n\n{payload.remote_urls[0]}",
            )
        elif payload.errors:
            dialogs.show_error(self, "Could not read the dropped picture", payload.errors[0])

    def open_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open pictures", self.settings.last_open_dir, OPEN_FILTER
        )
        if files:
            self.open_paths([Path(f) for f in files])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open a folder (sub-folders included)", self.settings.last_open_dir
        )
        if folder:
            self.open_paths([Path(folder)])

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not (mime.hasImage() or mime.hasUrls() or mime.hasText()):
            self.statusBar().showMessage("The clipboard holds no picture", 5000)
            return
        self.open_mime(mime)

    # ------------------------------------------------------------------ processing
    def run_current(self) -> None:
        if not self.session.source:
            self.statusBar().showMessage("Open a picture first (Ctrl+O), or drop one on the window", 5000)
            return
        opts = self.options.process_options()
        if not self._models_ready(opts.mode):
            return
        try:
            opts.validate()
        except AniSketchError as exc:
            dialogs.show_error(self, f"{MODES[opts.mode].label}: check the settings", str(exc))
            return
        if opts.mode == "colorize":
            self.colorize.run()
            return
        self.session.run(opts)

    def _models_ready(self, mode: str) -> bool:
        missing = [task for task in MODES[mode].tasks if not self.options.has_model(task)]
        if missing:
            dialogs.show_error(
                self,
                "No model installed",
                f"No {' or '.join(missing)} model is installed. Use Sketch (XDoG), or train "
                "a model in Tools ▸ Dataset Wizard.",
            )
        return not missing

    def enqueue(self, files: list[tuple[Path, Path]], opts: Options | None = None) -> None:
        """Queue ``(file, relative path)`` pairs with the panel's settings, leaving out this app's own outputs
        from earlier runs (``a_sketch.png`` next to ``a.png``, or files inside the output folder)."""
        opts = opts or self.options.process_options()
        own = jobs.own_outputs(files, self.queue.output_settings().folder or None)
        kept = [(Path(f), Path(rel)) for f, rel in files if jobs.path_key(f) not in own]
        self.queue.model.add_jobs([Job(f, rel, opts) for f, rel in kept])
        note = f" ({len(files) - len(kept)} of this app's own results left out)" if len(kept) < len(files) else ""
        self.statusBar().showMessage(f"{len(kept)} picture(s) added to the queue{note}", 5000)

    def enqueue_current(self) -> None:
        source = self.session.source
        if source is None or source.path is None:
            self.statusBar().showMessage("Only pictures opened from a file can be queued", 5000)
            return
        self.enqueue([(source.path, Path(source.path.name))], self.colorize.job_options(self.options.process_options()))

    def _auto_xdog(self) -> None:
        if not self.session.auto_tune():
            self.statusBar().showMessage("Open a picture first", 5000)

    def _request_preview(self, *args) -> None:
        if self.options.mode() == "xdog" and self.session.source:
            self.session.request_preview(self.options.process_options().with_(mode="xdog"))

    def _on_line_options_changed(self) -> None:
        if self.options.mode() == "xdog":
            self._request_preview()
        elif self.options.mode() == "sketch":  # the lines are kept: only the line controls are redone
            self.session.refinish(self.options.process_options())

    def _on_mode_changed(self, mode: str) -> None:
        result = self.session.result
        if result is None or result.mode != mode:
            self.session.clear_result()
        self.colorize.mode_changed(mode)
        self._request_preview()

    # ------------------------------------------------------------------ session feedback
    def _on_source_changed(self, source) -> None:
        self.canvas.set_before(source.pyramid, "Original")
        h, w = source.image.shape[:2]
        self.setWindowTitle(f"{source.name} ({w}×{h}) — AniSketch")
        self.statusBar().showMessage(f"Opened {source.name}: {w}×{h}", 5000)
        self.colorize.source_changed(source)
        self._request_preview()
        self._update_actions()

    def _on_result_changed(self, result) -> None:
        if result is None:
            self.canvas.set_after(None)
        else:
            label = MODES[result.mode].label + ("" if result.image is not None else " (preview)")
            self.canvas.set_after(result.pyramid, label)
        self._update_actions()

    def _on_busy(self, text: str) -> None:
        if not text and not self.session.is_running():
            self._pending = None  # the render was cancelled or failed: forget the save it was for
        self.canvas.set_busy_text(text)
        self._update_actions()

    def _on_run_finished(self, result) -> None:
        info = result.info
        self.time_label.setText(f"Last job: {info.seconds:.2f} s")
        self._on_device_used(info.device, info.note)
        self.statusBar().showMessage(
            f"{MODES[result.mode].label} done in {info.seconds:.2f} s on {info.device}", 8000
        )

    def _on_device_used(self, device: str, note) -> None:
        self.device_label.setText(f"Device: {device}")
        self.device_label.setToolTip(note or "")
        if note and not self._device_note_shown:
            self._device_note_shown = True
            self.statusBar().showMessage(note, 15000)
            box = QMessageBox(
                QMessageBox.Icon.Information, "Running on the CPU",
                f"{note}.\n\nResults are the same, only slower.", QMessageBox.StandardButton.Ok, self,
            )
            box.setObjectName("device_note")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # window-modal, does not block the event loop

    def _update_actions(self, *args) -> None:
        a = self.actions
        has_result = self.session.result is not None and self.session.result.image is not None
        for key in ("save", "save_as", "copy"):
            a[key].setEnabled(
                has_result or (self.options.mode() == "xdog" and self.session.source is not None)
            )
        a["export_svg"].setEnabled(self.session.source is not None and draws_lines(MODES[self.options.mode()]))
        a["cancel"].setEnabled(self.session.is_running() or self.colorize.is_preparing())
        self.options.run_button.setEnabled(self.session.source is not None)

    # ------------------------------------------------------------------ results
    def _result_or_run(self, then: str) -> bool:
        """True when a full-resolution result exists; otherwise render it and do ``then`` (an action name:
        "save", "save_as", "copy") once it is there — the request is kept, not lost."""
        if self.session.result is not None and self.session.result.image is not None:
            return True
        if self.session.source is not None:
            self._pending = then
            self.run_current()
            if self.session.is_running():
                self.canvas.setFocus()  # keys typed meanwhile must not land in an option
                self.statusBar().showMessage(f"Rendering at full size, then {PENDING_TEXT[then]}…")
            else:
                self._pending = None
        return False

    def _do_pending(self, result) -> None:
        pending, self._pending = self._pending, None
        if pending and result.image is not None:
            {"save": self.save, "save_as": self.save_as, "copy": self.copy_result}[pending]()

    def default_save_path(self) -> Path:
        source, result = self.session.source, self.session.result
        out = self.queue.output_settings()
        src = source.path or Path(self.settings.last_save_dir or Path.home()) / "pasted.png"
        options = (result.options or Options(mode=result.mode)).with_(template=out.template)
        return output_path(src, Path(src.name), out.folder, options)

    def save(self) -> None:
        if not self._result_or_run("save"):
            return
        try:
            target = self.default_save_path()
        except AniSketchError as exc:
            dialogs.show_error(self, "Cannot save", str(exc))
            return
        if target.exists():
            answer = QMessageBox.question(
                self, "Replace file?", f"{target} exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._write(target, overwrite=True)

    def save_as(self) -> None:
        if not self._result_or_run("save_as"):
            return
        start = str(self.default_save_path())
        name, _ = QFileDialog.getSaveFileName(self, "Save result as", start, SAVE_FILTER)
        if name:
            self._write(Path(name), overwrite=True)  # the dialog has asked about replacing

    def _write(self, target: Path, overwrite: bool) -> None:
        try:
            MODES[self.session.result.mode].output_kind.write(target, self.session.result.image, overwrite)
        except AniSketchError as exc:
            dialogs.show_error(self, "Could not save", str(exc))
            return
        self.settings.last_save_dir = str(target.parent)
        self.statusBar().showMessage(f"Saved {target}", 8000)

    def export_svg(self) -> None:
        """File > Export SVG…: the line art traced into filled vector paths, with the panel's line controls."""
        source = self.session.source
        opts = self.options.process_options()
        if source is None or not draws_lines(MODES[opts.mode]):
            self.statusBar().showMessage("Open a picture and choose a Sketch mode to export SVG line art", 6000)
            return
        out = self.queue.output_settings()
        src = source.path or Path(self.settings.last_save_dir or Path.home()) / "pasted.png"
        start = output_path(src, Path(src.name), out.folder, opts.with_(template=out.template, format="svg"))
        name, _ = QFileDialog.getSaveFileName(self, "Export SVG line art", str(start), "SVG vector art (*.svg)")
        if not name:
            return
        target = Path(name) if name.lower().endswith(".svg") else Path(name + ".svg")
        self.session.export_svg(opts, target)  # the dialog has asked about replacing

    def _on_exported(self, target: Path) -> None:
        self.settings.last_save_dir = str(Path(target).parent)
        self.statusBar().showMessage(f"Exported {target}", 8000)

    def copy_result(self) -> None:
        if self._result_or_run("copy"):
            QGuiApplication.clipboard().setImage(to_qimage(self.session.result.image))
            self.statusBar().showMessage("Result copied to the clipboard", 4000)

    # ------------------------------------------------------------------ models, tools, help
    def refresh_models(self) -> None:
        """Re-read the installed models (the dataset wizard calls this after training)."""
        from anisketch_desktop.core import models

        found = models.list_models()
        self.options.set_models(
            [m for m in found if m.task == "sketch"], [m for m in found if m.task == "colorize"]
        )
        self.models_refreshed.emit()

    @staticmethod
    def wizard_available() -> bool:
        return importlib.util.find_spec("anisketch_desktop.gui.wizard") is not None

    def open_dataset_wizard(self) -> None:
        if not self.wizard_available():
            dialogs.show_error(self, "Dataset Wizard", "The dataset wizard is not part of this build.")
            return
        from anisketch_desktop.gui import wizard

        if self._wizard is None or not self._wizard.isVisible():
            self._wizard = wizard.DatasetWizard(self)
        self._wizard.show()
        self._wizard.raise_()

    def show_about(self) -> None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            dialog = dialogs.AboutDialog(self)
        finally:
            QApplication.restoreOverrideCursor()
        dialog.exec()

    def open_log_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.logs_dir())))

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        name = apply_theme(app, name) if app else name
        self.settings.theme = name
        self.canvas.set_theme(name)

    # ------------------------------------------------------------------ state
    def save_state(self) -> None:
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.compare_layout = self.canvas.layout_mode()
        self.options.save_state()
        self.queue.save_state()
        s.sync()

    def restore_state(self) -> None:
        s = self.settings
        if not s.geometry.isEmpty():
            self.restoreGeometry(s.geometry)
        else:
            self.resize(1280, 800)
        if not s.window_state.isEmpty():
            self.restoreState(s.window_state)
        else:  # first start: a compact queue leaves the options panel room to show whole at 1280x800
            self.resizeDocks([self.queue_dock], [QUEUE_DOCK_HEIGHT], Qt.Orientation.Vertical)
        self.canvas.set_layout_mode(s.compare_layout if s.compare_layout in ("split", "side") else "split")
        self.actions["side_by_side"].setChecked(self.canvas.layout_mode() == "side")
        app = QApplication.instance()
        self.canvas.set_theme(current_theme(app) if app else s.theme)

    def closeEvent(self, event) -> None:
        self.save_state()
        QApplication.instance().removeEventFilter(self._space_filter)
        self.queue.runner.shutdown()
        self.session.shutdown()
        self.colorize.shutdown()
        super().closeEvent(event)

    def dragEnterEvent(self, event) -> None:  # drops on the docks land here too
        self.canvas.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        self.canvas.dropEvent(event)
