"""XDoG parameters: presets, a slider + spin box per parameter, Auto. Emits ``params_changed`` on every edit;
the window debounces it and renders the preview off the GUI thread."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

# name: (label, minimum, maximum, step, decimals, logarithmic slider, tooltip)
PARAM_SPECS = {
    "sigma": ("Sigma", 0.1, 5.0, 0.05, 2, False, "Blur radius of the finer Gaussian: line thickness"),
    "k": ("k", 1.05, 10.0, 0.05, 2, False, "Ratio of the two Gaussians' radii: how wide an edge counts"),
    "p": ("p (τ)", 0.0, 100.0, 0.5, 1, False, "Edge sharpening strength (the τ form is p / (1 + p))"),
    "epsilon": (
        "Epsilon",
        -0.5,
        1.0,
        0.01,
        3,
        False,
        "Luminance threshold: areas darker than this turn to ink; lower keeps fewer lines",
    ),
    "phi": ("Phi", 0.5, 1e9, 1.0, 1, True, "Softness of the ink ramp: higher is crisper; 1e9 is binary"),
}
CUSTOM = "Custom"
SLIDER_STEPS = 1000


class ParamRow:
    """One parameter: a slider (coarse, linear over the range) and a spin box (exact); kept in step."""

    def __init__(self, name: str, grid: QGridLayout, row: int, on_change):
        label, lo, hi, step, decimals, log, tip = PARAM_SPECS[name]
        self.name, self.lo, self.hi, self.log = name, lo, hi, log
        self.label = QLabel(label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(lo, hi)
        self.spin.setSingleStep(step)
        self.spin.setDecimals(decimals)
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(72)
        if log:
            self.spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        for widget in (self.label, self.slider, self.spin):
            widget.setToolTip(tip)
        self.slider.setObjectName(f"xdog_{name}_slider")
        self.spin.setObjectName(f"xdog_{name}_spin")
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.slider, row, 1)
        grid.addWidget(self.spin, row, 2)
        self._on_change = on_change
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def widen(self, value: float) -> None:
        """Stretch the range when a preset or saved value lies outside it."""
        if value < self.lo or value > self.hi:
            self.lo, self.hi = min(self.lo, value), max(self.hi, value)
            self.spin.setRange(self.lo, self.hi)

    def value(self) -> float:
        return float(self.spin.value())

    def set_value(self, value: float, notify: bool = False) -> None:
        self.widen(value)
        for widget in (self.spin, self.slider):
            widget.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(self._to_slider(value))
        for widget in (self.spin, self.slider):
            widget.blockSignals(False)
        if notify:
            self._on_change()

    def _to_slider(self, value: float) -> int:
        if self.log:
            t = math.log(value / self.lo) / math.log(self.hi / self.lo)
        else:
            t = (value - self.lo) / (self.hi - self.lo)
        return round(min(max(t, 0.0), 1.0) * SLIDER_STEPS)

    def _from_slider(self, position: int) -> None:
        t = position / SLIDER_STEPS
        value = self.lo * (self.hi / self.lo) ** t if self.log else self.lo + (self.hi - self.lo) * t
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self._on_change()

    def _from_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_slider(value))
        self.slider.blockSignals(False)
        self._on_change()


class XDoGPanel(QGroupBox):
    params_changed = Signal(dict)
    auto_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("XDoG", parent)
        self._defaults, self._presets = self._load_core_values()
        self._extra: dict = {}
        self.preset_combo = QComboBox()
        self.preset_combo.addItem(CUSTOM)
        for name in sorted(self._presets):
            self.preset_combo.addItem(name)
        self.preset_combo.setToolTip("Named parameter sets")
        self.preset_combo.textActivated.connect(self.apply_preset)
        self.auto_button = QPushButton("Auto")
        self.auto_button.setToolTip("Tune the parameters for this picture (clearest lines)")
        self.auto_button.clicked.connect(self.auto_requested)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the default parameters")
        self.reset_button.clicked.connect(lambda: self.set_params(self._defaults, notify=True))
        self.auto_bar = QProgressBar()
        self.auto_bar.setRange(0, 100)
        self.auto_bar.setMaximumHeight(6)
        self.auto_bar.setTextVisible(False)
        self.auto_bar.hide()
        top = QHBoxLayout()
        top.addWidget(self.preset_combo, 1)
        top.addWidget(self.auto_button)
        top.addWidget(self.reset_button)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.rows = {
            name: ParamRow(name, grid, i, self._on_row_changed) for i, name in enumerate(PARAM_SPECS)
        }
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.auto_bar)
        layout.addLayout(grid)
        self.set_params(self._defaults)

    @staticmethod
    def _load_core_values() -> tuple[dict, dict[str, dict]]:
        from anisketch_desktop.core import xdog  # numpy + OpenCV only

        presets = {name: params.to_dict() for name, params in xdog.PRESETS.items()}
        return xdog.XDoGParams().to_dict(), presets

    def params(self) -> dict:
        values = dict(self._extra)
        values.update({name: row.value() for name, row in self.rows.items()})
        return values

    def set_params(self, values: dict, notify: bool = False) -> None:
        self._extra = {k: v for k, v in values.items() if k not in self.rows}
        for name, row in self.rows.items():
            if isinstance(values.get(name), (int, float)):
                row.set_value(float(values[name]))
        self._sync_preset_name()
        if notify:
            self.params_changed.emit(self.params())

    def apply_preset(self, name: str) -> None:
        if name in self._presets:
            self.set_params(self._presets[name], notify=True)

    def set_auto_running(self, running: bool, fraction: float = 0.0) -> None:
        self.auto_button.setEnabled(not running)
        self.auto_bar.setVisible(running)
        self.auto_bar.setValue(round(fraction * 100))

    def _on_row_changed(self) -> None:
        self._sync_preset_name()
        self.params_changed.emit(self.params())

    def _sync_preset_name(self) -> None:
        current = {name: row.value() for name, row in self.rows.items()}
        match = CUSTOM
        for name, preset in self._presets.items():
            if all(
                math.isclose(
                    float(preset.get(k, v)), v, rel_tol=1e-3, abs_tol=10 ** -self.rows[k].spin.decimals()
                )
                for k, v in current.items()
            ):
                match = name
                break
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentText(match)
        self.preset_combo.blockSignals(False)
