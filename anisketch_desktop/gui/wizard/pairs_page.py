"""Step 2: make an XDoG sketch of every picture (preset, custom parameters or per-picture auto-tune)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.gui.imaging import to_qimage
from anisketch_desktop.gui.wizard import jobs
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.widgets import Banner, Histogram, ImagePane, PageHeader, two_column_page
from anisketch_desktop.gui.workers import TaskRunner
from anisketch_desktop.gui.xdog_panel import CUSTOM, XDoGPanel


class PairsPage(QWidget):
    title = "Make sketches"
    TAG = "pairs"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.sample_ids: list[str] = []
        self.sample_index = 0
        self.sample_image = None  # RGB uint8 (<= 512 px) of the preview picture
        header = PageHeader(
            "Make sketches",
            "Every picture gets an XDoG line drawing; together they are the training pairs. Tune the "
            "parameters on the preview, or let the auto-tuner pick them for each picture. Regenerating keeps "
            "your review decisions and marks those whose sketch changed for another look.",
        )
        self.fixed_radio = QRadioButton("Same parameters for every picture")
        self.fixed_radio.setChecked(True)
        self.auto_radio = QRadioButton("Auto-tune each picture (slower, adapts to each one)")
        self.auto_radio.setObjectName("auto_each")
        group = QButtonGroup(self)
        group.addButton(self.fixed_radio)
        group.addButton(self.auto_radio)
        self.auto_radio.toggled.connect(self._on_mode)
        self.xdog_panel = XDoGPanel(self)
        self.xdog_panel.setTitle("XDoG parameters")
        self.xdog_panel.params_changed.connect(lambda _values: self.preview_timer.start())
        self.xdog_panel.auto_requested.connect(self._auto_sample)
        self.speck_spin = QSpinBox()
        self.speck_spin.setRange(0, 500)
        self.speck_spin.setSuffix(" px")
        self.speck_spin.setSpecialValueText("off")
        self.speck_spin.setToolTip("Remove ink specks up to this many pixels")
        self.speck_spin.valueChanged.connect(lambda _v: self.preview_timer.start())
        speck_row = QHBoxLayout()
        speck_row.addWidget(QLabel("Remove specks:"))
        speck_row.addWidget(self.speck_spin)
        speck_row.addStretch(1)
        self.force_check = QCheckBox("Also redo sketches that are up to date")
        self.generate_button = QPushButton("Generate sketches")
        self.generate_button.setObjectName("generate")
        self.generate_button.setMinimumHeight(32)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.summary = QLabel()
        self.summary.setObjectName("pairs_summary")
        self.summary.setWordWrap(True)
        self.banner = Banner()

        left = QVBoxLayout()
        left.addWidget(self.fixed_radio)
        left.addWidget(self.auto_radio)
        left.addWidget(self.xdog_panel)
        left.addLayout(speck_row)
        left.addWidget(self.force_check)
        left.addStretch(1)
        left.addLayout(buttons)
        left.addWidget(self.progress)

        self.picture_pane = ImagePane("Picture")
        self.sketch_pane = ImagePane("Sketch")
        self.sketch_pane.setObjectName("preview_sketch")
        panes = QHBoxLayout()
        panes.addWidget(self.picture_pane)
        panes.addWidget(self.sketch_pane)
        self.sample_label = QLabel()
        self.next_sample = QPushButton("Another sample")
        self.next_sample.clicked.connect(lambda: self.load_sample(self.sample_index + 1))
        sample_row = QHBoxLayout()
        sample_row.addWidget(self.sample_label, 1)
        sample_row.addWidget(self.next_sample)
        preview_box = QGroupBox("Preview")
        box = QVBoxLayout(preview_box)
        box.addLayout(panes, 1)
        box.addLayout(sample_row)
        self.histogram = Histogram()
        self.histogram.setObjectName("clarity_histogram")
        right = QVBoxLayout()
        right.addWidget(preview_box, 3)
        right.addWidget(self.summary)
        right.addWidget(self.histogram, 1)

        two_column_page(self, header, self.banner, left, right)

        self.preview_timer = QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(120)
        self.preview_timer.timeout.connect(self.request_preview)
        self.sample_runner = TaskRunner(self, latest_wins=True, name="wizard-sample")
        self.sample_runner.succeeded.connect(self._on_sample_done)
        self.sample_runner.failed.connect(lambda tag, reason: self.banner.show_message("error", reason))
        self.preview_runner = TaskRunner(self, latest_wins=True, name="wizard-preview")
        self.preview_runner.succeeded.connect(self._on_preview)
        self.preview_runner.failed.connect(lambda tag, reason: self.banner.show_message("error", reason))
        r = ctx.jobs
        r.started.connect(lambda tag: self._sync_buttons())
        r.progress.connect(lambda tag, f: self.progress.setValue(round(f * 1000))
                           if tag == self.TAG else None)
        r.succeeded.connect(self._on_generated)
        r.failed.connect(lambda tag, reason: self.banner.show_message("error", reason) if tag == self.TAG
                         else None)
        r.cancelled.connect(lambda tag: self.banner.show_message(
            "info", "Stopped. The sketches made so far are kept.") if tag == self.TAG else None)
        r.finished.connect(self._on_finished)
        ctx.dataset_changed.connect(lambda _d: self._reset_samples())
        ctx.data_changed.connect(self.refresh)
        self._sync_buttons()

    # ------------------------------------------------------------------ values
    def generation_params(self):
        """What ``generate_pairs`` gets: ``"auto"``, a preset name, or the panel's parameters."""
        if self.auto_radio.isChecked():
            return "auto"
        preset = self.xdog_panel.preset_combo.currentText()
        return preset if preset != CUSTOM else self.xdog_panel.params()

    def _on_mode(self, auto: bool) -> None:
        self.xdog_panel.setEnabled(not auto)
        self.request_preview()

    # ------------------------------------------------------------------ preview
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.sample_image is None and self.ctx.store is not None:
            self.load_sample(0)

    def _reset_samples(self) -> None:
        self.sample_ids, self.sample_image = [], None
        self.picture_pane.set_image(None)
        self.sketch_pane.set_image(None)
        if self.isVisible():
            self.load_sample(0)

    def load_sample(self, index: int) -> None:
        if self.ctx.store is None:
            return
        if not self.sample_ids or index >= len(self.sample_ids):
            self.sample_ids = self.ctx.store.picture_ids()
        if not self.sample_ids:
            self.picture_pane.set_image(None, "No pictures yet: collect some on the previous page.")
            self.sketch_pane.set_image(None)
            self.sample_label.setText("")
            return
        self.sample_index = index % len(self.sample_ids)
        image_id = self.sample_ids[self.sample_index]
        self.sample_runner.submit("sample", jobs.load_sample, str(self.ctx.dataset_dir), image_id)

    def _on_sample_done(self, tag, result) -> None:
        if tag == "sample":
            image_id, image = result
            self.sample_image = image
            self.picture_pane.set_image(to_qimage(image))
            self.sample_label.setText(
                f"Sample {self.sample_index + 1} of {len(self.sample_ids):,}: {image_id}")
            self.request_preview()
        elif tag == "auto":
            self.xdog_panel.set_auto_running(False)
            self.xdog_panel.set_params(result, notify=True)

    def _auto_sample(self) -> None:
        if self.sample_image is not None:
            self.xdog_panel.set_auto_running(True)
            self.sample_runner.submit("auto", jobs.auto_params, self.sample_image)

    def request_preview(self) -> None:
        if self.sample_image is None:
            return
        values = None if self.auto_radio.isChecked() else self.xdog_panel.params()
        self.sketch_pane.set_image(self.sketch_pane.image, "Rendering…")
        self.preview_runner.submit("preview", jobs.preview, self.sample_image, values,
                                   self.speck_spin.value())

    def _on_preview(self, tag, result) -> None:
        sketch, score, _params = result
        self.sketch_pane.set_image(to_qimage(sketch))
        self.sketch_pane.caption = f"Sketch · clarity {score:.2f}"
        self.sketch_pane.update()

    # ------------------------------------------------------------------ generate
    def generate(self) -> None:
        if self.ctx.store is None or self.ctx.is_busy():
            return
        self.banner.clear_message()
        self.progress.setValue(0)
        self.ctx.run(self.TAG, jobs.generate, str(self.ctx.dataset_dir), self.generation_params(),
                     self.speck_spin.value(), self.force_check.isChecked())

    def cancel(self) -> None:
        if self.ctx.jobs.current_tag == self.TAG:
            self.ctx.jobs.cancel_current()

    def _on_generated(self, tag, report) -> None:
        if tag != self.TAG:
            return
        self.progress.setValue(1000)
        parts = [f"{report.generated:,} sketches made", f"{report.unchanged:,} already up to date"]
        if report.stale:
            parts.append(f"{report.stale:,} decisions to review again (their sketch changed)")
        if report.failed:
            parts.append(f"{len(report.failed):,} failed (first: {report.failed[0][1]})")
        self.banner.show_message("warning" if report.failed else "success", "; ".join(parts) + ".")

    def _on_finished(self, tag) -> None:
        if tag == self.TAG:
            self.ctx.data_changed.emit()
        self._sync_buttons()

    def refresh(self) -> None:
        c = self.ctx.counts()
        self.summary.setText(f"<b>{c['pairs']:,}</b> sketch pairs of {c['done']:,} pictures"
                             + (f" · {c['stale']:,} to review again" if c["stale"] else ""))
        scores = [] if self.ctx.store is None else self.ctx.store.clarity_scores(pairs_only=True)
        self.histogram.set_values(scores)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        busy = self.ctx.is_busy()
        self.generate_button.setEnabled(self.ctx.store is not None and not busy)
        self.cancel_button.setEnabled(self.ctx.jobs.current_tag == self.TAG)

    def can_leave(self) -> bool:
        return True

    def ready(self) -> bool:
        return self.ctx.counts()["pairs"] > 0

    def shutdown(self) -> None:
        self.sample_runner.shutdown()
        self.preview_runner.shutdown()
