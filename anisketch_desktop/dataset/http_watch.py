"""Overall deadlines and prompt cancellation for blocking HTTP requests.

A socket timeout only bounds the wait for the *next* byte: a server that trickles one byte a second never
times out, and a thread blocked in ``recv()`` never looks at a cancel flag. A :class:`Watchdog` (one daemon
thread per :class:`~anisketch_desktop.dataset.http.PoliteSession`) looks at every request in flight twenty
times a second; when its deadline has passed or ``cancel()`` turned true it shuts the request's socket down,
so the blocked read fails at once. :func:`read_body` turns that failure into :class:`Cancelled` or a
:class:`DeadlineError` and caps how much of a body is ever read.

The socket is found through :class:`WatchedAdapter`: its connections register themselves with the watch of
the thread that sends a request on them (a thread-local set around ``session.get``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from anisketch_desktop.core.errors import AniSketchError, Cancelled

TICK = 0.05  # seconds between two looks at the requests in flight
IDLE_EXIT = 2.0  # seconds without requests after which the watchdog thread ends (a session never closed)
_current = threading.local()


class DeadlineError(AniSketchError):
    """A request took longer than its overall deadline (a stalled or trickling server)."""


class Watch:
    """One request in flight: its deadline, its cancel check and (once sent) its connection."""

    def __init__(self, url: str, deadline: float, cancel: Callable[[], bool] | None):
        self.url = url
        self.seconds = deadline
        self.deadline = time.monotonic() + deadline
        self.cancel = cancel
        self.conn = None
        self.fired: str | None = None  # "cancelled" | "deadline"

    def check(self) -> None:
        """Shut the socket down when the request is cancelled or late (called by the watchdog thread)."""
        if self.fired is None:
            if self.cancel is not None and self.cancel():
                self.fired = "cancelled"
            elif time.monotonic() > self.deadline:
                self.fired = "deadline"
        if self.fired is not None:
            conn = self.conn
            sock = getattr(conn, "sock", None) if conn is not None and conn._watch is self else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def error(self) -> Exception | None:
        """The exception a reader should raise now, or None while the request may go on."""
        if self.fired == "cancelled":
            return Cancelled("Crawl cancelled.")
        if self.fired == "deadline":
            return DeadlineError(f"{self.url} took longer than {self.seconds:g} s (the server is stalling); "
                                 "skipped for now")
        return None


class Watchdog:
    """The daemon thread that fires the watches of one session."""

    def __init__(self):
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def add(self, watch: Watch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-watchdog", daemon=True)
                self._thread.start()

    def remove(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        idle = 0.0
        while not self._closed.wait(TICK):
            with self._lock:
                watches = list(self._watches)
                idle = 0.0 if watches else idle + TICK
                if idle >= IDLE_EXIT:  # nothing in flight for a while: end; add() starts a new thread
                    self._thread = None
                    return
            for watch in watches:
                watch.check()


class watching:  # used as a context manager, like contextlib's
    """Within the block, connections used by this thread belong to ``watch``."""

    def __init__(self, watch: Watch):
        self.watch = watch

    def __enter__(self) -> Watch:
        _current.watch = self.watch
        return self.watch

    def __exit__(self, *exc) -> None:
        _current.watch = None


class _WatchedMixin:
    _watch: Watch | None = None

    def _claim(self) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            self._watch = watch
            watch.conn = self

    def connect(self):
        self._claim()
        return super().connect()

    def request(self, *args, **kwargs):
        self._claim()
        return super().request(*args, **kwargs)


class _HTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections can be shut down by a :class:`Watchdog`."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager


def read_body(response: requests.Response, watch: Watch | None, limit: int, chunk_size: int = 65536,
              too_large: Callable[[int], Exception] | None = None) -> Iterator[bytes]:
    """The body of ``response`` in chunks, at most ``limit`` bytes.

    More than ``limit`` bytes raises ``too_large(limit)`` when given, else the body is cut at ``limit``.
    A cancelled or late request raises :class:`Cancelled` / :class:`DeadlineError`, also when the shut-down
    socket made the body look complete.
    """
    size = 0
    try:
        for chunk in response.iter_content(chunk_size):
            if watch is not None and watch.error() is not None:
                break
            if size + len(chunk) > limit:
                if too_large is not None:
                    raise too_large(limit)
                yield chunk[: limit - size]
                return
            size += len(chunk)
            yield chunk
    except requests.RequestException:
        error = watch.error() if watch is not None else None
        if error is not None:
            raise error from None
        raise
    error = watch.error() if watch is not None else None
    if error is not None:
        raise error
