"""The hint fill against the artists' flats: random hints from the true colours, and one hint per true region.

    python -m benchmarks.eval_hints [--count 10] [--hints 24] [--data ../shared/data/lineart_flats]

Per set of ``lineart_flats`` (the artist's line layer and flat colours, drawn at about 1 MP): PSNR of the flats
layer against the artist's flats, and the share of pixels within ΔE 10 (CIE76, Lab) of them, for
* ``voronoi``: every pixel the colour of the nearest of the random hints (the plain baseline);
* ``fill``: the region fill with the same hints (the proposal under the unhinted regions);
* ``fill-nofollow``: the same without unhinted regions following matching hinted ones;
* ``per-region``: one hint per true flat region (each connected area of one colour in the artist's flats, at
  least 30 px and 6 px wide, at its most interior pixel) — what a patient user would place; this is the flats layer;
* ``per-area``: one dot per closed area of the drawing (each of our regions, at its most interior pixel) in the
  artist's colour there — a user clicking every area once;
* ``oracle``: every one of our regions given its true mean colour (the ceiling of our regions).
Hints are sampled at random paper pixels at least 3 px from the lines. Third-party artwork: nothing is saved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from anisketch_desktop.core import fill
from anisketch_desktop.core.guided import ColorizeSession
from anisketch_desktop.core.hints import HintPoint, Hints
from anisketch_desktop.core.imageio import read_image, to_uint8_rgb
from anisketch_desktop.core.palette import to_lab
from anisketch_desktop.core.regions import region_means
from training.color_metrics import psnr

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # <repo>/../shared/data


def _scores(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    de = np.sqrt(((to_lab(pred / 255.0) - to_lab(truth / 255.0)) ** 2).sum(-1))
    return psnr(pred, truth), float((de <= 10.0).mean())


def _voronoi(hints: Hints, shape) -> np.ndarray:
    seeds = np.zeros(shape, np.int32)
    for k, p in enumerate(hints.points, start=1):
        seeds[int(p.y), int(p.x)] = k
    _, nearest = cv2.distanceTransformWithLabels((seeds == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    colours = np.array([(0, 0, 0)] + [p.color for p in hints.points], np.uint8)
    order = seeds[seeds > 0]  # DIST_LABEL_PIXEL numbers the seeds in scan order
    return colours[order[nearest - 1]]


def _truth_hints(truth: np.ndarray, min_area: int = 30, min_depth: float = 3.0) -> Hints:
    """One hint per connected area of one colour of the artist's flats, at its most interior pixel (areas
    narrower than ``2 * min_depth``, e.g. the anti-aliased rims between two flats, get none)."""
    key = (truth[..., 0].astype(np.int32) << 16) | (truth[..., 1].astype(np.int32) << 8) | truth[..., 2]
    _, inverse = np.unique(key.ravel(), return_inverse=True)
    colour_id = inverse.reshape(key.shape).astype(np.int32)
    edges = np.zeros(key.shape, bool)  # borders between colours: components split there
    edges[:, 1:] |= colour_id[:, 1:] != colour_id[:, :-1]
    edges[1:, :] |= colour_id[1:, :] != colour_id[:-1, :]
    count, comp = cv2.connectedComponents((~edges).astype(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    depth = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 3).ravel()
    flat = comp.ravel()
    area = np.bincount(flat, minlength=count)
    order = np.lexsort((depth, flat))
    last = np.r_[flat[order][1:] != flat[order][:-1], True]
    points = []
    w = key.shape[1]
    for label, index in zip(flat[order][last].tolist(), order[last].tolist(), strict=True):
        if label == 0 or area[label] < min_area or depth[index] < min_depth:
            continue
        y, x = divmod(index, w)
        points.append(HintPoint(float(x), float(y), tuple(int(v) for v in truth[y, x])))
    return Hints(points=tuple(points))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED_DATA / "lineart_flats"))
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--hints", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = sorted(p.stem for p in (Path(args.data) / "line").glob("*.png"))
    names = names[:: max(1, len(names) // args.count)][: args.count]
    rng = np.random.default_rng(args.seed)
    table: dict[str, list[tuple[float, float]]] = {}
    for name in names:
        lines = read_image(Path(args.data) / "line" / f"{name}.png")
        truth = to_uint8_rgb(read_image(Path(args.data) / "flat" / f"{name}.png"))
        h, w = lines.shape[:2]
        s = min(1.0, (1e6 / (h * w)) ** 0.5)
        size = (round(w * s), round(h * s))
        lines = cv2.resize(lines, size, interpolation=cv2.INTER_AREA)
        truth = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST)
        session = ColorizeSession(lines, device="cpu")
        session.prepare()
        regions = session.regions
        away = cv2.distanceTransform(regions.paper.astype(np.uint8), cv2.DIST_L2, 3) >= 3
        ys, xs = np.nonzero(away)
        pick = rng.choice(len(ys), min(args.hints, len(ys)), replace=False)
        hints = Hints(points=tuple(HintPoint(float(xs[i]), float(ys[i]), tuple(int(v) for v in truth[ys[i], xs[i]]))
                                   for i in pick))
        true_means = region_means(regions, truth.astype(np.float32) / 255.0)
        oracle = fill.paint(regions, true_means)
        follow = session.render(hints).flats
        assigned = fill.assign_hints(regions, hints)
        nofollow = fill.paint(regions, fill.region_colors(regions, session._cache["means"], assigned, follow=False),
                              assigned)
        per_region = session.render(_truth_hints(truth)).flats
        from anisketch_desktop.core.guided import style_hints

        per_area = style_hints(truth, lines)  # one dot per region of the drawing; colours: the artist's there
        per_area = Hints(points=tuple(HintPoint(p.x, p.y, tuple(int(v) for v in truth[int(p.y), int(p.x)]))
                                      for p in per_area.points))
        per_area = session.render(per_area).flats
        rows = {"voronoi": _voronoi(hints, regions.shape), "fill": follow, "fill-nofollow": nofollow,
                "per-region": per_region, "per-area": per_area, "oracle": oracle}
        line = f"{name:<28}"
        for key, pred in rows.items():
            score = _scores(pred, truth)
            table.setdefault(key, []).append(score)
            line += f" {key} {score[0]:5.2f}/{100 * score[1]:4.1f}%"
        print(line, flush=True)
    print("mean over", len(names), "sets:")
    for key, scores in table.items():
        arr = np.array(scores)
        print(f"  {key:<14} PSNR {arr[:, 0].mean():5.2f} dB   within dE 10: {100 * arr[:, 1].mean():4.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
