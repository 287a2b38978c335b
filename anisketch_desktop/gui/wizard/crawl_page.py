"""Step 1: fill the dataset by crawling a Moebooru site (konachan by default) or importing a folder."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anisketch_desktop.gui.wizard import jobs
from anisketch_desktop.gui.wizard.context import WizardContext
from anisketch_desktop.gui.wizard.widgets import Banner, PageHeader, two_column_page

DEFAULT_SITE = "https://konachan.com"
NOTICE = (  # the dataset layer's text is shown when it can be imported (see _notice_text)
    "The pictures you download are third-party artwork. Use them only to train models for your own "
    "private use and do not redistribute them."
)

# One box of one colour: the theme (qdarkstyle) gives every QLabel / QCheckBox its own opaque background,
# which would paint stripes over the frame's tint, so the frame's children draw no background of their own.
NOTICE_STYLE = """
QFrame#notice { border: 1px solid #e0a030; border-radius: 4px; background: rgba(224, 160, 48, 30); }
QFrame#notice QLabel, QFrame#notice QCheckBox { background: transparent; border: none; }
QFrame#notice QLabel:disabled, QFrame#notice QCheckBox:disabled { background: transparent; }
"""


def _notice_text() -> str:
    try:
        from anisketch_desktop.dataset.crawl import NOTICE as text
    except ImportError:  # pragma: no cover - the dataset layer is part of every build
        return NOTICE
    return text


class CrawlPage(QWidget):
    title = "Collect pictures"
    TAGS = ("crawl", "import")

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        header = PageHeader(
            "Collect pictures",
            "Download anime pictures from a Moebooru site (konachan, or any mirror) with the tags you "
            "choose, or import a folder of your own pictures. Only safe-rated pictures are kept. Pausing "
            "keeps everything: Start again resumes where it stopped.",
        )
        self._build_source()
        self._build_run()
        self.banner = Banner()
        self.banner.setObjectName("crawl_banner")

        left = QVBoxLayout()
        left.addWidget(self.source_box)
        left.addWidget(self.polite_box)
        left.addWidget(self.import_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.notice_frame)
        right.addLayout(self.buttons)
        right.addWidget(self.progress)
        right.addWidget(self.counts_label)
        right.addWidget(self.log_view, 1)
        two_column_page(self, header, self.banner, left, right, 5)

        self.live_timer = QTimer(self)
        self.live_timer.setInterval(400)
        self.live_timer.timeout.connect(self.refresh_counts)
        r = ctx.jobs
        r.started.connect(self._on_started)
        r.progress.connect(self._on_progress)
        r.partial.connect(self._on_partial)
        r.succeeded.connect(self._on_succeeded)
        r.failed.connect(self._on_failed)
        r.cancelled.connect(self._on_cancelled)
        r.finished.connect(self._on_finished)
        ctx.busy_changed.connect(lambda busy: self._sync_buttons())
        ctx.data_changed.connect(self.refresh_counts)
        self._sync_buttons()
        self.refresh_counts()

    # ------------------------------------------------------------------ layout
    def _build_source(self) -> None:
        self.site_edit = QLineEdit(DEFAULT_SITE)
        self.site_edit.setObjectName("site")
        self.site_edit.setToolTip("Any Moebooru site or a local mirror (konachan.com, yande.re…)")
        self.tags_edit = QLineEdit()
        self.tags_edit.setObjectName("tags")
        self.tags_edit.setPlaceholderText("e.g. 1girl solo  (rating:safe is always added)")
        self.tags_edit.setToolTip("Up to 4 tags; prefix a tag with - to exclude it")
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("count")
        self.count_spin.setRange(1, 100_000)
        self.count_spin.setValue(200)
        self.count_spin.setGroupSeparatorShown(True)
        self.count_spin.setToolTip("How many pictures to collect for these tags (a rerun tops up to this)")
        self.min_w = QSpinBox()
        self.min_h = QSpinBox()
        for spin in (self.min_w, self.min_h):
            spin.setRange(0, 20_000)
            spin.setSuffix(" px")
            spin.setSpecialValueText("any")
        size_row = QHBoxLayout()
        size_row.addWidget(self.min_w)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.min_h)
        self.originals_check = QCheckBox("Download originals (large; verified by md5)")
        self.originals_check.setToolTip("Off: the site's ≤ 1500 px samples, which are plenty for training")
        self.source_box = QGroupBox("Moebooru site")
        form = QFormLayout(self.source_box)
        form.addRow("Site:", self.site_edit)
        form.addRow("Tags:", self.tags_edit)
        form.addRow("Pictures:", self.count_spin)
        form.addRow("Minimum size:", size_row)
        form.addRow(self.originals_check)

        self.delay_spin = QDoubleSpinBox()
        self.delay_spin.setObjectName("delay")
        self.delay_spin.setRange(0.0, 60.0)
        self.delay_spin.setDecimals(2)
        self.delay_spin.setSingleStep(0.5)
        self.delay_spin.setValue(1.0)
        self.delay_spin.setSuffix(" s")
        self.delay_spin.setToolTip("Pause between API calls (at least 1 s for public sites)")
        from anisketch_desktop.dataset.http import HttpOptions

        self.agent_edit = QLineEdit(HttpOptions().user_agent)
        self.agent_edit.setToolTip("Identifies this crawler to the site; add a contact address if you like")
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setPlaceholderText("none (e.g. http://127.0.0.1:8080)")
        self.polite_box = QGroupBox("Politeness and network")
        form = QFormLayout(self.polite_box)
        form.addRow("Delay:", self.delay_spin)
        form.addRow("User agent:", self.agent_edit)
        form.addRow("Proxy:", self.proxy_edit)

        self.import_button = QPushButton("Import a folder of my own pictures…")
        self.import_button.setObjectName("import_folder")
        self.import_button.clicked.connect(self._choose_import)
        self.import_box = QGroupBox("Or use your own pictures")
        box = QVBoxLayout(self.import_box)
        hint = QLabel("Copies every picture of a folder (and its sub-folders) into the dataset; duplicates "
                      "are skipped and your files are never changed.")
        hint.setWordWrap(True)
        box.addWidget(hint)
        box.addWidget(self.import_button)

    def _build_run(self) -> None:
        self.notice_frame = QFrame()
        self.notice_frame.setObjectName("notice")
        self.notice_frame.setStyleSheet(NOTICE_STYLE)
        notice_title = QLabel("Before you crawl")
        notice_title.setObjectName("notice_title")
        font = QFont(notice_title.font())
        font.setBold(True)
        notice_title.setFont(font)
        notice = QLabel(_notice_text())
        notice.setObjectName("notice_text")
        notice.setWordWrap(True)
        self.agree_check = QCheckBox("I understand: private training use only")
        self.agree_check.setObjectName("agree")
        self.agree_check.toggled.connect(self._sync_buttons)
        box = QVBoxLayout(self.notice_frame)
        box.addWidget(notice_title)
        box.addWidget(notice)
        box.addWidget(self.agree_check)

        self.start_button = QPushButton("Start crawl")
        self.start_button.setObjectName("start_crawl")
        self.start_button.setMinimumHeight(32)
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pause_crawl")
        self.pause_button.setToolTip("Stop now; Start resumes later (nothing is lost)")
        self.pause_button.clicked.connect(self.pause)
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.start_button, 1)
        self.buttons.addWidget(self.pause_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.counts_label = QLabel()
        self.counts_label.setObjectName("crawl_counts")
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("crawl_log")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("What the crawler does appears here.")
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

    # ------------------------------------------------------------------ actions
    def crawl_options(self):
        from anisketch_desktop.dataset.crawl import CrawlOptions
        from anisketch_desktop.dataset.http import HttpOptions

        http = HttpOptions(user_agent=self.agent_edit.text().strip() or HttpOptions().user_agent,
                           proxy=self.proxy_edit.text().strip() or None, delay=self.delay_spin.value())
        if self.delay_spin.value() < 0.25:  # a local mirror or a test server: no need for long backoffs
            http.download_delay, http.backoff = 0.0, min(http.backoff, 0.05)
        return CrawlOptions(site=self.site_edit.text().strip() or DEFAULT_SITE, tags=self.tags_edit.text(),
                            count=self.count_spin.value(), originals=self.originals_check.isChecked(),
                            min_width=self.min_w.value(), min_height=self.min_h.value(), http=http)

    def start(self) -> None:
        if self.ctx.store is None or self.ctx.is_busy() or not self.agree_check.isChecked():
            return
        self.banner.clear_message()
        options = self.crawl_options()
        self._log(f"Crawling {options.site} for '{options.tags or '(any tags)'}' — up to {options.count:,} "
                  "pictures")
        self.ctx.run("crawl", jobs.crawl, str(self.ctx.dataset_dir), options)

    def pause(self) -> None:
        if self.ctx.jobs.current_tag in self.TAGS:
            self.ctx.jobs.cancel_current()
            self.pause_button.setEnabled(False)
            self._log("Pausing…")

    def _choose_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import pictures from a folder")
        if folder:
            self.import_folder(folder)

    def import_folder(self, folder: str) -> None:
        if self.ctx.store is None or self.ctx.is_busy():
            return
        self.banner.clear_message()
        self._log(f"Importing pictures from {folder}")
        self.ctx.run("import", jobs.import_folder, str(self.ctx.dataset_dir), folder)

    # ------------------------------------------------------------------ job feedback
    def _mine(self, tag) -> bool:
        return tag in self.TAGS

    def _on_started(self, tag) -> None:
        if self._mine(tag):
            self.progress.setValue(0)
            self.live_timer.start()
            self._sync_buttons()

    def _on_progress(self, tag, fraction: float) -> None:
        if self._mine(tag):
            self.progress.setValue(round(fraction * 1000))

    def _on_partial(self, tag, payload) -> None:
        if self._mine(tag) and isinstance(payload, tuple) and payload[0] == "log":
            self._log(payload[1])

    def _on_succeeded(self, tag, report) -> None:
        if tag == "crawl":
            self.progress.setValue(1000)
            more = " The site has no more posts for these tags." if report.exhausted else ""
            text = (f"Crawl finished: {report.downloaded:,} new pictures ({report.total:,} for these tags), "
                    f"{report.failed:,} failed, {report.unsafe:,} unsafe posts skipped.{more}")
            if report.failed and not report.downloaded:  # the CLI exits 1 here: say it as plainly
                text = (f"Every download of this crawl failed ({report.failed:,}); the first: {report.errors[0]}. "
                        "Check the site and your connection; failed pictures are retried on the next Start.")
                self.banner.show_message("error", text)
            else:
                self.banner.show_message("success", text)
            self._log(text)
        elif tag == "import":
            text = (f"Imported {report.added:,} pictures; {report.duplicates:,} already there, "
                    f"{len(report.failed):,} unreadable.")
            self.banner.show_message("success" if report.added or report.duplicates else "warning", text)
            self._log(text)
            for path, reason in report.failed[:20]:
                self._log(f"  skipped {path}: {reason}")

    def _on_failed(self, tag, reason: str) -> None:
        if self._mine(tag):
            self.banner.show_message("error", reason)
            self._log(f"Stopped: {reason}")

    def _on_cancelled(self, tag) -> None:
        if self._mine(tag):
            text = "Paused. Press Start to resume where it stopped." if tag == "crawl" else "Import stopped."
            self.banner.show_message("info", text)
            self._log(text)

    def _on_finished(self, tag) -> None:
        if self._mine(tag):
            self.live_timer.stop()
            self.ctx.data_changed.emit()
            self._sync_buttons()

    # ------------------------------------------------------------------ state
    def _log(self, text: str) -> None:
        self.log_view.appendPlainText(text)

    def refresh_counts(self) -> None:
        c = self.ctx.counts()
        self.counts_label.setText(
            f"<b>{c['done']:,}</b> pictures in the dataset · {c['pending']:,} queued · {c['failed']:,} failed"
            + (f" · {c['duplicate']:,} duplicates" if c["duplicate"] else "")
        )

    def _sync_buttons(self) -> None:
        running = self.ctx.jobs.current_tag in self.TAGS
        busy = self.ctx.is_busy()
        has_dataset = self.ctx.store is not None
        self.start_button.setEnabled(has_dataset and not busy and self.agree_check.isChecked())
        self.start_button.setText("Resume crawl" if self._resumable() else "Start crawl")
        self.start_button.setToolTip("" if self.agree_check.isChecked()
                                     else "Tick “I understand” in the notice first")
        self.pause_button.setEnabled(running)
        self.import_button.setEnabled(has_dataset and not busy)

    def _resumable(self) -> bool:
        return self.ctx.store is not None and self.ctx.counts()["pending"] > 0

    def can_leave(self) -> bool:
        return True

    def ready(self) -> bool:
        return self.ctx.counts()["done"] > 0

