"""The harder validation split: real line art the shipped models never trained on, painterly pictures included.

Groups (``HardCase.group``):

* ``clean``    the recipe's 8 clean validation pairs (the old split);
* ``unclean``  real pairs not marked clean whose line art still matches the picture (alignment ratio 1.3-1.5,
  so no sketch recipe trained on their line art), checked by eye: pencil, tonal and painted pictures;
* ``flats``    held-out webtoon series (``flats_data.HELD_OUT_SERIES``): the colour composite as is;
* ``painted``  the same sets repainted once with a fixed seed (shaded, blurred fills, recoloured lines):
  the painterly case, lines no longer the darkest pixels.

Pictures are scaled to at most ``MAX_SIDE`` px (the pairs are about 1 MP) so a full evaluation stays minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from training import flats_data
from training.data import Sample, list_pairs, load_pair

MAX_SIDE = 1200
UNCLEAN_NAMES = (  # alignment_ratio in [1.3, 1.5) and looked at: the line art is the picture's (1041: solid ink)
    "10-tokutaro.jpg", "1003-zeradok.jpg", "102-greentea781016.jpg", "1024-sutegoro4403.jpg",
    "1036-yuka_levi.jpg", "1041-ikaruga_29.jpg", "1045-aengdohwa.jpg", "1052-fuji25_2501.jpg",
    "1107-musou_luf.jpg", "1196-ren_390_.jpg",
)
PAINTERLY = ("102-greentea781016.jpg", "1024-sutegoro4403.jpg", "1107-musou_luf.jpg")  # painted colour pictures


@dataclass
class HardCase:
    group: str
    sample: Sample


def _fit(sample: Sample, max_side: int) -> Sample:
    h, w = sample.truth.shape[:2]
    if max(h, w) <= max_side:
        return sample
    f = max_side / max(h, w)
    size = (round(w * f), round(h * f))
    sample.color = cv2.resize(sample.color, size, interpolation=cv2.INTER_AREA)
    sample.truth = cv2.resize(sample.truth, size, interpolation=cv2.INTER_AREA)
    sample.sketch = cv2.resize(sample.sketch, size, interpolation=cv2.INTER_AREA)
    if sample.flat is not None:
        sample.flat = cv2.resize(sample.flat, size, interpolation=cv2.INTER_NEAREST)
    return sample


def painted_copy(sample: Sample, seed: int = 2026) -> Sample:
    """The set repainted with a generator seeded by its name: the same picture on every run."""
    rng = np.random.default_rng([seed, *sample.name.encode()])
    for _ in range(8):  # a repaint, not the untouched composite (repaint keeps it 1 time in 4)
        color = flats_data.repaint(rng, sample.flat, sample.truth, sample.color)
        if color is not sample.color:
            break
    return Sample(sample.name + "~painted", color, sample.sketch, 1.0, "painted", truth=sample.truth)


def hard_cases(pairs_dir: str | Path, flats_dir: str | Path, recipe: str = "sketch",
               max_side: int = MAX_SIDE, groups: tuple[str, ...] = ("clean", "unclean", "flats", "painted"),
               limit: int | None = None) -> list[HardCase]:
    """Every case of the harder split (``limit``: at most that many held-out webtoon sets, for speed)."""
    from training.recipes import load_recipe

    val_names = set(load_recipe(recipe).get("val_names", []))
    cases: list[HardCase] = []
    has_pairs = (Path(pairs_dir) / "sketch").is_dir()
    pairs = {n: (c, s) for n, c, s in list_pairs(pairs_dir, "all")} if has_pairs else {}
    if "clean" in groups:
        names = [n for n in sorted(val_names) if n in pairs]
        cases += [HardCase("clean", _fit(load_pair(n, *pairs[n]), max_side)) for n in names]
    if "unclean" in groups:
        names = [n for n in UNCLEAN_NAMES if n in pairs]
        cases += [HardCase("unclean", _fit(load_pair(n, *pairs[n]), max_side)) for n in names]
    if {"flats", "painted"} & set(groups):
        _, held_out = flats_data.split_names(flats_dir)
        sets = [_fit(flats_data.load_set(flats_dir, n, max_side=2 * max_side), max_side)
                for n in held_out[:limit]]
        if "flats" in groups:
            cases += [HardCase("flats", s) for s in sets]
        if "painted" in groups:
            cases += [HardCase("painted", painted_copy(s)) for s in sets]
    return cases


def train_exclusions() -> set[str]:
    """Picture names no training stage may use while the harder split is the yardstick."""
    return set(UNCLEAN_NAMES)
