"""A polite HTTP session for crawling: robots.txt, spacing, retries with backoff, Cloudflare detection.

``PoliteSession.get(url, api=True)`` is the only way the crawler talks to a site:

* robots.txt of each origin is fetched once through the same session (same User-Agent and proxy) and
  obeyed with ``urllib.robotparser``; a 404 allows everything, a 401/403 forbids everything;
* API calls are spaced by at least ``delay`` seconds (default 1 s) between starts and between an answer and
  the next start; a ``Retry-After`` (seconds or an HTTP date) pushes the next request of any kind back at
  least that far;
* 429, 5xx, timeouts and dropped connections are retried with exponential backoff and full jitter, up to
  ``retries`` times; a ``Retry-After`` longer than ``max_retry_after`` or ``max_throttles`` throttled answers
  in a row stop the crawl with :class:`ThrottledError`;
* a Cloudflare challenge (403/503 with ``cf-mitigated: challenge`` or challenge markers in the page) stops at
  once with :class:`ChallengeError`: a browser check cannot be passed by a polite client.

Every request has an overall deadline (``deadline`` for API calls, ``download_deadline`` for pictures) and
``cancel()`` is polled while waiting *and* while a request is in flight (see :mod:`http_watch`): a stalled or
trickling server, or a cancel, ends a request within a fraction of a second. Bodies are read through
:meth:`PoliteSession.read`, which caps them (robots.txt at ``robots_max_bytes``, error pages at 64 KiB).
Redirects are followed by hand: at most ``max_redirects``, only to http(s) addresses that the target's
robots.txt allows; a redirect elsewhere (``file://``, a loop) raises :class:`RedirectError`.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from anisketch_desktop import __version__
from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.dataset.http_watch import DeadlineError, Watch, Watchdog, WatchedAdapter, read_body, watching

__all__ = ["ChallengeError", "DeadlineError", "HttpOptions", "NetworkError", "PoliteSession", "RedirectError",
           "RobotsDisallowedError", "ThrottledError", "parse_retry_after", "user_agent"]

CHALLENGE_MARKERS = ("cf-chl", "just a moment", "challenge-platform", "attention required! | cloudflare",
                     "cf_chl_opt", "checking your browser")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 524})


class NetworkError(AniSketchError):
    """The site could not be reached or answered with an error."""


class ChallengeError(NetworkError):
    """The site answered with a Cloudflare (or similar) browser challenge."""


class ThrottledError(NetworkError):
    """The site keeps asking us to slow down."""


class RobotsDisallowedError(NetworkError):
    """robots.txt forbids the URL for our User-Agent."""


class RedirectError(NetworkError):
    """A redirect to something other than a web address, a loop, or too many redirects."""


def user_agent(contact: str | None = None) -> str:
    """The identifying User-Agent: ``AniSketch/<version>`` plus ``(+contact)`` when one is given."""
    return f"AniSketch/{__version__}" + (f" (+{contact})" if contact else "")


@dataclass
class HttpOptions:
    """Politeness settings; the defaults suit a public site, tests shrink the delays."""

    user_agent: str = user_agent()
    proxy: str | None = None
    delay: float = 1.0  # seconds between API calls
    download_delay: float = 0.25  # seconds between the starts of two downloads
    timeout: float = 30.0  # read timeout (the connect timeout is at most 10 s)
    deadline: float = 60.0  # overall seconds for one API call or robots.txt, body included
    download_deadline: float = 600.0  # overall seconds for one picture (a cut download resumes next time)
    max_redirects: int = 5
    robots_max_bytes: int = 512 * 1024  # a longer robots.txt is cut there
    retries: int = 5  # retries of one request on 429/5xx/timeouts
    backoff: float = 2.0  # first backoff in seconds, doubled on each retry (with full jitter)
    backoff_max: float = 120.0
    max_retry_after: float = 600.0  # a longer Retry-After stops the crawl instead of waiting
    max_throttles: int = 8  # throttled answers in a row (across requests) before stopping
    obey_robots: bool = True


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_challenge(response: requests.Response, body: str) -> bool:
    """True for a Cloudflare-style browser challenge or block page."""
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if response.status_code not in (403, 503):
        return False
    text = body[:65536].lower()
    if any(marker in text for marker in CHALLENGE_MARKERS):
        return True
    return response.status_code == 403 and "cloudflare" in response.headers.get("server", "").lower()


class PoliteSession:
    """A ``requests.Session`` wrapper that obeys robots.txt, spaces requests and retries politely."""

    def __init__(self, options: HttpOptions | None = None, cancel: Callable[[], bool] | None = None,
                 rng: random.Random | None = None):
        self.options = options or HttpOptions()
        self.cancel = cancel
        self.rng = rng or random.Random()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.options.user_agent
        adapter = WatchedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._watchdog = Watchdog()
        if self.options.proxy:
            self.session.proxies = {"http": self.options.proxy, "https": self.options.proxy}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_lock = threading.Lock()
        self._lock = threading.Lock()
        self._next_at = {"api": 0.0, "download": 0.0}
        self._throttles = 0

    def close(self) -> None:
        self._watchdog.close()
        self.session.close()

    # ------------------------------------------------------------------ waiting
    def sleep(self, seconds: float) -> None:
        """Sleep, polling ``cancel`` every 50 ms."""
        end = time.monotonic() + seconds
        while True:
            if self.cancel and self.cancel():
                raise Cancelled("Crawl cancelled.")
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def _wait_turn(self, kind: str) -> None:
        spacing = self.options.delay if kind == "api" else self.options.download_delay
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = time.monotonic()
            start = max(now, self._next_at[kind])
            self._next_at[kind] = start + spacing
        self.sleep(start - now)

    def _answered(self, kind: str) -> None:
        """The spacing also counts from the answer, so slow answers never bunch the next requests up."""
        spacing = self.options.delay if kind == "api" else self.options.download_delay
        with self._lock:
            self._next_at[kind] = max(self._next_at[kind], time.monotonic() + spacing)

    def _push_back(self, seconds: float) -> None:
        """Nothing is sent before ``seconds`` from now (a Retry-After holds for every kind of request)."""
        with self._lock:
            until = time.monotonic() + seconds
            for kind in self._next_at:
                self._next_at[kind] = max(self._next_at[kind], until)

    # ------------------------------------------------------------------ robots.txt
    def allowed(self, url: str) -> bool:
        if not self.options.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:  # two download threads fetch a new origin's robots.txt once
            if origin not in self._robots:
                self._robots[origin] = self._fetch_robots(origin)
            rules = self._robots[origin]
        return rules.can_fetch(self.options.user_agent, url)

    def _fetch_robots(self, origin: str) -> urllib.robotparser.RobotFileParser:
        """The rules of ``origin``; a body longer than ``robots_max_bytes`` is cut there (as search engines do)."""
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        response = self._request(origin + "/robots.txt", kind="api", headers=None,
                                 accept={200, 401, 403, 404, 410}, robots=False)
        with response:
            if response.status_code in (401, 403):
                parser.disallow_all = True  # type: ignore[attr-defined]  # what RobotFileParser.read() sets
            elif response.status_code >= 400:
                parser.allow_all = True  # type: ignore[attr-defined]
            else:
                body = b"".join(self.read(response, self.options.robots_max_bytes, truncate=True))
                parser.parse(body.decode("utf-8", "replace").splitlines())
        return parser

    # ------------------------------------------------------------------ requests
    def get(self, url: str, *, api: bool = True, headers: dict[str, str] | None = None,
            accept: set[int] | None = None) -> requests.Response:
        """GET ``url`` politely. Returns a streaming response whose status is in ``accept`` (default: 2xx);
        read its body with :meth:`read` (capped, cancellable) and close it (``with response:``).

        Raises RobotsDisallowedError, ChallengeError, ThrottledError, NetworkError, DeadlineError or Cancelled.
        """
        if self.cancel and self.cancel():
            raise Cancelled("Crawl cancelled.")
        if not self.allowed(url):
            raise RobotsDisallowedError(f"robots.txt of {urlsplit(url).netloc} does not allow {url}")
        return self._request(url, kind="api" if api else "download", headers=headers, accept=accept)

    def read(self, response: requests.Response, limit: int, chunk_size: int = 65536, truncate: bool = False,
             too_large: Callable[[int], Exception] | None = None) -> Iterator[bytes]:
        """The body of a response from :meth:`get` in chunks: at most ``limit`` bytes (cut there with
        ``truncate``, else ``too_large(limit)`` or a NetworkError is raised), cancellable mid-chunk."""
        if too_large is None and not truncate:
            def too_large(cap: int) -> Exception:
                return NetworkError(f"{response.url} sent more than {cap // 1024} KiB; refused")
        return read_body(response, getattr(response, "watch", None), limit, chunk_size, too_large)

    def _request(self, url, *, kind, headers, accept, robots: bool = True) -> requests.Response:
        opts = self.options
        attempt = 0
        while True:
            self._wait_turn(kind)
            reason = None
            wait = None
            try:
                response = self._send(url, kind, headers, robots)
            except (requests.Timeout, requests.ConnectionError) as exc:
                reason = f"{type(exc).__name__}"
            else:
                self._answered(kind)
                status = response.status_code
                ok = status in accept if accept is not None else 200 <= status < 300
                if status in (403, 503) or response.headers.get("cf-mitigated"):
                    body = self._peek_text(response)
                    if is_challenge(response, body):
                        response.close()
                        raise ChallengeError(
                            f"{urlsplit(url).netloc} answered with a browser challenge (Cloudflare). A "
                            "crawler cannot pass it; try again later, use a mirror, or import pictures "
                            "from a folder."
                        )
                if ok:
                    if status != 429:
                        self._throttles = 0
                    return response
                response.close()
                if status not in RETRY_STATUSES:
                    raise NetworkError(f"{url} answered HTTP {status} {response.reason or ''}".rstrip())
                reason = f"HTTP {status}"
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if status == 429 or wait is not None:
                    self._throttles += 1
                    if self._throttles >= opts.max_throttles:
                        raise ThrottledError(
                            f"{urlsplit(url).netloc} keeps asking to slow down ({self._throttles} throttled "
                            "answers in a row); stopped. Try again later with a larger --delay."
                        )
                if wait is not None and wait > opts.max_retry_after:
                    raise ThrottledError(
                        f"{urlsplit(url).netloc} asks to wait {wait:.0f} s before the next request; stopped. "
                        "Run the same command again later to resume."
                    )
            attempt += 1
            if attempt > opts.retries:
                raise NetworkError(f"{url} failed after {opts.retries} retries ({reason}).")
            backoff = self.rng.uniform(0, min(opts.backoff_max, opts.backoff * 2 ** (attempt - 1)))
            self._push_back(max(backoff, wait or 0.0))

    def _send(self, url: str, kind: str, headers, robots: bool) -> requests.Response:
        """One streaming GET under a :class:`Watch` (overall deadline, cancel), following at most
        ``max_redirects`` redirects to http(s) addresses whose robots.txt allows them."""
        opts = self.options
        watch = Watch(url, opts.deadline if kind == "api" else opts.download_deadline, self.cancel)
        self._watchdog.add(watch)
        seen = [url]
        try:
            while True:
                with watching(watch):
                    try:
                        response = self.session.get(url, headers=headers, stream=True, allow_redirects=False,
                                                    timeout=(min(opts.timeout, 10.0), opts.timeout))
                    except requests.RequestException:
                        error = watch.error()
                        if error is not None:
                            raise error from None
                        raise
                if not response.is_redirect:
                    break
                response.close()
                target = urljoin(url, response.headers.get("location", ""))
                self._check_redirect(seen, target, robots)
                seen.append(target)
                url = target
                self._wait_turn(kind)
        except BaseException:
            self._watchdog.remove(watch)
            raise
        response.watch = watch  # type: ignore[attr-defined]  # the watchdog rides along with the response
        close = response.close

        def close_and_forget() -> None:
            try:
                close()
            finally:
                self._watchdog.remove(watch)

        response.close = close_and_forget  # type: ignore[method-assign]
        return response

    def _check_redirect(self, seen: list[str], target: str, robots: bool) -> None:
        first = seen[0]
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RedirectError(f"{first} redirects to {target[:200]!r}, which is not a web address; refused")
        if target in seen:
            raise RedirectError(f"{first} redirects in a loop; skipped")
        if len(seen) > self.options.max_redirects:
            raise RedirectError(f"{first} redirects more than {self.options.max_redirects} times; skipped")
        if robots and not self.allowed(target):
            raise RobotsDisallowedError(f"{first} redirects to {target}, which robots.txt of "
                                        f"{parts.netloc} does not allow; skipped")

    def _peek_text(self, response: requests.Response, limit: int = 65536) -> str:
        """Up to ``limit`` bytes of the body of an error answer (enough to spot a challenge page); the rest of
        an endless body is never read."""
        try:
            content = b"".join(self.read(response, limit, truncate=True))
        except (requests.RequestException, NetworkError, DeadlineError):
            return ""
        return content.decode("utf-8", "replace")
