"""The style change on colour pictures: how close it stays to the source, how colourful, how visible the lines.

    python -m benchmarks.eval_style [--count 8] [--data ../shared/data/colors] [--grid runs/style_grid.jpg]

For every picture: PSNR against the source, colourfulness of the result / the source's (Hasler & Süsstrunk),
and the line art's ink share (pixels the lines darken by more than half) with the mean darkening there.
Targets (issue 11): PSNR >= 15 dB, colourfulness >= 70 % of the source's, visible line art. The pictures are
third-party artwork: the grid goes to runs/ (never committed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core import pipeline
from anisketch_desktop.core.imageio import read_image, save_image, to_uint8_rgb
from training.color_metrics import colorfulness, psnr

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # <repo>/../shared/data

DATA = Path(__file__).resolve().parents[1] / ".." / ".." / "shared" / "data" / "colors"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED_DATA / "colors"), help="folder of colour pictures")
    parser.add_argument("--count", type=int, default=8, help="pictures (evenly spread over the sorted folder)")
    parser.add_argument("--grid", default="", help="also write source | result pairs to this file")
    args = parser.parse_args(argv)
    files = sorted(Path(args.data).glob("*.jpg"))
    picks = files[:: max(1, len(files) // args.count)][: args.count]
    rows, tiles = [], []
    for path in picks:
        source = to_uint8_rgb(read_image(path))
        start = time.perf_counter()
        result = pipeline.style_result(source, device="cpu")
        seconds = time.perf_counter() - start
        ink = result.lines < 128
        darkening = float((result.flats.astype(np.float32) - result.rgb).mean(axis=2)[ink].mean()) if ink.any() else 0.0
        row = (path.name, source.shape[1], source.shape[0], psnr(result.rgb, source),
               colorfulness(result.rgb) / max(colorfulness(source), 1e-6), float(ink.mean()), darkening, seconds)
        assert result.rgb.shape == source.shape
        rows.append(row)
        print(f"{row[0]:<24} {row[1]:>5}x{row[2]:<5} PSNR {row[3]:5.2f} dB  colour {row[4]:4.2f}  "
              f"ink {100 * row[5]:4.1f}% (darkens {row[6]:5.1f}/255)  {row[7]:.2f} s", flush=True)
        if args.grid:
            h = 360
            pair = [cv2.resize(im, (round(im.shape[1] * h / im.shape[0]), h), interpolation=cv2.INTER_AREA)
                    for im in (source, result.rgb)]
            tiles.append(np.hstack(pair))
    arr = np.array([r[3:] for r in rows], dtype=np.float64)
    print(f"{'mean':<36} PSNR {arr[:, 0].mean():5.2f} dB  colour {arr[:, 1].mean():4.2f}  "
          f"ink {100 * arr[:, 2].mean():4.1f}% (darkens {arr[:, 3].mean():5.1f}/255)  {arr[:, 4].mean():.2f} s")
    print(f"{'worst':<36} PSNR {arr[:, 0].min():5.2f} dB  colour {arr[:, 1].min():4.2f}")
    if args.grid and tiles:
        width = max(t.shape[1] for t in tiles)
        tiles = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
        save_image(args.grid, np.vstack(tiles), overwrite=True, quality=85)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
