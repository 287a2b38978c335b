"""Menus, toolbar and keyboard shortcuts of the main window (actions call the window's public methods)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar

if TYPE_CHECKING:
    from anisketch_desktop.gui.main_window import MainWindow

StdKey = QKeySequence.StandardKey


def _action(window, text: str, slot, shortcut=None, tip: str = "", icon=None, checkable=False) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(
            f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
            if shortcut is not None
            else tip
        )
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.setCheckable(checkable)
    if slot is not None:
        (action.toggled if checkable else action.triggered).connect(slot)
    return action


def build_menus(w: MainWindow) -> dict[str, QAction]:
    SP = QStyle.StandardPixmap
    c = w.canvas
    a = {
        "open": _action(w, "&Open…", w.open_dialog, StdKey.Open, "Open pictures", SP.SP_DialogOpenButton),
        "open_folder": _action(
            w,
            "Open &Folder…",
            w.open_folder_dialog,
            "Ctrl+Shift+O",
            "Queue every picture in a folder and its sub-folders",
            SP.SP_DirOpenIcon,
        ),
        "paste": _action(w, "&Paste Picture", w.paste, StdKey.Paste, "Open the picture on the clipboard"),
        "save": _action(
            w,
            "&Save Result",
            w.save,
            StdKey.Save,
            "Save to the output folder with the name template",
            SP.SP_DialogSaveButton,
        ),
        "save_as": _action(
            w, "Save Result &As…", w.save_as, "Ctrl+Shift+S", "Save the result where you choose"
        ),
        "copy": _action(w, "&Copy Result", w.copy_result, StdKey.Copy, "Copy the result to the clipboard"),
        "export_svg": _action(
            w, "E&xport SVG…", w.export_svg, "Ctrl+Alt+E",
            "Trace the line art into filled vector paths (Inkscape, Illustrator, Krita)",
        ),
        "quit": _action(w, "&Quit", w.close, StdKey.Quit),
        "run": _action(
            w, "&Run", w.run_current, ["Ctrl+R", "F5"], "Process the picture on the canvas", SP.SP_MediaPlay
        ),
        "cancel": _action(w, "Cance&l Run", w.session.cancel, "Esc", "Stop the running job", SP.SP_MediaStop),
        "enqueue": _action(
            w, "Add to &Queue", w.enqueue_current, "Ctrl+E", "Queue the picture on the canvas"
        ),
        "start_queue": _action(w, "&Start Queue", w.queue.runner.start, "Ctrl+Return", "Process the queue"),
        "pause_queue": _action(
            w, "&Pause Queue", w.queue.runner.pause, None, "Pause after the current picture"
        ),
        "cancel_queue": _action(
            w, "Ca&ncel Queue", w.queue.runner.cancel, "Ctrl+Shift+Esc", "Stop the queue now"
        ),
        "fit": _action(w, "&Fit to Window", lambda: c.fit(), "Ctrl+0", "Show the whole picture"),
        "actual": _action(
            w, "&Actual Size (100%)", c.actual_size, "Ctrl+1", "One picture pixel per screen pixel"
        ),
        "zoom_in": _action(w, "Zoom &In", lambda: c.zoom_by(1.25), [StdKey.ZoomIn, "Ctrl+="]),
        "zoom_out": _action(w, "Zoom &Out", lambda: c.zoom_by(0.8), StdKey.ZoomOut),
        "side_by_side": _action(
            w,
            "&Side by Side",
            lambda on: c.set_layout_mode("side" if on else "split"),
            "Ctrl+T",
            "Before and after next to each other instead of a split line",
            checkable=True,
        ),
        "fullscreen": _action(
            w, "F&ull Screen", lambda on: w.showFullScreen() if on else w.showNormal(), "F11", checkable=True
        ),
        "wizard": _action(
            w,
            "&Dataset Wizard…",
            w.open_dataset_wizard,
            None,
            "Build a training set and train your own model",
        ),
        "refresh_models": _action(w, "&Reload Models", w.refresh_models, None, "Look for new model files"),
        "about": _action(w, "&About AniSketch", w.show_about, "F1"),
        "logs": _action(w, "Open &Log Folder", w.open_log_folder),
    }
    a["wizard"].setEnabled(w.wizard_available())

    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a["open"], a["open_folder"]])
    recent = file_menu.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: _fill_recent(w, recent))
    file_menu.addSeparator()
    file_menu.addActions([a["paste"], a["save"], a["save_as"], a["export_svg"], a["copy"],
                          w.colorize.actions["export_layers"]])
    file_menu.addSeparator()
    file_menu.addAction(a["quit"])

    edit = bar.addMenu("&Edit")  # the colour hints of Colorize mode
    for action in w.colorize.edit_actions():
        edit.addSeparator() if action is None else edit.addAction(action)

    view = bar.addMenu("&View")
    view.addActions([a["fit"], a["actual"], a["zoom_in"], a["zoom_out"]])
    view.addSeparator()
    view.addAction(a["side_by_side"])
    for text in ("Hold Space: show the original", "Arrows: pan   [ / ]: move the split (canvas focused)"):
        view.addAction(text).setEnabled(False)
    view.addSeparator()
    theme_menu = view.addMenu("&Theme")
    group = QActionGroup(w)
    for name in ("dark", "light"):
        act = theme_menu.addAction(name.capitalize())
        act.setCheckable(True)
        act.setChecked(w.settings.theme == name)
        act.triggered.connect(lambda checked=False, n=name: w.set_theme(n))
        group.addAction(act)
        a[f"theme_{name}"] = act
    view.addSeparator()
    view.addAction(w.options_dock.toggleViewAction())
    view.addAction(w.queue_dock.toggleViewAction())
    view.addAction(a["fullscreen"])

    process = bar.addMenu("&Process")
    process.addActions([a["run"], a["cancel"]])
    process.addSeparator()
    modes = process.addMenu("&Mode")  # the mode shortcuts, where they can be seen
    mode_group = QActionGroup(w)
    for i, (key, button) in enumerate(w.options.mode_buttons.items()):
        act = modes.addAction(button.text())
        act.setCheckable(True)
        act.setShortcut(f"Alt+{i + 1}")
        act.setChecked(button.isChecked())
        act.triggered.connect(lambda checked=False, k=key: w.options.set_mode(k))
        button.toggled.connect(act.setChecked)
        mode_group.addAction(act)
        a[f"mode_{key}"] = act
    process.addSeparator()
    process.addActions([a["enqueue"], a["start_queue"], a["pause_queue"], a["cancel_queue"]])

    tools = bar.addMenu("&Tools")
    tools.addActions([a["wizard"], a["refresh_models"]])
    help_menu = bar.addMenu("&Help")
    help_menu.addActions([a["about"], a["logs"]])

    tb = QToolBar("Main toolbar", w)
    tb.setObjectName("main_toolbar")
    tb.setMovable(False)
    tb.addActions([a["open"], a["open_folder"], a["save"]])
    tb.addSeparator()
    tb.addActions([a["run"], a["cancel"]])
    tb.addSeparator()
    tb.addActions([a["fit"], a["actual"], a["side_by_side"]])
    w.addToolBar(tb)
    return a


def _fill_recent(w: MainWindow, menu: QMenu) -> None:
    menu.clear()
    recent = [p for p in w.settings.recent_files if Path(p).exists()]
    if not recent:
        menu.addAction("(none)").setEnabled(False)
        return
    for i, path in enumerate(recent):
        act = menu.addAction(f"&{i + 1}  {Path(path).name}")
        act.setToolTip(path)
        act.triggered.connect(lambda checked=False, p=path: w.open_paths([Path(p)]))
    menu.addSeparator()
    menu.addAction("Clear list").triggered.connect(lambda: setattr(w.settings, "recent_files", []))
