"""Step 4: train sketch and/or colorize models on the approved pairs; export the dataset."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.application.formatting import format_duration
from anisketch_desktop.core.formats import DEVICES
from anisketch_desktop.gui.wizard import jobs
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.loss_curve import LossCurve
from anisketch_desktop.gui.wizard.widgets import Banner, PageHeader, two_column_page

FEW_PAIRS = 20


class TrainPage(QWidget):
    title = "Train"
    TAG, EXPORT_TAG = "train", "export"
    models_trained = Signal(dict)  # task -> path of the new model file

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._t0 = self._f0 = None
        header = PageHeader(
            "Train your model",
            "Train on the approved pairs. The sketch model turns pictures into line art; the colorize model "
            "does the reverse. When training ends the model is saved to your models folder and selected in "
            "the main window. Cancel keeps a checkpoint: Resume continues from it.",
        )
        self.sketch_check = QCheckBox("Sketch (picture → line art)")
        self.sketch_check.setObjectName("task_sketch")
        self.sketch_check.setChecked(True)
        self.color_check = QCheckBox("Colorize (line art → picture)")
        self.color_check.setObjectName("task_colorize")
        self.name_edit = QLineEdit("my-model")
        self.name_edit.setObjectName("model_name")
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("steps")
        self.steps_spin.setRange(1, 1_000_000)
        self.steps_spin.setValue(2000)
        self.steps_spin.setSingleStep(500)
        self.steps_spin.setGroupSeparatorShown(True)
        self.steps_spin.setToolTip("Training steps per model (batches of 4 crops)")
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("device")
        for key, text in DEVICES.items():
            self.device_combo.addItem(text, key)
        self.tiny_check = QCheckBox("Quick trial (tiny model: fast, rough lines)")
        self.tiny_check.setObjectName("tiny")
        self.tiny_check.setToolTip("A very small network on small crops, to try the whole process in minutes")
        options = QGroupBox("What to train")
        form = QFormLayout(options)
        form.addRow(self.sketch_check)
        form.addRow(self.color_check)
        form.addRow("Model name:", self.name_edit)
        form.addRow("Steps:", self.steps_spin)
        form.addRow("Device:", self.device_combo)
        form.addRow(self.tiny_check)
        self.pairs_label = QLabel()
        self.pairs_label.setWordWrap(True)

        self.start_button = QPushButton("Start training")
        self.start_button.setObjectName("start_training")
        self.start_button.setMinimumHeight(32)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("resume_training")
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_training")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.cancel_button)

        self.export_button = QPushButton("Export dataset…")
        self.export_button.setObjectName("export_dataset")
        self.export_button.setToolTip("Copy the approved pairs into color/ and sketch/ folders")
        self.export_button.clicked.connect(self._choose_export)
        export_box = QGroupBox("Use the pairs elsewhere")
        box = QVBoxLayout(export_box)
        hint = QLabel("Writes the approved pairs as plain color/ + sketch/ folders with matching names "
                      "(and a pairs.tsv), the layout the command-line trainer reads.")
        hint.setWordWrap(True)
        box.addWidget(hint)
        box.addWidget(self.export_button)

        left = QVBoxLayout()
        left.addWidget(options)
        left.addWidget(self.pairs_label)
        left.addLayout(buttons)
        left.addStretch(1)
        left.addWidget(export_box)

        self.curve = LossCurve()
        self.curve.setObjectName("loss_curve")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.eta_label = QLabel("")
        self.eta_label.setObjectName("eta")
        self.banner = Banner()
        self.banner.setObjectName("train_banner")
        self.progress_box = QVBoxLayout()  # inset like the curve's plot frame, so their edges line up
        self.progress_box.setSpacing(2)
        self.progress_box.addWidget(self.progress)
        self.progress_box.addWidget(self.eta_label)
        self.curve.margins_changed.connect(self._align_progress)
        self._align_progress()
        right = QVBoxLayout()
        right.addWidget(self.curve, 1)
        right.addLayout(self.progress_box)

        two_column_page(self, header, self.banner, left, right)

        r = ctx.jobs
        r.started.connect(lambda tag: self._sync_buttons())
        r.progress.connect(self._on_progress)
        r.partial.connect(self._on_partial)
        r.succeeded.connect(self._on_succeeded)
        r.failed.connect(self._on_failed)
        r.cancelled.connect(self._on_cancelled)
        r.finished.connect(self._on_finished)
        ctx.data_changed.connect(self.refresh)
        ctx.busy_changed.connect(lambda busy: self._sync_buttons())
        for check in (self.sketch_check, self.color_check):
            check.toggled.connect(self._sync_buttons)
        self.refresh()

    # ------------------------------------------------------------------ plan
    def plan(self) -> jobs.TrainPlan:
        checks = (("sketch", self.sketch_check), ("colorize", self.color_check))
        tasks = [t for t, c in checks if c.isChecked()]
        values = {"tasks": tasks, "steps": self.steps_spin.value(), "device": self.device_combo.currentData(),
                  "name": self.name_edit.text().strip() or "my-model"}
        return jobs.TrainPlan.tiny(**values) if self.tiny_check.isChecked() else jobs.TrainPlan(**values)

    def _show_plan(self, plan: jobs.TrainPlan) -> None:
        self.sketch_check.setChecked("sketch" in plan.tasks)
        self.color_check.setChecked("colorize" in plan.tasks)
        self.steps_spin.setValue(plan.steps)
        self.name_edit.setText(plan.name)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(plan.device)))
        self.tiny_check.setChecked(plan.model == jobs.TINY_MODEL)

    # ------------------------------------------------------------------ actions
    def start(self, resume: bool = False) -> None:
        if self.ctx.store is None or self.ctx.is_busy():
            return
        saved = jobs.saved_plan(self.ctx.dataset_dir) if resume else None
        plan = saved[0] if saved else self.plan()
        if saved:
            self._show_plan(plan)
        self.banner.clear_message()
        self.curve.clear(plan.steps)
        self.progress.setValue(0)
        self._t0 = self._f0 = None
        self.eta_label.setText("starting…")
        self.ctx.run(self.TAG, jobs.train, str(self.ctx.dataset_dir), plan, bool(saved))

    def cancel(self) -> None:
        if self.ctx.jobs.current_tag in (self.TAG, self.EXPORT_TAG):
            self.ctx.jobs.cancel_current()
            self.eta_label.setText("stopping at the next step…")

    def _choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the approved pairs into")
        if folder:
            self.export(folder)

    def export(self, folder: str) -> None:
        if self.ctx.store is None or self.ctx.is_busy():
            return
        self.banner.clear_message()
        self.ctx.run(self.EXPORT_TAG, jobs.export, str(self.ctx.dataset_dir), folder)

    # ------------------------------------------------------------------ feedback
    def _on_progress(self, tag, fraction: float) -> None:
        if tag not in (self.TAG, self.EXPORT_TAG):
            return
        self.progress.setValue(round(fraction * 1000))
        if tag != self.TAG:
            return
        now = time.monotonic()
        if self._t0 is None:
            self._t0, self._f0 = now, fraction
            return
        done = fraction - self._f0
        if done > 0 and now - self._t0 > 1.0:
            self.eta_label.setText(f"about {format_duration((now - self._t0) / done * (1.0 - fraction))} left")

    def _on_partial(self, tag, payload) -> None:
        if tag != self.TAG or not isinstance(payload, tuple):
            return
        if payload[0] == "loss":
            self.curve.add_points(payload[1], payload[2])
        elif payload[0] == "stage":
            _, task, index, count = payload
            self.eta_label.setText(f"training {task} ({index + 1} of {count})…")
        elif payload[0] == "message":  # resumed / started fresh / saved: said where the user looks
            self.banner.show_message("info", payload[1])

    def _on_succeeded(self, tag, result) -> None:
        if tag == self.TAG:
            self.progress.setValue(1000)
            self.eta_label.setText(f"done in {format_duration(result.seconds)}")
            names = ", ".join(f"{task}: {path}" for task, path in result.models.items())
            self.banner.show_message("success",
                                     f"Saved {names}. The new model is selected in the main window.")
            self.models_trained.emit(result.models)
        elif tag == self.EXPORT_TAG:
            self.banner.show_message("success", f"Exported {result.written:,} pairs to {result.out_dir} "
                                     f"({result.skipped:,} were already there).")

    def _on_failed(self, tag, reason: str) -> None:
        if tag in (self.TAG, self.EXPORT_TAG):
            self.banner.show_message("error", reason)
            self.eta_label.setText("")

    def _on_cancelled(self, tag) -> None:
        if tag == self.TAG:
            self.banner.show_message("info",
                                     "Training cancelled. A checkpoint was kept: press Resume to go on.")
            self.eta_label.setText("")
        elif tag == self.EXPORT_TAG:
            self.banner.show_message("info", "Export stopped; the pairs written so far are complete.")

    def _on_finished(self, tag) -> None:
        self._sync_buttons()

    def _align_progress(self) -> None:
        left, right = self.curve.plot_margins()
        self.progress_box.setContentsMargins(left, 0, right, 0)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._align_progress()
        self.refresh()  # decisions made on the Review page since

    def refresh(self) -> None:
        approved = self.ctx.counts()["approved"]
        if self.ctx.store is None:
            text = "Open a dataset first."
        elif approved == 0:
            text = "No approved pairs yet: approve some on the Review page."
        else:
            text = f"<b>{approved:,}</b> approved pairs will be used."
            if approved < FEW_PAIRS:
                text += f" That is few: {FEW_PAIRS * 10:,} or more give much better models."
        self.pairs_label.setText(text)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        busy = self.ctx.is_busy()
        ready = self.ctx.store is not None and not busy
        approved = self.ctx.counts()["approved"] if self.ctx.store is not None else 0
        tasks = self.sketch_check.isChecked() or self.color_check.isChecked()
        self.start_button.setEnabled(ready and approved > 0 and tasks)
        self.resume_button.setEnabled(ready and approved > 0 and self.ctx.dataset_dir is not None
                                      and jobs.saved_plan(self.ctx.dataset_dir) is not None)
        self.cancel_button.setEnabled(self.ctx.jobs.current_tag in (self.TAG, self.EXPORT_TAG))
        self.export_button.setEnabled(ready and approved > 0)

    def can_leave(self) -> bool:
        return True

    def ready(self) -> bool:
        """Done once a model has been trained from this dataset (the page itself is always reachable)."""
        return jobs.has_trained_model(self.ctx.dataset_dir)
