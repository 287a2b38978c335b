"""Hostile input files: devices, pipes and huge junk named .png, colour profiles, very long names."""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anisketch_desktop.cli import main
from anisketch_desktop.core import imageio
from anisketch_desktop.core.errors import ImageReadError, ImageTooLargeError
from anisketch_desktop.dataset.importer import import_folder

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="devices and FIFOs are POSIX")


def picture(path: Path, size=(40, 32)) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def finishes(func, seconds: float):
    """Run ``func`` on a thread; its result or exception, or AssertionError if it is still running."""
    out: dict = {}

    def run():
        try:
            out["value"] = func()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still reading after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


@posix_only
def test_a_link_to_dev_zero_named_png_is_refused_at_once(tmp_path):
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(ImageReadError, match="zero.png is a device"):
        finishes(lambda: imageio.read_image(link), 2)


@posix_only
def test_a_fifo_named_png_never_hangs(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageReadError, match="pipe.png is a pipe"):
        finishes(lambda: imageio.read_image(fifo), 2)


def test_a_3_gb_junk_file_is_refused_before_it_is_read(tmp_path):
    junk = tmp_path / "junk.png"
    with open(junk, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(3 * 2**30)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImageTooLargeError, match=r"junk.png is 3.0 GB; a picture file may be at most"):
            imageio.read_image(junk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 1 and peak < 2**20
    assert imageio.max_file_bytes(10**6) < imageio.max_file_bytes() < 3 * 2**30  # follows the pixel limit


@posix_only
def test_a_batch_with_a_device_a_pipe_and_junk_does_the_rest(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    picture(folder / "good.png")
    (folder / "zero.png").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.png")
    with open(folder / "junk.png", "wb") as handle:
        handle.truncate(3 * 2**30)
    started = time.monotonic()
    code = finishes(lambda: main(["xdog", str(folder), "-o", str(tmp_path / "out"), "-q"]), 20)
    err = capsys.readouterr().err
    assert code == 1 and time.monotonic() - started < 20
    assert "zero.png is a device" in err and "pipe.png is a pipe" in err and "junk.png is 3.0 GB" in err
    written = list((tmp_path / "out").iterdir())
    assert [p.name[:11] for p in written] == ["good_sketch"] and imageio.read_image(written[0]).shape == (32, 40)
    report = finishes(lambda: import_folder(tmp_path / "ds", folder), 20)
    assert report.added == 1 and sorted(p.name for p, _ in report.failed) == ["junk.png", "pipe.png", "zero.png"]


# ------------------------------------------------------------------------------------------ colour profiles
def rgb_profile(primaries: list[tuple[float, float, float]], gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 RGB display profile (matrix + gamma) with the given D50 primaries (XYZ of R, G, B)."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(v) -> bytes:
        return b"XYZ " + b"\0" * 4 + b"".join(s15(c) for c in v)

    desc_text = b"test swapped primaries\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(desc_text)) + desc_text + b"\0" * 12 + b"\0" * 67
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", round(gamma * 256)) + b"\0\0"
    tags = [(b"desc", desc), (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(primaries[0])),
            (b"gXYZ", xyz(primaries[1])), (b"bXYZ", xyz(primaries[2])), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve), (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        while (offset + len(data)) % 4:
            data += b"\0"
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = bytearray(128)
    header[0:4] = struct.pack(">I", 128 + len(body))
    header[8:12] = bytes([2, 0x10, 0, 0])
    header[12:16], header[16:20], header[20:24] = b"mntr", b"RGB ", b"XYZ "
    header[36:40] = b"acsp"
    header[68:80] = s15(0.9642) + s15(1.0) + s15(0.8249)
    return bytes(header) + body


SRGB_D50 = [(0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)]


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_an_embedded_colour_profile_is_converted_to_srgb(tmp_path, fmt):
    swapped = rgb_profile([SRGB_D50[1], SRGB_D50[0], SRGB_D50[2]])  # "red" is sRGB green and vice versa
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:] = (220, 40, 40)
    Image.fromarray(pixels).save(tmp_path / f"p.{fmt}", icc_profile=swapped, quality=95)
    Image.fromarray(pixels).save(tmp_path / f"plain.{fmt}", quality=95)
    got = imageio.read_image(tmp_path / f"p.{fmt}")[8, 8].astype(int)
    plain = imageio.read_image(tmp_path / f"plain.{fmt}")[8, 8].astype(int)
    assert abs(plain - (220, 40, 40)).max() <= 3  # no profile: as stored
    assert got[1] > 180 and got[0] < 90 and got[2] < 90, got  # the profile's red is green in sRGB


def test_an_srgb_or_broken_profile_keeps_the_pixels(tmp_path):
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = np.full((8, 8, 3), (10, 200, 90), np.uint8)
    for name, icc in (("srgb.png", srgb), ("broken.png", b"not a profile at all" * 8)):
        Image.fromarray(pixels).save(tmp_path / name, icc_profile=icc)
        assert (imageio.read_image(tmp_path / name) == pixels).all(), name


# ------------------------------------------------------------------------------------------ long names
@pytest.mark.parametrize("length", [231, 238, 244, 250])
def test_very_long_stems_give_short_distinct_output_names(tmp_path, length, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    a, b = "a" * (length - 1) + "1", "a" * (length - 1) + "2"
    picture(folder / f"{a}.png")
    picture(folder / f"{b}.png", size=(30, 30))
    assert main(["xdog", str(folder), "-o", str(tmp_path / "out"), "-q"]) == 0, capsys.readouterr().err
    outputs = sorted((tmp_path / "out").iterdir())
    assert len(outputs) == 2 and all(len(p.name.encode()) <= 255 for p in outputs)
    assert all(p.name.endswith(".png") and p.name.startswith("a" * 200) for p in outputs)
    assert {imageio.read_image(p).shape for p in outputs} == {(32, 40), (30, 30)}
    # a second run finds its outputs under the same short names and skips them
    assert main(["xdog", str(folder), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert "2 skipped" in capsys.readouterr().err


def test_fit_name_cuts_at_a_character_boundary():
    name = "é" * 200 + "_sketch.png"  # 411 bytes
    short = imageio.fit_name(name)
    assert len(short.encode()) <= 255 and short.endswith("_sketch.png"[-4:]) and short.startswith("é" * 100)
    assert imageio.fit_name("x.png") == "x.png" and imageio.fit_name(name) == short
    assert imageio.fit_name("é" * 199 + "x_sketch.png") != short
