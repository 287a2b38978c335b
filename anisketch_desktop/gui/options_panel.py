"""The side panel: mode, models, line options, XDoG parameters, device, and the Run / Add to queue buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.application import MODES, Options
from anisketch_desktop.application.modes import draws_lines
from anisketch_desktop.core.formats import DEVICES
from anisketch_desktop.gui.settings import Settings
from anisketch_desktop.gui.xdog_panel import XDoGPanel


class OptionsPanel(QWidget):
    mode_changed = Signal(str)
    options_changed = Signal()
    line_options_changed = Signal()
    run_requested = Signal()
    enqueue_requested = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.xdog_panel = XDoGPanel(self)
        self._build()
        self.restore_state()
        self._sync_visibility()

    def _build(self) -> None:
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        modes_box = QGroupBox("Mode")
        grid = QGridLayout(modes_box)
        self.mode_buttons: dict[str, QPushButton] = {}
        for i, (key, mode) in enumerate(MODES.items()):
            button = QPushButton(mode.label)
            button.setCheckable(True)
            button.setToolTip(f"{mode.tip} (Alt+{i + 1}, Process ▸ Mode)")
            button.setObjectName(f"mode_{key}")
            button.setProperty("modeButton", True)  # the theme marks the selected one in the accent colour
            self.mode_group.addButton(button, i)
            self.mode_buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        self.mode_group.idToggled.connect(self._on_mode_toggled)

        self.models_box = QGroupBox("Model")
        form = QFormLayout(self.models_box)
        self.sketch_model_combo = QComboBox()
        self.color_model_combo = QComboBox()
        for combo in (self.sketch_model_combo, self.color_model_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            combo.currentIndexChanged.connect(self.options_changed)
        form.addRow("Sketch:", self.sketch_model_combo)
        form.addRow("Colour:", self.color_model_combo)
        self.model_combos = {"sketch": self.sketch_model_combo, "colorize": self.color_model_combo}  # by task
        self.flats_check = QCheckBox("Flat colours")
        self.flats_check.setChecked(True)
        self.flats_check.setToolTip("One colour per closed region of the line art, like flat colouring; "
                                    "off: the network's colours pixel by pixel")
        self.flats_check.toggled.connect(self.options_changed)
        form.addRow(self.flats_check)

        self.lines_box = QGroupBox("Lines")
        form = QFormLayout(self.lines_box)
        self.transparent_check = QCheckBox("Transparent background")
        self.transparent_check.setToolTip("Black lines on transparent paper, for Krita / Clip Studio layers")
        self.speck_spin = QSpinBox()
        self.speck_spin.setRange(0, 500)
        self.speck_spin.setSuffix(" px")
        self.speck_spin.setSpecialValueText("off")
        self.speck_spin.setToolTip("Remove ink specks up to this many pixels")
        self.transparent_check.toggled.connect(self.line_options_changed)
        self.speck_spin.valueChanged.connect(self.line_options_changed)
        form.addRow(self.transparent_check)
        form.addRow("Remove specks:", self.speck_spin)
        self.weight_slider = self._slider("line_weight", -2, 2, "Thinner (−2) or bolder (+2) lines; 0 = as drawn")
        self.weight_label = QLabel()
        self.threshold_slider = self._slider(
            "line_threshold", 0, 100, "Clean-up: 0 keeps soft gray pencil lines; higher gives crisper "
            "black-and-white ink (100 = pure black and white)")
        self.threshold_label = QLabel()
        for label in (self.weight_label, self.threshold_label):
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("100%") + 4)
        self.tint_check = QCheckBox("Lines in colour (色トレス)")
        self.tint_check.setObjectName("line_tint")
        self.tint_check.setToolTip("Each line takes a dark shade of the picture's colours beside it")
        self.tint_check.toggled.connect(self.line_options_changed)
        form.addRow("Line weight:", self._with_label(self.weight_slider, self.weight_label))
        form.addRow("Clean-up:", self._with_label(self.threshold_slider, self.threshold_label))
        form.addRow(self.tint_check)
        self._update_line_labels()

        self.device_box = device_box = QGroupBox("Device")
        row = QHBoxLayout(device_box)
        self.device_combo = QComboBox()
        for key, text in DEVICES.items():
            self.device_combo.addItem(text, key)
        self.device_combo.setToolTip("Where the neural network runs; Auto falls back to the CPU with a note")
        self.device_combo.currentIndexChanged.connect(self.options_changed)
        row.addWidget(self.device_combo)

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run_button")
        self.run_button.setMinimumHeight(36)
        self.run_button.setToolTip("Process the picture on the canvas (Ctrl+R)")
        self.run_button.setStyleSheet(
            "QPushButton#run_button { background: #2f7de1; color: white; font-weight: bold;"
            " border-radius: 4px; }"
            "QPushButton#run_button:disabled { background: #4a5568; color: #c0c6d0; }"
        )
        self.run_button.clicked.connect(self.run_requested)
        self.enqueue_button = QPushButton("Add to queue")
        self.enqueue_button.setToolTip("Queue the picture on the canvas with these settings (Ctrl+E)")
        self.enqueue_button.clicked.connect(self.enqueue_requested)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        for widget in (modes_box, self.models_box, self.lines_box, self.xdog_panel, device_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # wide enough for every row next to the vertical scroll bar (no squeezed sliders, no sideways scrolling)
        scroll.setMinimumWidth(inner.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        buttons = QVBoxLayout()  # Run stays in view however short the dock is
        buttons.setContentsMargins(9, 4, 9, 9)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.enqueue_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)

    def _slider(self, name: str, low: int, high: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName(name)
        slider.setRange(low, high)
        slider.setPageStep(1 if high - low < 10 else 10)
        slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        slider.setTickInterval(1 if high - low < 10 else 25)
        slider.setToolTip(tip)
        slider.valueChanged.connect(self._update_line_labels)
        slider.valueChanged.connect(self.line_options_changed)
        return slider

    @staticmethod
    def _with_label(slider: QSlider, label: QLabel) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(slider, 1)
        row.addWidget(label)
        return box

    def _update_line_labels(self) -> None:
        self.weight_label.setText(f"{self.weight_slider.value():+d}" if self.weight_slider.value() else "0")
        self.threshold_label.setText(f"{self.threshold_slider.value()}%" if self.threshold_slider.value() else "soft")

    # ------------------------------------------------------------------ values
    def mode(self) -> str:
        for key, button in self.mode_buttons.items():
            if button.isChecked():
                return key
        return "sketch"

    def set_mode(self, mode: str) -> None:
        self.mode_buttons.get(mode, self.mode_buttons["sketch"]).setChecked(True)

    def device(self) -> str:
        return self.device_combo.currentData() or "auto"

    def set_device(self, device: str) -> None:
        self.device_combo.setCurrentIndex(max(self.device_combo.findData(device), 0))

    def process_options(self) -> Options:
        """The panel's settings (the queue adds the output folder, name template and if-exists policy)."""
        return Options(
            mode=self.mode(),
            models={task: combo.currentData() or "" for task, combo in self.model_combos.items()},
            xdog=self.xdog_panel.params(),
            transparent=self.transparent_check.isChecked(),
            flats=self.flats_check.isChecked(),
            speck_size=self.speck_spin.value(),
            device=self.device(),
            saved_hints=True,  # a queued drawing is coloured with the hints placed on it in the hint tool
            **self._line_values(),
        )

    def _line_values(self) -> dict:
        if not self._line_controls_shown(MODES[self.mode()]):  # hidden controls never change a result
            return {}
        return {"line_weight": self.weight_slider.value(), "threshold": self.threshold_slider.value() / 100.0,
                "tint": self.tint_check.isChecked() and draws_lines(MODES[self.mode()])}

    def set_models(self, sketch: list, color: list) -> None:
        """Fill the model menus with ``ModelInfo``s, keeping the current (or saved) choice."""
        for combo, infos, saved in (
            (self.sketch_model_combo, sketch, self.settings.sketch_model),
            (self.color_model_combo, color, self.settings.color_model),
        ):
            current = combo.currentData() or saved
            combo.blockSignals(True)
            combo.clear()
            for info in infos:
                combo.addItem(info.label, str(info.path))
                combo.setItemData(
                    combo.count() - 1, f"{info.description}\n{info.path}".strip(), Qt.ItemDataRole.ToolTipRole
                )
            if not infos:
                combo.addItem("none installed", "")
            index = combo.findData(current)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        self._sync_visibility()
        self.options_changed.emit()

    def has_model(self, task: str) -> bool:
        return bool(self.model_combos[task].currentData())

    # ------------------------------------------------------------------ state
    def save_state(self) -> None:
        s = self.settings
        s.mode = self.mode()
        s.device = self.device()
        s.sketch_model = self.sketch_model_combo.currentData() or s.sketch_model
        s.color_model = self.color_model_combo.currentData() or s.color_model
        s.transparent = self.transparent_check.isChecked()
        s.flats = self.flats_check.isChecked()
        s.speck_size = self.speck_spin.value()
        s.line_weight = self.weight_slider.value()
        s.line_threshold = self.threshold_slider.value()
        s.line_tint = self.tint_check.isChecked()
        s.xdog_params = self.xdog_panel.params()

    def restore_state(self) -> None:
        s = self.settings
        self.set_mode(s.mode if s.mode in MODES else "sketch")
        self.set_device(s.device)
        self.transparent_check.setChecked(s.transparent)
        self.flats_check.setChecked(s.flats)
        self.speck_spin.setValue(s.speck_size)
        self.weight_slider.setValue(max(-2, min(2, s.line_weight)))
        self.threshold_slider.setValue(max(0, min(100, s.line_threshold)))
        self.tint_check.setChecked(s.line_tint)
        if s.xdog_params:
            self.xdog_panel.set_params(s.xdog_params)

    def _on_mode_toggled(self, button_id: int, checked: bool) -> None:
        if checked:
            self._sync_visibility()
            self.mode_changed.emit(self.mode())
            self.options_changed.emit()

    def _sync_visibility(self) -> None:
        """Show only the controls of the option groups the mode uses (``Mode.options``) and its models: the
        panel fits without scrolling."""
        mode = MODES[self.mode()]
        self.xdog_panel.setVisible("xdog" in mode.options)
        form = self.models_box.layout()
        for task, combo in self.model_combos.items():
            form.setRowVisible(combo, task in mode.tasks)
        form.setRowVisible(self.flats_check, "flats" in mode.options)
        self.models_box.setVisible(bool(mode.tasks))
        self.device_box.setVisible("device" in mode.options)  # XDoG always runs on the CPU
        self.lines_box.setVisible(bool({"transparent", "specks", "lines"} & mode.options))
        form = self.lines_box.layout()
        for widget in (self.weight_slider.parentWidget(), self.threshold_slider.parentWidget()):
            form.setRowVisible(widget, self._line_controls_shown(mode))
        form.setRowVisible(self.tint_check, self._line_controls_shown(mode) and draws_lines(mode))
        self.transparent_check.setEnabled("transparent" in mode.options)
        self.speck_spin.setEnabled("specks" in mode.options)

    @staticmethod
    def _line_controls_shown(mode) -> bool:
        """Weight / clean-up / tint rows: the modes with line controls, except XDoG, whose own panel sets the
        thickness (sigma) and crispness (phi) live (and the panel must fit at 1280x800); the CLI has them all."""
        return "lines" in mode.options and "xdog" not in mode.options
