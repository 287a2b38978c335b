"""Write a placeholder 256x256 app icon (PNG) for builds made before resources/icons/anisketch.png exists.

Standard library only: a dark rounded square with a light circle and a diagonal "pen stroke".
    python packaging/placeholder_icon.py OUT.png
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

SIZE = 256


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    r = 40  # corner radius
    cx = min(max(x, r), SIZE - 1 - r)
    cy = min(max(y, r), SIZE - 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    d = ((x - 128) ** 2 + (y - 128) ** 2) ** 0.5
    if abs(x + y - 256) < 10 and 60 < x < 196:
        return (30, 30, 40, 255)  # the stroke
    if abs(d - 80) < 6:
        return (245, 245, 250, 255)  # the ring
    return (47, 125, 225, 255)  # accent background


def png_bytes() -> bytes:
    rows = b"".join(b"\x00" + bytes(c for x in range(SIZE) for c in _pixel(x, y)) for y in range(SIZE))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png_bytes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
