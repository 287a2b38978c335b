"""The dataset folder and its SQLite manifest.

A dataset is a folder::

    dataset.sqlite      manifest (WAL mode): images, crawl cursors, decision history
    images/<id>.<ext>   pictures (crawled: id = post id; imported: id = "u" + 16 hex digits of the md5)
    images/<id>.part    a download in progress (resumed with Range)
    sketches/<id>.png   XDoG sketches (see pairs.py)
    cache/thumbs/...    thumbnails (see thumbnails.py)

One row per picture in ``images``: where it came from (a crawled post or an imported file; ``post_md5`` is
the md5 of the original -- the post's, or the user's file's -- and ``md5`` that of the stored file, both
used to refuse duplicates), its download state (``pending`` -> ``done`` | ``failed`` | ``duplicate``), the
file (relative path, size), the sketch (path, parameters as JSON, clarity score) and the review decision
(``approved``/``rejected``/NULL) with ``decided_params``, the sketch parameters it was made on; ``stale`` is
set when the current sketch differs from those (see pairs.py). ``decision_log`` keeps the undo history.
``crawl_cursor`` holds, per site and query, the lowest post id already listed and whether the listing ended,
so a killed crawl resumes where it stopped. Every write is one transaction; file paths are relative to the
dataset folder so the folder can be moved. One connection is shared by the threads of a process (a lock
serialises it); other processes may open the same dataset (WAL, 10 s busy timeout).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError

DB_NAME = "dataset.sqlite"
SCHEMA_VERSION = "1"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PICTURE_SUFFIXES = (".jpg", ".png", ".webp")
BUSY_TIMEOUT = 10.0  # seconds to wait for another process's write to finish before saying "locked"
GAVE_UP = 1 << 30  # ``attempts`` of a failure that no re-run retries (a post that can never be downloaded)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images(
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('crawl', 'import')),
    query TEXT,
    post_id INTEGER UNIQUE,
    post_md5 TEXT,
    url TEXT,
    expect_md5 TEXT,
    expect_size INTEGER,
    tags TEXT,
    rating TEXT,
    source TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'duplicate')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    path TEXT,
    md5 TEXT,
    width INTEGER,
    height INTEGER,
    sketch_path TEXT,
    sketch_params TEXT,
    clarity REAL,
    decision TEXT CHECK (decision IN ('approved', 'rejected')),
    stale INTEGER NOT NULL DEFAULT 0,
    decided_params TEXT,
    decided_at REAL,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS images_md5 ON images(md5) WHERE md5 IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_post_md5 ON images(post_md5);
CREATE INDEX IF NOT EXISTS images_state ON images(state, query);
CREATE TABLE IF NOT EXISTS crawl_cursor(
    site TEXT NOT NULL,
    query TEXT NOT NULL,
    last_id INTEGER,
    exhausted INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (site, query)
);
CREATE TABLE IF NOT EXISTS decision_log(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    batch INTEGER NOT NULL,
    id TEXT NOT NULL,
    old_decision TEXT,
    old_stale INTEGER NOT NULL,
    old_params TEXT,
    new_decision TEXT,
    at REAL NOT NULL
);
"""


class DatasetError(AniSketchError):
    """The dataset folder or its manifest cannot be used; ``rebuild``: rebuilding the manifest from the
    pictures in the folder (``rebuild.rebuild_manifest``) would fix it."""

    def __init__(self, message: str, rebuild: bool = False):
        super().__init__(message)
        self.rebuild = rebuild


@dataclass(frozen=True)
class ImageRow:
    """One picture of the dataset (paths are relative to the dataset folder)."""

    id: str
    origin: str
    state: str
    path: str | None
    md5: str | None
    width: int | None
    height: int | None
    post_id: int | None
    post_md5: str | None
    url: str | None
    expect_md5: str | None
    expect_size: int | None
    query: str | None
    tags: str | None
    source: str | None
    attempts: int
    error: str | None
    sketch_path: str | None
    sketch_params: str | None
    clarity: float | None
    decision: str | None
    stale: bool


_COLUMNS = [name for name in ImageRow.__dataclass_fields__]


def check_id(image_id: str) -> str:
    """``image_id`` if it is safe as a file name stem (letters, digits, ``_``, ``-``), else DatasetError."""
    if not isinstance(image_id, str) or not _ID.match(image_id):
        raise DatasetError(f"Not a valid image id: {image_id!r}")
    return image_id


class DatasetStore:
    """The manifest of one dataset folder (created on first use)."""

    def __init__(self, dataset_dir: str | Path, create: bool = True, rebuilding: bool = False):
        self.dir = Path(dataset_dir)
        db = self.dir / DB_NAME
        if not create and not db.exists():
            raise DatasetError(f"{self.dir} is not a dataset (no {DB_NAME}); crawl or import pictures first.")
        if not rebuilding:
            _refuse_starting_over(self.dir, db)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.images_dir.mkdir(exist_ok=True)
            self.sketches_dir.mkdir(exist_ok=True)
            self.conn = sqlite3.connect(db, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise DatasetError(f"Cannot open the dataset {self.dir}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self.transaction() as conn:
                for statement in _statements(SCHEMA):  # executescript() would commit the transaction
                    conn.execute(statement)
                version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if version is None:
                    conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                elif version[0] != SCHEMA_VERSION:
                    raise DatasetError(f"{self.dir} was made by a newer AniSketch (schema {version[0]}).")
        except sqlite3.Error as exc:
            self.conn.close()
            raise manifest_error(self.dir, exc) from None
        except BaseException:
            self.conn.close()
            raise

    # ------------------------------------------------------------------ plumbing
    @property
    def images_dir(self) -> Path:
        return self.dir / "images"

    @property
    def sketches_dir(self) -> Path:
        return self.dir / "sketches"

    @property
    def cache_dir(self) -> Path:
        return self.dir / "cache"

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> DatasetStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error). SQLite errors (a
        damaged, locked or full manifest) come out as :class:`DatasetError` with a message a user can act on."""
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            try:
                yield self.conn
            except BaseException as exc:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def query(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _error(self, exc: sqlite3.Error) -> DatasetError:
        return manifest_error(self.dir, exc)

    def abspath(self, relative: str | None) -> Path | None:
        return None if relative is None else self.dir / relative

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query("SELECT value FROM meta WHERE key=?", (key,))
        return row[0][0] if row else default

    def bind_site(self, site: str) -> None:
        """Remember the site this dataset is crawled from; another site is refused (post ids would clash)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='site'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('site', ?)", (site,))
            elif row[0] != site:
                raise DatasetError(f"This dataset was crawled from {row[0]}; use another folder for {site}.")

    # ------------------------------------------------------------------ rows
    def image(self, image_id: str) -> ImageRow | None:
        rows = self.query(f"SELECT {', '.join(_COLUMNS)} FROM images WHERE id=?", (image_id,))
        return _row(rows[0]) if rows else None

    def images(self, state: str | None = "done", where: str = "", params: Sequence = (),
               order: str = "added_at, id") -> list[ImageRow]:
        clauses = [c for c in ("state=?" if state else "", where) if c]
        sql = f"SELECT {', '.join(_COLUMNS)} FROM images"
        if clauses:
            sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
        args = ([state] if state else []) + list(params)
        return [_row(r) for r in self.query(f"{sql} ORDER BY {order}", args)]

    def count(self, state: str | None = "done", query: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM images WHERE 1", list[str | None]()
        if state:
            sql, args = sql + " AND state=?", args + [state]
        if query is not None:
            sql, args = sql + " AND query=?", args + [query]
        return self.query(sql, args)[0][0]

    # ------------------------------------------------------------------ reads for the wizard (no SQL above dataset/)
    def state_counts(self) -> dict[str, int]:
        """How many pictures are in each download state (``{"done": 12, "failed": 1, ...}``)."""
        return {state: int(n) for state, n in self.query("SELECT state, COUNT(*) FROM images GROUP BY state")}

    def picture_ids(self) -> list[str]:
        """Ids of the downloaded (or imported) pictures, in id order."""
        return [r[0] for r in self.query("SELECT id FROM images WHERE state='done' ORDER BY id")]

    def clarity_scores(self, pairs_only: bool = False) -> list[float]:
        """The XDoG clarity scores of the downloaded pictures that have one (only those with a sketch pair
        when ``pairs_only``)."""
        sql = "SELECT clarity FROM images WHERE state='done' AND clarity IS NOT NULL"
        if pairs_only:
            sql += " AND sketch_path IS NOT NULL"
        return [float(r[0]) for r in self.query(sql)]

    def pair_decisions(self, ids: Sequence[str] | None = None) -> dict[str, tuple[str | None, bool]]:
        """``{id: (decision or None, stale)}`` of every sketch pair, or of the pictures ``ids``."""
        if ids is None:
            rows = self.query("SELECT id, decision, stale FROM images WHERE sketch_path IS NOT NULL")
        else:
            rows = []
            ids = list(ids)
            for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
                chunk = ids[start : start + 500]
                rows += self.query(f"SELECT id, decision, stale FROM images WHERE id IN ({','.join('?' * len(chunk))})",
                                   chunk)
        return {image_id: (decision, bool(stale)) for image_id, decision, stale in rows}

    def known_md5(self, md5: str) -> str | None:
        """Id of a picture whose file or post has this md5, if any."""
        rows = self.query("SELECT id FROM images WHERE md5=? OR post_md5=? LIMIT 1", (md5, md5))
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ crawl
    def cursor(self, site: str, query: str) -> tuple[int | None, bool]:
        """``(lowest post id listed so far, listing finished)`` for a query."""
        sql = "SELECT last_id, exhausted FROM crawl_cursor WHERE site=? AND query=?"
        rows = self.query(sql, (site, query))
        return (rows[0][0], bool(rows[0][1])) if rows else (None, False)

    def add_posts(self, site: str, query: str, rows: list[dict], last_id: int | None, exhausted: bool) -> int:
        """Queue new posts and move the cursor in one transaction; returns how many rows were added."""
        now = time.time()
        added = 0
        with self.transaction() as conn:
            for row in rows:
                exists = conn.execute(
                    "SELECT 1 FROM images WHERE post_id=? OR md5=? OR post_md5=?",
                    (row["post_id"], row["post_md5"], row["post_md5"]),
                ).fetchone()
                if exists:
                    continue
                conn.execute(
                    "INSERT INTO images(id, origin, query, post_id, post_md5, url, expect_md5, expect_size,"
                    " tags, rating, source, state, added_at, updated_at)"
                    " VALUES (?, 'crawl', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                    (str(row["post_id"]), query, row["post_id"], row["post_md5"], row["url"],
                     row.get("expect_md5"), row.get("expect_size"), row.get("tags"), row.get("rating"),
                     row.get("source"), now, now),
                )
                added += 1
            conn.execute(
                "INSERT INTO crawl_cursor(site, query, last_id, exhausted, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(site, query) DO UPDATE SET last_id=excluded.last_id,"
                " exhausted=excluded.exhausted, updated_at=excluded.updated_at",
                (site, query, last_id, int(exhausted), now),
            )
        return added

    def add_failed_post(self, query: str, row: dict, error: str) -> bool:
        """Record a post that can never be downloaded (impossible id or size) as failed for good; False when it
        is already known. Out-of-range numbers are not stored."""
        post_id = row["post_id"] if 0 < row["post_id"] < 2**63 else None
        size = row.get("expect_size")
        now = time.time()
        with self.transaction() as conn:
            known = conn.execute("SELECT 1 FROM images WHERE id=? OR post_id=? OR md5=? OR post_md5=?",
                                 (str(row["post_id"])[:64], post_id, row["post_md5"], row["post_md5"])).fetchone()
            if known:
                return False
            conn.execute(
                "INSERT INTO images(id, origin, query, post_id, post_md5, url, expect_size, tags, rating, source,"
                " state, attempts, error, added_at, updated_at)"
                " VALUES (?, 'crawl', ?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?)",
                (check_id(str(row["post_id"])[:64]), query, post_id, row["post_md5"], row["url"],
                 size if size is not None and 0 <= size < 2**63 else None, row.get("tags"), row.get("rating"),
                 row.get("source"), GAVE_UP, error, now, now),
            )
        return True

    def mark_done(self, image_id: str, path: str, md5: str, width: int, height: int) -> bool:
        """Record a verified file. Returns False (state ``duplicate``) when another picture has this md5."""
        with self.transaction() as conn:
            twin = conn.execute("SELECT id FROM images WHERE md5=? AND id<>?", (md5, image_id)).fetchone()
            if twin:
                conn.execute("UPDATE images SET state='duplicate', error=?, updated_at=? WHERE id=?",
                             (f"same file as {twin[0]}", time.time(), image_id))
                return False
            conn.execute(
                "UPDATE images SET state='done', path=?, md5=?, width=?, height=?, error=NULL, updated_at=?"
                " WHERE id=?",
                (path, md5, width, height, time.time(), image_id),
            )
        return True

    def mark_failed(self, image_id: str, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE images SET state='failed', attempts=attempts+1, error=?, updated_at=? WHERE id=?",
                (error, time.time(), image_id),
            )

    def retry_failed(self, query: str, max_attempts: int) -> int:
        """Put failed downloads of ``query`` with fewer than ``max_attempts`` attempts back in the queue."""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE images SET state='pending' WHERE state='failed' AND query=? AND attempts<?",
                (query, max_attempts),
            ).rowcount

    # ------------------------------------------------------------------ sketches
    def set_sketch(self, image_id: str, path: str, params_json: str, clarity: float) -> bool:
        """Record a (re)generated sketch and recompute ``stale``; True when a decision just became stale.

        A decision is stale when the sketch it was made on (``decided_params``) differs from the current one.
        """
        with self.transaction() as conn:
            row = conn.execute("SELECT decision, decided_params, stale FROM images WHERE id=?",
                               (image_id,)).fetchone()
            if row is None:
                raise DatasetError(f"No image {image_id!r} in the dataset")
            stale = row["decision"] is not None and not same_sketch(row["decided_params"], params_json)
            conn.execute(
                "UPDATE images SET sketch_path=?, sketch_params=?, clarity=?, stale=?, updated_at=?"
                " WHERE id=?",
                (path, params_json, clarity, int(stale), time.time(), image_id),
            )
        return stale and not row["stale"]

    # ------------------------------------------------------------------ import
    def add_file(self, image_id: str, path: str, md5: str, width: int, height: int, source: str,
                 source_md5: str | None = None) -> None:
        """Record an imported (already verified and copied) picture; ``source_md5``: of the user's file."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO images(id, origin, source, post_md5, state, path, md5, width, height, added_at,"
                " updated_at) VALUES (?, 'import', ?, ?, 'done', ?, ?, ?, ?, ?, ?)",
                (check_id(image_id), source, source_md5 or md5, path, md5, width, height, now, now),
            )


def manifest_error(folder: Path, exc: sqlite3.Error) -> DatasetError:
    """A readable :class:`DatasetError` for an SQLite failure on the manifest of ``folder``."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatasetError(f"The dataset {folder} is locked by another program ({exc}); close it and try again.")
    if "disk is full" in text or "disk i/o" in text:
        return DatasetError(f"Cannot write the dataset {folder}: the disk is full or failing ({exc}); free some "
                            "space and run again (nothing finished is lost).")
    if "readonly" in text or "read-only" in text:
        return DatasetError(f"The dataset {folder} cannot be written ({exc}); check the folder's permissions.")
    return DatasetError(f"The manifest {folder / DB_NAME} is damaged ({exc}). Rebuild it from the pictures in "
                        f"images/ with: anisketch rebuild --dataset \"{folder}\" (or Rebuild in the dataset "
                        "wizard); the damaged file is kept.", rebuild=True)


def picture_files(images_dir: Path) -> list[Path]:
    """The finished pictures in ``images/`` (no ``.part``), sorted."""
    if not images_dir.is_dir():
        return []
    return sorted(p for p in images_dir.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES and p.is_file())


def _refuse_starting_over(folder: Path, db: Path) -> None:
    """A missing or empty (0-byte) manifest next to pictures: never silently start an empty dataset there."""
    try:
        empty = not db.exists() or db.stat().st_size == 0
    except OSError:
        return
    if not empty:
        return
    pictures = picture_files(folder / "images")
    if pictures:
        what = "is empty (0 bytes)" if db.exists() else "is missing"
        raise DatasetError(
            f"The manifest {db} {what}, but images/ holds {len(pictures)} pictures. Nothing was changed. Rebuild "
            f"the manifest from them with: anisketch rebuild --dataset \"{folder}\" (or Rebuild in the dataset "
            "wizard).", rebuild=True)


def approved_pairs(dataset_dir: str | Path) -> list[tuple[Path, Path]]:
    """``(color, sketch)`` paths of every approved, non-stale pair whose files exist (training reads this)."""
    with DatasetStore(dataset_dir, create=False) as store:
        rows = store.query(
            "SELECT path, sketch_path FROM images WHERE state='done' AND decision='approved' AND stale=0"
            " AND sketch_path IS NOT NULL ORDER BY clarity DESC, id"
        )
        pairs = [(store.dir / color, store.dir / sketch) for color, sketch in rows]
    return [(color, sketch) for color, sketch in pairs if color.is_file() and sketch.is_file()]


def same_sketch(old_params: str | None, new_params: str) -> bool:
    """Whether two ``sketch_params`` JSON texts describe the same sketch (resolved parameters and specks)."""
    if old_params is None:
        return False
    try:
        old, new = json.loads(old_params), json.loads(new_params)
    except ValueError:
        return False
    return all(old.get(key) == new.get(key) for key in ("params", "speck_size"))


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _row(row: sqlite3.Row) -> ImageRow:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["stale"] = bool(values["stale"])
    return ImageRow(**values)
