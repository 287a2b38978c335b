"""Crawling a local Moebooru server: paging by id, safe posts only, resumable verified downloads."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from moebooru_server import MoebooruServer

from anisketch_desktop.core.errors import Cancelled
from anisketch_desktop.core.imageio import read_image
from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
from anisketch_desktop.dataset.http import ChallengeError, HttpOptions
from anisketch_desktop.dataset.store import DatasetError, DatasetStore


def fast(server: MoebooruServer, **kw) -> CrawlOptions:
    http = HttpOptions(delay=0.01, download_delay=0.0, backoff=0.01, timeout=5.0)
    return CrawlOptions(site=server.url, http=http, **kw)


def rows(dataset) -> list[tuple]:
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:
        return conn.execute("SELECT id, post_id, state, path, md5 FROM images ORDER BY post_id").fetchall()


@pytest.fixture
def server():
    with MoebooruServer(n_posts=10) as srv:
        yield srv


def test_pages_by_id_and_stops_on_a_short_page(server, tmp_path):
    report = crawl(tmp_path, fast(server, tags="1girl", count=100, page_limit=4))
    listed = [r.query["tags"][0] for r in server.requests("/post.xml")]
    assert listed == ["1girl rating:safe", "1girl rating:safe id:<997", "1girl rating:safe id:<993"]
    assert all(r.query["limit"] == ["4"] for r in server.requests("/post.xml"))
    assert report.exhausted and report.pages == 3 and report.downloaded == 10
    assert [r[1] for r in rows(tmp_path)] == list(range(991, 1001))
    assert {r[2] for r in rows(tmp_path)} == {"done"}
    for image_id, _, _, path, md5 in rows(tmp_path):  # the sample JPEG, byte for byte
        data = (tmp_path / path).read_bytes()
        assert path == f"images/{image_id}.jpg"
        assert data == server.post(int(image_id)).sample and hashlib.md5(data).hexdigest() == md5
    # nothing left to list: running again asks the site nothing
    before = len(server.log)
    again = crawl(tmp_path, fast(server, tags="1girl", count=100, page_limit=4))
    assert again.downloaded == 0 and again.exhausted and len(server.log) == before


def test_count_is_respected_and_a_rerun_with_more_continues_below_the_cursor(server, tmp_path):
    seen = []
    first = crawl(tmp_path, fast(server, tags="", count=3, page_limit=4), progress=seen.append)
    assert first.downloaded == 3 and [r[1] for r in rows(tmp_path)] == [998, 999, 1000]
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0
    assert [round(f, 3) for f in seen if 0 < f < 1] == [0.333, 0.667]  # one step per finished picture
    assert len(server.requests("/sample/")) == 3  # no download beyond the count
    second = crawl(tmp_path, fast(server, tags="", count=6, page_limit=4))
    assert second.downloaded == 3 and [r[1] for r in rows(tmp_path)] == list(range(995, 1001))
    # the second run resumed from the cursor at 998: it listed id:<998, never the first page again
    listed = [r.query["tags"][0] for r in server.requests("/post.xml")]
    assert listed == ["rating:safe", "rating:safe id:<998"]


def test_unsafe_and_deleted_posts_are_never_saved(tmp_path):
    with MoebooruServer(n_posts=3) as server:  # the server leaks unsafe posts despite rating:safe
        explicit = server.add_post(rating="e")
        questionable = server.add_post(rating="q")
        deleted = server.add_post(status="deleted")
        report = crawl(tmp_path, fast(server, count=50))
        assert all("rating:safe" in r.query["tags"][0].split() for r in server.requests("/post.xml"))
        unsafe_ids = {explicit.id, questionable.id, deleted.id}
        assert report.unsafe == 3
        assert {r[1] for r in rows(tmp_path)} == {1000, 999, 998}
        assert not any(str(i) in r.path for i in unsafe_ids for r in server.log)
        assert not any(p.stem in {str(i) for i in unsafe_ids} for p in (tmp_path / "images").iterdir())


def test_min_size_filter_uses_the_original_size(tmp_path):
    with MoebooruServer(n_posts=2) as server:
        small = server.add_post(size=(40, 30))
        report = crawl(tmp_path, fast(server, count=10, min_width=50, min_height=40))
        assert report.too_small == 1 and small.id not in {r[1] for r in rows(tmp_path)}


def test_cancel_mid_download_leaves_a_part_and_the_rerun_resumes_with_range(server, tmp_path):
    images = tmp_path / "images"

    def part_started() -> bool:
        return any(p.stat().st_size > 0 for p in images.glob("*.part"))

    options = fast(server, count=4, chunk_size=256, workers=1)
    with pytest.raises(Cancelled):
        crawl(tmp_path, options, cancel=part_started)
    parts = list(images.glob("*.part"))
    assert len(parts) == 1
    part_id = parts[0].name.split(".")[0]
    kept = parts[0].stat().st_size
    assert 0 < kept < len(server.post(int(part_id)).sample)
    assert not list(images.glob("*.jpg"))  # nothing half-written under a final name
    assert {r[2] for r in rows(tmp_path)} == {"pending"}

    report = crawl(tmp_path, options)
    assert report.downloaded == 4 and not list(images.glob("*.part"))
    resumed = [r for r in server.requests(f"/sample/{part_id}.jpg") if "Range" in r.headers]
    assert len(resumed) == 1 and resumed[0].headers["Range"] == f"bytes={kept}-" and resumed[0].status == 206
    table = rows(tmp_path)
    assert len(table) == len({r[1] for r in table}) == 4  # no duplicates
    for image_id, _, state, path, _ in table:
        assert state == "done"
        assert (tmp_path / path).read_bytes() == server.post(int(image_id)).sample
        assert read_image(tmp_path / path).shape == (48, 64, 3)


def test_truncated_body_is_resumed_in_the_same_run(server, tmp_path):
    server.inject("/sample/1000.jpg", "truncate", fraction=0.4)
    report = crawl(tmp_path, fast(server, count=2, workers=1, chunk_size=256))
    assert report.downloaded == 2
    calls = server.requests("/sample/1000.jpg")
    assert [c.status for c in calls] == [200, 206]
    kept = int(calls[1].headers["Range"][len("bytes="):-1])  # whole chunks that arrived before the cut
    assert 0 < kept <= calls[0].body_bytes
    assert (tmp_path / "images/1000.jpg").read_bytes() == server.post(1000).sample


def test_a_server_ignoring_range_restarts_the_file(server, tmp_path):
    server.ignore_range = True
    server.inject("/sample/1000.jpg", "truncate", fraction=0.5)
    crawl(tmp_path, fast(server, count=1, workers=1, chunk_size=256))
    calls = server.requests("/sample/1000.jpg")
    assert "Range" in calls[1].headers and calls[1].status == 200
    assert (tmp_path / "images/1000.jpg").read_bytes() == server.post(1000).sample


def test_originals_are_verified_by_md5_and_size(tmp_path):
    with MoebooruServer(n_posts=2) as server:
        bad = server.add_post(wrong_md5=True)
        report = crawl(tmp_path, fast(server, count=10, originals=True))
        table = {r[1]: r for r in rows(tmp_path)}
        assert table[bad.id][2] == "failed" and report.failed == 1
        assert "md5 mismatch" in DatasetStore(tmp_path).image(str(bad.id)).error
        assert not list((tmp_path / "images").glob(f"{bad.id}.*"))  # the bad file is gone, .part included
        for post_id in (1000, 999):
            assert table[post_id][3] == f"images/{post_id}.png"
            assert (tmp_path / table[post_id][3]).read_bytes() == server.post(post_id).original
            assert table[post_id][4] == server.post(post_id).md5


def test_a_non_picture_body_is_rejected(server, tmp_path):
    server.inject("/sample/1000.jpg", "garbage")
    report = crawl(tmp_path, fast(server, count=1))
    assert report.failed == 1 and "not a JPEG, PNG or WebP" in report.errors[0]
    assert not list((tmp_path / "images").glob("1000.*"))
    assert report.total == 1  # the next post replaced it


def test_a_challenge_during_downloads_stops_and_the_rerun_finishes(server, tmp_path):
    server.inject("/sample/999.jpg", "challenge")
    with pytest.raises(ChallengeError, match="Cloudflare"):
        crawl(tmp_path, fast(server, count=3, workers=1))
    assert len(server.requests("/sample/999.jpg")) == 1  # no retry against a challenge
    report = crawl(tmp_path, fast(server, count=3, workers=1))
    assert report.total == 3 and [r[1] for r in rows(tmp_path)] == [998, 999, 1000]


def test_a_dataset_is_bound_to_one_site(server, tmp_path):
    crawl(tmp_path, fast(server, count=1))
    with MoebooruServer(n_posts=1) as other, pytest.raises(DatasetError, match="crawled from"):
        crawl(tmp_path, fast(other, count=1))
