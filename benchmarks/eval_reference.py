"""Reference palettes: colouring one page with another page's colours (no hints), against the artist's flats.

    python -m benchmarks.eval_reference [--series D4] [--count 8]

For pages of one ``lineart_flats`` series (the same cast), each page is coloured without hints, once from the
proposal alone and once with the previous page's colour picture as ``reference``; PSNR against the artist's
flats and the share of pixels within ΔE 10. Third-party artwork: nothing is saved.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core.guided import ColorizeSession
from anisketch_desktop.core.imageio import read_image, to_uint8_rgb
from benchmarks.eval_hints import _scores

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # <repo>/../shared/data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED_DATA / "lineart_flats"))
    parser.add_argument("--series", default="D4")
    parser.add_argument("--count", type=int, default=8)
    args = parser.parse_args(argv)
    data = Path(args.data)
    with open(data / "sets.tsv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r.get("series") == args.series]
    names = sorted(r["name"] if "name" in r else r[next(iter(r))] for r in rows)[: args.count + 1]
    plain, guided = [], []
    for ref_name, name in zip(names[:-1], names[1:], strict=True):
        lines = read_image(data / "line" / f"{name}.png")
        truth = to_uint8_rgb(read_image(data / "flat" / f"{name}.png"))
        reference = read_image(data / "color" / f"{ref_name}.jpg")
        h, w = lines.shape[:2]
        s = min(1.0, (1e6 / (h * w)) ** 0.5)
        size = (round(w * s), round(h * s))
        lines = cv2.resize(lines, size, interpolation=cv2.INTER_AREA)
        truth = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST)
        a = _scores(ColorizeSession(lines, device="cpu").render().flats, truth)
        b = _scores(ColorizeSession(lines, device="cpu", reference=reference).render().flats, truth)
        plain.append(a)
        guided.append(b)
        print(f"{name:<24} ref {ref_name:<24} proposal {a[0]:5.2f} dB {100 * a[1]:4.1f}%   "
              f"with reference {b[0]:5.2f} dB {100 * b[1]:4.1f}%", flush=True)
    p, g = np.array(plain), np.array(guided)
    print(f"mean over {len(p)} pages: proposal {p[:, 0].mean():5.2f} dB {100 * p[:, 1].mean():4.1f}%   "
          f"with reference {g[:, 0].mean():5.2f} dB {100 * g[:, 1].mean():4.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
