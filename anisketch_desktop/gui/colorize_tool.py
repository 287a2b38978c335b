"""Colorize mode as a guided tool: the hint tool on the canvas, the "Colour hints" dock, the live result.

Ties together the ``HintDocument`` (hints + undo), the ``HintTool`` on the canvas, the ``HintPanel`` dock and
the ``GuidedColorizer`` (``ColorizeSession`` on workers). Hints are saved per drawing in the user data folder
(``hint_store``) a moment after every change and when the drawing or the window closes, and come back when
the drawing is opened again. The window calls ``run``, ``export_layers`` and ``shutdown`` and forwards
``source_changed`` / ``mode_changed``; everything else is wired here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox

from anisketch_desktop.application import RunInfo
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.core.hints import Hints, HintStroke
from anisketch_desktop.gui import dialogs, hint_store
from anisketch_desktop.gui.guided_session import GuidedColorizer, GuidedResult
from anisketch_desktop.gui.hint_document import HintDocument
from anisketch_desktop.gui.hint_panel import HintPanel
from anisketch_desktop.gui.hint_tool import HintTool
from anisketch_desktop.gui.image_session import Result
from anisketch_desktop.gui.workers import TaskRunner

SAVE_DELAY_MS = 400
PSD_FILTER = "Layered PSD for Krita / Clip Studio / Photoshop (*.psd)"
REFERENCE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"


def lookup_hints(path: Path | None, image: np.ndarray, *, state) -> tuple[str, Hints | None]:
    key = hint_store.drawing_key(path, image)
    state.check()
    return key, hint_store.find_hints(key, image.shape[:2])


def read_reference(path: Path, *, state) -> np.ndarray:
    from anisketch_desktop.core import imageio

    return imageio.to_uint8_rgb(imageio.read_image(path))


def write_psd(path: Path, colorized, *, state) -> Path:
    from anisketch_desktop.core.psd import write_layers_psd

    write_layers_psd(path, colorized, overwrite=True)
    return path


class ColorizeTool(QObject):
    layers_exported = Signal(object)  # Path of the PSD written

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.document = HintDocument(self)
        self.tool = HintTool(window.canvas, self.document, self)
        self.panel = HintPanel(self.settings)
        self.dock = QDockWidget("Colour hints", window)
        self.dock.setObjectName("hints_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.colorizer = GuidedColorizer(self)
        self._lookup = TaskRunner(self, latest_wins=True, name="hints-lookup")
        self._files = TaskRunner(self, latest_wins=False, name="hints-files")
        self._source = None
        self._key: str | None = None
        self._reference: np.ndarray | None = None
        self._reference_path = ""
        self._last: GuidedResult | None = None
        self._explicit_run = False
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_hints)
        self.actions = self._build_actions()
        delete = self.actions["delete"]  # Delete elsewhere (the batch queue's rows) stays theirs
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        window.canvas.addAction(delete)
        self._connect()
        self.tool.set_color(self.panel.palette.color())
        self._restore_reference()
        self._sync()

    # ------------------------------------------------------------------ wiring
    def _build_actions(self) -> dict[str, QAction]:
        def act(text, slot, shortcuts=(), tip=""):
            action = QAction(text, self.window)
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            return action

        return {
            "undo": act("&Undo Hint", self.document.undo, [QKeySequence.StandardKey.Undo], "Undo the last hint change"),
            "redo": act("&Redo Hint", self.document.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo the hint change"),
            "delete": act("&Delete Hint Under Cursor", self.tool.remove_under_cursor, ["Delete"]),
            "narrower": act("&Narrower Strokes", lambda: self._step_width(1 / 1.25), ["["], "Thinner strokes"),
            "wider": act("&Wider Strokes", lambda: self._step_width(1.25), ["]"], "Wider strokes"),
            "clear": act("C&lear Hints", self.document.clear, [], "Remove every hint of this drawing"),
            "brush": act("&Brush", lambda: self.set_tool_mode("brush"), ["B"], "Dots and strokes of colour"),
            "pick": act("&Eyedropper", lambda: self.set_tool_mode("pick"), ["I"], "Pick a colour"),
            "pan": act("&Hand", lambda: self.set_tool_mode("pan"), ["H"], "Drag to pan the drawing"),
            "color": act("Hint &Colour…", self.panel.palette.open_color_dialog, ["C"], "Choose the hint colour"),
            "export_layers": act("Export &Layers…", self.export_layers, ["Ctrl+Shift+E"],
                                 "Save lines, flats and shading as a layered PSD"),
        }

    def edit_actions(self) -> list[QAction | None]:
        a = self.actions
        return [a["undo"], a["redo"], None, a["delete"], a["clear"], None, a["brush"], a["pick"], a["pan"], a["color"],
                a["narrower"], a["wider"]]

    def _connect(self) -> None:
        p, t = self.panel, self.tool
        self.document.changed.connect(self._on_hints_changed)
        t.stroke_preview.connect(self._request)
        t.color_changed.connect(p.palette.set_color)
        t.color_picked.connect(lambda c: self.set_tool_mode("brush"))
        buttons = {"brush": p.brush_button, "pick": p.pick_button, "pan": p.pan_button}
        t.mode_changed.connect(lambda m: buttons[m].setChecked(True))
        p.palette.color_chosen.connect(t.set_color)
        p.reference_view.color_picked.connect(self._on_reference_pick)
        p.brush_button.clicked.connect(lambda: self.set_tool_mode("brush"))
        p.pick_button.clicked.connect(lambda: self.set_tool_mode("pick"))
        p.pan_button.clicked.connect(lambda: self.set_tool_mode("pan"))
        p.width_spin.valueChanged.connect(t.set_width)
        self.window.options.options_changed.connect(self._request)  # another model or device: prepare again
        p.undo_button.clicked.connect(self.document.undo)
        p.redo_button.clicked.connect(self.document.redo)
        p.clear_button.clicked.connect(self.document.clear)
        flats = self.window.options.flats_check  # one setting: the side panel's "Flat colours" is this toggle
        p.flat_check.setChecked(flats.isChecked())
        flats.toggled.connect(p.flat_check.setChecked)
        p.flat_check.toggled.connect(flats.setChecked)
        p.flat_check.toggled.connect(lambda on: self._request())
        p.soft_check.toggled.connect(lambda on: self._request())
        p.reference_requested.connect(self.choose_reference)
        p.reference_cleared.connect(lambda: self.set_reference(None))
        self.colorizer.result_ready.connect(self._on_result)
        self.colorizer.failed.connect(lambda title, reason: dialogs.show_error(self.window, title, reason))
        self._lookup.succeeded.connect(self._on_lookup)
        self._files.succeeded.connect(self._on_file_done)
        self._files.failed.connect(self._on_file_failed)

    def active(self) -> bool:
        return self.window.options.mode() == "colorize" and self._source is not None

    def _sync(self) -> None:
        """Tool, dock and actions follow the mode; the colorizer follows the drawing."""
        colorize = self.window.options.mode() == "colorize"
        self.tool.set_enabled(self.active())
        self.dock.setVisible(colorize)
        for key in ("undo", "redo", "delete", "clear", "brush", "pick", "pan", "color", "narrower", "wider"):
            self.actions[key].setEnabled(self.active())
        self.actions["export_layers"].setEnabled(self._last is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        active = self.active()
        self.actions["undo"].setEnabled(active and self.document.can_undo())
        self.actions["redo"].setEnabled(active and self.document.can_redo())
        self.panel.undo_button.setEnabled(active and self.document.can_undo())
        self.panel.redo_button.setEnabled(active and self.document.can_redo())
        self.panel.clear_button.setEnabled(active and len(self.document) > 0)
        self.panel.set_count(len(self.document))

    # ------------------------------------------------------------------ window events
    def source_changed(self, source) -> None:
        self.save_hints()
        self._source, self._key, self._last = source, None, None
        self.document.load(None)
        self._configure()
        self._lookup.submit(id(source), lookup_hints, source.path, source.image)
        self._sync()
        if self.active():
            self._request()

    def mode_changed(self, mode: str) -> None:
        self._sync()
        if self.active() and self._last is None:
            self._request()
        elif self.active():
            self._show(self._last, explicit=False)

    def run(self) -> None:
        """Run (Ctrl+R) in Colorize mode: colour the drawing with its hints now (retrying after a failure)."""
        self._explicit_run = True
        self._configure()
        self._request(retry=True)

    def is_preparing(self) -> bool:
        return self.colorizer.is_preparing()

    def cancel(self) -> None:
        """Esc: stop colouring the drawing (the hints stay); Run or the next change starts again."""
        if self.colorizer.is_busy():
            self.colorizer.cancel()
            self.window.statusBar().showMessage("Colouring stopped; Run (Ctrl+R) colours the drawing again", 6000)

    def shutdown(self) -> None:
        self.save_hints()
        for runner in (self._lookup, self._files):
            runner.shutdown()
        self.colorizer.shutdown()

    # ------------------------------------------------------------------ hints
    def set_tool_mode(self, mode: str) -> None:
        self.tool.set_mode(mode)

    def _step_width(self, factor: float) -> None:
        spin = self.panel.width_spin
        spin.setValue(max(spin.minimum(), min(spin.maximum(), round(spin.value() * factor) or 1)))

    def current_hints(self) -> Hints:
        hints = self.document.hints()
        drawing = self.tool.drawing_points()
        if len(drawing) > 1:  # the stroke being drawn, for the live preview
            stroke = HintStroke(tuple(drawing), self.tool.color(), self.tool.width())
            hints = Hints(hints.points, (*hints.strokes, stroke))
        return hints

    def _on_hints_changed(self) -> None:
        items = self.document.items()
        if items:
            self.panel.palette.note_used(items[-1].color)
        self._update_buttons()
        if self._key is not None:
            self._save_timer.start()
        self._request()

    def _on_lookup(self, tag, payload) -> None:
        if self._source is None or tag != id(self._source):
            return
        key, hints = payload
        self._key = key
        if hints is not None and len(self.document) == 0:
            self.document.load(hints)
            self.window.statusBar().showMessage(f"Restored {len(self.document)} colour hints of this drawing", 5000)
        elif len(self.document):
            self._save_timer.start()

    def save_hints(self) -> None:
        self._save_timer.stop()
        if self._key is None:
            return
        try:
            hint_store.store_hints(self._key, self.document.hints())
        except (AniSketchError, OSError) as exc:
            self.window.statusBar().showMessage(f"Could not save the hints: {exc}", 8000)

    def _on_reference_pick(self, color) -> None:
        self.tool.set_color(color)
        self.set_tool_mode("brush")

    # ------------------------------------------------------------------ colorizing
    def _model(self):
        path = self.window.options.color_model_combo.currentData()
        return Path(path) if path else None

    def _configure(self) -> None:
        image = None if self._source is None else self._source.image
        self.colorizer.configure(image, self._model(), self.window.options.device(), self._reference)

    def _request(self, retry: bool = False) -> None:
        if not self.active():
            return
        self._configure()
        p = self.panel
        self.colorizer.request(self.current_hints(), p.flat_check.isChecked(), p.soft_check.isChecked(), retry)

    def _on_result(self, result: GuidedResult) -> None:
        self._last = result
        self.actions["export_layers"].setEnabled(True)
        self.panel.status_label.setText(f"Updated in {result.latency:.2f} s")
        if self.active():
            self._show(result, explicit=self._explicit_run)
        self._explicit_run = False

    def job_options(self, options):
        """``options`` (application ``Options``) for a job of the drawing on the canvas: in Colorize mode with
        its live hints, the reference picture and Soft, so a queued or saved result is the one on screen."""
        if options.mode != "colorize":
            return options
        hints = self.document.hints()
        return options.with_(hint_data=None if hints.is_empty() else hints, reference=self._reference_path,
                             soft=self.panel.soft_check.isChecked(), flats=self.panel.flat_check.isChecked())

    def _show(self, result: GuidedResult, explicit: bool) -> None:
        info = RunInfo(result.device, None, result.render_seconds)
        options = self.job_options(self.window.options.process_options().with_(mode="colorize"))
        shown = Result("colorize", result.colorized.rgb, result.pyramid, info, options=options)
        self.window.session.show_result(shown, explicit)

    def last_result(self) -> GuidedResult | None:
        return self._last

    # ------------------------------------------------------------------ reference
    def choose_reference(self) -> None:
        start = self.settings.get("hints/reference", "", str) or self.settings.last_open_dir
        name, _ = QFileDialog.getOpenFileName(self.window, "Reference picture (its colours steer the result)",
                                              start, REFERENCE_FILTER)
        if name:
            self.load_reference(Path(name))

    def load_reference(self, path: Path) -> None:
        self._files.submit(("reference", Path(path)), read_reference, Path(path))

    def set_reference(self, image: np.ndarray | None, path: Path | None = None) -> None:
        self._reference = image
        self._reference_path = str(path) if path and image is not None else ""
        self.panel.reference_view.set_image(image)
        self.settings.set("hints/reference", str(path) if path else "", str)
        self._last = None
        self._request()

    def reference(self) -> np.ndarray | None:
        return self._reference

    def _restore_reference(self) -> None:
        saved = self.settings.get("hints/reference", "", str)
        if saved and Path(saved).is_file():
            self.load_reference(Path(saved))

    # ------------------------------------------------------------------ export
    def export_layers(self) -> None:
        if self._last is None:
            self.window.statusBar().showMessage("Colour the drawing first (Colorize mode, Run)", 6000)
            return
        source = self._source.path if self._source is not None else None
        folder = Path(self.settings.last_save_dir or (source.parent if source else Path.home()))
        start = folder / f"{source.stem if source else 'drawing'}_colorize.psd"
        name, _ = QFileDialog.getSaveFileName(self.window, "Export layers", str(start), PSD_FILTER)
        if name:  # the file dialog has asked before replacing the file it names
            self.export_layers_to(Path(name), overwrite=name.lower().endswith(".psd"))

    def export_layers_to(self, path: Path, overwrite: bool = False) -> bool:
        """Write the last result as a layered PSD (on a worker); asks before replacing a file."""
        if self._last is None:
            return False
        path = Path(path) if Path(path).suffix.lower() == ".psd" else Path(f"{path}.psd")
        if path.exists() and not overwrite:
            answer = QMessageBox.question(self.window, "Replace file?", f"{path} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self._files.submit(("export", path), write_psd, path, self._last.colorized)
        return True

    def _on_file_done(self, tag, payload) -> None:
        kind, path = tag
        if kind == "reference":
            self.set_reference(payload, path)
        else:
            self.settings.last_save_dir = str(path.parent)
            self.window.statusBar().showMessage(f"Exported layers to {path}", 8000)
            self.layers_exported.emit(path)

    def _on_file_failed(self, tag, reason: str) -> None:
        kind, path = tag
        title = "Could not open the reference picture" if kind == "reference" else "Could not export the layers"
        dialogs.show_error(self.window, title, reason)
