"""Hostile sites: endless bodies, trickling servers, redirects elsewhere, impossible post values, a full disk.

Each test reproduces an attack against a local server and checks what the user gets: a bounded crawl that
goes on, a failed row with the reason, a prompt stop on cancel/Ctrl+C, a one-line message.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from moebooru_server import MoebooruServer

from anisketch_desktop.cli_dataset import main
from anisketch_desktop.core.errors import Cancelled
from anisketch_desktop.dataset import download
from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
from anisketch_desktop.dataset.http import DeadlineError, HttpOptions

ROOT = Path(__file__).resolve().parents[1]


def fast(server: MoebooruServer, **kw) -> CrawlOptions:
    http = HttpOptions(**{"delay": 0.01, "download_delay": 0.0, "backoff": 0.01, "timeout": 5.0,
                          **kw.pop("http", {})})
    return CrawlOptions(site=server.url, http=http, **kw)


def failures(dataset: Path) -> dict[str, str]:
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:
        return dict(conn.execute("SELECT id, error FROM images WHERE state='failed'"))


@pytest.fixture
def server():
    with MoebooruServer(n_posts=4) as srv:
        yield srv


def peak_mb(func):
    tracemalloc.start()
    try:
        result = func()
        return result, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------------------ capped reads
def test_an_endless_robots_txt_is_cut_and_memory_stays_bounded(server, tmp_path):
    server.inject("/robots.txt", "endless", code=200)
    started = time.monotonic()
    report, peak = peak_mb(lambda: crawl(tmp_path, fast(server, count=2)))
    assert report.downloaded == 2  # the first 512 KiB only disallow a path we never ask for
    assert peak < 24, f"{peak:.0f} MB held while reading robots.txt"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("code", [403, 503])
def test_endless_error_bodies_are_capped(server, tmp_path, code):
    server.inject("/sample/1000.jpg", "endless", times=3, code=code)
    report, peak = peak_mb(lambda: crawl(tmp_path, fast(server, count=3, http={"retries": 1})))
    assert report.downloaded == 3 and report.failed == 1
    assert f"HTTP {code}" in failures(tmp_path)["1000"]
    assert peak < 24, f"{peak:.0f} MB held while reading an error page"


# ------------------------------------------------------------------------------------------ deadlines, cancel
def test_a_trickling_download_hits_its_deadline_and_the_crawl_goes_on(server, tmp_path):
    server.inject("/sample/1000.jpg", "trickle", interval=0.05)
    started = time.monotonic()
    report = crawl(tmp_path, fast(server, count=2, workers=1, http={"download_deadline": 1.0}))
    assert time.monotonic() - started < 6
    assert report.downloaded == 2 and report.failed == 1
    assert "took longer than 1 s" in failures(tmp_path)["1000"]
    assert (tmp_path / "images" / "1000.part").exists()  # what arrived is kept for the next run


def test_a_trickling_api_answer_hits_its_deadline(server, tmp_path):
    server.inject("/post.xml", "trickle", headers=True, interval=0.05)
    started = time.monotonic()
    with pytest.raises(DeadlineError, match="took longer than 1 s"):
        crawl(tmp_path, fast(server, count=2, http={"deadline": 1.0}))
    assert time.monotonic() - started < 4


class Stopper:
    """A cancel check that remembers when it was turned on."""

    def __init__(self):
        self.at: float | None = None

    def set(self) -> None:
        self.at = time.monotonic()

    def __call__(self) -> bool:
        return self.at is not None


@pytest.mark.parametrize("where", ["headers", "body"])
def test_cancel_stops_a_trickling_download_within_a_second(server, tmp_path, where):
    server.inject("/sample/1000.jpg", "trickle", headers=where == "headers", interval=0.1)
    stop = Stopper()

    def cancel_when_trickling():
        while not server.requests("/sample/1000.jpg"):
            time.sleep(0.02)
        time.sleep(0.5)
        stop.set()

    threading.Thread(target=cancel_when_trickling, daemon=True).start()
    with pytest.raises(Cancelled):
        crawl(tmp_path, fast(server, count=4, workers=2), cancel=stop)
    late = time.monotonic() - stop.at
    assert late < 1.0, f"cancel took {late:.1f} s"


def test_ctrl_c_stops_the_cli_mid_download_within_two_seconds(server, tmp_path):
    server.inject("/sample/", "trickle", times=4, interval=0.1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "anisketch_desktop.cli_dataset", "crawl", "--site", server.url, "--dataset",
         str(tmp_path / "ds"), "--delay", "0", "--count", "4", "--yes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(server.requests("/sample/")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # both downloads are trickling now
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        late = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert late < 2.0, f"Ctrl+C took {late:.1f} s"


# ------------------------------------------------------------------------------------------ hostile posts
def test_redirects_to_files_and_loops_are_failed_posts_and_the_crawl_goes_on(server, tmp_path):
    server.inject("/sample/1000.jpg", "redirect", location="file:///etc/passwd")
    server.inject("/sample/999.jpg", "redirect", times=20, location="/sample/999.jpg?again")
    server.inject("/sample/998.jpg", "redirect", times=20, location="/sample/998.jpg")
    report = crawl(tmp_path, fast(server, count=4))
    failed = failures(tmp_path)
    assert report.downloaded == 1 and report.failed == 3
    assert "not a web address" in failed["1000"]
    assert "more than 5 times" in failed["999"] or "loop" in failed["999"]
    assert "loop" in failed["998"]
    assert not any(r.path.startswith("/etc") for r in server.log)


@pytest.mark.parametrize("allowed", [True, False])
def test_a_redirect_to_another_host_obeys_that_hosts_robots_txt(server, tmp_path, allowed):
    robots = "User-agent: *\nDisallow:\n" if allowed else "User-agent: *\nDisallow: /sample/\n"
    with MoebooruServer(n_posts=4, robots=robots) as other:
        server.inject("/sample/1000.jpg", "redirect", location=f"{other.url}/sample/1000.jpg")
        report = crawl(tmp_path, fast(server, count=4))
        asked = [r.path for r in other.log]
    if allowed:
        assert report.downloaded == 4 and asked == ["/robots.txt", "/sample/1000.jpg"]
        assert (tmp_path / "images/1000.jpg").read_bytes() == other.post(1000).sample
    else:
        assert report.downloaded == 3 and asked == ["/robots.txt"]
        assert "robots.txt" in failures(tmp_path)["1000"]


def test_posts_with_impossible_ids_or_sizes_are_recorded_failed_and_skipped_on_reruns(tmp_path):
    with MoebooruServer(n_posts=3) as server:
        server.add_post(xml={"id": str(2**63)})
        server.add_post(xml={"file_size": str(2**64)})
        server.add_post(xml={"width": "9" * 30})
        report = crawl(tmp_path, fast(server, count=6, originals=True))
        assert report.downloaded == 3 and report.failed == 3
        failed = failures(tmp_path)
        assert set(failed) == {str(2**63), "996", "995"}
        assert all("out of range" in reason for reason in failed.values())
        served = len(server.requests("/image/"))
        again = crawl(tmp_path, fast(server, count=6, originals=True))
        assert again.failed == 0 and len(server.requests("/image/")) == served  # never retried


def test_a_file_larger_than_the_limit_is_refused_before_any_request(server, tmp_path):
    server.posts[0].xml["file_size"] = str(10**12)
    report = crawl(tmp_path, fast(server, count=4, originals=True))
    assert report.downloaded == 3 and "over the 200 MB limit" in failures(tmp_path)["1000"]
    assert not server.requests("/image/1000.png")


# ------------------------------------------------------------------------------------------ exit status, disk
def test_a_crawl_where_every_download_failed_exits_non_zero(server, tmp_path, capsys):
    server.inject("/sample/", "status", times=100, code=404)
    args = ["crawl", "--site", server.url, "--dataset", str(tmp_path), "--delay", "0", "--yes", "--count", "4"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "every download of this run failed (4)" in err and "HTTP 404" in err


def test_a_full_disk_during_a_crawl_is_one_clear_message(server, tmp_path, capsys, monkeypatch):
    real_open = open

    class FullDisk:
        def __init__(self, *args, **kwargs):
            self.file = real_open(*args, **kwargs)

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(download, "open", FullDisk, raising=False)
    args = ["crawl", "--site", server.url, "--dataset", str(tmp_path), "--delay", "0", "--yes", "--count", "4"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "disk holding" in err and "is full" in err and "Traceback" not in err
    assert len(server.requests("/sample/")) <= 2  # stopped at once, not 4 failures
