"""Moebooru (konachan, yande.re, local mirrors) XML API client: safe parsing, safe-only queries, id paging.

``GET /post.xml?tags=...&limit=100`` answers ``<posts count=".." offset=".."><post id=".." md5=".." .../>``.
Only ``id`` and ``md5`` are required; everything else is optional. Queries:

* always carry ``rating:safe`` (any other ``rating:`` token from the user is replaced by it), and posts whose
  rating is not ``s`` or whose status is not ``active`` are dropped again on arrival;
* page with ``id:<LAST_ID`` (newest first) instead of deep ``page=`` numbers, so ``order:`` and ``id:`` tokens
  from the user are refused;
* hold at most :data:`MAX_TOKENS` tokens, paging token included.

XML is parsed without DTDs, entities or network access; any DOCTYPE or entity is refused with
:class:`UnsafeXMLError` (billion laughs, external entities).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from lxml import etree

from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.dataset.http import NetworkError, PoliteSession

MAX_TOKENS = 6
MAX_XML_BYTES = 16 * 1024 * 1024  # a page of 100 posts is ~100 kB
PAGE_LIMIT = 100
DEFAULT_SITE = "https://konachan.com"
_MD5 = re.compile(r"^[0-9a-f]{32}$")
INT_LIMIT = 2**63  # SQLite integers are signed 64-bit: larger ids and sizes are refused, never stored


class UnsafeXMLError(AniSketchError):
    """The API answered with XML that declares a DTD or entities, or is not XML at all."""


class QueryError(AniSketchError):
    """The tag query cannot be crawled as given."""


@dataclass(frozen=True)
class Post:
    """One post of ``post.xml``; only ``id`` and ``md5`` are guaranteed."""

    id: int
    md5: str
    file_url: str | None = None
    sample_url: str | None = None
    jpeg_url: str | None = None
    width: int | None = None
    height: int | None = None
    sample_width: int | None = None
    sample_height: int | None = None
    file_size: int | None = None
    rating: str | None = None
    status: str | None = None
    tags: str = ""
    author: str | None = None
    source: str | None = None
    problem: str | None = None  # why the post cannot be downloaded (e.g. an id or size out of range)
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_safe(self) -> bool:
        """Rating ``s`` and status ``active``; a post missing either is treated as unsafe."""
        return self.rating == "s" and self.status == "active"


@dataclass(frozen=True)
class PostPage:
    posts: list[Post]  # well-formed posts, in the server's order (newest first), unsafe ones included
    raw_count: int  # <post> elements on the page, well-formed or not (a short page ends the crawl)
    total: int | None  # the ``count`` attribute: matches for the query


def normalize_tags(tags: str) -> list[str]:
    """The user's tags as crawl tokens: ``rating:safe`` forced, ``order:``/``id:`` refused, ≤ 5 tokens."""
    tokens = [t for t in tags.split() if t]
    out = []
    for token in tokens:
        low = token.lower()
        bare = low.lstrip("-~")
        if bare.startswith("rating:"):
            continue
        if bare.startswith(("order:", "id:")):
            raise QueryError(f"The tag {token!r} cannot be used: the crawler pages by post id, newest first.")
        if low not in out:
            out.append(low)
    out.append("rating:safe")
    if len(out) > MAX_TOKENS - 1:
        raise QueryError(
            f"Too many tags: at most {MAX_TOKENS - 2} besides rating:safe (the site allows {MAX_TOKENS} "
            "tokens and paging needs one)."
        )
    return out


def query_key(tags: str) -> str:
    """A canonical name for a query (sorted tokens), used as the crawl cursor's key."""
    return " ".join(sorted(normalize_tags(tags)))


def safe_xml(data: bytes):
    """The root element of ``data``; DTDs, entities, network access and huge trees are refused."""
    refused = "The site's XML declares a DTD or entities; refused (possible XML bomb or external entity)."
    if b"<!doctype" in data[:4096].lower() or b"<!entity" in data.lower():
        raise UnsafeXMLError(refused)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"The site did not answer with valid XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or any(True for _ in root.iter(etree.Entity)):
        raise UnsafeXMLError(refused)
    return root


def parse_posts(data: bytes) -> PostPage:
    """Parse a ``post.xml`` answer safely."""
    root = safe_xml(data)
    if root.tag != "posts":
        raise UnsafeXMLError(f"Expected <posts> from post.xml, got <{root.tag}>; is this a Moebooru site?")
    elements = root.findall("post")
    posts = [post for post in map(_post_from_element, elements) if post is not None]
    return PostPage(posts=posts, raw_count=len(elements), total=_int(root.get("count")))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _post_from_element(element) -> Post | None:
    attrs = dict(element.attrib)
    post_id = _int(attrs.pop("id", None))
    md5 = (attrs.pop("md5", "") or "").lower()
    if post_id is None or post_id <= 0 or not _MD5.match(md5):
        return None
    known: dict = {}
    problems = [] if post_id < INT_LIMIT else [f"post id {_short(post_id)} is out of range"]
    for name in ("file_url", "sample_url", "jpeg_url", "rating", "status", "author", "source"):
        known[name] = attrs.pop(name, None) or None
    for name in ("width", "height", "sample_width", "sample_height", "file_size"):
        value = _int(attrs.pop(name, None))
        if value is not None and not 0 <= value < INT_LIMIT:
            problems.append(f"{name} {_short(value)} is out of range")
            value = None
        known[name] = value
    problem = "the site lists impossible values: " + ", ".join(problems) if problems else None
    return Post(id=post_id, md5=md5, tags=attrs.pop("tags", "") or "", extra=attrs, problem=problem, **known)


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:20] + "..."


class MoebooruClient:
    """Lists posts of one Moebooru site through a :class:`PoliteSession`."""

    def __init__(self, site: str, session: PoliteSession):
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise QueryError(f"Not a web address: {site!r} (expected e.g. {DEFAULT_SITE})")
        self.site = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.session = session

    def posts(self, tags: str, before_id: int | None = None, limit: int = PAGE_LIMIT) -> PostPage:
        """One page of posts matching ``tags`` (normalised) with ids below ``before_id``."""
        tokens = normalize_tags(tags)
        if before_id is not None:
            tokens.append(f"id:<{int(before_id)}")
        params = {"tags": " ".join(tokens), "limit": str(min(limit, PAGE_LIMIT))}
        return parse_posts(self._fetch(f"{self.site}/post.xml?" + urlencode(params)))

    def tag_counts(self, name_pattern: str, limit: int = 20) -> list[tuple[str, int]]:
        """Tags matching ``name_pattern`` (e.g. ``"blue*"``) with their post counts, for tag suggestions."""
        params = {"name": name_pattern, "limit": str(limit)}
        return parse_tags(self._fetch(f"{self.site}/tag.xml?" + urlencode(params)))

    def _fetch(self, url: str, attempts: int = 3) -> bytes:
        """The body of an API answer (re-asked when the connection drops), at most :data:`MAX_XML_BYTES`."""
        for attempt in range(attempts):
            def too_large(limit: int) -> Exception:
                return UnsafeXMLError(f"The answer of {url} is larger than {limit // 2**20} MB.")

            try:
                with self.session.get(url) as response:
                    return b"".join(self.session.read(response, MAX_XML_BYTES, too_large=too_large))
            except requests.RequestException as exc:
                if attempt == attempts - 1:
                    raise NetworkError(f"{url}: the connection dropped while reading ({exc}).") from None
        raise AssertionError("unreachable")

    def image_url(self, post: Post, originals: bool = False) -> str | None:
        """Absolute http(s) URL of the sample (≤ 1500 px JPEG) or the original; None when there is none."""
        # an original must be the file whose md5 the post names; a sample may fall back to larger versions
        order = (post.file_url,) if originals else (post.sample_url, post.jpeg_url, post.file_url)
        for url in order:
            if url:
                full = urljoin(self.site + "/", url)
                if urlsplit(full).scheme in ("http", "https"):
                    return full
        return None


def parse_tags(data: bytes) -> list[tuple[str, int]]:
    """``tag.xml`` -> ``[(name, count)]``, parsed as safely as ``post.xml``."""
    root = safe_xml(data)
    tags = root.findall("tag")
    return [(tag.get("name"), _int(tag.get("count")) or 0) for tag in tags if tag.get("name")]
