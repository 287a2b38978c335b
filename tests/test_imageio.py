"""Image files in and out: every mode round-trips, bad files fail readably, writes are atomic and polite."""

from __future__ import annotations

import errno
import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from anisketch_desktop.core import imageio
from anisketch_desktop.core.errors import ImageReadError, ImageTooLargeError, ImageWriteError, OutputExistsError
from anisketch_desktop.core.imageio import (
    decode_image,
    iter_image_files,
    read_image,
    save_image,
    to_float_gray,
    to_float_rgb,
    to_uint8,
    to_uint8_rgb,
)

RNG = np.random.default_rng(7)


def _random(shape, dtype=np.uint8):
    return RNG.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)


def _smooth_rgb(h=24, w=32):
    """A gradient picture (JPEG keeps it within a few levels, unlike noise)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x / w, y / h, (x + y) / (w + h)], axis=2)


def _gray_over_white(la):
    gray, alpha = la[..., 0].astype(np.float32), la[..., 1].astype(np.float32) / 255.0
    return gray * alpha + 255.0 * (1.0 - alpha)


# ---------------------------------------------------------------------------------------------- round trips

LOSSLESS = [
    # (name, shape, dtype, suffixes that keep it bit-exact)
    ("gray", (9, 13), np.uint8, [".png", ".tif", ".bmp"]),
    ("rgb", (9, 13, 3), np.uint8, [".png", ".tif", ".bmp", ".webp"]),
    ("rgba", (9, 13, 4), np.uint8, [".png", ".tif", ".webp"]),
    ("gray16", (9, 13), np.uint16, [".png", ".tif"]),
    ("rgb16", (9, 13, 3), np.uint16, [".png", ".tif"]),
    ("rgba16", (9, 13, 4), np.uint16, [".png"]),
]


@pytest.mark.parametrize(
    "name,shape,dtype,suffix", [(n, s, d, x) for n, s, d, xs in LOSSLESS for x in xs], ids=lambda v: str(v)
)
def test_lossless_round_trip(tmp_path, name, shape, dtype, suffix):
    image = _random(shape, dtype)
    path = save_image(tmp_path / f"{name}{suffix}", image, quality=100)
    back = read_image(path)
    assert back.dtype == dtype and back.shape == shape
    np.testing.assert_array_equal(back, image)
    assert back.flags.c_contiguous


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_gray_alpha_reads_back_as_rgba(tmp_path, suffix):
    la = _random((8, 10, 2))
    back = read_image(save_image(tmp_path / f"la{suffix}", la, quality=100))
    assert back.shape == (8, 10, 4) and back.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(back[..., channel], la[..., 0])
    np.testing.assert_array_equal(back[..., 3], la[..., 1])


def test_gray16_alpha_png_keeps_16_bits(tmp_path):
    la = _random((6, 5, 2), np.uint16)
    back = read_image(save_image(tmp_path / "la16.png", la))
    assert back.dtype == np.uint16 and back.shape == (6, 5, 4)
    np.testing.assert_array_equal(back[..., 1], la[..., 0])
    np.testing.assert_array_equal(back[..., 3], la[..., 1])


def test_jpeg_is_close(tmp_path):
    rgb = (_smooth_rgb() * 255).astype(np.uint8)
    back = read_image(save_image(tmp_path / "photo.jpg", rgb, quality=95))
    assert back.shape == rgb.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - rgb).mean() < 2.0


def test_jpeg_and_bmp_composite_alpha_over_white(tmp_path):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere ...
    rgba[:, 8:, 3] = 255  # ... but only the right half is opaque
    for suffix in (".jpg", ".bmp"):
        back = read_image(save_image(tmp_path / f"a{suffix}", rgba))
        assert back.shape == (16, 16, 3)
        assert back[:, :6].min() >= 245  # transparent -> white paper, not the hidden red
        assert back[:, 10:, 0].min() >= 245 and back[:, 10:, 1].max() <= 10  # opaque stays red


def test_uint16_to_8_bit_formats_is_scaled(tmp_path):
    gray = np.full((4, 4), 65535, np.uint16)
    gray[:2] = 257 * 100
    back = read_image(save_image(tmp_path / "g.bmp", gray))
    assert back.dtype == np.uint8
    assert set(np.unique(back)) == {100, 255}


def _pil_bytes(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_palette_without_and_with_transparency():
    index = np.array([[0, 1], [2, 1]], np.uint8)
    pal = Image.fromarray(index, mode="P")
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    rgb = decode_image(_pil_bytes(pal, "PNG"))
    np.testing.assert_array_equal(rgb, [[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [0, 255, 0]]])
    rgba = decode_image(_pil_bytes(pal, "PNG", transparency=1))
    assert rgba.shape == (2, 2, 4)
    np.testing.assert_array_equal(rgba[..., 3], [[255, 0], [255, 0]])
    np.testing.assert_array_equal(rgba[0, 0], [255, 0, 0, 255])


def test_bilevel_cmyk_and_16_bit_pillow_modes():
    bits = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(decode_image(_pil_bytes(bits, "PNG")), [[0, 255], [255, 0]])
    cmyk = Image.new("CMYK", (3, 2), (0, 255, 255, 0))  # pure red in CMYK
    out = decode_image(_pil_bytes(cmyk, "TIFF"))
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    deep = Image.fromarray(np.array([[0, 1000], [40000, 65535]], np.uint16))
    out = decode_image(_pil_bytes(deep, "PNG"))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, [[0, 1000], [40000, 65535]])


def test_gif_reads_first_frame():
    frames = [Image.new("RGB", (6, 4), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = _pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    first = decode_image(data, name="anim.gif")
    assert first.shape == (4, 6, 3)
    np.testing.assert_array_equal(first[0, 0], [255, 0, 0])


def test_exif_orientation_6_rotates(tmp_path):
    image = _random((4, 7, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    path = tmp_path / "phone.png"
    Image.fromarray(image).save(path, exif=exif)
    back = read_image(path)
    assert back.shape == (7, 4, 3)
    np.testing.assert_array_equal(back, np.rot90(image, -1))
    assert back.flags.c_contiguous


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_helper_matches_pillow(orientation):
    """The 16-bit path rotates with numpy; it must agree with PIL.ImageOps.exif_transpose."""
    image = _random((3, 5, 3))
    im = Image.fromarray(image)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(_pil_bytes(im, "PNG", exif=exif)))))
    np.testing.assert_array_equal(imageio._orient(image, orientation), expected)


def test_non_ascii_path(tmp_path):
    image = _random((5, 6, 3))
    path = tmp_path / "図" / "テスト画像.png"
    assert save_image(path, image) == path
    np.testing.assert_array_equal(read_image(path), image)
    assert iter_image_files([tmp_path / "図"]) == [(path, path.relative_to(tmp_path / "図"))]


# ------------------------------------------------------------------------------------------------- failures


def _png_header_only(width, height):
    """A PNG whose IHDR claims ``width x height`` but which holds no pixel data."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_missing_empty_corrupt_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="nothere.png"):
        read_image(tmp_path / "nothere.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty.png: the file is empty"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "junk.jpg").write_bytes(os.urandom(2000))
    with pytest.raises(ImageReadError, match="junk.jpg"):
        read_image(tmp_path / "junk.jpg")
    (tmp_path / "notes.png").write_text("just text, really")
    with pytest.raises(ImageReadError, match="notes.png: not a PNG"):
        read_image(tmp_path / "notes.png")
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


def test_unsupported_format_is_refused(tmp_path):
    path = tmp_path / "icon.png"
    Image.new("RGB", (16, 16), "red").save(path, format="ICO")  # Pillow could read it; we do not
    with pytest.raises(ImageReadError, match="icon.png: not a PNG, JPEG"):
        read_image(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_truncated_files_are_errors_not_grey_pictures(tmp_path, suffix):
    noisy = _random((64, 64, 3))
    good = save_image(tmp_path / f"good{suffix}", noisy, quality=90)
    data = good.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=f"cut{suffix}"):
        read_image(cut)


def test_truncated_16_bit_png_is_an_error(tmp_path):
    data = save_image(tmp_path / "deep.png", _random((40, 40, 3), np.uint16)).read_bytes()
    with pytest.raises(ImageReadError, match="deep16.png"):
        decode_image(data[: len(data) // 2], name="deep16.png")


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    path = save_image(tmp_path / "photo.png", _random((20, 30, 3)))
    with pytest.raises(ImageTooLargeError, match=r"photo.png is 600 pixels \(30x20\); the limit is 100 pixels"):
        read_image(path, max_pixels=100)
    assert read_image(path, max_pixels=600).shape == (20, 30, 3)
    # 120 MP announced, no pixel data: refused before any decoding (it would fail otherwise).
    with pytest.raises(ImageTooLargeError, match=r"huge.png is 120.0 MP .*the limit is 100.0 MP .*--max-pixels"):
        decode_image(_png_header_only(12000, 10000), name="huge.png")
    # Far past Pillow's own bomb limit: still our error and message.
    with pytest.raises(ImageTooLargeError, match="bomb.png"):
        decode_image(_png_header_only(100000, 100000), name="bomb.png")


def test_raising_the_limit_raises_pillows_too():
    with pytest.raises(ImageReadError) as info:  # allowed by the limit, then fails for lack of pixel data
        decode_image(_png_header_only(12000, 10000), max_pixels=250_000_000, name="big.png")
    assert not isinstance(info.value, ImageTooLargeError)
    assert Image.MAX_IMAGE_PIXELS >= 250_000_000


# ---------------------------------------------------------------------------------------------------- saving


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    first, second = _random((4, 4, 3)), _random((4, 4, 3))
    path = save_image(tmp_path / "out.png", first)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="out.png exists"):
        save_image(path, second)
    assert path.read_bytes() == before
    save_image(path, second, overwrite=True)
    np.testing.assert_array_equal(read_image(path), second)
    assert _leftovers(tmp_path) == []


def test_save_never_replaces_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    """Another program creates the target while we encode: its file wins, we raise."""
    target = tmp_path / "out.png"
    encode = imageio._encode

    def slow_encode(*args):
        target.write_bytes(b"someone else's work")
        return encode(*args)

    monkeypatch.setattr(imageio, "_encode", slow_encode)
    with pytest.raises(OutputExistsError):
        save_image(target, _random((4, 4)))
    assert target.read_bytes() == b"someone else's work"
    assert _leftovers(tmp_path) == []


def test_save_creates_parents_and_uses_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_image(tmp_path / "a" / "b" / "out.webp", _random((4, 4, 3)))
    finally:
        os.umask(old)
    assert path.is_file()
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o644  # not the 0600 of a mkstemp file


def test_save_into_a_path_whose_parent_is_a_file(tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(ImageWriteError, match="cannot create the folder"):
        save_image(tmp_path / "blocker" / "out.png", _random((4, 4)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_disk_error_leaves_nothing_behind(tmp_path, monkeypatch):
    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(imageio.os, "fsync", full_disk)
    with pytest.raises(ImageWriteError, match="No space left on device"):
        save_image(tmp_path / "out.png", _random((4, 4)))
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_unknown_suffix_and_float_arrays(tmp_path):
    with pytest.raises(ImageWriteError, match="unknown output format .gif"):
        save_image(tmp_path / "x.gif", _random((4, 4)))
    with pytest.raises(TypeError, match="to_uint8"):
        save_image(tmp_path / "x.png", np.zeros((4, 4), np.float32))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- conversions


def test_to_float_rgb_shapes_and_scales():
    rgb, alpha = to_float_rgb(np.array([[0, 255]], np.uint8))
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.float32 and alpha is None
    np.testing.assert_allclose(rgb[0, 1], [1, 1, 1])
    rgb, alpha = to_float_rgb(np.array([[[65535, 0, 32768, 65535]]], np.uint16))
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.0, 32768 / 65535], atol=1e-6)
    np.testing.assert_allclose(alpha, [[1.0]])
    rgb, alpha = to_float_rgb(np.array([[[51, 102]]], np.uint8))  # gray + alpha
    np.testing.assert_allclose(rgb[0, 0], [0.2, 0.2, 0.2], atol=1e-6)
    np.testing.assert_allclose(alpha, [[0.4]], atol=1e-6)
    assert rgb.flags.c_contiguous and alpha.flags.c_contiguous


def test_to_float_gray_is_luma_and_transparency_is_paper():
    pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    np.testing.assert_allclose(to_float_gray(pixels), [[0.299, 0.587, 0.114]], atol=1e-6)
    rgba = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [0, 0, 0, 128]]], np.uint8)
    np.testing.assert_allclose(to_float_gray(rgba), [[1.0, 0.0, 1 - 128 / 255]], atol=1e-6)
    la = _random((3, 4, 2))
    np.testing.assert_allclose(to_float_gray(la) * 255.0, _gray_over_white(la), atol=1e-3)


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.5, 0.0, 0.5, 1.0 / 255 * 0.49, 1.0, 3.0], np.float32)
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 128, 0, 255, 255])
    assert to_uint8(np.zeros((2, 3, 4), np.float64)).shape == (2, 3, 4)
    np.testing.assert_array_equal(to_uint8(np.array([0, 257, 65535], np.uint16)), [0, 1, 255])
    rgba = np.array([[[10, 20, 30, 0]]], np.uint8)
    np.testing.assert_array_equal(to_uint8_rgb(rgba), [[[255, 255, 255]]])


# --------------------------------------------------------------------------------------------------- listing


def test_iter_image_files(tmp_path):
    root = tmp_path / "pics"
    for rel in ["b.png", "A.jpg", "c.JPEG", "notes.txt", ".hidden.png", "sub/d.webp", "sub/deeper/e.tif",
                ".cache/f.png", "sub/.g.png"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    flat = iter_image_files([root])
    assert [rel.as_posix() for _, rel in flat] == ["A.jpg", "b.png", "c.JPEG"]
    assert all(file == root / rel for file, rel in flat)
    deep = iter_image_files([str(root)], recursive=True)
    assert [rel.as_posix() for _, rel in deep] == ["A.jpg", "b.png", "c.JPEG", "sub/d.webp", "sub/deeper/e.tif"]
    assert iter_image_files([root], recursive=True) == deep  # deterministic
    single = root / "sub" / "d.webp"
    assert iter_image_files([single, root / "notes.txt", single]) == [(single, single.relative_to(root / "sub"))]
    with pytest.raises(ImageReadError, match="missing.png: no such file or folder"):
        iter_image_files([root / "b.png", root / "missing.png"])
