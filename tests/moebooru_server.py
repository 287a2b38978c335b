"""A local Moebooru-shaped HTTP server for tests (crawler, CLI, dataset wizard). No internet is touched.

    with MoebooruServer(n_posts=30) as server:       # listens on 127.0.0.1:<free port>, in a thread
        server.url                                   # "http://127.0.0.1:PORT"
        server.inject("/post.xml", "429", retry_after="1")   # the next post.xml answers 429 once
        ...
        server.requests("/post.xml")                 # the log: path, query, time, headers, status

Routes: ``/robots.txt`` (``robots=None`` gives 404), ``/post.xml`` (tags with ``id:<N``, ``id:>N``,
``rating:safe``, ``-tag``, plain tags; ``limit`` ≤ 100; ``page``; more than 6 tokens answers 422),
``/tag.xml`` (``name`` with ``*`` wildcards), ``/image/<id>.png`` (original), ``/sample/<id>.jpg`` and
``/jpeg/<id>.jpg`` (≤ ``sample_max`` px JPEG), all with Range support (``ignore_range=True`` answers 200).

Posts (newest first, ids counting down from ``first_id``) have cv2-drawn pictures: a gradient background
with outlined ellipses and polygons (so XDoG finds lines) and a little noise. ``add_post(rating="e")``,
``add_post(status="deleted")``, ``add_post(wrong_md5=True)`` add the awkward ones. By default the server
*ignores* ``rating:safe`` (``leak_unsafe=True``) so a test can show the client drops unsafe posts itself.

Faults (``inject(path_prefix, kind, times=1, **params)``, consumed in order by matching requests):
``"429"``/``"503"``/``"500"`` (``retry_after=`` seconds or HTTP date), ``"challenge"`` (403, Cloudflare
headers and page), ``"challenge503"`` (503 with a "Just a moment..." page only), ``"truncate"``
(``fraction=`` of the body sent, then the connection closes), ``"slow"`` (``seconds=`` before answering),
``"bomb"`` (billion laughs), ``"xxe"`` (external entity), ``"garbage"`` (not XML), ``"status"`` (``code=``),
``"trickle"`` (one byte every ``interval=`` seconds, of the body or, with ``headers=True``, of the headers),
``"endless"`` (status ``code=``, an endless body as fast as the client reads), ``"redirect"`` (``location=``,
``code=`` 302), ``"body"`` (answers ``body=`` bytes with 200).
``add_post(xml={"id": "...", "file_size": "..."})`` overrides attributes of its ``<post>``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import cv2
import numpy as np

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<posts count="1" offset="0"><post id="1" md5="00000000000000000000000000000000" tags="&lol9;"/></posts>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE posts [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<posts count="1" offset="0"><post id="1" md5="00000000000000000000000000000000" tags="&xxe;"/></posts>
"""
CHALLENGE_PAGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                  b"<div id=\"cf-chl-widget\">Checking your browser before accessing the site.</div>"
                  b"<script src=\"/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1\"></script>"
                  b"</body></html>")
ALLOW_ALL = "User-agent: *\nDisallow:\n"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


def make_picture(seed: int, width: int, height: int) -> np.ndarray:
    """An RGB uint8 picture with outlined shapes on a gradient, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    c0, c1 = rng.integers(120, 255, 3), rng.integers(60, 200, 3)
    t = (xx / max(width - 1, 1) * 0.6 + yy / max(height - 1, 1) * 0.4)[..., None]
    img = (c0 * (1 - t) + c1 * t).astype(np.float32)
    for _ in range(4):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(width // 10, width // 3)), int(rng.integers(height // 10, height // 3)))
        color = tuple(int(v) for v in rng.integers(0, 255, 3))
        angle = float(rng.integers(0, 180))
        cv2.ellipse(img, center, axes, angle, 0, 360, color, -1, cv2.LINE_AA)
        cv2.ellipse(img, center, axes, angle, 0, 360, (20, 20, 30), 2, cv2.LINE_AA)
    pts = rng.integers(0, [width, height], size=(5, 2)).astype(np.int32)
    cv2.polylines(img, [pts], True, (10, 10, 10), 2, cv2.LINE_AA)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode("." + ext, cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 90] if ext == "jpg" else [])
    assert ok
    return buf.tobytes()


@dataclass
class FakePost:
    id: int
    tags: str
    rating: str
    status: str
    width: int
    height: int
    original: bytes  # PNG
    sample: bytes  # JPEG
    sample_size: tuple[int, int]
    wrong_md5: bool = False
    xml: dict = field(default_factory=dict)  # attribute overrides in post.xml (hostile values)

    @property
    def md5(self) -> str:
        real = hashlib.md5(self.original).hexdigest()
        return "0" * 32 if self.wrong_md5 else real


@dataclass
class Fault:
    prefix: str
    kind: str
    times: int
    params: dict


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    time: float  # time.monotonic() when the request line arrived
    headers: dict[str, str]
    status: int | None = None
    fault: str | None = None
    body_bytes: int = 0


@dataclass
class MoebooruServer:
    n_posts: int = 25
    first_id: int = 1000
    size: tuple[int, int] = (96, 72)  # original width, height
    sample_max: int = 64  # longest side of samples
    robots: str | None = ALLOW_ALL
    leak_unsafe: bool = True
    ignore_range: bool = False
    tag_pool: tuple[str, ...] = ("1girl", "blue_hair", "red_eyes", "scenery", "smile")
    posts: list[FakePost] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._next_id = self.first_id
        for _ in range(self.n_posts):
            self.add_post()
        self._httpd = None
        self._thread = None

    # ------------------------------------------------------------------ content
    def add_post(self, rating: str = "s", status: str = "active", tags: str | None = None,
                 wrong_md5: bool = False, size: tuple[int, int] | None = None,
                 xml: dict | None = None) -> FakePost:
        """Add a post below the current lowest id (posts are listed newest first)."""
        post_id = self._next_id
        self._next_id -= 1
        width, height = size or self.size
        img = make_picture(post_id, width, height)
        scale = min(1.0, self.sample_max / max(width, height))
        sw, sh = max(1, round(width * scale)), max(1, round(height * scale))
        sample = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else img
        if tags is None:
            tags = " ".join(t for i, t in enumerate(self.tag_pool) if (post_id + i) % 2 == 0 or i == 0)
        post = FakePost(post_id, tags, rating, status, width, height, encode(img, "png"),
                        encode(sample, "jpg"), (sw, sh), wrong_md5, dict(xml or {}))
        self.posts.append(post)
        return post

    def post(self, post_id: int) -> FakePost:
        return next(p for p in self.posts if p.id == post_id)

    def inject(self, prefix: str, kind: str, times: int = 1, **params) -> None:
        with self._lock:
            self.faults.append(Fault(prefix, kind, times, params))

    def requests(self, prefix: str = "/") -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and path.startswith(fault.prefix):
                    fault.times -= 1
                    return fault
        return None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MoebooruServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> MoebooruServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ answers
    def list_posts(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        tokens = (query.get("tags", [""])[0]).split()
        if len(tokens) > 6:
            return 422, b'<?xml version="1.0"?><response success="false" reason="too many tags"/>'
        limit = min(int(query.get("limit", ["100"])[0]), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        matches = sorted(self.posts, key=lambda p: -p.id)
        for token in tokens:
            if token.startswith("id:<"):
                matches = [p for p in matches if p.id < int(token[4:])]
            elif token.startswith("id:>"):
                matches = [p for p in matches if p.id > int(token[4:])]
            elif token.startswith("rating:"):
                if not self.leak_unsafe:
                    matches = [p for p in matches if p.rating == "s" and p.status == "active"]
            elif token.startswith("-"):
                matches = [p for p in matches if token[1:] not in p.tags.split()]
            else:
                matches = [p for p in matches if token in p.tags.split()]
        chosen = matches[(page - 1) * limit: page * limit]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f'<posts count="{len(matches)}" offset="{(page - 1) * limit}">']
        for p in chosen:
            attrs = {
                "id": p.id, "tags": p.tags, "created_at": 1700000000 + p.id, "author": "artist",
                "source": "", "score": 3, "md5": p.md5, "file_size": len(p.original),
                "file_url": f"{self.url}/image/{p.id}.png", "preview_url": f"{self.url}/preview/{p.id}.jpg",
                "sample_url": f"{self.url}/sample/{p.id}.jpg", "sample_width": p.sample_size[0],
                "sample_height": p.sample_size[1], "jpeg_url": f"{self.url}/jpeg/{p.id}.jpg",
                "rating": p.rating, "status": p.status, "width": p.width, "height": p.height,
            }
            attrs.update(p.xml)
            lines.append("  <post " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items()) + "/>")
        lines.append("</posts>")
        return 200, "\n".join(lines).encode()

    def list_tags(self, query: dict[str, list[str]]) -> bytes:
        pattern = query.get("name", ["*"])[0] or "*"
        counts: dict[str, int] = {}
        for p in self.posts:
            for tag in p.tags.split():
                counts[tag] = counts.get(tag, 0) + 1
        items = [f'<tag id="{i}" name={quoteattr(name)} count="{n}" type="0" ambiguous="false"/>'
                 for i, (name, n) in enumerate(sorted(counts.items())) if fnmatch.fnmatch(name, pattern)]
        head = '<?xml version="1.0" encoding="UTF-8"?><tags type="array">'
        return (head + "".join(items) + "</tags>").encode()

    def file_bytes(self, path: str) -> bytes | None:
        match = re.fullmatch(r"/(image|sample|jpeg)/(\d+)\.(png|jpg)", path)
        if not match:
            return None
        try:
            post = self.post(int(match.group(2)))
        except StopIteration:
            return None
        return post.original if match.group(1) == "image" else post.sample


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: MoebooruServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        record = Request("GET", parts.path, parse_qs(parts.query), time.monotonic(), dict(self.headers))
        with self.owner._lock:
            self.owner.log.append(record)
        try:
            self._answer(record)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, record: Request, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/xml; charset=utf-8", send_bytes: int | None = None) -> None:
        record.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if send_bytes is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = body if send_bytes is None else body[:send_bytes]
        self.wfile.write(chunk)
        self.wfile.flush()
        record.body_bytes = len(chunk)

    def _trickle(self, record: Request, interval: float, headers: bool) -> None:
        """A server that never times out a client but never finishes: one byte per ``interval``."""
        record.status = 200
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n"
        if not headers:
            self.wfile.write(head + b"\r\n")
            head = b"\xff" * 1000000
        for byte in head:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            record.body_bytes += 1
            time.sleep(interval)

    def _endless(self, record: Request, code: int) -> None:
        """An answer without end (no Content-Length, the connection stays open): a memory-exhaustion attack."""
        record.status = code
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        line = b"Disallow: /nothing/here\n" * 2730  # ~64 KiB
        while record.body_bytes < 2**32:
            self.wfile.write(line)
            record.body_bytes += len(line)

    def _answer(self, record: Request) -> None:
        owner = self.owner
        fault = owner._take_fault(record.path)
        truncate = None
        if fault is not None:
            record.fault = fault.kind
            kind, params = fault.kind, fault.params
            if kind == "slow":
                time.sleep(params.get("seconds", 1.0))
            elif kind in ("429", "503", "500"):
                headers = {"Retry-After": str(params["retry_after"])} if "retry_after" in params else {}
                return self._send(record, int(kind), b"slow down", headers, "text/plain")
            elif kind == "challenge":
                headers = {"cf-mitigated": "challenge", "Server": "cloudflare", "CF-RAY": "0-TEST"}
                return self._send(record, 403, CHALLENGE_PAGE, headers, "text/html")
            elif kind == "challenge503":
                return self._send(record, 503, CHALLENGE_PAGE, {}, "text/html")
            elif kind == "bomb":
                return self._send(record, 200, BOMB)
            elif kind == "xxe":
                return self._send(record, 200, XXE)
            elif kind == "garbage":
                return self._send(record, 200, b"<html><body>maintenance</body></html", {}, "text/html")
            elif kind == "status":
                return self._send(record, int(params["code"]), b"error", {}, "text/plain")
            elif kind == "truncate":
                truncate = params.get("fraction", 0.5)
            elif kind == "trickle":
                return self._trickle(record, params.get("interval", 0.2), params.get("headers", False))
            elif kind == "endless":
                return self._endless(record, int(params.get("code", 200)))
            elif kind == "body":
                return self._send(record, 200, params["body"])
            elif kind == "redirect":
                headers = {"Location": params["location"]}
                return self._send(record, int(params.get("code", 302)), b"", headers, "text/plain")
        path = record.path
        if path == "/robots.txt":
            if owner.robots is None:
                return self._send(record, 404, b"not found", {}, "text/plain")
            return self._send(record, 200, owner.robots.encode(), {}, "text/plain")
        if path == "/post.xml":
            status, body = owner.list_posts(record.query)
            send = None if truncate is None else int(len(body) * truncate)
            return self._send(record, status, body, send_bytes=send)
        if path == "/tag.xml":
            return self._send(record, 200, owner.list_tags(record.query))
        data = owner.file_bytes(path)
        if data is None:
            return self._send(record, 404, b"not found", {}, "text/plain")
        content_type = "image/png" if path.endswith(".png") else "image/jpeg"
        status, headers, body = 200, {"Accept-Ranges": "bytes"}, data
        match = _RANGE.match(self.headers.get("Range", ""))
        if match and not owner.ignore_range:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            if start >= len(data):
                return self._send(record, 416, b"", {"Content-Range": f"bytes */{len(data)}"}, content_type)
            end = min(end, len(data) - 1)
            status, body = 206, data[start:end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        send = None if truncate is None else int(len(body) * truncate)
        return self._send(record, status, body, headers, content_type, send_bytes=send)
