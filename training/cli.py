"""``python -m training`` (and ``anisketch train`` via :func:`register`): run a recipe or a single stage."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError, ModelLoadError

DEFAULT_PAIRS = "../shared/data/pairs"  # relative to the repository root


def build_samples(recipe: dict, stage: dict, pairs_dir: str | None, colors_dir: str | None = None,
                  xdog: str = "auto"):
    """Training and validation samples of a stage (validation = the recipe's fixed list of clean pairs).
    A wizard dataset trains through ``training.session`` instead.

    ``colors_dir``: a folder of colour pictures whose line art XDoG makes (``xdog`` = "auto" for the per-picture
    tuner, or a preset name): the student project's recipe, usable without any hand-drawn line art.
    """
    from training import data

    val_names = set(recipe.get("val_names", []))
    spec = stage.get("data", {"clean": 1.0})
    train, val = [], []
    if colors_dir:
        train += color_folder_samples(colors_dir, xdog)
    if pairs_dir:
        clean = data.list_pairs(pairs_dir, "clean")
        loaded = data.load_pairs(clean, 1.0, "clean")
        val = [s for s in loaded if s.name in val_names]
        clean_train = [s for s in loaded if s.name not in val_names]
        if spec.get("clean", 0) > 0:
            _set_share(clean_train, spec["clean"])
            train += clean_train
        if spec.get("aligned", 0) > 0:
            others = data.load_pairs(data.list_pairs(pairs_dir, "unclean"), 1.0, "aligned")
            keep = [s for s in others if data.alignment_ratio(s) >= spec.get("min_alignment", 1.7)]
            print(f"aligned non-clean pairs: {len(keep)} of {len(others)}", file=sys.stderr)
            _set_share(keep, spec["aligned"])
            train += keep
        if spec.get("xdog", 0) > 0:
            from training.xdog_targets import xdog_target

            colors = [c for n, c, _ in data.list_pairs(pairs_dir, "all") if n not in val_names]
            xs = data.xdog_samples(colors, xdog_target, cache_dir=Path("runs/cache/xdog"))
            _set_share(xs, spec["xdog"])
            train += xs
        if spec.get("teacher", 0) > 0:
            train += _teacher_samples(pairs_dir, spec, val_names)
    if spec.get("line_layers", 0) > 0:  # sketch: the artists' line layers, repainted per example
        from training import flats_data

        flats_dir = spec.get("flats_dir", flats_data.DEFAULT_FLATS)
        names, _held_out = flats_data.split_names(flats_dir)
        sets = flats_data.load_sets(flats_dir, names)
        _set_share(sets, spec["line_layers"])
        train += sets
    if spec.get("val") == "hard" and pairs_dir:  # validate on (part of) the harder split instead
        from training import flats_data
        from training.hard_split import hard_cases

        val = [c.sample for c in hard_cases(pairs_dir, spec.get("flats_dir", flats_data.DEFAULT_FLATS),
                                            limit=int(spec.get("val_limit", 4)))]
    if spec.get("flats", 0) > 0 or spec.get("sketched", 0) > 0:
        train, val = _hint_data(spec, train, val, val_names, pairs_dir)
    return train, val


DEFAULT_FLATS = "../shared/data/lineart_flats"
DEFAULT_COLORS = "../shared/data/colors"


def _hint_data(spec: dict, train: list, val: list, val_names: set[str], pairs_dir: str | None):
    """The hint colorizer's data: artists' lines + flats (``flats`` share; validation: held-out series),
    colour pictures with the sketch model's line art (``sketched``), real pairs reduced to the working size."""
    from training import colorize_data as cd

    mp = float(spec.get("megapixels", cd.TRAIN_MEGAPIXELS))
    train = [s for s in train if s.source != "clean"]
    if spec.get("clean", 0) > 0 and pairs_dir:
        pairs = cd.pair_samples(pairs_dir, val_names, "train", mp)
        _set_share(pairs, spec["clean"])
        train += pairs
    if spec.get("flats", 0) > 0:
        flats_dir = spec.get("flats_dir", DEFAULT_FLATS)
        flats = cd.flats_samples(flats_dir, "train", mp)
        _set_share(flats, spec["flats"])
        train += flats
        val = cd.flats_samples(flats_dir, "val", None) + list(val)
    if spec.get("sketched", 0) > 0:
        sketched = cd.color_samples(spec.get("colors_dir", DEFAULT_COLORS), spec.get("lines_cache",
                                    "runs/cache/colors_lines"), "train", mp)
        _set_share(sketched, spec["sketched"])
        train += sketched
    for s in val:
        if s.truth_color is None:
            s.truth_color = s.color
    return train, val


def _teacher_samples(pairs_dir: str, spec: dict, val_names: set[str]):
    """Distillation samples: every non-validation colour picture with the teacher model's line art."""
    from training import data
    from training.teacher_targets import TeacherTarget, teacher_key

    model = spec.get("teacher_model", "resources/models/sketch_hq.safetensors")
    scale = float(spec.get("teacher_scale", 1.0))
    if not Path(model).is_file():
        raise ModelLoadError(f"Teacher model {model!r} not found: train the sketch_hq recipe first, or see the "
                             "recipe's notes for where that file comes from")
    colors = [c for n, c, _ in data.list_pairs(pairs_dir, "all") if n not in val_names]
    extra = spec.get("teacher_colors")  # a folder of colour pictures without line art (e.g. shared/data/colors)
    if extra:
        folder = Path(DEFAULT_COLORS if extra is True else extra)
        if not folder.is_dir():
            raise AniSketchError(f"Colour folder {str(folder)!r} for the teacher's targets not found")
        colors += sorted(p for p in folder.iterdir() if p.suffix.lower() in data.IMAGE_EXTS)
    cache = Path("runs/cache") / f"teacher-{teacher_key(model, scale)}"
    samples = data.xdog_samples(colors, TeacherTarget(model, scale=scale), cache_dir=cache)
    for s in samples:
        s.source = "teacher"
    _set_share(samples, spec["teacher"])
    return samples


def color_folder_samples(colors_dir: str, xdog: str = "auto"):
    """XDoG-target samples for every picture in ``colors_dir`` (recursively), cached per setting."""
    from functools import partial

    from anisketch_desktop.core.xdog import resolve_params
    from training import data
    from training.xdog_targets import xdog_target

    paths = sorted(p for p in Path(colors_dir).rglob("*") if p.suffix.lower() in data.IMAGE_EXTS)
    if not paths:
        raise AniSketchError(f"No pictures in {colors_dir}")
    make = partial(xdog_target, auto=True) if xdog == "auto" else partial(xdog_target, params=resolve_params(xdog))
    cache = Path("runs/cache") / f"xdog-{xdog}-{Path(colors_dir).resolve().name}"
    return data.xdog_samples(paths, make, cache_dir=cache)


def _free_name(path: Path) -> Path:
    """``path``, or ``stem-2``, ``stem-3``… when taken: a new model never replaces one the user already has."""
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def _set_share(samples, share: float) -> None:
    """Give a group of samples a total sampling weight of ``share``."""
    for s in samples:
        s.weight = share / max(1, len(samples))


def run_recipe(name: str, pairs_dir: str | None, runs: str = "runs", output: str | None = None,
               resume: bool = True, steps_scale: float = 1.0, progress=None, cancel=None,
               colors_dir: str | None = None, xdog: str = "auto") -> dict:
    """Run every stage of a recipe (each resumable while its data and options stay the same), then export the
    best weights with a model card."""
    from training import export, loop
    from training.recipes import load_recipe
    from training.session import data_fingerprint

    recipe = load_recipe(name)
    init = fingerprint = ""
    summary = {}
    stages = recipe["stages"]
    for i, stage in enumerate(stages):
        run_dir = Path(runs) / recipe["name"] / stage["name"]
        train, val = build_samples(recipe, stage, pairs_dir, colors_dir, xdog)
        targs = dict(stage.get("train", {}))
        targs["steps"] = max(1, int(targs.get("steps", 1000) * steps_scale))
        first_init = targs.pop("init_from", "")  # a stage's own starting weights (later stages: the previous)
        fingerprint = _fingerprint(data_fingerprint(train), data_fingerprint(val), recipe, stage, targs,
                                   [s.weight for s in sorted(train, key=lambda s: s.name)], fingerprint)
        args = loop.TrainArgs(run_dir=str(run_dir), task=recipe["task"], model=recipe.get("model", {}),
                              init_from=init or first_init, fingerprint=fingerprint, **targs)
        print(f"stage {stage['name']}: {len(train)} training samples, {len(val)} validation", file=sys.stderr)

        def stage_progress(f, i=i):
            if progress is not None:
                progress((i + f) / len(stages))

        summary[stage["name"]] = loop.train(args, train, val, resume=resume, progress=stage_progress,
                                            cancel=cancel)
        init = str(run_dir / "ckpt.pt")
    out = Path(output or recipe["output"])
    from training.loop import _dist_info

    if _dist_info()[1] == 0:
        from anisketch_desktop.core.unet_model import count_parameters
        from training import card

        model = loop.best_model_from(Path(init).parent, recipe.get("export", "best"))
        command = "python -m training " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if colors_dir:  # the user's own pictures: the model and its card say so
            folder = Path(colors_dir).resolve()
            where = f"XDoG ({xdog}) line art of the colour pictures in {folder.name}"
            export.export(model, out, recipe=recipe, summary=summary, command=command, dataset=where,
                          name=f"{folder.name} ({recipe['task']})", description=f"Trained on {where}")
            card.write(out, recipe, summary, command, count_parameters(model), notes=recipe.get("notes", ""),
                       data=f"{where} (`{folder}`){' and the pairs in `' + pairs_dir + '`' if pairs_dir else ''}.")
        else:
            export.export(model, out, recipe=recipe, summary=summary, command=command)
            card.write(out, recipe, summary, command, count_parameters(model), notes=recipe.get("notes", ""))
    _leave_process_group()
    return summary


def _fingerprint(*parts) -> str:
    """What a recipe stage learns from (its samples' pixels and weights, the recipe, the stage before)."""
    import hashlib

    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _leave_process_group() -> None:
    """Under torchrun: wait until rank 0 has exported, then close the process group cleanly (a rank that
    exits with the group still open can abort its peer)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recipe", default=None,
                   help="recipe name (training/recipes/NAME.json) or path (default: sketch; with --dataset: "
                        "the dataset wizard's training, see --task/--steps)")
    p.add_argument("--pairs", default=None,
                   help=f"folder with color/ and sketch/ (and pairs.tsv); default {DEFAULT_PAIRS} unless --dataset")
    p.add_argument("--dataset", default=None,
                   help="a wizard dataset folder (its approved pairs) or an exported pairs folder; trains like the "
                        "wizard's Train page, runs kept inside the dataset")
    g = p.add_argument_group("with --dataset (as on the wizard's Train page)")
    g.add_argument("--task", choices=["sketch", "colorize", "both"], default="sketch",
                   help="which model to train (default: %(default)s)")
    g.add_argument("--steps", type=int, default=2000, help="training steps per model (default: %(default)s)")
    g.add_argument("--name", default=None, help="model name (default: the dataset folder's name)")
    g.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"],
                   help="where to train (default: auto = a usable CUDA GPU, then Apple MPS, then the CPU)")
    p.add_argument("--colors", default=None, metavar="DIR",
                   help="a folder of colour pictures; XDoG makes their line art (no hand-drawn pairs needed)")
    p.add_argument("--xdog", default="auto", help="with --colors: auto (tuned per picture) or a preset name")
    p.add_argument("--runs", default="runs",
                   help="scratch folder for checkpoints and logs of --pairs/--colors runs (a --dataset keeps its "
                        "runs inside the dataset)")
    p.add_argument("--output", default=None, help="exported .safetensors (default: the recipe's)")
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.add_argument("--steps-scale", type=float, default=1.0, help="multiply every stage's steps")


def run_dataset(ns: argparse.Namespace) -> int:
    """``--dataset``: a ``TrainingSession``, exactly as the wizard's Train page runs it."""
    from training.session import TrainingSession, TrainOptions

    tasks = ["sketch", "colorize"] if ns.task == "both" else [ns.task]
    options = TrainOptions(tasks=tasks, steps=ns.steps, device=ns.device,
                           name=ns.name or Path(ns.dataset).resolve().name, recipe=ns.recipe or "",
                           steps_scale=ns.steps_scale, output=ns.output or "")
    command = "anisketch train " + " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "train")
    session = TrainingSession(ns.dataset, options, source=command)

    def show(event) -> None:
        if event.message:
            print(event.message, file=sys.stderr)

    result = session.run(progress=show, resume=not ns.no_resume, quiet=False)
    print(json.dumps({"models": result.models, "cards": result.cards, "steps": result.steps,
                      "resumed": result.resumed, "seconds": round(result.seconds, 1)}, indent=1))
    return 0


def run_args(ns: argparse.Namespace) -> int:
    if ns.dataset:
        if not Path(ns.dataset).is_dir():
            print(f"error: dataset folder {ns.dataset!r} not found", file=sys.stderr)
            return 2
        return run_dataset(ns)
    ns.recipe = ns.recipe or "sketch"
    pairs = ns.pairs or (None if ns.colors else DEFAULT_PAIRS)
    if ns.colors and not Path(ns.colors).is_dir():
        print(f"error: colour folder {ns.colors!r} not found", file=sys.stderr)
        return 2
    if pairs is not None and not Path(pairs).is_dir():
        print(f"error: pairs folder {pairs!r} not found", file=sys.stderr)
        return 2
    output = ns.output
    own = ns.colors
    if own and not output:  # a user's own model goes to their models folder, never over a shipped one
        from anisketch_desktop import paths
        from training.recipes import load_recipe

        task = load_recipe(ns.recipe)["task"]
        output = str(_free_name(paths.user_models_dir() / f"{Path(own).resolve().name}-{task}.safetensors"))
        print(f"the model will be saved as {output}", file=sys.stderr)
    summary = run_recipe(ns.recipe, pairs, ns.runs, output, not ns.no_resume, ns.steps_scale,
                         colors_dir=ns.colors, xdog=ns.xdog)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "config"} for k, v in summary.items()}, indent=1))
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``train`` to a CLI's subparsers (``anisketch train ...``)."""
    p = subparsers.add_parser("train", help="train a sketch or colorize model from a recipe")
    add_arguments(p)
    p.set_defaults(func=run_args)
    return p


def main(argv=None) -> int:
    """``python -m training``: errors become one line on stderr and exit status 1 (as ``anisketch train``)."""
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    add_arguments(p)
    try:
        return run_args(p.parse_args(argv))
    except AniSketchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
