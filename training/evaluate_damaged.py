"""Line art from damaged pictures, against the artists' line art: ``python -m training.evaluate --damaged``.

Robustness (``metrics.robustness``) is self-consistency: a model's output on a damaged copy against its own output
on the clean picture, which also counts against a model the faint detail that a damage removes. What a user gets
from a dark scan, a noisy photo or a JPEG is the line F1 of the output against the artist's line art: this module
scores every picture of the harder split (``hard_split.hard_cases``) once clean and once under each of
``metrics.PERTURBATIONS``, for each model and XDoG --auto, and counts per damage the pictures where the first
model is ahead of each other method.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from training import metrics

CLEAN = "clean"


def damages() -> dict:
    """Name -> damage of a uint8 RGB picture: the clean picture first, then the robustness perturbations."""
    return {CLEAN: lambda im: im, **metrics.PERTURBATIONS}


def evaluate_damaged(pairs_dir: str, flats_dir: str, models: list[str], groups=None, limit: int | None = None,
                     cache_path: str | None = None) -> dict:
    """``{"pictures", "damages", "f1_each": {method: {damage: [F1 per picture]}}, "methods": {method: {damage: mean}},
    "wins": {other: {damage: "k/n"}}}`` with ``wins`` those of the first model against every other method."""
    from training.evaluate import sketchers
    from training.evaluate_hard import cached, method_key, scored_cases

    cases, names, cache = scored_cases(pairs_dir, flats_dir, groups, limit, cache_path)
    fns = {m: fn for m, fn in sketchers(models).items() if m == "xdog:auto" or not m.startswith("xdog:")}
    f1: dict[str, dict[str, list[float]]] = {m: {d: [] for d in damages()} for m in fns}
    for case, name in zip(cases, names, strict=True):
        s = case.sample
        for damage, hurt in damages().items():
            picture = hurt(s.color)
            for m, fn in fns.items():
                key = f"{method_key(m, models)}|{name}|damaged:{damage}"
                score = cached(cache, key, lambda fn=fn, picture=picture, s=s: float(metrics.line_f1(fn(picture),
                                                                                                    s.truth)))
                f1[m][damage].append(round(score, 4))
        print(f"{name:<44} " + " ".join(f"{m.split(':')[-1][:10]}={np.mean([v[-1] for v in f1[m].values()]):.3f}"
                                        for m in fns), file=sys.stderr)
    means = {m: {d: round(float(np.mean(v)), 4) for d, v in per.items()} for m, per in f1.items()}
    first = Path(models[0]).stem if models else None
    wins = {}
    if first:
        for other in (m for m in fns if m != first):
            wins[other] = {d: f"{sum(a > b for a, b in zip(f1[first][d], f1[other][d], strict=True))}/{len(names)}"
                           for d in damages()}
    return {"pictures": names, "damages": list(damages()), "f1_each": f1, "methods": means, "first": first,
            "wins": wins}


def table(res: dict) -> str:
    """Mean line F1 per method and damage, then the first model's per-picture wins against each other method."""
    head = ["method", *res["damages"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m, row in res["methods"].items():
        lines.append("| " + " | ".join([m, *(f"{row[d]:.4f}" for d in res["damages"])]) + " |")
    for other, row in res["wins"].items():
        lines.append("| " + " | ".join([f"{res['first']} ahead of {other}", *(row[d] for d in res["damages"])])
                     + " |")
    return "\n".join(lines)


def main_args(ns) -> dict:
    from training.flats_data import DEFAULT_FLATS

    res = evaluate_damaged(ns.pairs, ns.flats or DEFAULT_FLATS, ns.sketch, groups=ns.groups, limit=ns.limit,
                           cache_path=ns.cache)
    print(table(res), file=sys.stderr)
    return res
