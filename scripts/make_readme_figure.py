"""The README's before/after figure, made by the app itself: ``python scripts/make_readme_figure.py``.

Draws the generated test illustration of ``scripts/screenshot.py`` (no third-party artwork in the repository),
runs ``anisketch sketch`` and ``anisketch colorize`` on it with the shipped models, and writes
``docs/before_after.png``: input | sketch | the sketch colorized again.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from screenshot import illustration

    from anisketch_desktop.core import imageio

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("picture", nargs="?", help="picture to use (default: the generated illustration)")
    p.add_argument("-o", "--output", default=str(ROOT / "docs" / "before_after.png"))
    p.add_argument("--height", type=int, default=420, help="height of each panel")
    args = p.parse_args(argv)
    cli = [sys.executable, "-m", "anisketch_desktop.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = Path(args.picture) if args.picture else imageio.save_image(tmp / "picture.png", illustration())
        subprocess.run([*cli, "sketch", str(src), "-o", str(tmp / "out"), "-q"], check=True)
        lines = tmp / "out" / f"{src.stem}_sketch.png"
        subprocess.run([*cli, "colorize", str(lines), "-o", str(tmp / "out"), "-q"], check=True)
        colored = tmp / "out" / f"{lines.stem}_color.png"
        panels = [imageio.read_image(src), imageio.read_image(lines), imageio.read_image(colored)]
    labels = ["input", "anisketch sketch", "anisketch colorize (of the sketch)"]
    row = []
    for img, label in zip(panels, labels, strict=True):
        img = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
        img = img[..., :3]
        w = round(img.shape[1] * args.height / img.shape[0])
        img = cv2.resize(img, (w, args.height), interpolation=cv2.INTER_AREA)
        bar = np.full((32, w, 3), 250, np.uint8)
        cv2.putText(bar, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (40, 40, 40), 1, cv2.LINE_AA)
        row.append(np.vstack([bar, img]))
        row.append(np.full((args.height + 32, 6, 3), 255, np.uint8))
    imageio.save_image(args.output, np.hstack(row[:-1]), overwrite=True)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
