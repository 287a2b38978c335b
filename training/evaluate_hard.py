"""The harder validation split, per picture: ``python -m training.evaluate --hard --sketch MODEL...``.

For every picture of ``hard_split.hard_cases`` it scores line F1 of each XDoG preset, XDoG auto and each model;
the best fixed preset is the one with the best mean. It counts the pictures where each model beats that preset
and auto, and measures solid ink (``solid_ink``) on real line art with filled areas and on synthetic black
lettering and shapes. ``--figure`` writes the painterly pictures side by side (input | artist | XDoG auto |
models) under ``runs/`` (third-party artwork: never committed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training import metrics, solid_ink
from training.hard_split import PAINTERLY, hard_cases

MIN_REAL_FILL_PX = 400  # real pictures with at least this much filled ink count for the solid-ink score


def _synthetic_backgrounds(cases, count: int = 6, side: int = 768) -> list[np.ndarray]:
    out = []
    for case in cases[:: max(1, len(cases) // count)][:count]:
        c = case.sample.color
        f = side / max(c.shape[:2])
        out.append(cv2.resize(c, (round(c.shape[1] * f), round(c.shape[0] * f)), interpolation=cv2.INTER_AREA))
    return out


def scored_cases(pairs_dir: str, flats_dir: str, groups, limit: int | None, cache_path: str | None):
    """``(cases, names, cache)``: the harder split's cases, their ``group/name`` and the score cache (None without
    ``cache_path``; a JSON file of scores per method and picture kept between runs)."""
    import json

    cache = None
    if cache_path:
        cache = json.loads(Path(cache_path).read_text()) if Path(cache_path).is_file() else {}
        cache["__path__"] = cache_path
    kwargs = {"groups": tuple(groups)} if groups else {}
    cases = hard_cases(pairs_dir, flats_dir, limit=limit, **kwargs)
    return cases, [f"{c.group}/{c.sample.name}" for c in cases], cache


def cached(cache: dict | None, key: str, compute):
    """``compute()``, kept in ``cache`` under ``key`` (and written to its file) the first time."""
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
        if "__path__" in cache:
            import json

            Path(cache["__path__"]).write_text(json.dumps(cache))
    return cache[key]


def evaluate_hard(pairs_dir: str, flats_dir: str, models: list[str], groups=None, limit: int | None = None,
                  figure: str | None = None, xdog: bool = True, cache_path: str | None = None,
                  solid_figure: str | None = None) -> dict:
    """``cache_path``: a JSON file of scores per (method, picture) kept between runs (XDoG is scored once).
    ``figure``: the painterly pictures (input | artist | XDoG auto | each model); ``solid_figure``: three
    synthetic solid-ink cases and the three real pictures with the most filled ink (input | ink to keep |
    XDoG auto | each model)."""
    from training.evaluate import sketchers

    cases, names, cache = scored_cases(pairs_dir, flats_dir, groups, limit, cache_path)
    fns = sketchers(models)
    if not xdog:
        fns = {k: v for k, v in fns.items() if not k.startswith("xdog:") or k == "xdog:auto"}
    f1 = {m: [] for m in fns}
    real_solid = {m: [] for m in fns}
    real_solid_names = []
    figure_rows = []
    fill_area: dict[str, int] = {}  # filled-ink pixels of each picture's line art (the solid-ink figure)
    for case, cname in zip(cases, names, strict=True):
        s = case.sample
        fill = solid_ink.real_fill(s.truth)
        fill_area[cname] = int(fill.sum())
        has_fill = fill_area[cname] >= MIN_REAL_FILL_PX
        if has_fill:
            real_solid_names.append(cname)
        row = [s.color, np.dstack([s.truth] * 3)]
        started = time.time()
        for m, fn in fns.items():
            want_figure = figure and (s.name in PAINTERLY or case.group == "painted") and (
                m == "xdog:auto" or not m.startswith("xdog:"))
            key = f"{method_key(m, models)}|{cname}"
            out = fn(s.color) if want_figure or cache is None or key not in cache else None

            def scores(out=out, fn=fn, s=s, fill=fill, has_fill=has_fill):
                pred = fn(s.color) if out is None else out
                return [float(metrics.line_f1(pred, s.truth)),
                        float(solid_ink.solid_ink_score(pred, fill)) if has_fill else None]

            line, solid = cached(cache, key, scores)
            f1[m].append(round(line, 4))
            if has_fill:
                real_solid[m].append(round(solid, 4))
            if want_figure:
                row.append(np.dstack([metrics.to_gray_u8(out)] * 3))
        if len(row) > 2:
            figure_rows.append((cname, row))
        print(f"{cname:<44} " + " ".join(f"{m.split(':')[-1][:10]}={f1[m][-1]:.3f}" for m in fns)
              + f"  ({time.time() - started:.0f}s)", file=sys.stderr)
    synthetic = solid_ink.synthetic_cases(_synthetic_backgrounds(cases))
    synth = {m: [round(float(cached(cache, f"{method_key(m, models)}|{n}|solid",
                                     lambda fn=fn, pic=pic, filled=filled: solid_ink.solid_ink_score(fn(pic), filled))),
                       4) for n, pic, filled in synthetic]
             for m, fn in fns.items() if m == "xdog:auto" or not m.startswith("xdog:")}
    res = _summary(names, f1, real_solid, real_solid_names, synth, [c.group for c in cases], models)
    if solid_figure:
        shown = {m: fn for m, fn in fns.items() if m == "xdog:auto" or not m.startswith("xdog:")}
        most = [c for c, _ in sorted(zip(cases, names, strict=True), key=lambda cn: -fill_area[cn[1]])[:3]]
        rows = [(n, pic, np.where(filled, 0, 255).astype(np.uint8)) for n, pic, filled in synthetic[:3]]
        rows += [(c.sample.name, c.sample.color, c.sample.truth) for c in most]
        _write_figure(solid_figure, [(n, [pic, np.dstack([truth] * 3)]
                                      + [np.dstack([metrics.to_gray_u8(fn(pic))] * 3) for fn in shown.values()])
                                     for n, pic, truth in rows])
    if figure and figure_rows:
        _write_figure(figure, figure_rows)
    return res


def method_key(method: str, models: list[str]) -> str:
    """A cache key for a method: XDoG by name, a model by its file's content hash."""
    if method.startswith("xdog:"):
        return method
    from training.teacher_targets import teacher_key

    path = next(p for p in models if Path(p).stem == method)
    return teacher_key(path)


def _summary(names, f1, real_solid, real_solid_names, synth, groups, models) -> dict:
    presets = [m for m in f1 if m.startswith("xdog:") and m != "xdog:auto"]
    best_preset = max(presets, key=lambda m: np.mean(f1[m])) if presets else None
    res = {"pictures": names, "f1_each": f1, "best_fixed_preset": best_preset, "methods": {}}
    for m in f1:
        row = {"f1": round(float(np.mean(f1[m])), 4)}
        for g in dict.fromkeys(groups):
            idx = [i for i, gg in enumerate(groups) if gg == g]
            row[f"f1_{g}"] = round(float(np.mean([f1[m][i] for i in idx])), 4)
        if real_solid[m]:
            row["solid_real"] = round(float(np.mean(real_solid[m])), 4)
        if m in synth:
            row["solid_synthetic"] = round(float(np.mean(synth[m])), 4)
        for ref in (best_preset, "xdog:auto"):
            if ref and ref in f1 and m != ref and not m.startswith("xdog:"):
                wins = sum(a > b for a, b in zip(f1[m], f1[ref], strict=True))
                row[f"wins_vs_{ref.split(':')[1] if ref != best_preset else 'best_preset'}"] = f"{wins}/{len(names)}"
        res["methods"][m] = row
    res["solid_real_pictures"] = real_solid_names
    res["solid_real_each"] = real_solid
    res["solid_synthetic_each"] = synth
    return res


def _write_figure(path: str, rows, height: int = 320) -> None:
    from training.evaluate import write_grid

    write_grid(path, [tuple(cells) for _name, cells in rows], height=height)
    print(f"figure: {path} ({', '.join(n for n, _ in rows)})", file=sys.stderr)


def table(res: dict) -> str:
    """The summary as a markdown table (for the model card and the notes)."""
    groups = [k[3:] for k in next(iter(res["methods"].values())) if k.startswith("f1_")]
    head = ["method", "line F1", *[f"F1 {g}" for g in groups], "solid ink (real)", "solid ink (synthetic)",
            "wins vs best preset", "wins vs auto"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m, row in res["methods"].items():
        cells = [m + (" (best fixed)" if m == res["best_fixed_preset"] else ""), f"{row['f1']:.4f}",
                 *[f"{row['f1_' + g]:.4f}" for g in groups], _fmt(row.get("solid_real")),
                 _fmt(row.get("solid_synthetic")), row.get("wins_vs_best_preset", ""), row.get("wins_vs_auto", "")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(x) -> str:
    return "" if x is None else f"{x:.3f}"


def main_args(ns) -> dict:
    from training.flats_data import DEFAULT_FLATS

    res = evaluate_hard(ns.pairs, ns.flats or DEFAULT_FLATS, ns.sketch, groups=ns.groups, limit=ns.limit,
                        figure=ns.figure, xdog=not ns.no_xdog, cache_path=ns.cache,
                        solid_figure=ns.solid_figure)
    print(table(res), file=sys.stderr)
    return res



HARD_HEADER = "## Harder split (`python -m training.evaluate --hard`)"


def card_section(res: dict, model: str) -> str:
    """The harder split's results for one model's card: the summary next to XDoG, then every picture."""
    keep = {m: row for m, row in res["methods"].items() if m.startswith("xdog:") or m == model}
    summary = table({**res, "methods": keep})
    best = res["best_fixed_preset"]
    lines = [HARD_HEADER, "",
             "Real line art none of the sketch recipes trained on: the 8 clean validation pairs, 10 non-clean pairs "
             "whose line art still matches (pencil, tonal and painted pictures), held-out webtoon series "
             "(lineart_flats, the colour composite as is) and the same sets repainted (shaded, blurred fills, "
             "recoloured lines). Solid ink: share of the filled-ink interior drawn as ink (real: line art with "
             "fills; synthetic: black lettering and shapes on pictures). Best fixed preset = best mean F1.", "",
             summary, "", "<details><summary>Per picture (line F1)</summary>", "",
             f"| picture | {best} | xdog:auto | {model} |", "|---|---|---|---|"]
    for i, name in enumerate(res["pictures"]):
        f = res["f1_each"]
        lines.append(f"| {name} | {f[best][i]:.3f} | {f['xdog:auto'][i]:.3f} | {f[model][i]:.3f} |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def add_to_card(card_path, res: dict, model: str) -> None:
    """Put (or replace) the harder-split section of a model card, before its ``## Notes`` / ``## Limits``."""
    from training.export import write_card

    text = Path(card_path).read_text(encoding="utf-8")
    section = card_section(res, model) + "\n"
    if HARD_HEADER in text:
        start = text.index(HARD_HEADER)
        nxt = text.find("\n## ", start + len(HARD_HEADER))
        text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
    else:
        at = next((text.index(h) for h in ("## Notes", "## Limits") if h in text), len(text))
        text = text[:at] + section + "\n" + text[at:]
    write_card(Path(card_path), text)
