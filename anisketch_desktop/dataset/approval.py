"""Review decisions on picture/sketch pairs: set, bulk, undo, queries, counts, approved pairs, export.

A decision is ``"approved"``, ``"rejected"`` or ``None`` (undecided / cleared) and is saved at once. Every
call to :func:`set_decision` (one id or many) is one undo step: the previous decision and stale flag of each
id go to ``decision_log``, and :func:`undo` puts the most recent step back, so undo survives a restart.
Deciding on a pair clears its stale flag (see ``pairs.py``).

Review order (:func:`review_pairs`): undecided and stale pairs first, then by clarity score, best first,
then by id. :func:`export_dataset` writes a plain ``color/`` + ``sketch/`` folder of the approved pairs with
matching file names (the layout the training code reads) plus a ``pairs.tsv``.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core.errors import AniSketchError, Cancelled, OutputExistsError
from anisketch_desktop.dataset.store import DatasetError, DatasetStore, ImageRow, approved_pairs, same_sketch

__all__ = ["Counts", "FILTERS", "approved_pairs", "can_undo", "counts", "export_dataset", "review_pairs",
           "set_decision", "undo"]

DECISIONS = ("approved", "rejected")
FILTERS = ("all", "undecided", "approved", "rejected", "stale")
_PAIR = "state='done' AND sketch_path IS NOT NULL"
_WHERE = {
    "all": "",
    "undecided": "decision IS NULL",
    "approved": "decision='approved' AND stale=0",
    "rejected": "decision='rejected' AND stale=0",
    "stale": "stale=1",
}
_ORDER = "(decision IS NULL OR stale=1) DESC, clarity DESC, id"


@dataclass(frozen=True)
class Counts:
    total: int  # pairs (pictures with a sketch)
    reviewed: int  # with a current (not stale) decision
    approved: int
    rejected: int
    stale: int

    def __str__(self) -> str:
        return f"Reviewed {self.reviewed:,} / {self.total:,} · ✓ {self.approved:,} ✗ {self.rejected:,}"


def set_decision(store: DatasetStore, ids: str | Iterable[str], decision: str | None) -> int:
    """Decide on one id or many (one undo step). Returns how many pairs were changed."""
    if decision not in (*DECISIONS, None):
        raise DatasetError(f"A decision is 'approved', 'rejected' or None, not {decision!r}")
    ids = [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))
    now = time.time()
    with store.transaction() as conn:
        batch = (conn.execute("SELECT MAX(batch) FROM decision_log").fetchone()[0] or 0) + 1
        changed = 0
        for image_id in ids:
            sql = f"SELECT decision, stale, decided_params, sketch_params FROM images WHERE id=? AND {_PAIR}"
            row = conn.execute(sql, (image_id,)).fetchone()
            if row is None:
                raise DatasetError(f"No sketch pair {image_id!r} in the dataset")
            if row["decision"] == decision and not row["stale"]:
                continue
            conn.execute(
                "INSERT INTO decision_log(batch, id, old_decision, old_stale, old_params, new_decision, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (batch, image_id, row["decision"], row["stale"], row["decided_params"], decision, now),
            )
            conn.execute("UPDATE images SET decision=?, stale=0, decided_params=?, decided_at=? WHERE id=?",
                         (decision, row["sketch_params"] if decision else None, now, image_id))
            changed += 1
    return changed


def undo(store: DatasetStore) -> list[str]:
    """Revert the latest :func:`set_decision` step; returns the ids it touched ([] when nothing to undo)."""
    with store.transaction() as conn:
        batch = conn.execute("SELECT MAX(batch) FROM decision_log").fetchone()[0]
        if batch is None:
            return []
        entries = conn.execute("SELECT id, old_decision, old_params FROM decision_log WHERE batch=?"
                               " ORDER BY seq DESC", (batch,)).fetchall()
        for entry in entries:  # staleness is recomputed: the sketch may have changed since
            current = conn.execute("SELECT sketch_params FROM images WHERE id=?", (entry["id"],)).fetchone()
            stale = entry["old_decision"] is not None and not same_sketch(entry["old_params"], current[0])
            conn.execute("UPDATE images SET decision=?, stale=?, decided_params=?, decided_at=? WHERE id=?",
                         (entry["old_decision"], int(stale), entry["old_params"], time.time(), entry["id"]))
        conn.execute("DELETE FROM decision_log WHERE batch=?", (batch,))
    return [entry["id"] for entry in reversed(entries)]


def can_undo(store: DatasetStore) -> bool:
    return bool(store.query("SELECT 1 FROM decision_log LIMIT 1"))


def review_pairs(store: DatasetStore, filter: str = "all", limit: int | None = None,
                 offset: int = 0) -> list[ImageRow]:
    """Pairs in review order (undecided and stale first, then clarity desc), optionally filtered."""
    if filter not in FILTERS:
        raise DatasetError(f"Unknown filter {filter!r}; choose from {', '.join(FILTERS)}")
    where = " AND ".join(c for c in (_PAIR, _WHERE[filter]) if c)
    if limit is not None:
        return store.images(None, where, order=f"{_ORDER} LIMIT {int(limit)} OFFSET {int(offset)}")
    return store.images(None, where, order=_ORDER)


def counts(store: DatasetStore) -> Counts:
    row = store.query(
        "SELECT COUNT(*), SUM(decision IS NOT NULL AND stale=0), SUM(decision='approved' AND stale=0),"
        f" SUM(decision='rejected' AND stale=0), SUM(stale=1) FROM images WHERE {_PAIR}"
    )[0]
    return Counts(*(int(value or 0) for value in row))


@dataclass
class ExportReport:
    out_dir: Path
    written: int
    skipped: int  # already there with the same content


def export_dataset(dataset_dir: str | Path, out_dir: str | Path,
                   progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
                   overwrite: bool = False) -> ExportReport:
    """Copy the approved pairs to ``out_dir/color/<id>.<ext>`` and ``out_dir/sketch/<id>.<ext>``.

    The sketch is saved under the colour file's name (JPEG q95, PNG or lossless WebP, as the colour file), so
    a pair shares one name as in the shipped training set; ``pairs.tsv`` lists them. A different file already
    in ``out_dir`` is only replaced with ``overwrite``; re-exporting the same dataset skips identical files.
    """
    from anisketch_desktop.core import imageio

    out = Path(out_dir)
    pairs = approved_pairs(dataset_dir)
    if not pairs:
        raise AniSketchError("No approved pairs to export: approve some pairs first.")
    (out / "color").mkdir(parents=True, exist_ok=True)
    (out / "sketch").mkdir(parents=True, exist_ok=True)
    report = ExportReport(out, 0, 0)
    lines = []
    for index, (color, sketch) in enumerate(pairs):
        if cancel and cancel():
            raise Cancelled("Export cancelled; the pairs written so far are complete.")
        name = color.name
        sketch_img = imageio.to_uint8(imageio.to_float_gray(imageio.read_image(sketch)))
        color_img = imageio.read_image(color)
        encoded = _encode_like(sketch_img, name)
        wrote = _copy_bytes(color.read_bytes(), out / "color" / name, overwrite)
        wrote = _copy_bytes(encoded, out / "sketch" / name, overwrite) or wrote
        report.written += wrote
        report.skipped += not wrote
        lines.append((name, f"{color_img.shape[1]}x{color_img.shape[0]}",
                      f"{sketch_img.shape[1]}x{sketch_img.shape[0]}", "1"))
        if progress:
            progress((index + 1) / len(pairs))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(("file", "color_size", "sketch_size", "clean_aligned"))
    writer.writerows(lines)
    _copy_bytes(buffer.getvalue().encode(), out / "pairs.tsv", overwrite=True)
    return report


def _encode_like(sketch: np.ndarray, name: str) -> bytes:
    """The gray sketch encoded in the format of ``name``'s suffix (JPEG q95, PNG, lossless WebP)."""
    suffix = Path(name).suffix.lower()
    options = {".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
               ".webp": [cv2.IMWRITE_WEBP_QUALITY, 101]}.get(suffix, [])
    ok, buffer = cv2.imencode(suffix if suffix in (".jpg", ".jpeg", ".webp") else ".png", sketch, options)
    if not ok:
        raise AniSketchError(f"Cannot encode the sketch of {name}")
    return buffer.tobytes()


def _copy_bytes(data: bytes, target: Path, overwrite: bool) -> bool:
    """Write ``data`` to ``target`` atomically; False when ``target`` already holds exactly these bytes."""
    if target.exists():
        if target.read_bytes() == data:
            return False
        if not overwrite:
            raise OutputExistsError(f"{target} exists with different content (pass overwrite to replace it)")
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return True
