"""Data of the hint-conditioned colorizer: artists' line layers with their flats, real pairs, colour pictures.

* ``lineart_flats/``: the artist's line layer and flat colours; the target is the flats with the line layer
  multiplied on (what the colorizer paints), the flats are kept for the flats measures. Validation holds out
  whole series (``VAL_SERIES``), so no character is on both sides.
* ``pairs/``: real line art and colour (clean pairs; the colorize recipe's ``val_names`` are validation).
* ``colors/``: colour pictures whose line art the shipped sketch model drew (cached under ``runs/cache``);
  every ``COLOR_VAL_EVERY``-th picture is held out (style measures).

Training pictures are reduced to about ``TRAIN_MEGAPIXELS`` when loaded: the network draws proposals at about
0.3 MP (``core.proposal``), so a 256-pixel crop at scale 0.6-1 shows the lines as thick as inference does.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import cv2
import numpy as np

from training.data import Sample, list_pairs, load_pairs, read_gray, read_rgb

TRAIN_MEGAPIXELS = 0.45
VAL_SERIES = ("H1", "B1", "smpsd_image_0112", "smpsd_image_0434", "smweb_image_0120")
COLOR_VAL_EVERY = 10


def shrink(image: np.ndarray, megapixels: float) -> np.ndarray:
    """``image`` reduced (area interpolation) to about ``megapixels``; smaller pictures stay as they are."""
    h, w = image.shape[:2]
    f = math.sqrt(megapixels * 1e6 / (h * w))
    if f >= 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def flats_sets(root: str | Path) -> list[dict[str, str]]:
    with (Path(root) / "sets.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def load_flats_set(root: Path, name: str, megapixels: float | None) -> Sample:
    """One lineart_flats set: ``sketch`` = the line layer, ``color`` = flats x lines, ``flat`` = the flats,
    ``truth_color`` = the artist's coloured picture (flats, shadows, lines)."""
    line = read_gray(root / "line" / f"{name}.png")
    flat = read_rgb(root / "flat" / f"{name}.png")
    color = read_rgb(root / "color" / f"{name}.jpg")
    if megapixels:
        line, flat, color = (shrink(a, megapixels) for a in (line, flat, color))
    composite = np.round(flat.astype(np.float32) * (line.astype(np.float32)[..., None] / 255.0)).astype(np.uint8)
    return Sample(name, composite, line, 1.0, "flats", truth=line, flat=flat, truth_color=color)


def flats_samples(root: str | Path, side: str = "train", megapixels: float | None = TRAIN_MEGAPIXELS):
    """Training (all series but ``VAL_SERIES``) or validation sets of ``lineart_flats``."""
    root = Path(root)
    rows = [r for r in flats_sets(root) if (r["series"] in VAL_SERIES) == (side == "val")]
    return [load_flats_set(root, r["name"], megapixels) for r in rows]


def pair_samples(pairs_dir: str | Path, val_names: set[str], side: str = "train",
                 megapixels: float | None = TRAIN_MEGAPIXELS):
    """Clean real pairs: the validation names, or all others (reduced for training)."""
    pairs = [p for p in list_pairs(pairs_dir, "clean") if (p[0] in val_names) == (side == "val")]
    samples = load_pairs(pairs, 1.0, "pairs")
    for s in samples:
        s.truth_color = s.color
        if megapixels:
            s.color, s.sketch = shrink(s.color, megapixels), shrink(s.sketch, megapixels)
    return samples


def color_paths(colors_dir: str | Path, side: str = "train") -> list[Path]:
    paths = sorted(Path(colors_dir).glob("*.jpg"))
    return [p for i, p in enumerate(paths) if (i % COLOR_VAL_EVERY == 0) == (side == "val")]


def color_samples(colors_dir: str | Path, cache_dir: str | Path, side: str = "train",
                  megapixels: float | None = TRAIN_MEGAPIXELS, sketch_model: str | None = None):
    """Colour pictures with the shipped sketch model's line art (made once, cached as PNG in ``cache_dir``)."""
    cache_dir = Path(cache_dir)
    out = []
    for path in color_paths(colors_dir, side):
        cached = cache_dir / f"{path.stem}.png"
        color = read_rgb(path)
        if not cached.is_file():
            make_lines(path, cached, sketch_model)
        lines = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE)
        color = cv2.resize(color, lines.shape[::-1], interpolation=cv2.INTER_AREA)
        if megapixels:
            color, lines = shrink(color, megapixels), shrink(lines, megapixels)
        out.append(Sample(path.name, color, lines, 1.0, "colors", truth=lines, truth_color=color))
    return out


MAX_LINE_SIDE = 1024


def make_lines(path: Path, cached: Path, sketch_model: str | None = None) -> None:
    """The sketch model's line art of a colour picture (long side at most ``MAX_LINE_SIDE``), written atomically."""
    from anisketch_desktop.core import pipeline
    from anisketch_desktop.core.engine import get_engine

    rgb = read_rgb(path)
    h, w = rgb.shape[:2]
    f = min(1.0, MAX_LINE_SIDE / max(h, w))
    if f < 1:
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    engine = get_engine(sketch_model or "resources/models/sketch.safetensors", "cpu", min_megapixels=0)
    lines = pipeline.sketch(rgb, model=engine)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.stem}.{os.getpid()}.png")
    cv2.imwrite(str(tmp), lines)
    os.replace(tmp, cached)


def set_share(samples, share: float) -> None:
    for s in samples:
        s.weight = share / max(1, len(samples))
