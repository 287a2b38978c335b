"""Crawl a Moebooru site into a dataset folder, resumably.

``crawl(dataset_dir, CrawlOptions(site, tags, count, ...), progress, cancel, log)`` repeats:

1. if the query already has ``count`` finished pictures, stop;
2. download the queued (``pending``) posts of the query, at most ``workers`` (1-2) at a time;
3. otherwise list the next page with ``id:<cursor`` and queue its safe, large-enough, new posts, moving the
   cursor in the same transaction; a short page ends the listing.

Everything is in the dataset's SQLite manifest, so a crawl that was cancelled, killed or stopped by the
site continues where it stopped when it is run again with the same folder and tags: queued posts are
downloaded first (partial files resumed with Range), then the listing goes on below the cursor. Failed
downloads are retried on later runs up to ``max_attempts`` times. ``count`` counts finished pictures of this
tag query, so crawling another query into the same folder adds to it.

Show :data:`NOTICE` to the user and get their agreement before calling :func:`crawl`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop.core.errors import Cancelled
from anisketch_desktop.dataset.download import DownloadError, download_image
from anisketch_desktop.dataset.http import (
    ChallengeError,
    DeadlineError,
    HttpOptions,
    NetworkError,
    PoliteSession,
    ThrottledError,
)
from anisketch_desktop.dataset.lock import acquire, release
from anisketch_desktop.dataset.moebooru import (
    DEFAULT_SITE,
    INT_LIMIT,
    PAGE_LIMIT,
    MoebooruClient,
    Post,
    query_key,
)
from anisketch_desktop.dataset.store import DatasetStore, ImageRow

NOTICE = (
    "The pictures you download are third-party artwork: they belong to their artists and are shared on the "
    "site under its terms. Use them only to train models for your own private use. Do not redistribute the "
    "pictures, the sketches made from them or the dataset folder. The crawler obeys the site's robots.txt "
    "and limits its request rate; please keep it that way."
)


@dataclass
class CrawlOptions:
    site: str = DEFAULT_SITE
    tags: str = ""
    count: int = 100
    originals: bool = False  # full-size files (verified by md5 and size) instead of <= 1500 px samples
    min_width: int = 0  # of the original picture, as the site reports it
    min_height: int = 0
    http: HttpOptions = field(default_factory=HttpOptions)
    workers: int = 2  # simultaneous downloads (clamped to 1..2)
    page_limit: int = PAGE_LIMIT
    chunk_size: int = 65536
    max_attempts: int = 3  # downloads failing this many runs are left alone


@dataclass
class CrawlReport:
    query: str
    downloaded: int = 0  # finished during this run
    failed: int = 0  # failed during this run (retried on the next one)
    duplicates: int = 0
    unsafe: int = 0  # posts dropped for rating/status
    too_small: int = 0
    pages: int = 0
    total: int = 0  # finished pictures of this query in the dataset
    exhausted: bool = False  # the site has no more posts for the query
    errors: list[str] = field(default_factory=list)


def crawl(dataset_dir: str | Path, options: CrawlOptions, progress: Callable[[float], None] | None = None,
          cancel: Callable[[], bool] | None = None, log: Callable[[str], None] | None = None) -> CrawlReport:
    """Fill ``dataset_dir`` with up to ``options.count`` pictures for ``options.tags`` (resumes)."""
    stop = threading.Event()

    def cancelled() -> bool:
        return stop.is_set() or bool(cancel and cancel())

    session = PoliteSession(options.http, cancel=cancelled)
    client = MoebooruClient(options.site, session)
    query = query_key(options.tags)
    report = CrawlReport(query=query)
    say = log or (lambda message: None)
    store = DatasetStore(dataset_dir)
    try:
        acquire(dataset_dir)  # another AniSketch crawling here would write the same files and rows
    except BaseException:
        store.close()
        session.close()
        raise
    try:
        store.bind_site(client.site)
        store.retry_failed(query, options.max_attempts)
        with ThreadPoolExecutor(max_workers=max(1, min(2, options.workers))) as pool:
            try:
                _crawl_loop(pool, session, client, store, options, query, report, cancelled, stop, say,
                            progress)
            except BaseException:
                stop.set()  # a running download stops at its next chunk instead of being waited for
                raise
        if cancel and cancel():
            raise Cancelled("Crawl cancelled; run it again to resume.")
        report.total = store.count("done", query)
        return report
    finally:
        stop.set()
        store.close()
        session.close()
        release(dataset_dir)


def _crawl_loop(pool, session, client: MoebooruClient, store: DatasetStore, options: CrawlOptions, query: str,
                report: CrawlReport, cancelled, stop: threading.Event, say, progress) -> None:
    while True:
        report.total = store.count("done", query)
        if progress:
            progress(min(1.0, report.total / max(options.count, 1)))
        if report.total >= options.count or cancelled():
            return
        pending = store.images("pending", where="query=?", params=[query], order="post_id DESC")
        if pending:
            _download_all(pool, session, store, pending[: options.count - report.total], options, report,
                          cancelled, stop, say, progress)
            continue
        last_id, exhausted = store.cursor(client.site, query)
        if exhausted:
            report.exhausted = True
            say(f"The site has no more posts for '{query}'.")
            return
        _list_page(client, store, options, query, last_id, report, say)


def _list_page(client: MoebooruClient, store: DatasetStore, options: CrawlOptions, query: str,
               last_id: int | None, report: CrawlReport, say) -> None:
    page = client.posts(options.tags, before_id=last_id, limit=options.page_limit)
    report.pages += 1
    need = options.count - report.total - store.count("pending", query)
    rows: list[dict] = []
    cursor = last_id
    stopped_early = False
    for post in sorted(page.posts, key=lambda p: -p.id):
        if last_id is not None and post.id >= last_id:
            continue  # a server that ignores id:< must not make us loop
        if post.id < INT_LIMIT:
            cursor = post.id
        if post.problem is not None:  # recorded as failed (never retried), the crawl goes on
            if store.add_failed_post(query, _row(post, None, options.originals), post.problem):
                report.failed += 1
                report.errors.append(f"post {post.id}: {post.problem}")
                say(f"failed post {post.id}: {post.problem}")
            continue
        if not post.is_safe:
            report.unsafe += 1
            continue
        if (post.width is not None and post.width < options.min_width) or (
            post.height is not None and post.height < options.min_height
        ):
            report.too_small += 1
            continue
        url = client.image_url(post, options.originals)
        if url is None:
            continue
        rows.append(_row(post, url, options.originals))
        if len(rows) >= need:
            stopped_early = True  # the rest of the page is listed again next time
            break
    exhausted = not stopped_early and (page.raw_count < options.page_limit or cursor == last_id)
    added = store.add_posts(client.site, query, rows, cursor, exhausted)
    say(f"page {report.pages}: {len(page.posts)} posts, {added} new queued"
        + (", last page" if exhausted else ""))


def _row(post: Post, url: str | None, originals: bool) -> dict:
    return {
        "post_id": post.id, "post_md5": post.md5, "url": url, "tags": post.tags, "rating": post.rating,
        "source": post.source, "expect_md5": post.md5 if originals else None,
        "expect_size": post.file_size if originals else None,
    }


def _download_all(pool, session, store: DatasetStore, rows: list[ImageRow], options: CrawlOptions,
                  report: CrawlReport, cancelled, stop: threading.Event, say, progress) -> None:
    """Download ``rows`` on the pool; results, log lines and progress are handled on the calling thread."""

    def one(row: ImageRow) -> tuple[str, str]:
        if cancelled():
            return "skipped", ""
        try:
            if not row.url:
                raise DownloadError(f"post {row.id} has no file address")
            got = download_image(session, row.url, store.images_dir, row.id, expect_md5=row.expect_md5,
                                 expect_size=row.expect_size, chunk_size=options.chunk_size, cancel=cancelled)
        except (ChallengeError, ThrottledError):
            raise  # the site wants us gone: stop the whole crawl
        except (DownloadError, NetworkError, DeadlineError) as exc:  # this picture only (404, robots, md5...)
            store.mark_failed(row.id, str(exc))
            return "failed", f"{row.id}: {exc}"
        relative = got.path.relative_to(store.dir).as_posix()
        if not store.mark_done(row.id, relative, got.md5, got.width, got.height):
            got.path.unlink(missing_ok=True)
            return "duplicates", f"{row.id}: same picture as one already in the dataset"
        resumed = f", resumed at byte {got.resumed_from}" if got.resumed_from else ""
        return "downloaded", f"saved {relative} ({got.width}x{got.height}{resumed})"

    futures = [pool.submit(one, row) for row in rows]
    finished = report.total  # finished pictures of the query before this batch
    try:
        for future in as_completed(futures):
            outcome, message = future.result()
            if outcome == "skipped":
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome == "failed":
                report.errors.append(message)
                message = "failed " + message
            say(message)
            if outcome == "downloaded":
                finished += 1
                if progress:
                    progress(min(1.0, finished / max(options.count, 1)))
    except BaseException:
        stop.set()  # the other download stops at its next chunk, keeping its .part
        wait(futures)
        raise
