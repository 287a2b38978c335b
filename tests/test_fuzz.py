"""Fuzzing the public entry points: a few hundred mutated pictures (every format we read) and Moebooru XML
answers. Every one must end in a result or a readable AniSketchError -- never another exception -- with
memory bounded. Seeded, so a failure reproduces."""

from __future__ import annotations

import io
import resource
import time

import numpy as np
import pytest
from moebooru_server import MoebooruServer
from PIL import Image

from anisketch_desktop.cli import main
from anisketch_desktop.core import imageio
from anisketch_desktop.core.errors import AniSketchError
from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
from anisketch_desktop.dataset.http import HttpOptions
from anisketch_desktop.dataset.moebooru import parse_posts, parse_tags

FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "bmp": "BMP", "gif": "GIF", "tif": "TIFF"}
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on damaged TIFF tags
MAX_PIXELS = 4_000_000  # what a mutated header may claim is decoded only up to this


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 255, (18, 24, 3), dtype=np.uint8)
    out = {}
    for ext, fmt in FORMATS.items():
        buffer = io.BytesIO()
        image = Image.fromarray(rgb if ext != "gif" else rgb[..., 0])
        image.save(buffer, format=fmt, **({"exif": b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0"}
                                           if ext == "jpg" else {}))
        out[ext] = buffer.getvalue()
    buffer = io.BytesIO()  # 16-bit colour PNG (decoded by OpenCV)
    import cv2

    ok, png16 = cv2.imencode(".png", (rgb.astype(np.uint16) * 257))
    out["png16.png"] = png16.tobytes()
    return out


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to three random edits: flipped bytes, a cut, inserted junk, a duplicated slice, a header field set
    to an extreme value."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 5))
        pos = int(rng.integers(0, max(1, len(b))))
        if kind == 0:
            for _ in range(int(rng.integers(1, 8))):
                b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        elif kind == 1:
            del b[pos:]
        elif kind == 2:
            b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        elif kind == 3:
            end = min(len(b), pos + int(rng.integers(1, 256)))
            b[pos:pos] = b[pos:end] * int(rng.integers(1, 4))
        else:
            at = int(rng.integers(0, min(64, max(1, len(b) - 4))))
            b[at:at + 4] = bytes([0xFF, 0xFF, 0x7F, 0xFF]) if rng.random() < 0.5 else b"\x00\x00\xff\xff"
        if not b:
            break
    return bytes(b)


def test_mutated_pictures_are_read_or_refused_cleanly(tmp_path, capsys):
    rng = np.random.default_rng(1234)
    folder = tmp_path / "in"
    folder.mkdir()
    samples = []
    for name, data in seeds().items():
        ext = name.rsplit(".", 1)[-1]
        for i in range(50):
            path = folder / f"{name.replace('.', '_')}_{i:02d}.{ext}"
            path.write_bytes(mutate(data, rng))
            samples.append(path)
    assert len(samples) == 350
    before, started = rss_mb(), time.monotonic()
    read, refused = 0, 0
    for path in samples:
        try:
            image = imageio.read_image(path, max_pixels=MAX_PIXELS)
        except AniSketchError as exc:
            assert path.name in str(exc), str(exc)
            refused += 1
        else:
            assert image.dtype in (np.uint8, np.uint16) and image.ndim in (2, 3) and image.size > 0
            read += 1
    assert read > 20 and refused > 100  # the mutations really did both
    # the same files through the command line: one line per failure, never a traceback
    code = main(["xdog", str(folder), "-o", str(tmp_path / "out"), "-q", "--max-pixels", str(MAX_PIXELS)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
    written = len(list((tmp_path / "out").iterdir()))
    assert written + err.count("failed:") >= len(samples) - 5  # each file is either written or reported
    assert rss_mb() - before < 400, f"RSS grew {rss_mb() - before:.0f} MB"
    print(f"{len(samples)} mutated pictures: {read} read, {refused} refused, {written} sketched "
          f"in {time.monotonic() - started:.1f} s")


XML_EDITS = [
    lambda t, r: t.replace('id="', 'id="9' * int(r.integers(1, 40)), 1),
    lambda t, r: t.replace('file_size="', 'file_size="-', 1),
    lambda t, r: t.replace('width="', 'width="' + "9" * 5000, 1),
    lambda t, r: t.replace("<posts", '<!DOCTYPE p [<!ENTITY a "b">]><posts', 1),
    lambda t, r: t.replace("<posts", "<posts>" + "<x>" * 3000, 1),
    lambda t, r: t.replace('md5="', 'md5="zz', 1),
    lambda t, r: t.replace('tags="', 'tags="&amp;&lt;\x01', 1),
    lambda t, r: t.replace('rating="s"', 'rating="s" rating="q"', 1),
    lambda t, r: t.replace('file_url="', 'file_url="file:///etc/passwd#', 1),
    lambda t, r: t.replace('sample_url="', 'sample_url="javascript:', 1),
    lambda t, r: t.replace("<posts", "<tags", 1),
    lambda t, r: t.encode("utf-16").decode("latin-1"),
]


def mutated_feeds(seed: bytes, n: int, rng: np.random.Generator) -> list[bytes]:
    text = seed.decode()
    feeds = []
    for i in range(n):
        if i % 2:
            feeds.append(mutate(seed, rng))
        else:
            edit = XML_EDITS[int(rng.integers(0, len(XML_EDITS)))]
            feeds.append(edit(text, rng).encode("utf-8", "surrogatepass"))
    return feeds


def test_mutated_xml_feeds_are_parsed_or_refused_cleanly(tmp_path):
    with MoebooruServer(n_posts=3) as server:
        _, seed = server.list_posts({"limit": ["100"]})
        tag_seed = server.list_tags({})
        rng = np.random.default_rng(99)
        feeds = mutated_feeds(seed, 300, rng)
        before = rss_mb()
        outcomes = {"parsed": 0, "refused": 0}
        for data in feeds + mutated_feeds(tag_seed, 60, rng):
            for parse in (parse_posts, parse_tags):
                try:
                    parse(data)
                    outcomes["parsed"] += 1
                except AniSketchError:
                    outcomes["refused"] += 1
        assert outcomes["parsed"] > 50 and outcomes["refused"] > 50, outcomes
        # a few dozen whole crawls against a site answering mutated feeds: a report or a readable error
        http = HttpOptions(delay=0.0, download_delay=0.0, backoff=0.0, retries=0, timeout=5.0)
        ended = {"report": 0, "error": 0}
        for i, data in enumerate(feeds[:40]):
            server.inject("/post.xml", "body", body=data)
            try:
                crawl(tmp_path / f"ds{i}", CrawlOptions(site=server.url, count=3, http=http))
                ended["report"] += 1
            except AniSketchError:
                ended["error"] += 1
            server.faults.clear()
        assert ended["report"] > 5 and ended["error"] > 5, ended
        assert rss_mb() - before < 200


@pytest.mark.parametrize("claim", [(60000, 60000), (1, 4_000_000_000)])
def test_a_header_claiming_a_huge_picture_is_refused_before_decoding(tmp_path, claim):
    import struct
    import zlib

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    data = bytearray(png.getvalue())
    data[16:24] = struct.pack(">II", *claim)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    before = rss_mb()
    with pytest.raises(AniSketchError, match="bomb.png"):
        imageio.read_image(tmp_path / "bomb.png")
    assert rss_mb() - before < 50
