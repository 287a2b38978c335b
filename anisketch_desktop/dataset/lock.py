"""One AniSketch at a time per dataset folder: ``dataset.lock`` holds the owner's pid under an OS file lock.

Two crawls into one folder would write the same ``<id>.part`` and the same manifest rows. Every command that
writes a dataset (crawl, import, sketches) and the dataset wizard, while a dataset is open in it, hold
:func:`dataset_lock`. Another process is refused with :class:`DatasetBusyError` -- "in use by another
AniSketch (pid N)" -- at once, without waiting.

The lock is an OS lock on the open file (``flock`` / ``msvcrt.locking``), so the system drops it when its
owner ends, however it ends (kill -9, a crash, a power cut with a local disk): a lock file left behind is
recovered silently by the next owner. On a file system without OS locks the pid in the file decides (a pid
that is no longer running is a stale lock and is taken over). Within one process the lock is re-entrant:
the wizard holds it and its own crawl takes it again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from anisketch_desktop.dataset.store import DatasetError

LOCK_NAME = "dataset.lock"
_held: dict[str, list] = {}  # resolved folder -> [file descriptor, count]
_guard = threading.Lock()


class DatasetBusyError(DatasetError):
    """Another AniSketch process is using the dataset folder."""


def acquire(dataset_dir: str | Path) -> None:
    """Lock ``dataset_dir`` for this process (re-entrant); ``DatasetBusyError`` if another process holds it."""
    folder = Path(dataset_dir).expanduser().resolve()
    key = str(folder)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as exc:
            raise DatasetError(f"Cannot lock the dataset {folder}: {exc.strerror or exc}") from None
        try:
            if not _os_lock(fd):
                owner = _read_pid(fd)
                who = f" (pid {owner})" if owner else ""
                raise DatasetBusyError(
                    f"The dataset {folder} is in use by another AniSketch{who}. Close it there (or wait for its "
                    "crawl or job to finish) and try again."
                )
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            os.close(fd)
            raise
        _held[key] = [fd, 1]


def release(dataset_dir: str | Path) -> None:
    """Undo one :func:`acquire`; the last one unlocks (the file stays: removing it would race a new owner)."""
    key = str(Path(dataset_dir).expanduser().resolve())
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
        fd = entry[0]
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)  # closing drops the OS lock


@contextmanager
def dataset_lock(dataset_dir: str | Path) -> Iterator[None]:
    """``with dataset_lock(folder):`` -- the folder is this process's until the block ends."""
    acquire(dataset_dir)
    try:
        yield
    finally:
        release(dataset_dir)


def _os_lock(fd: int) -> bool:
    """Take the OS lock without waiting; False when another process holds it."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except PermissionError:  # msvcrt: locked by another process
        return False
    except OSError:  # no OS locks here (some network file systems): the pid decides
        owner = _read_pid(fd)
        return owner is None or owner == os.getpid() or not _running(owner)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _running(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there; assume the owner is alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
