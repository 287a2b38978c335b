"""Measures of guided colorization on held-out drawings: ``python -m training.evaluate_hints``.

On the validation drawings (the held-out ``lineart_flats`` series and the colorize recipe's validation pairs):

* **24 hints**: PSNR against the artist's colours of the full pipeline (``core.guided.ColorizeSession``) with
  24 random hints from the true colours away from the lines, next to a plain nearest-hint (Voronoi) fill of the
  same hints with the lines multiplied on;
* **one hint per flat region** (``lineart_flats``): PSNR of the flats layer against the artist's flats and the
  share of pixels within CIE76 ΔE 10 of them;
* **no hints**: PSNR / SSIM / colourfulness of the pipeline, of the previous colorizer (``--old``) and of a flat
  mean colour;
* a grid (line art | truth | ours with hints | Voronoi | ours without hints) for looking at the outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training import hint_eval
from training.color_metrics import colorfulness, colorize_scores, delta_e_share, psnr


def validation(flats_dir: str, pairs_dir: str, recipe: str = "colorize_hints", pairs: bool = True):
    from training import colorize_data as cd
    from training.recipes import load_recipe

    val = cd.flats_samples(flats_dir, "val", None)
    if pairs:
        names = set(load_recipe(recipe).get("val_names", []))
        val += cd.pair_samples(pairs_dir, names, "val", None)
    return val


class Pipeline:
    """Our colorize as the app runs it: ``core.guided.ColorizeSession`` (regions, hint fill, the proposal);
    ``render(session, points) -> (rgb uint8, flats uint8)``."""

    name = "ColorizeSession"

    def __init__(self, model: str | None):
        self.model = model

    def session(self, lines: np.ndarray):
        from anisketch_desktop.core.guided import ColorizeSession

        session = ColorizeSession(lines, model=self.model, device="cpu")
        session.prepare()
        return session

    def render(self, session, points) -> tuple[np.ndarray, np.ndarray]:
        res = session.render(hint_eval.as_hints(points), flat=True)
        return res.rgb[..., :3], res.flats[..., :3]


def run(val, model: str | None, old: str | None, count: int = 24, seed: int = 0, grid: str | None = None) -> dict:
    pipe = Pipeline(model)
    rng = np.random.default_rng(seed)
    rows, per = [], []
    ours_h, vor_h, ours_0, old_0, truths = [], [], [], [], []
    region_psnr, region_de, region_hint_counts = [], [], []
    for s in val:
        lines, truth = s.truth, s.truth_color
        t0 = time.time()
        session = pipe.session(lines)
        pts = hint_eval.random_hints(rng, truth, lines, count)
        rgb_h, _ = pipe.render(session, pts)
        rgb_0, _ = pipe.render(session, [])
        vor = hint_eval.multiply_lines(hint_eval.voronoi_fill(lines.shape, pts), lines)
        ours_h.append(rgb_h)
        vor_h.append(vor)
        ours_0.append(rgb_0)
        truths.append(truth)
        item = {"name": s.name, "psnr_hints": psnr(rgb_h, truth), "psnr_voronoi": psnr(vor, truth),
                "psnr_no_hints": psnr(rgb_0, truth)}
        if old:
            old_0.append(_previous(old, s.name, lines))
            item["psnr_old"] = psnr(old_0[-1], truth)
        if s.flat is not None:
            rp = hint_eval.region_hints(s.flat, lines)
            _, flats = pipe.render(session, rp)
            region_psnr.append(psnr(flats, s.flat))
            region_de.append(delta_e_share(flats, s.flat, 10.0))
            region_hint_counts.append(len(rp))
            item.update(region_hints=len(rp), region_flats_psnr=region_psnr[-1], region_within_de10=region_de[-1])
        item["seconds"] = round(time.time() - t0, 1)
        per.append(item)
        print(json.dumps(item), file=sys.stderr)
        if grid:
            hint_view = _hint_view(lines, pts)
            rows.append((np.repeat(lines[..., None], 3, 2), truth, rgb_h, vor, rgb_0, hint_view))
    res = {"pipeline": pipe.name, "count": len(val), "hints": count,
           f"{count} hints: ours": colorize_scores(ours_h, truths),
           f"{count} hints: Voronoi fill": colorize_scores(vor_h, truths),
           "no hints: ours": colorize_scores(ours_0, truths)}
    if old:
        res["no hints: previous colorizer"] = colorize_scores(old_0, truths)
    mean = np.mean([t.reshape(-1, 3).mean(axis=0) for t in truths], axis=0).round().astype(np.uint8)
    res["no hints: flat mean colour"] = colorize_scores(
        [hint_eval.multiply_lines(np.broadcast_to(mean, t.shape).copy(), s.truth) for t, s in zip(truths, val,
                                                                                                  strict=True)],
        truths)
    if region_psnr:
        res["one hint per flat region"] = {"flats_psnr": float(np.mean(region_psnr)),
                                           "within_de10": float(np.mean(region_de)),
                                           "hints_mean": float(np.mean(region_hint_counts))}
    res["truth colourfulness"] = float(np.mean([colorfulness(t) for t in truths]))
    res["per_picture"] = per
    if grid:
        from training.evaluate import write_grid

        write_grid(grid, rows, height=320)
    return res


def _previous(old: str, name: str, lines: np.ndarray) -> np.ndarray:
    """The previous colorizer's picture: ``old`` is a model file (run through today's pipeline) or a folder of
    its outputs, ``<stem>.png`` (e.g. made by the previous release's own pipeline)."""
    if Path(old).is_dir():
        from training.data import read_rgb

        return read_rgb(Path(old) / f"{Path(name).stem}.png")
    from anisketch_desktop.core import pipeline

    return pipeline.colorize(lines, model=old, device="cpu")[..., :3]


def _hint_view(lines: np.ndarray, points) -> np.ndarray:
    """The line art, faded, with the hints drawn as dots with a dark rim."""
    view = np.repeat((lines // 2 + 128)[..., None], 3, 2)
    r = max(3, round(max(lines.shape) / 150))
    for x, y, c in points:
        cv2.circle(view, (int(x), int(y)), r + 2, (0, 0, 0), -1)
        cv2.circle(view, (int(x), int(y)), r, tuple(int(v) for v in c), -1)
    return view


def main(argv=None) -> int:
    from training.cli import DEFAULT_FLATS, DEFAULT_PAIRS

    p = argparse.ArgumentParser(prog="python -m training.evaluate_hints", description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="hint colorize model (default: the installed proposal model)")
    p.add_argument("--old", default=None,
                   help="the previous colorizer, scored without hints: a model file or a folder of its <stem>.png")
    p.add_argument("--flats", default=DEFAULT_FLATS)
    p.add_argument("--pairs", default=DEFAULT_PAIRS)
    p.add_argument("--no-pairs", action="store_true", help="only the held-out lineart_flats series")
    p.add_argument("--hints", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", default=None, help="PNG: line art | truth | ours (hints) | Voronoi | ours (none) | hints")
    p.add_argument("--limit", type=int, default=0, help="only the first N drawings (a quick look)")
    p.add_argument("--json", default=None)
    ns = p.parse_args(argv)
    val = validation(ns.flats, ns.pairs, pairs=not ns.no_pairs)
    if ns.limit:
        val = val[: ns.limit]
    out = run(val, ns.model, ns.old, ns.hints, ns.seed, ns.grid)
    text = json.dumps(out, indent=1)
    print(text)
    if ns.json:
        Path(ns.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
