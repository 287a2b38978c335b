"""Training data: real pairs, XDoG targets made from color images, the wizard's approved pairs.

Everything is decoded once into RAM (the shipped set is 132 pairs). A ``Sample`` holds the network input and
target as uint8 arrays of the same size; ``PatchSampler`` cuts augmented batches out of them with a random
generator seeded by ``(seed, step, rank)``, so that a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core.formats import SUPPORTED_SUFFIXES
from anisketch_desktop.core.imageio import read_image, to_uint8_rgb
from training import augment

IMAGE_EXTS = SUPPORTED_SUFFIXES  # the app's one format table


@dataclass
class Sample:
    name: str
    color: np.ndarray  # H x W x 3 uint8 RGB
    sketch: np.ndarray  # H x W uint8, 255 = paper
    weight: float = 1.0
    source: str = "pairs"
    truth: np.ndarray | None = None  # the untouched line art, scored by the metric (validation)
    flat: np.ndarray | None = None  # lineart_flats: the artist's flat colours (H x W x 3 uint8)
    truth_color: np.ndarray | None = None  # colorize validation: the artist's coloured picture


def read_rgb(path: str | Path) -> np.ndarray:
    """uint8 RGB of any picture the app reads (EXIF orientation, alpha over white, size limit)."""
    return to_uint8_rgb(read_image(path))


def read_gray(path: str | Path) -> np.ndarray:
    return cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2GRAY)


def clean_sketch(gray: np.ndarray) -> np.ndarray:
    """Map real line art so that the metric's ink threshold lands at 0.45 and paper (p90) at white.

    The line metric calls a truth pixel ink when gray < min(p90 - 50, 160) but a prediction pixel ink when
    gray < 128; training on this remapped target makes the two thresholds agree.
    """
    p90 = float(np.percentile(gray[::2, ::2], 90))
    thr = max(min(p90 - 50.0, 160.0), 1.0)
    paper = max(p90, thr + 1.0)
    x = np.arange(256, dtype=np.float32)
    lut = np.where(x < thr, x / thr * 0.45, 0.45 + (x - thr) / (paper - thr) * 0.55)
    return np.round(np.clip(lut, 0, 1) * 255).astype(np.uint8)[gray]


def read_pairs_tsv(pairs_dir: Path) -> dict[str, dict[str, str]]:
    tsv = pairs_dir / "pairs.tsv"
    if not tsv.is_file():
        return {}
    with tsv.open(newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


def list_pairs(pairs_dir: str | Path, subset: str = "all") -> list[tuple[str, Path, Path]]:
    """``(name, color_path, sketch_path)`` of a ``color/`` + ``sketch/`` folder; subset all|clean|unclean."""
    pairs_dir = Path(pairs_dir)
    rows = read_pairs_tsv(pairs_dir)
    out = []
    for sketch_path in sorted((pairs_dir / "sketch").iterdir()):
        if sketch_path.suffix.lower() not in IMAGE_EXTS:
            continue
        color_path = pairs_dir / "color" / sketch_path.name
        if not color_path.is_file():
            continue
        clean = rows.get(sketch_path.name, {}).get("clean_aligned", "1") == "1"
        if subset == "clean" and not clean or subset == "unclean" and clean:
            continue
        out.append((sketch_path.name, color_path, sketch_path))
    return out


def approved_pairs(dataset_dir: str | Path) -> list[tuple[Path, Path]]:
    """Approved ``(color, sketch)`` paths of a wizard dataset; falls back to a plain export folder."""
    from anisketch_desktop.dataset.store import approved_pairs as store_pairs

    dataset_dir = Path(dataset_dir)
    if any(dataset_dir.glob("*.sqlite*")) or any(dataset_dir.glob("*.db")):
        return [(Path(c), Path(s)) for c, s in store_pairs(dataset_dir)]
    return [(c, s) for _, c, s in list_pairs(dataset_dir)]


def load_pair(name: str, color_path: Path, sketch_path: Path, weight: float = 1.0, source="pairs") -> Sample:
    """Decode one pair; the color image is resized to the sketch's size when they differ."""
    sketch = read_gray(sketch_path)
    color = read_rgb(color_path)
    if color.shape[:2] != sketch.shape:
        h, w = sketch.shape
        interp = cv2.INTER_AREA if color.shape[0] > h else cv2.INTER_CUBIC
        color = cv2.resize(color, (w, h), interpolation=interp)
    return Sample(name, color, clean_sketch(sketch), weight, source, truth=sketch)


def load_pairs(pairs, weight: float = 1.0, source: str = "pairs") -> list[Sample]:
    return [load_pair(n, c, s, weight, source) for n, c, s in pairs]


def xdog_samples(
    color_paths: Sequence[Path], make_target: Callable[[np.ndarray], np.ndarray], weight: float = 1.0,
    cache_dir: Path | None = None, max_side: int = 1200,
) -> list[Sample]:
    """Color images whose targets are made by ``make_target(rgb) -> uint8 gray`` (XDoG, a teacher), cached as PNG."""
    out = []
    for path in color_paths:
        color = read_rgb(path)
        h, w = color.shape[:2]
        if max(h, w) > max_side:
            f = max_side / max(h, w)
            color = cv2.resize(color, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        cached = cache_dir / (Path(path).stem + ".png") if cache_dir else None
        target = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE) if cached is not None and cached.is_file() else None
        if target is None or target.shape != color.shape[:2]:
            target = make_target(color)
            if cached is not None:  # atomically: two runs may share the cache
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_name(f".{cached.stem}.{os.getpid()}.png")
                cv2.imwrite(str(tmp), target)
                os.replace(tmp, cached)
        out.append(Sample(Path(path).name, color, target, weight, "xdog"))
    return out


class PatchSampler:
    """Augmented batches: ``(inputs, targets, weights)`` as float32 N x C x crop x crop arrays in [0, 1].

    task "sketch": RGB input -> gray target; "colorize": gray sketch input -> RGB target.
    """

    def __init__(
        self, samples: Sequence[Sample], task: str = "sketch", crop: int = 256, scale=(0.5, 1.0),
        photometric: float = 0.8, levels: bool = True, seed: int = 0, solid_ink: float = 0.0,
        dark_fills: float = 0.0, dark_flats: float = 0.0, resample: float = 0.15,
    ):
        if not samples:
            raise ValueError("no training samples")
        self.samples = list(samples)
        self.task, self.crop, self.scale = task, crop, tuple(scale)
        self.photometric, self.levels, self.seed = photometric, levels, seed
        self.solid_ink = solid_ink  # sketch: share of examples given filled shapes / lettering (solid_ink.stamp)
        self.dark_fills = dark_fills  # of those, the share also given outlined dark paint (solid_ink.dark_paint)
        self.dark_flats = dark_flats  # line layers: share of repaints with some flat colours made dark
        self.resample = resample  # share of damaged inputs shrunk and enlarged again (augment.photometric)
        w = np.array([s.weight for s in self.samples], dtype=np.float64)
        self.probs = w / w.sum()

    def rng(self, step: int, rank: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, step, rank])

    def example(self, sample: Sample, rng: np.random.Generator):
        """One augmented (input, target) pair, uint8, crop x crop."""
        crop = self.crop
        h, w = sample.sketch.shape
        y, x, sy, sx, scale = augment.random_window(rng, (h, w), crop, self.scale)
        # context around the crop, so that level normalisation sees more than the crop (like the engine)
        cy0, cx0 = max(0, y - sy // 2), max(0, x - sx // 2)
        cy1, cx1 = min(h, y + sy + sy // 2), min(w, x + sx + sx // 2)
        dsize = (max(crop, round((cx1 - cx0) * scale)), max(crop, round((cy1 - cy0) * scale)))
        oy = min(round((y - cy0) * scale), dsize[1] - crop)
        ox = min(round((x - cx0) * scale), dsize[0] - crop)

        def ctx(img):
            return cv2.resize(img[cy0:cy1, cx0:cx1], dsize, interpolation=cv2.INTER_AREA)

        color, sketch = ctx(sample.color), ctx(sample.sketch)
        if sample.flat is not None and sample.truth is not None and self.task == "sketch":
            from training.flats_data import darken_flats, repaint  # the artist's line layer: repaint around it

            flat = ctx(sample.flat)
            if self.dark_flats > 0 and rng.random() < self.dark_flats:
                flat = darken_flats(rng, flat)
            color = repaint(rng, flat, ctx(sample.truth), color)
        if self.task == "sketch" and self.solid_ink > 0 and rng.random() < self.solid_ink:
            from training.solid_ink import stamp

            color, sketch = stamp(rng, color, sketch, self.dark_fills)
        if self.task == "sketch":
            inp, tgt = color, sketch
        else:
            inp, tgt = augment.line_weight(rng, sketch), color
        inp = augment.photometric(rng, inp, self.photometric, self.resample)
        if self.levels:
            inp = augment.normalize_levels(inp)
        inp, tgt = inp[oy : oy + crop, ox : ox + crop], tgt[oy : oy + crop, ox : ox + crop]
        return augment.flip(rng, inp, tgt)

    def batch(self, step: int, batch_size: int, rank: int = 0):
        rng = self.rng(step, rank)
        idx = rng.choice(len(self.samples), size=batch_size, p=self.probs)
        xs, ys = [], []
        for i in idx:
            inp, tgt = self.example(self.samples[i], rng)
            xs.append(_chw(inp))
            ys.append(_chw(tgt))
        return np.stack(xs), np.stack(ys)


def _chw(img: np.ndarray) -> np.ndarray:
    arr = img.astype(np.float32) / 255.0
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def alignment_ratio(sample: Sample, shift: int = 12) -> float:
    """Edge agreement of the pair over that of the pair with the color shifted by ``shift`` px.

    Aligned pairs score well above 1 (clean pairs: median ~1.6); unrelated or misaligned pairs near 1.
    """
    shifted = Sample(sample.name, np.roll(sample.color, shift, axis=1), sample.sketch, truth=sample.truth)
    return alignment_score(sample) / max(alignment_score(shifted), 0.02)


def alignment_score(sample: Sample, side: int = 512) -> float:
    """Fraction of the color image's Canny edges that lie within 2 px of the sketch's ink skeleton."""
    from training.metrics import skeleton_f1, truth_ink

    h, w = sample.sketch.shape
    f = min(1.0, side / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    gray = cv2.cvtColor(cv2.resize(sample.color, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (0, 0), 1.0), 40, 100) > 0
    truth = sample.truth if sample.truth is not None else sample.sketch
    ink = truth_ink(cv2.resize(truth, size, interpolation=cv2.INTER_AREA))
    return skeleton_f1(edges, ink, tolerance=2.0)["precision"]
