"""Folder import, XDoG pair generation, and what regeneration does to review decisions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from moebooru_server import encode, make_picture

from anisketch_desktop.core import xdog
from anisketch_desktop.core.errors import AniSketchError, Cancelled, ImageReadError
from anisketch_desktop.core.imageio import decode_image, read_image
from anisketch_desktop.dataset.approval import counts, review_pairs, set_decision
from anisketch_desktop.dataset.importer import import_folder
from anisketch_desktop.dataset.pairs import generate_pairs
from anisketch_desktop.dataset.store import DatasetStore, approved_pairs


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    for i in range(3):
        (folder / f"p{i}.jpg").write_bytes(encode(make_picture(i, 80, 60), "jpg"))
    (folder / "sub" / "p3.png").write_bytes(encode(make_picture(3, 60, 80), "png"))
    (folder / "p4.png").write_bytes(encode(make_picture(4, 50, 40), "png"))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


@pytest.fixture
def dataset(tmp_path, pictures):
    import_folder(tmp_path / "ds", pictures)
    return tmp_path / "ds"


def test_import_copies_pictures_once_and_reports_broken_ones(tmp_path, pictures):
    report = import_folder(tmp_path / "ds", pictures)
    assert report.added == 5 and report.duplicates == 0
    assert [p.name for p, _ in report.failed] == ["broken.jpg"]
    with DatasetStore(tmp_path / "ds") as store:
        rows = {row.source: row for row in store.images()}
        assert set(rows) == {"p0.jpg", "p1.jpg", "p2.jpg", "p3.png", "p4.png"}
        for name, row in rows.items():  # byte-for-byte copies named by md5
            data = (tmp_path / "ds" / row.path).read_bytes()
            assert data == next(pictures.rglob(name)).read_bytes()
            assert row.path == f"images/u{hashlib.md5(data).hexdigest()[:16]}{Path(name).suffix}"
        assert (rows["p3.png"].width, rows["p3.png"].height) == (60, 80)
    again = import_folder(tmp_path / "ds", pictures)
    assert again.added == 0 and again.duplicates == 5
    flat = import_folder(tmp_path / "ds2", pictures, recursive=False)
    assert flat.added == 4 and [p.name for p, _ in flat.failed] == ["broken.jpg"]
    with DatasetStore(tmp_path / "ds2") as store:
        assert "p3.png" not in {row.source for row in store.images()}


def _core_reads_bmp() -> bool:
    try:
        decode_image(cv2.imencode(".bmp", np.zeros((4, 4, 3), np.uint8))[1].tobytes())
    except ImageReadError:
        return False
    return True


@pytest.mark.skipif(not _core_reads_bmp(), reason="core.imageio cannot decode BMP (Pillow has no MPO plugin)")
def test_import_converts_other_formats_to_png(tmp_path):
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "p.bmp"), make_picture(4, 50, 40))
    assert import_folder(tmp_path / "ds", tmp_path / "in").added == 1
    with DatasetStore(tmp_path / "ds") as store:
        row = store.images()[0]
    assert row.path.endswith(".png")
    assert np.array_equal(read_image(tmp_path / "ds" / row.path), read_image(tmp_path / "in" / "p.bmp"))
    assert import_folder(tmp_path / "ds", tmp_path / "in").duplicates == 1


def test_pairs_writes_sketches_and_scores(dataset):
    seen = []
    report = generate_pairs(dataset, "default", progress=seen.append)
    assert report.generated == 5 and not report.failed
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with DatasetStore(dataset) as store:
        for row in store.images():
            sketch = read_image(dataset / row.sketch_path)
            color = read_image(dataset / row.path)
            expected = xdog.xdog(color, xdog.PRESETS["default"])
            assert sketch.shape == color.shape[:2] and sketch.dtype == np.uint8
            assert np.abs(sketch.astype(int) - np.round(expected * 255)).max() <= 1
            assert row.clarity == pytest.approx(xdog.clarity_score(expected), abs=1e-6)
            stored = json.loads(row.sketch_params)
            assert stored["mode"] == "default"
            assert stored["params"]["sigma"] == round(xdog.PRESETS["default"].sigma, 6)
            assert 0 < (sketch < 128).mean() < 0.5  # real lines, not a blank or black page


def test_auto_mode_stores_the_tuned_parameters(dataset):
    generate_pairs(dataset, "auto", speck_size=4)
    with DatasetStore(dataset) as store:
        row = store.images()[0]
        params, _ = xdog.auto_tune(read_image(dataset / row.path))
        stored = json.loads(row.sketch_params)
        assert stored["mode"] == "auto" and stored["speck_size"] == 4
        assert stored["params"]["sigma"] == pytest.approx(params.sigma, abs=1e-5)
    assert generate_pairs(dataset, "auto", speck_size=4).unchanged == 5  # not tuned again


def test_regeneration_keeps_current_decisions_and_flags_changed_ones_stale(dataset):
    generate_pairs(dataset, "default")
    with DatasetStore(dataset) as store:
        a, b, c = (row.id for row in review_pairs(store)[:3])
        set_decision(store, [a, b], "approved")
        set_decision(store, c, "rejected")
        before = (dataset / f"sketches/{a}.png").stat().st_mtime_ns

    same = generate_pairs(dataset, "default")  # same parameters: nothing recomputed, nothing stale
    assert same.unchanged == 5 and same.generated == 0 and same.stale == 0
    assert (dataset / f"sketches/{a}.png").stat().st_mtime_ns == before
    assert len(approved_pairs(dataset)) == 2

    changed = generate_pairs(dataset, "bold")  # new sketches: decisions kept, flagged stale
    assert changed.generated == 5 and changed.stale == 3
    with DatasetStore(dataset) as store:
        assert {r.id: (r.decision, r.stale) for r in store.images() if r.decision} == {
            a: ("approved", True), b: ("approved", True), c: ("rejected", True)}
        assert approved_pairs(dataset) == []  # nobody approved the bold sketches yet
        assert counts(store).stale == 3 and counts(store).reviewed == 0
        assert {r.id for r in review_pairs(store)[:5]} >= {a, b, c}  # back in the review queue
        set_decision(store, a, "approved")  # confirming clears the flag
        assert [p[0].stem for p in approved_pairs(dataset)] == [a]
    # back to the sketches b and c were judged on: their decisions apply again; a's now refers to bold
    generate_pairs(dataset, "default")
    with DatasetStore(dataset) as store:
        assert [store.image(i).stale for i in (a, b, c)] == [True, False, False]
        assert [p[0].stem for p in approved_pairs(dataset)] == [b]


def test_force_regenerates_and_ids_limits(dataset):
    generate_pairs(dataset)
    with DatasetStore(dataset) as store:
        first = store.images()[0].id
    report = generate_pairs(dataset, force=True, ids=[first])
    assert report.generated == 1 and report.unchanged == 0


def test_pairs_errors_and_cancel(dataset, tmp_path):
    with pytest.raises(AniSketchError, match="Unknown XDoG preset"):
        generate_pairs(dataset, "nope")
    with pytest.raises(AniSketchError, match="not a dataset"):
        generate_pairs(tmp_path / "empty")
    with pytest.raises(Cancelled):
        generate_pairs(dataset, cancel=lambda: True)
    assert not list((dataset / "sketches").iterdir())
    custom = generate_pairs(dataset, {"sigma": 0.8, "epsilon": 0.3})
    assert custom.generated == 5
