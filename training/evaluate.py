"""Score shipped models against XDoG on the validation split: ``python -m training.evaluate``.

Sketch: line F1 against the real line art and robustness (F1 of the output on each perturbed input against
the output on the clean input) for every XDoG preset, XDoG auto-tuned per picture, and each model given,
run through the same engine the app uses. Colorize: PSNR / SSIM / colourfulness against the true colour
pictures next to two trivial baselines (the sketch as gray, a flat mean colour), plus a before/after grid.
``--hard``: the harder split (``training.evaluate_hard``); ``--damaged``: its pictures damaged, scored against the
artists' line art (``training.evaluate_damaged``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from training import metrics
from training.cli import DEFAULT_PAIRS
from training.data import Sample, list_pairs, load_pairs, read_rgb


def val_samples(pairs_dir: str | Path, recipe: str = "sketch") -> list[Sample]:
    from training.recipes import load_recipe

    names = set(load_recipe(recipe).get("val_names", []))
    return load_pairs([p for p in list_pairs(pairs_dir, "clean") if p[0] in names], 1.0, "val")


def sketchers(models: list[str]) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Name -> function uint8 RGB -> uint8 gray sketch, for XDoG presets, XDoG auto and each model."""
    from anisketch_desktop.core import pipeline
    from anisketch_desktop.core.xdog import PRESETS

    out: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for name in PRESETS:
        out[f"xdog:{name}"] = lambda im, n=name: pipeline.sketch(im, engine="xdog", xdog_params=n)
    out["xdog:auto"] = lambda im: pipeline.sketch(im, engine="xdog", auto=True)
    for path in models:
        out[Path(path).stem] = lambda im, p=path: pipeline.sketch(im, model=p, device="cpu")
    return out


def score_sketch(samples: list[Sample], fn, robust: bool = True) -> dict:
    f1s, rob = [], {name: [] for name in metrics.PERTURBATIONS}
    for s in samples:
        clean = fn(s.color)
        f1s.append(metrics.line_f1(clean, s.truth))
        if robust:
            for name, value in metrics.robustness(fn, s.color, clean_output=clean).items():
                rob[name].append(value)
    res = {"f1": float(np.mean(f1s)), "f1_each": [round(float(f), 4) for f in f1s]}
    if robust:
        per = {name: float(np.mean(v)) for name, v in rob.items()}
        res["robust"] = float(np.mean(list(per.values())))
        res["robust_each"] = per
    return res


def evaluate_sketch(pairs_dir: str, models: list[str], robust: bool = True, xdog: bool = True,
                    recipe: str = "sketch") -> dict:
    samples = val_samples(pairs_dir, recipe)
    fns = sketchers(models)
    if not xdog:
        fns = {k: v for k, v in fns.items() if not k.startswith("xdog:")}
    results = {}
    for name, fn in fns.items():
        results[name] = score_sketch(samples, fn, robust)
        r = results[name]
        print(f"{name:>16}: F1 {r['f1']:.4f}" + (f"  robust {r['robust']:.4f}" if robust else ""), file=sys.stderr)
    return results


def evaluate_colorize(pairs_dir: str, model: str, grid: str | None = None, recipe: str = "colorize") -> dict:
    from anisketch_desktop.core import pipeline
    from training.color_metrics import colorize_scores

    samples = val_samples(pairs_dir, recipe)
    truths = [s.color for s in samples]
    preds = [pipeline.colorize(s.truth, model=model, device="cpu") for s in samples]
    gray = [np.repeat(s.truth[..., None], 3, axis=2) for s in samples]
    names = {s.name for s in samples}
    train_colors = [read_rgb(c)[::4, ::4] for n, c, _ in list_pairs(pairs_dir, "all") if n not in names]
    res = {"model": colorize_scores(preds, truths), "sketch as gray": colorize_scores(gray, truths)}
    # a flat picture of the training pictures' mean colour (what a trivial model learns), and, as an upper
    # bound for any flat picture, the validation pictures' own mean colour (it peeks at the answers)
    for label, pics in (("flat mean colour", train_colors), ("flat mean colour of the answers", truths)):
        mean = np.mean([t.reshape(-1, 3).mean(axis=0) for t in pics], axis=0).round().astype(np.uint8)
        res[label] = colorize_scores([np.broadcast_to(mean, t.shape).copy() for t in truths], truths)
    if grid:
        write_grid(grid, [(g, p, t) for g, p, t in zip(gray, preds, truths, strict=True)])
    return res


def write_grid(path: str, rows: list[tuple[np.ndarray, ...]], height: int = 256) -> None:
    """Rows of images side by side (sketch | prediction | truth), each scaled to ``height``."""
    lines = []
    for row in rows:
        cells = [cv2.resize(im, (max(1, round(im.shape[1] * height / im.shape[0])), height),
                            interpolation=cv2.INTER_AREA) for im in row]
        lines.append(np.hstack(cells))
    width = max(line.shape[1] for line in lines)
    canvas = np.vstack([np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=255)
                        for line in lines])
    from anisketch_desktop.core.imageio import save_image

    save_image(path, canvas, overwrite=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--pairs", default=DEFAULT_PAIRS)
    p.add_argument("--sketch", nargs="+", action="extend", default=[], help="sketch model files to score (repeatable)")
    p.add_argument("--colorize", default=None, help="colorize model file to score")
    p.add_argument("--grid", default=None, help="PNG of sketch | colorized | truth for the validation split")
    p.add_argument("--no-robust", action="store_true")
    p.add_argument("--no-xdog", action="store_true", help="skip the XDoG baselines")
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--update-cards", action="store_true",
                   help="put the results into the model cards (MODEL.md next to each scored model)")
    p.add_argument("--hard", action="store_true",
                   help="the harder split (training/hard_split.py): per-picture line F1, solid ink, wins vs XDoG")
    p.add_argument("--flats", default=None,
                   help="--hard/--damaged: lineart_flats folder (default ../shared/data/lineart_flats)")
    p.add_argument("--groups", nargs="+", default=None,
                   help="--hard/--damaged: only these groups (clean unclean flats painted)")
    p.add_argument("--limit", type=int, default=None, help="--hard/--damaged: at most this many pictures per group")
    p.add_argument("--figure", default=None, help="--hard: PNG of the painterly pictures (input | artist | outputs)")
    p.add_argument("--solid-figure", default=None,
                   help="--hard: PNG of solid-ink cases (input | ink to keep | XDoG auto | each model)")
    p.add_argument("--cache", default=None, help="--hard/--damaged: JSON file keeping scores per method and picture")
    p.add_argument("--damaged", action="store_true",
                   help="the harder split's pictures damaged (dark, noise, JPEG...): line F1 vs the artists' line art")
    ns = p.parse_args(argv)
    out = {}
    if ns.damaged:  # the harder split's pictures, damaged
        from training import evaluate_damaged

        out["damaged"] = evaluate_damaged.main_args(ns)
    if ns.hard and not ns.damaged:
        from training import evaluate_hard

        out["hard"] = evaluate_hard.main_args(ns)
        if ns.update_cards:
            for path in ns.sketch:
                evaluate_hard.add_to_card(Path(path).with_suffix(".md"), out["hard"], Path(path).stem)
    if ns.hard or ns.damaged:
        text = json.dumps(out, indent=1)
        print(text)
        if ns.json:
            Path(ns.json).write_text(text)
        return 0
    if ns.sketch or not ns.colorize:
        out["sketch"] = evaluate_sketch(ns.pairs, ns.sketch, not ns.no_robust, not ns.no_xdog)
    if ns.colorize:
        out["colorize"] = evaluate_colorize(ns.pairs, ns.colorize, ns.grid)
    if ns.update_cards:
        from training import card

        if ns.sketch:
            table = {k: v for k, v in out["sketch"].items() if k.startswith("xdog:")}
            for path in ns.sketch:
                card.add_evaluation(Path(path).with_suffix(".md"), "sketch",
                                    {**table, Path(path).stem: out["sketch"][Path(path).stem]})
        if ns.colorize:
            card.add_evaluation(Path(ns.colorize).with_suffix(".md"), "colorize", out["colorize"])
    text = json.dumps(out, indent=1)
    print(text)
    if ns.json:
        Path(ns.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
