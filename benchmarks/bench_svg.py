"""How closely the SVG export matches the PNG line art: ``python -m benchmarks.bench_svg PICTURE...``.

For each picture: the sketch (U-Net, or ``--engine xdog``) as PNG and as SVG (``--format svg`` path), the SVG
drawn back to pixels by Qt's SVG renderer (an independent reader, as Inkscape or a browser would), and the line
F1 of the two at 1 px tolerance (skeletons of the ink, ``training.metrics.skeleton_f1``), the ink-area ratio,
the tracing time and the file sizes. Prints one row per picture and the mean.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def render_svg(svg: str, width: int, height: int) -> np.ndarray:
    """The SVG drawn onto white by ``QSvgRenderer``: uint8 gray ``height x width``."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    image = QImage(width, height, QImage.Format.Format_Grayscale8)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return raw[:, :width].copy()


def main(argv=None) -> int:
    from anisketch_desktop.core import imageio, pipeline
    from training.metrics import skeleton_f1

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pictures", nargs="+")
    p.add_argument("--engine", choices=["unet", "xdog"], default="unet")
    p.add_argument("--model", default=None)
    ns = p.parse_args(argv)
    rows = []
    print(f"{'picture':<32} {'size':>10} {'F1@1px':>7} {'P':>6} {'R':>6} {'ink ratio':>9} {'trace s':>8} "
          f"{'png KB':>7} {'svg KB':>7}")
    for path in ns.pictures:
        image = imageio.read_image(path)
        gray = pipeline.sketch_lines(image, engine=ns.engine, model=ns.model, device="cpu")
        png = pipeline.finish_sketch(gray, image)
        start = time.perf_counter()
        svg = pipeline.finish_sketch_svg(gray, image)
        seconds = time.perf_counter() - start
        back = render_svg(svg, png.shape[1], png.shape[0])
        score = skeleton_f1(back < 128, png < 128, tolerance=1.0)
        ratio = (back < 128).sum() / max(1, (png < 128).sum())
        png_kb = len(cv2.imencode(".png", png)[1]) / 1024
        rows.append((score["f1"], score["precision"], score["recall"], ratio, seconds))
        name = os.path.basename(path)[:32]
        print(f"{name:<32} {png.shape[1]:>4}x{png.shape[0]:<5} {score['f1']:7.4f} {score['precision']:6.3f} "
              f"{score['recall']:6.3f} {ratio:9.3f} {seconds:8.2f} {png_kb:7.0f} {len(svg) / 1024:7.0f}")
    mean = np.mean(np.array(rows), axis=0)
    print(f"{'mean of ' + str(len(rows)):<32} {'':>10} {mean[0]:7.4f} {mean[1]:6.3f} {mean[2]:6.3f} {mean[3]:9.3f} "
          f"{mean[4]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
