"""Write a tiny training set and recipe for verify.sh's frozen-training smoke test (standard library only).

    python packaging/smoke_data.py OUT_DIR
    -> OUT_DIR/pairs/{color,sketch}/*.png + pairs.tsv, OUT_DIR/recipe.json (3 steps of a 4-channel U-Net)
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

SIZE = 96


def _png(path: Path, rows: list[bytes], channels: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    color_type = {1: 0, 3: 2}[channels]
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) +
                     chunk(b"IEND", b""))


def _picture(seed: int) -> tuple[list[bytes], list[bytes]]:
    """A coloured picture (gradient + a disc + a bar) and its line drawing (the shapes' outlines)."""
    cx, cy, r = 30 + 7 * seed, 40 + 5 * seed, 18 + 2 * seed
    color_rows, sketch_rows = [], []
    for y in range(SIZE):
        crow, srow = bytearray(), bytearray()
        for x in range(SIZE):
            d2 = (x - cx) ** 2 + (y - cy) ** 2
            inside_disc = d2 < r * r
            inside_bar = 60 < x < 80 and 10 + seed < y < 85
            if inside_disc:
                rgb = (230, 90 + 20 * seed, 80)
            elif inside_bar:
                rgb = (60, 120, 200)
            else:
                rgb = (200 + x // 3, 190 + y // 4, 170)
            crow += bytes(min(255, c) for c in rgb)
            edge = abs(d2 ** 0.5 - r) < 1.2 or (inside_bar and (x in (61, 79) or y in (11 + seed, 84)))
            srow.append(0 if edge else 255)
        color_rows.append(bytes(crow))
        sketch_rows.append(bytes(srow))
    return color_rows, sketch_rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    pairs = out / "pairs"
    (pairs / "color").mkdir(parents=True, exist_ok=True)
    (pairs / "sketch").mkdir(parents=True, exist_ok=True)
    names = [f"smoke{i}.png" for i in range(4)]
    lines = ["file\tcolor_size\tsketch_size\tclean_aligned"]
    for i, name in enumerate(names):
        color, sketch = _picture(i)
        _png(pairs / "color" / name, color, 3)
        _png(pairs / "sketch" / name, sketch, 1)
        lines.append(f"{name}\t{SIZE}x{SIZE}\t{SIZE}x{SIZE}\t1")
    (pairs / "pairs.tsv").write_text("\n".join(lines) + "\n")
    recipe = {
        "name": "smoke",
        "task": "sketch",
        "output": str(out / "smoke.safetensors"),
        "model": {"base_channels": 4, "depth": 2},
        "val_names": names[:1],
        "stages": [{
            "name": "only",
            "data": {"clean": 1.0},
            "train": {"steps": 3, "batch_size": 2, "crop": 64, "eval_every": 3, "ckpt_every": 3, "warmup": 1,
                      "robust_images": 0, "threads": 1, "log_every": 1},
        }],
    }
    (out / "recipe.json").write_text(json.dumps(recipe, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
