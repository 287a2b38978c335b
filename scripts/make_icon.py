"""Draw the app icon: writes ``resources/icons/anisketch.svg`` and renders PNGs from it (Qt's SVG renderer).

    python scripts/make_icon.py            # anisketch.svg, anisketch.png (256 px), anisketch-48.png, anisketch.ico

The picture: a rounded tile, its upper-left half a colour gradient (the picture), its lower-right half paper,
and one bold ink stroke crossing both (the line art) — the app in one glance.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"

SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <defs>
    <linearGradient id="colour" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#ff8a5c"/>
      <stop offset="0.55" stop-color="#e2568f"/>
      <stop offset="1" stop-color="#6a5cff"/>
    </linearGradient>
  </defs>
  <rect x="12" y="12" width="232" height="232" rx="52" fill="#fbf8f2"/>
  <path d="M27.23 228.77 A52 52 0 0 1 12 192 L12 64 A52 52 0 0 1 64 12 L192 12 A52 52 0 0 1 228.77 27.23 Z"
        fill="url(#colour)"/>
  <rect x="12" y="12" width="232" height="232" rx="52" fill="none" stroke="#1d2230" stroke-width="6"/>
  <path d="M58 150 C 86 92, 170 92, 198 150" fill="none" stroke="#1d2230" stroke-width="14"
        stroke-linecap="round"/>
  <path d="M72 150 C 100 190, 156 190, 184 150" fill="none" stroke="#1d2230" stroke-width="7"
        stroke-linecap="round"/>
  <circle cx="128" cy="146" r="27" fill="#1d2230"/>
  <circle cx="138" cy="136" r="9" fill="#ffffff"/>
  <path d="M190 60 L 214 84 L 150 148 L 120 156 L 128 126 Z" fill="#ffd166" stroke="#1d2230"
        stroke-width="6" stroke-linejoin="round"/>
  <path d="M120 156 L 128 126 L 150 148 Z" fill="#1d2230"/>
</svg>
"""


def render(svg_path: Path, png_path: Path, size: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg_path))
    if not renderer.isValid():
        raise SystemExit(f"invalid SVG: {svg_path}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png_path)):
        raise SystemExit(f"could not write {png_path}")


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (needed for painting)
    ICONS.mkdir(parents=True, exist_ok=True)
    svg_path = ICONS / "anisketch.svg"
    svg_path.write_text(SVG, encoding="utf-8")
    render(svg_path, ICONS / "anisketch.png", 256)
    render(svg_path, ICONS / "anisketch-48.png", 48)
    from PIL import Image  # the Windows installer and executables take a multi-size .ico

    sizes = [(n, n) for n in (16, 24, 32, 48, 64, 128, 256)]
    Image.open(ICONS / "anisketch.png").convert("RGBA").save(ICONS / "anisketch.ico", sizes=sizes)
    print(f"wrote {svg_path}, anisketch.png, anisketch-48.png, anisketch.ico")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
