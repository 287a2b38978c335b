"""Resumable, verified picture downloads into ``images/<id>.<ext>``.

The body goes to ``images/<id>.part``; an interrupted download (dropped connection, truncated body, a
cancel, a killed process) leaves the ``.part`` behind and the next attempt asks for the rest with
``Range: bytes=<size>-``. A ``206`` whose ``Content-Range`` starts there is appended; a ``200`` (the server
ignored Range) or a ``206`` starting elsewhere starts over; a ``416`` means the part may already be
complete and it is verified as is. A finished file is verified -- size and md5 when the site named them
(originals), and a successful decode in every case -- and only then renamed. The extension comes from the
file's magic bytes (jpg/png/webp); the name is never taken from the server.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from anisketch_desktop.core.errors import AniSketchError, Cancelled, ImageReadError
from anisketch_desktop.dataset.http import PoliteSession
from anisketch_desktop.dataset.store import check_id

EXTENSIONS = ("jpg", "png", "webp")
MAX_BYTES = 200 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(AniSketchError):
    """A picture could not be downloaded or failed verification."""


class DiskFullError(AniSketchError):
    """The disk is full: the whole crawl stops (every other picture would fail the same way)."""


@dataclass(frozen=True)
class Downloaded:
    path: Path
    md5: str
    width: int
    height: int
    resumed_from: int  # bytes already on disk when the last request was sent (0: a fresh download)


def sniff_extension(data: bytes) -> str | None:
    """``jpg``/``png``/``webp`` from the magic bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def existing_file(images_dir: Path, image_id: str) -> Path | None:
    for ext in EXTENSIONS:
        path = images_dir / f"{image_id}.{ext}"
        if path.exists():
            return path
    return None


def download_image(session: PoliteSession, url: str, images_dir: Path, image_id: str, *,
                   expect_md5: str | None = None, expect_size: int | None = None, chunk_size: int = 65536,
                   attempts: int = 3, cancel: Callable[[], bool] | None = None) -> Downloaded:
    """Download ``url`` as picture ``image_id`` (resuming a ``.part``), verify it, rename it into place."""
    check_id(image_id)
    if expect_size is not None and expect_size > MAX_BYTES:
        raise DownloadError(f"{url}: the site says the file is {expect_size} bytes, over the "
                            f"{MAX_BYTES // 2**20} MB limit; skipped")
    done = existing_file(images_dir, image_id)
    if done is not None:  # renamed before the manifest was updated (killed in between): verify it again
        try:
            return _verify(done.read_bytes(), done, expect_md5, expect_size, 0)
        except DownloadError:
            done.unlink()
    part = images_dir / f"{image_id}.part"
    for attempt in range(attempts):
        try:
            offset = _fetch(session, url, part, chunk_size, expect_size, cancel)
            break
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if attempt == attempts - 1:
                reason = f"connection lost ({type(exc).__name__}); the next run resumes it"
                raise DownloadError(f"{url}: {reason}") from None
    data = part.read_bytes()
    ext = sniff_extension(data)
    if ext is None:
        part.unlink()
        raise DownloadError(f"{url} is not a JPEG, PNG or WebP picture")
    return _verify(data, part, expect_md5, expect_size, offset, final=images_dir / f"{image_id}.{ext}")


def _fetch(session, url, part: Path, chunk_size, expect_size, cancel) -> int:
    """Bring ``part`` to the full body (resuming); returns the offset the last request started at."""
    offset = part.stat().st_size if part.exists() else 0
    if expect_size is not None and offset > expect_size:
        part.unlink()
        offset = 0
    headers = {"Range": f"bytes={offset}-"} if offset else None
    response = session.get(url, api=False, headers=headers, accept={200, 206, 416})
    with response:
        if response.status_code == 416:
            if not offset:
                raise DownloadError(f"{url} answered HTTP 416 to a request without Range")
            return offset  # nothing more to send: verify what we have
        mode = "wb"
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == offset:
                mode = "ab"
            else:
                response.close()
                part.unlink(missing_ok=True)
                return _fetch(session, url, part, chunk_size, expect_size, cancel)
        if mode == "wb":
            offset = 0

        def too_large(limit: int) -> Exception:
            return DownloadError(f"{url} is larger than {MAX_BYTES // 2**20} MB; skipped")

        try:
            with open(part, mode, buffering=0) as out:  # unbuffered: a killed process keeps what arrived
                for chunk in session.read(response, max(0, MAX_BYTES - offset), chunk_size, too_large=too_large):
                    out.write(chunk)
                    if cancel and cancel():
                        raise Cancelled("Crawl cancelled; the partial download is kept and will be resumed.")
                out.flush()
                os.fsync(out.fileno())
        except requests.RequestException:
            raise  # (an OSError too) a dropped connection: retried and resumed by the caller
        except OSError as exc:
            raise disk_error(exc, part) from None
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
    return offset


def disk_error(exc: OSError, path: Path) -> AniSketchError:
    """A one-line message for a failed write (full disk, no permission, ...), naming the folder."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"The disk holding {path.parent} is full; free some space and run the same "
                             "command again to resume.")
    return DownloadError(f"Cannot write {path}: {exc.strerror or exc}")


def _verify(data: bytes, path: Path, expect_md5, expect_size, offset: int, final: Path | None = None):
    from anisketch_desktop.core.imageio import decode_image

    def reject(reason: str):
        path.unlink(missing_ok=True)
        raise DownloadError(reason)

    if expect_size is not None and len(data) != expect_size:
        reject(f"size mismatch: got {len(data)} bytes, the site says {expect_size}")
    md5 = hashlib.md5(data).hexdigest()
    if expect_md5 is not None and md5 != expect_md5:
        reject(f"md5 mismatch: got {md5}, the site says {expect_md5}")
    try:
        image = decode_image(data)
    except ImageReadError as exc:
        reject(f"not a readable picture: {exc}")
    if final is not None:
        os.replace(path, final)
        path = final
    return Downloaded(path=path, md5=md5, width=int(image.shape[1]), height=int(image.shape[0]),
                      resumed_from=offset)
