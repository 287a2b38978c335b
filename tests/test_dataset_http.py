"""Politeness and hostile answers: spacing, Retry-After, backoff, challenges, robots.txt, XML, queries."""

from __future__ import annotations

import email.utils
import random
import time

import pytest
from moebooru_server import MoebooruServer

from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
from anisketch_desktop.dataset.http import (
    ChallengeError,
    HttpOptions,
    NetworkError,
    PoliteSession,
    RobotsDisallowedError,
    ThrottledError,
    parse_retry_after,
    user_agent,
)
from anisketch_desktop.dataset.moebooru import (
    MoebooruClient,
    QueryError,
    UnsafeXMLError,
    normalize_tags,
    parse_posts,
)
from anisketch_desktop.dataset.store import DatasetStore

SLACK = 0.005  # clock granularity between the client's and the server's timestamps


def options(server, **http) -> HttpOptions:
    base = dict(delay=0.01, download_delay=0.0, backoff=0.01, timeout=5.0)
    return HttpOptions(**{**base, **http})


def client(server, **http) -> MoebooruClient:
    return MoebooruClient(server.url, PoliteSession(options(server, **http)))


@pytest.fixture
def server():
    with MoebooruServer(n_posts=8) as srv:
        yield srv


def test_api_calls_are_spaced_by_the_delay(server, tmp_path):
    crawl(tmp_path, CrawlOptions(site=server.url, count=8, page_limit=2, http=options(server, delay=0.12)))
    api = [r.time for r in server.log if r.path in ("/robots.txt", "/post.xml")]
    assert len(api) == 5  # robots.txt + 4 pages of 2
    gaps = [b - a for a, b in zip(api, api[1:], strict=False)]
    assert min(gaps) >= 0.12 - SLACK, gaps


def test_retry_after_seconds_is_honoured_then_the_request_succeeds(server):
    server.inject("/post.xml", "429", retry_after="1")
    page = client(server).posts("")
    assert len(page.posts) == 8
    calls = server.requests("/post.xml")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0 - SLACK


def test_retry_after_http_date_is_understood():
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


class _TopOfRange(random.Random):
    """Jitter that always picks the longest wait, so the backoff schedule can be checked."""

    def uniform(self, a, b):
        return b


def test_5xx_backs_off_exponentially_then_succeeds(server):
    server.inject("/post.xml", "503", times=3)
    session = PoliteSession(options(server, backoff=0.1), rng=_TopOfRange())
    page = MoebooruClient(server.url, session).posts("")
    calls = server.requests("/post.xml")
    assert [c.status for c in calls] == [503, 503, 503, 200] and len(page.posts) == 8
    gaps = [b.time - a.time for a, b in zip(calls, calls[1:], strict=False)]
    assert all(gap >= want - SLACK for gap, want in zip(gaps, [0.1, 0.2, 0.4], strict=True)), gaps


def test_retries_are_bounded(server):
    server.inject("/post.xml", "500", times=10)
    with pytest.raises(NetworkError, match="after 2 retries"):
        client(server, retries=2).posts("")
    assert len(server.requests("/post.xml")) == 3


def test_a_slow_answer_times_out_and_is_retried(server):
    server.inject("/post.xml", "slow", seconds=1.0)
    page = client(server, timeout=0.3).posts("")
    assert len(page.posts) == 8 and len(server.requests("/post.xml")) == 2


@pytest.mark.parametrize("kind", ["challenge", "challenge503"])
def test_a_cloudflare_challenge_stops_with_a_clear_message(server, kind):
    server.inject("/post.xml", kind)
    with pytest.raises(ChallengeError, match="browser challenge"):
        client(server).posts("")
    assert len(server.requests("/post.xml")) == 1  # no retry: a crawler cannot pass it


def test_repeated_throttling_stops_the_crawl(server):
    server.inject("/post.xml", "429", times=20, retry_after="0")
    with pytest.raises(ThrottledError, match="slow down"):
        client(server, max_throttles=3).posts("")
    assert len(server.requests("/post.xml")) == 3


def test_a_very_long_retry_after_stops_instead_of_waiting(server):
    server.inject("/post.xml", "429", retry_after="3600")
    started = time.monotonic()
    with pytest.raises(ThrottledError, match="3600 s"):
        client(server).posts("")
    assert time.monotonic() - started < 1.0


def test_robots_txt_is_obeyed(tmp_path):
    robots = "User-agent: *\nDisallow: /post.xml\n"
    with MoebooruServer(n_posts=2, robots=robots) as server:
        with pytest.raises(RobotsDisallowedError, match="robots.txt"):
            crawl(tmp_path, CrawlOptions(site=server.url, count=2, http=options(server)))
        assert [r.path for r in server.log] == ["/robots.txt"]
        assert DatasetStore(tmp_path).count(None) == 0


def test_robots_txt_rules_for_our_agent_and_missing_robots(tmp_path):
    robots = "User-agent: AniSketch\nDisallow: /sample/\n\nUser-agent: *\nDisallow:\n"
    with MoebooruServer(n_posts=2, robots=robots) as server:
        report = crawl(tmp_path / "a", CrawlOptions(site=server.url, count=2, http=options(server)))
        assert report.total == 0 and report.failed == 2 and "robots.txt" in report.errors[0]
        assert not server.requests("/sample/")
    with MoebooruServer(n_posts=2, robots=None) as server:  # 404: everything is allowed
        report = crawl(tmp_path / "b", CrawlOptions(site=server.url, count=2, http=options(server)))
        assert report.total == 2


def test_every_request_identifies_us(server, tmp_path):
    agent = user_agent("me@example.org")
    assert agent == "AniSketch/0.1.0 (+me@example.org)"
    crawl(tmp_path, CrawlOptions(site=server.url, count=2, http=options(server, user_agent=agent)))
    assert server.log and all(r.headers["User-Agent"] == agent for r in server.log)


def test_the_proxy_setting_is_used(server, tmp_path):
    # the test server also answers proxy-style requests ("GET http://host/path"), so it can act as the proxy
    site = "http://moebooru.invalid"
    crawl(tmp_path, CrawlOptions(site=site, count=1, http=options(server, proxy=server.url)))
    assert server.requests("/post.xml") and server.requests("/sample/")
    assert DatasetStore(tmp_path).count("done") == 1


@pytest.mark.parametrize("kind", ["bomb", "xxe", "garbage"])
def test_hostile_xml_is_refused(server, tmp_path, kind):
    server.inject("/post.xml", kind)
    with pytest.raises(UnsafeXMLError):
        crawl(tmp_path, CrawlOptions(site=server.url, count=5, http=options(server)))
    assert DatasetStore(tmp_path).count(None) == 0


def test_api_answers_are_size_limited_and_cut_answers_re_asked(server, monkeypatch):
    server.inject("/post.xml", "truncate", fraction=0.5)
    assert len(client(server).posts("").posts) == 8
    assert [r.status for r in server.requests("/post.xml")] == [200, 200]
    monkeypatch.setattr("anisketch_desktop.dataset.moebooru.MAX_XML_BYTES", 1000)
    with pytest.raises(UnsafeXMLError, match="larger than"):
        client(server).posts("")


def test_parse_posts_refuses_entities_in_any_encoding():
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE p [<!ENTITY a "b">]><posts/>'.encode("utf-16")
    with pytest.raises(UnsafeXMLError):
        parse_posts(utf16)
    page = parse_posts(b'<posts count="3"><post id="5" md5="' + b"a" * 32 + b'" rating="s" status="active"/>'
                       b'<post id="x" md5="zz"/><post md5="' + b"b" * 32 + b'"/></posts>')
    assert page.raw_count == 3 and page.total == 3 and [p.id for p in page.posts] == [5]
    assert page.posts[0].is_safe and page.posts[0].file_url is None


def test_queries_always_carry_rating_safe_and_stay_short(server):
    assert normalize_tags("Blue_Hair rating:explicit -rating:s") == ["blue_hair", "rating:safe"]
    with pytest.raises(QueryError, match="pages by post id"):
        normalize_tags("order:score")
    with pytest.raises(QueryError, match="Too many tags"):
        normalize_tags("a b c d e")
    client(server).posts("a b c d", before_id=990)
    tokens = server.requests("/post.xml")[0].query["tags"][0].split()
    assert len(tokens) == 6 and "rating:safe" in tokens and "id:<990" in tokens


def test_tag_suggestions(server):
    tags = dict(client(server).tag_counts("*hair"))
    assert tags == {"blue_hair": sum("blue_hair" in p.tags.split() for p in server.posts)}
