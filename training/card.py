"""Model cards: a markdown file next to each exported model (data, recipe, command, metrics, cost)."""

from __future__ import annotations

import json
from pathlib import Path

from training.export import write_card


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


SHIPPED_DATA = (
    "Real illustration / artist line-art pairs (132, from a public colorization project's validation set; "
    "`clean_aligned` marks the clean, aligned ones) plus XDoG line art made from the colour pictures where "
    "the recipe says so, or a teacher model's line art of them (distillation stages). Validation: the "
    "recipe's `val_names`, 8 clean pairs never trained on.")


def render(recipe: dict, summary: dict, command: str, parameters: int, size_bytes: int,
           evaluation: dict | None = None, notes: str = "", data: str = SHIPPED_DATA) -> str:
    """The card's markdown. ``evaluation`` is ``python -m training.evaluate --json`` output (optional);
    ``data`` says what the model learned from (the shipped recipes' pairs unless told otherwise)."""
    name, task = recipe.get("name", "model"), recipe.get("task", "sketch")
    what = ("a picture (RGB) -> its line art (gray, 255 = paper)" if task == "sketch"
            else "line art (gray) -> a coloured picture (RGB; Lab lightness + ab colour bins)")
    out = [f"# {name}.safetensors — AniSketch {task} model", "", f"**Maps** {what}.", ""]
    config = json.dumps(recipe.get("model", {}))
    r = int(recipe.get("model", {}).get("unshuffle", 2))
    level = {1: "full-resolution", 2: "half-resolution", 4: "quarter-resolution"}.get(r, f"1/{r}-resolution")
    out += [f"* Architecture: {level} U-Net (`pixel_unshuffle` {r}), config `{config}`",
            f"* Parameters: {parameters:,}; file: {size_bytes / 1e6:.1f} MB (fp16 safetensors, config in the metadata)",
            f"* Reproduce: `{command}`", ""]
    out += ["## Data", "", data, ""]
    rows = [["stage", "data shares", "steps x batch", "lr", "validation of the weights passed on"]]
    stages = recipe.get("stages", [])
    for i, stage in enumerate(stages):
        t = stage.get("train", {})
        nxt = stages[i + 1].get("train", {}) if i + 1 < len(stages) else {}
        which = nxt.get("init_weights", "best") if nxt else recipe.get("export", "best")
        best = (summary.get(stage["name"]) or {}).get("last" if which == "last" else "best", {})
        best_txt = ", ".join(f"{k} {_fmt(v)}" for k, v in best.items() if k not in ("score",)) or "-"
        rows.append([stage["name"], json.dumps(stage.get("data", {})), f"{t.get('steps')} x {t.get('batch_size')}",
                     str(t.get("lr")), best_txt])
    out += ["## Recipe", "", _table(rows), ""]
    if evaluation:
        out += [evaluation_section(task, evaluation)]
    if notes:
        out += ["## Notes", "", notes.strip(), ""]
    out += ["## Limits", "",
            ("Trained on a small set of anime illustrations; photographs, 3D renders and dense textures give "
             "busier line art. Third-party artwork was used for training only; no training image is shipped."
             if data == SHIPPED_DATA else
             "Learned only from the pictures above: expect it to do best on pictures like them. No training "
             "picture is stored in the model file."), ""]
    return "\n".join(out)


EVAL_HEADER = "## Evaluation (validation split, `python -m training.evaluate`)"


def evaluation_section(task: str, evaluation: dict) -> str:
    """Markdown table of ``python -m training.evaluate`` results for one task."""
    if task == "sketch":
        perts = list(next(iter(evaluation.values())).get("robust_each", {}))
        rows = [["method", "line F1", "robustness"] + perts]
        for method, r in evaluation.items():
            rows.append([method, _fmt(r["f1"]), _fmt(r.get("robust", "-"))]
                        + [_fmt(r.get("robust_each", {}).get(p, "-")) for p in perts])
    else:
        rows = [["method", "PSNR dB", "SSIM", "colourfulness / truth"]]
        for method, r in evaluation.items():
            rows.append([method, f"{r['psnr']:.2f}", f"{r['ssim']:.3f}", f"{r['colorfulness_ratio']:.2f}"])
    return "\n".join([EVAL_HEADER, "", _table(rows), ""])


def add_evaluation(card_path: str | Path, task: str, evaluation: dict) -> Path:
    """Put (or replace) the evaluation section of an existing model card, before its ``## Limits``."""
    card_path = Path(card_path)
    text = card_path.read_text(encoding="utf-8")
    section = evaluation_section(task, evaluation) + "\n"
    if EVAL_HEADER in text:
        start = text.index(EVAL_HEADER)
        nxt = text.find("\n## ", start + len(EVAL_HEADER))
        text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
    elif "## Notes" in text or "## Limits" in text:
        at = text.index("## Notes") if "## Notes" in text else text.index("## Limits")
        text = text[:at] + section + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    return write_card(card_path, text)


def write(model_path: str | Path, recipe: dict, summary: dict, command: str, parameters: int,
          evaluation: dict | None = None, notes: str = "", data: str = SHIPPED_DATA) -> Path:
    model_path = Path(model_path)
    text = render(recipe, summary, command, parameters, model_path.stat().st_size, evaluation, notes, data)
    return write_card(model_path.with_suffix(".md"), text)
