"""Review decisions (persist, bulk, undo), review order and counts, approved pairs, export, thumbnails."""

from __future__ import annotations

import csv
import os
import sqlite3
import threading

import numpy as np
import pytest
from moebooru_server import encode, make_picture

from anisketch_desktop.core.errors import AniSketchError, ImageReadError, OutputExistsError
from anisketch_desktop.core.imageio import read_image
from anisketch_desktop.dataset.approval import (
    can_undo,
    counts,
    export_dataset,
    review_pairs,
    set_decision,
    undo,
)
from anisketch_desktop.dataset.importer import import_folder
from anisketch_desktop.dataset.pairs import generate_pairs
from anisketch_desktop.dataset.store import DatasetError, DatasetStore, approved_pairs
from anisketch_desktop.dataset.thumbnails import thumbnail_path


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(6):
        (folder / f"p{i}.jpg").write_bytes(encode(make_picture(10 + i, 120, 90), "jpg"))
    import_folder(tmp_path / "ds", folder)
    generate_pairs(tmp_path / "ds", "default")
    return tmp_path / "ds"


def test_decisions_persist_across_reopen(dataset):
    with DatasetStore(dataset) as store:
        first, second = (row.id for row in review_pairs(store)[:2])
        assert set_decision(store, first, "approved") == 1
        assert set_decision(store, second, "rejected") == 1
    with DatasetStore(dataset) as store:  # a new connection reads what was committed
        assert store.image(first).decision == "approved" and store.image(second).decision == "rejected"
    with sqlite3.connect(dataset / "dataset.sqlite") as conn:  # and so does anyone else
        assert conn.execute("SELECT COUNT(*) FROM images WHERE decision IS NOT NULL").fetchone()[0] == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_review_order_counts_and_filters(dataset):
    with DatasetStore(dataset) as store:
        pairs = review_pairs(store)
        scores = [row.clarity for row in pairs]
        assert scores == sorted(scores, reverse=True) and len(pairs) == 6
        best = pairs[0].id
        set_decision(store, best, "approved")
        reordered = review_pairs(store)
        assert reordered[-1].id == best  # decided pairs go after the undecided ones
        set_decision(store, [p.id for p in pairs[1:3]], "rejected")
        c = counts(store)
        assert (c.total, c.reviewed, c.approved, c.rejected, c.stale) == (6, 3, 1, 2, 0)
        assert str(c) == "Reviewed 3 / 6 · ✓ 1 ✗ 2"
        assert [r.id for r in review_pairs(store, "approved")] == [best]
        assert {r.id for r in review_pairs(store, "rejected")} == {p.id for p in pairs[1:3]}
        assert len(review_pairs(store, "undecided")) == 3
        page = review_pairs(store, limit=2, offset=1)
        assert [r.id for r in page] == [r.id for r in review_pairs(store)[1:3]]
        with pytest.raises(DatasetError):
            review_pairs(store, "maybe")
        with pytest.raises(DatasetError):
            set_decision(store, best, "maybe")
        with pytest.raises(DatasetError, match="No sketch pair"):
            set_decision(store, "u0000", "approved")


def test_bulk_decisions_undo_as_one_step_and_undo_survives_restart(dataset):
    with DatasetStore(dataset) as store:
        ids = [row.id for row in review_pairs(store)]
        set_decision(store, ids[0], "rejected")
        assert set_decision(store, ids[:4], "approved") == 4
        assert set_decision(store, ids[:4], "approved") == 0  # nothing changed: no undo step
        set_decision(store, ids[1], None)  # clear
        assert store.image(ids[1]).decision is None
    with DatasetStore(dataset) as store:
        assert undo(store) == [ids[1]] and store.image(ids[1]).decision == "approved"
        assert sorted(undo(store)) == sorted(ids[:4])
        assert [store.image(i).decision for i in ids[:4]] == ["rejected", None, None, None]
        assert undo(store) == [ids[0]] and store.image(ids[0]).decision is None
        assert undo(store) == [] and not can_undo(store)


def test_undo_restores_staleness_against_the_current_sketch(dataset):
    with DatasetStore(dataset) as store:
        image_id = review_pairs(store)[0].id
        set_decision(store, image_id, "approved")
    generate_pairs(dataset, "bold")
    with DatasetStore(dataset) as store:
        assert store.image(image_id).stale
        set_decision(store, image_id, "rejected")
        assert not store.image(image_id).stale
        undo(store)  # back to the approval made on the default sketch, which is no longer shown
        assert store.image(image_id).decision == "approved" and store.image(image_id).stale


def test_approved_pairs_and_export(dataset, tmp_path):
    with DatasetStore(dataset) as store:
        ids = [row.id for row in review_pairs(store)]
        set_decision(store, ids[:3], "approved")
        set_decision(store, ids[3], "rejected")
    pairs = approved_pairs(dataset)
    assert [c.stem for c, _ in pairs] == ids[:3] and all(s.parent.name == "sketches" for _, s in pairs)
    out = tmp_path / "export"
    seen = []
    report = export_dataset(dataset, out, progress=seen.append)
    assert report.written == 3 and seen[-1] == 1.0
    assert sorted(p.name for p in (out / "color").iterdir()) == sorted(f"{i}.jpg" for i in ids[:3])
    assert sorted(p.name for p in (out / "sketch").iterdir()) == sorted(f"{i}.jpg" for i in ids[:3])
    for color, sketch in pairs:
        assert (out / "color" / color.name).read_bytes() == color.read_bytes()
        exported = read_image(out / "sketch" / color.name)
        assert exported.ndim == 2 and exported.shape == read_image(sketch).shape
        assert np.abs(exported.astype(int) - read_image(sketch).astype(int)).mean() < 8  # JPEG q95
    with open(out / "pairs.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted(r["file"] for r in rows) == sorted(f"{i}.jpg" for i in ids[:3])
    assert {r["color_size"] for r in rows} == {"120x90"} and {r["clean_aligned"] for r in rows} == {"1"}
    # the training code reads the export folder, and the dataset folder itself
    from training.data import approved_pairs as training_pairs
    from training.data import list_pairs

    assert sorted(name for name, _, _ in list_pairs(out)) == sorted(f"{i}.jpg" for i in ids[:3])
    assert training_pairs(dataset) == pairs
    # exporting again is a no-op; a different file in the way is not overwritten silently
    assert export_dataset(dataset, out).skipped == 3
    victim = out / "color" / f"{ids[0]}.jpg"
    victim.write_bytes(b"user's own file")
    with pytest.raises(OutputExistsError):
        export_dataset(dataset, out)
    assert victim.read_bytes() == b"user's own file"
    export_dataset(dataset, out, overwrite=True)
    assert victim.read_bytes() == pairs[0][0].read_bytes()


def test_export_needs_approved_pairs(dataset, tmp_path):
    with pytest.raises(AniSketchError, match="No approved pairs"):
        export_dataset(dataset, tmp_path / "out")


def test_thumbnails_are_cached_and_rebuilt_when_the_sketch_changes(dataset):
    with DatasetStore(dataset) as store:
        image_id = store.images()[0].id
    thumb = thumbnail_path(dataset, image_id, 64)
    assert thumb.is_file() and read_image(thumb).shape == (48, 64, 3)
    stamp = thumb.stat().st_mtime_ns
    assert thumbnail_path(dataset, image_id, 64) == thumb and thumb.stat().st_mtime_ns == stamp  # cached
    sketch_thumb = thumbnail_path(dataset, image_id, 64, "sketch")
    assert read_image(sketch_thumb).ndim == 2
    before = read_image(sketch_thumb)
    generate_pairs(dataset, "bold", ids=[image_id])
    os.utime(dataset / f"sketches/{image_id}.png", ns=(stamp + 10**9, stamp + 10**9))
    after = read_image(thumbnail_path(dataset, image_id, 64, "sketch"))
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1  # rebuilt from the new sketch
    assert read_image(thumbnail_path(dataset, image_id, 512)).shape == (90, 120, 3)  # never enlarged
    with pytest.raises(ImageReadError):
        thumbnail_path(dataset, "u0000", 64)
    with pytest.raises(DatasetError):
        thumbnail_path(dataset, "../../etc/passwd", 64)


def test_thumbnails_from_several_threads(dataset):
    with DatasetStore(dataset) as store:
        ids = [row.id for row in store.images()]
    errors = []

    def work():
        try:
            for image_id in ids:
                thumbnail_path(dataset, image_id, 32)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(list((dataset / "cache/thumbs/32").glob("*.jpg"))) == 6
    assert not list((dataset / "cache/thumbs/32").glob(".*"))  # no temporary files left


def test_typed_reads_for_the_wizard(dataset):
    """What the wizard shows comes from typed store methods (no SQL above dataset/)."""
    with DatasetStore(dataset) as store:
        pairs = review_pairs(store)
        ids = sorted(row.id for row in pairs)
        assert store.picture_ids() == ids
        assert store.state_counts() == {"done": 6}
        assert sorted(store.clarity_scores(pairs_only=True)) == sorted(row.clarity for row in pairs)
        set_decision(store, ids[0], "approved")
        set_decision(store, ids[1], "rejected")
        everything = store.pair_decisions()
        assert everything[ids[0]] == ("approved", False) and everything[ids[1]] == ("rejected", False)
        assert everything[ids[2]] == (None, False) and len(everything) == 6
        assert store.pair_decisions([ids[1], "nope"]) == {ids[1]: ("rejected", False)}
        assert len(store.pair_decisions(ids * 200)) == 6  # more ids than SQLite binds at once
