"""One AniSketch per dataset (a lock with the owner's pid, stale locks recovered), damaged or lost manifests
(clear messages, never a silent fresh start over pictures, rebuild from the folder), full disks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moebooru_server import MoebooruServer
from test_training import _pair, _recipe

from anisketch_desktop.cli_dataset import main
from anisketch_desktop.dataset import store as store_module
from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
from anisketch_desktop.dataset.http import HttpOptions
from anisketch_desktop.dataset.lock import DatasetBusyError, dataset_lock
from anisketch_desktop.dataset.store import DatasetError, DatasetStore

ROOT = Path(__file__).resolve().parents[1]
HOLDER = """
import sys, time
from anisketch_desktop.dataset.lock import acquire
acquire(sys.argv[1])
print("held", flush=True)
time.sleep(60)
"""


def crawl_args(server, dataset, *extra):
    return ["crawl", "--site", server.url, "--dataset", str(dataset), "--delay", "0", "--yes", *extra]


def hold_in_another_process(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def server():
    with MoebooruServer(n_posts=4) as srv:
        yield srv


# ------------------------------------------------------------------------------------------ the lock
def test_a_second_anisketch_is_refused_with_the_owners_pid_and_a_dead_owner_is_recovered(server, tmp_path,
                                                                                          capsys):
    dataset = tmp_path / "ds"
    holder = hold_in_another_process(dataset)
    try:
        assert main(crawl_args(server, dataset, "--count", "2")) == 1
        err = capsys.readouterr().err
        assert f"in use by another AniSketch (pid {holder.pid})" in err and "Traceback" not in err
        assert not server.requests("/sample/")  # refused before any download
        for command in (["import", "--dataset", str(dataset), str(tmp_path)],
                        ["pairs", "--dataset", str(dataset)]):
            assert main(command) == 1
            assert f"pid {holder.pid}" in capsys.readouterr().err
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock: the file still names it
        holder.wait()
    assert (dataset / "dataset.lock").read_text().strip() == str(holder.pid)
    assert main(crawl_args(server, dataset, "--count", "2")) == 0  # the stale lock is taken over
    assert DatasetStore(dataset).count("done") == 2


def test_the_lock_is_reentrant_within_a_process_and_released_after(tmp_path):
    with dataset_lock(tmp_path), dataset_lock(tmp_path):
        pass
    holder = hold_in_another_process(tmp_path)  # released: another process can take it
    try:
        with pytest.raises(DatasetBusyError):
            with dataset_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_the_wizard_holds_the_dataset_while_it_is_open(qtbot, tmp_path, server, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QMessageBox

    from anisketch_desktop.gui.wizard import DatasetWizard

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    dataset, other = tmp_path / "ds", tmp_path / "other"
    wizard = DatasetWizard()
    qtbot.addWidget(wizard)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crawl_once = [sys.executable, "-m", "anisketch_desktop.cli_dataset", *crawl_args(server, dataset, "--count", "1")]
    holder = None
    try:
        assert wizard.folder_page.open_folder(str(dataset))
        # within one process the lock is re-entrant (the wizard's own crawl takes it too): ask from outside
        probe = subprocess.run(crawl_once, capture_output=True, text=True, env=env, timeout=120)
        assert probe.returncode == 1 and f"in use by another AniSketch (pid {os.getpid()})" in probe.stderr
        assert wizard.folder_page.open_folder(str(other))  # opening another dataset lets the first one go
        probe = subprocess.run(crawl_once, capture_output=True, text=True, env=env, timeout=120)
        assert probe.returncode == 0, probe.stderr
        holder = hold_in_another_process(tmp_path / "third")
        assert not wizard.folder_page.open_folder(str(tmp_path / "third"))
        assert f"in use by another AniSketch (pid {holder.pid})" in wizard.folder_page.banner.text()
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        wizard.shutdown()


# ------------------------------------------------------------------------------------------ damaged manifests
def crawled(server, dataset) -> None:
    crawl(dataset, CrawlOptions(site=server.url, count=4, http=HttpOptions(delay=0.0, download_delay=0.0)))


def test_a_garbage_manifest_gives_one_line_and_rebuild_recovers_the_pictures(server, tmp_path, capsys):
    crawled(server, tmp_path)
    pictures = sorted(p.name for p in (tmp_path / "images").iterdir())
    (tmp_path / "dataset.sqlite").write_bytes(b"\x00garbage" * 4096)
    for f in tmp_path.glob("dataset.sqlite-*"):
        f.unlink()
    assert main(["pairs", "--dataset", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "is damaged (file is not a database)" in err and "anisketch rebuild --dataset" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["rebuild", "--dataset", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4 pictures recorded" in out
    kept = list(tmp_path.glob("dataset.sqlite.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"\x00garbage")
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == pictures  # untouched
    with sqlite3.connect(tmp_path / "dataset.sqlite") as conn:
        rows = conn.execute("SELECT id, origin, post_id, state FROM images ORDER BY post_id").fetchall()
    assert rows == [(str(i), "crawl", i, "done") for i in range(997, 1001)]
    before = len(server.requests("/sample/"))
    assert main(crawl_args(server, tmp_path, "--count", "4")) == 0  # nothing downloaded again
    assert len(server.requests("/sample/")) == before
    assert main(["pairs", "--dataset", str(tmp_path), "-q"]) == 0


def test_an_empty_manifest_next_to_pictures_is_never_silently_started_over(server, tmp_path, capsys):
    crawled(server, tmp_path)
    (tmp_path / "dataset.sqlite").write_bytes(b"")
    for f in tmp_path.glob("dataset.sqlite-*"):
        f.unlink()
    for command in (crawl_args(server, tmp_path, "--count", "4"), ["import", "--dataset", str(tmp_path),
                                                                   str(tmp_path / "images")]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "is empty (0 bytes), but images/ holds 4 pictures. Nothing was changed." in err
    assert (tmp_path / "dataset.sqlite").stat().st_size == 0
    (tmp_path / "dataset.sqlite").unlink()
    with pytest.raises(DatasetError, match="is missing, but images/ holds 4 pictures") as caught:
        DatasetStore(tmp_path)
    assert caught.value.rebuild


def test_a_locked_manifest_says_so(tmp_path, monkeypatch):
    DatasetStore(tmp_path).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(tmp_path / "dataset.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(DatasetError, match="is locked by another program"):
            DatasetStore(tmp_path)
        assert time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_full_disk_while_recording_a_download_is_one_line(server, tmp_path, capsys, monkeypatch):
    def mark_done(self, *args, **kwargs):
        with self.transaction() as conn:  # SQLite finds the disk full while recording the first picture
            conn.execute("SELECT 1")
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(DatasetStore, "mark_done", mark_done)
    assert main(crawl_args(server, tmp_path, "--count", "2")) == 1
    err = capsys.readouterr().err
    assert "the disk is full or failing (database or disk is full)" in err and "Traceback" not in err


def test_the_wizard_offers_to_rebuild_a_damaged_manifest(qtbot, server, tmp_path, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QMessageBox

    from anisketch_desktop.gui.wizard import DatasetWizard

    crawled(server, tmp_path)
    (tmp_path / "dataset.sqlite").write_bytes(b"not sqlite" * 500)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    wizard = DatasetWizard()
    qtbot.addWidget(wizard)
    try:
        page = wizard.folder_page
        assert not page.open_folder(str(tmp_path))
        assert asked and "Rebuild the manifest" in asked[0]
        qtbot.waitUntil(lambda: wizard.ctx.dataset_dir == tmp_path.resolve(), timeout=20_000)
        assert "Manifest rebuilt: 4 pictures recorded" in page.banner.text()
        assert wizard.ctx.counts()["done"] == 4
    finally:
        wizard.shutdown()


# ------------------------------------------------------------------------------------------ training
@pytest.fixture
def pairs_dir(tmp_path):
    import cv2
    import numpy as np

    root = tmp_path / "pairs"
    (root / "color").mkdir(parents=True)
    (root / "sketch").mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        color, sketch = _pair(rng)
        cv2.imwrite(str(root / "color" / f"p{i}.png"), color[..., ::-1])
        cv2.imwrite(str(root / "sketch" / f"p{i}.png"), sketch)
    return root


def test_a_full_disk_during_training_is_one_clear_line(pairs_dir, tmp_path, monkeypatch, capsys):
    import torch

    from anisketch_desktop import cli as app_cli

    real = torch.save

    def full_disk(obj, path, *args, **kwargs):
        with open(path, "wb") as handle:  # what torch does when the disk fills up half-way
            handle.write(b"PK\x03\x04 half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc:595] . PytorchStreamWriter failed writing file "
                           "data/3: file write failed")

    monkeypatch.setattr(torch, "save", full_disk)
    runs = tmp_path / "runs"
    code = app_cli.main(["train", "--recipe", str(_recipe(tmp_path, steps=4)), "--pairs", str(pairs_dir),
                         "--runs", str(runs), "--output", str(tmp_path / "m.safetensors")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "Cannot write the checkpoint" in err and "is the disk full?" in err and "resumes" in err
    assert not [p for p in runs.rglob("*.part")]  # no half-written checkpoint left behind
    monkeypatch.setattr(torch, "save", real)
