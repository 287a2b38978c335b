"""``anisketch``: the app's features without a window.

    anisketch sketch photo.png -o out/                 # U-Net line art -> out/photo_sketch.png
    anisketch xdog pictures/ -o out/ --recursive --auto
    anisketch colorize lineart.png -o out/
    anisketch style picture.jpg -o out/
    anisketch crawl / import / pairs / export / train   # building your own training set and model

Exit status: 0 when every file worked, 1 when some failed (the rest still ran), 2 on bad usage, 130 on Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop import __version__
from anisketch_desktop.application import DEFAULT_TEMPLATE, OPTION_GROUPS, Mode, Options, plan_batch
from anisketch_desktop.application.batch import BatchItem, ItemResult, run_batch
from anisketch_desktop.application.formatting import format_duration
from anisketch_desktop.application.modes import commands
from anisketch_desktop.application.naming import template_help
from anisketch_desktop.application.options import MIN_MEMORY_MB, MIN_TILE
from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.core.formats import DEVICES

MODEL_HELP = "{task} model: a name listed by `anisketch models`, or a .safetensors file (default: shipped)"

EPILOG = """examples:
  anisketch sketch photo.png -o out/                 U-Net sketch -> out/photo_sketch.png
  anisketch sketch art/ -o out/ --recursive          a whole folder tree, structure kept
  anisketch xdog photo.png -o out/ --auto            XDoG with parameters tuned for this picture
  anisketch xdog photo.png -o out/ --preset pencil   a named XDoG preset (see: anisketch presets)
  anisketch sketch photo.png -o out/ --transparent   lines on a transparent background (Krita, CSP)
  anisketch sketch photo.png -o out/ --line-weight 1 --threshold 0.8   bolder, crisp black ink
  anisketch sketch photo.png -o out/ --format svg    vector line art -> out/photo_sketch.svg
  anisketch sketch photo.png -o out/ --tint          lines in the picture's colours
  anisketch colorize lines.png -o out/               line art -> colour (out/lines_color.png)
  anisketch colorize lines.png -o out/ --hints lines.json --layers
                                                     your colour hints; + out/lines_colorize.psd (layers)
  anisketch colorize pages/ -o out/ --hints hints/ --reference page1.png
                                                     hints/<stem>.json per page; page 1's palette
  anisketch colorize lines.png -o out/ --write color,flats,lines
                                                     + flat colours only, + lines on transparency
  anisketch style photo.png -o out/                  clean lines over the picture's own flat colours
"""


# --------------------------------------------------------------------------------------------- progress
class ProgressBar:
    """A one-line text progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last_draw = 0.0

    def update(self, index: int, fraction: float, label: str) -> None:
        if not self.enabled or not self.tty:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and fraction < 1.0:
            return
        self._last_draw = now
        done = (index + fraction) / self.total
        elapsed = now - self.start
        eta = elapsed / done - elapsed if done > 0.01 else 0.0
        bar = "#" * int(done * 24)
        self.stream.write(
            f"\r[{bar:<24}] {100 * done:5.1f}% {index + 1}/{self.total} ETA {format_duration(eta):>10} {label[:40]:<40}"
        )
        self.stream.flush()

    def message(self, text: str) -> None:
        if self.tty and self.enabled:
            self.stream.write("\r" + " " * 110 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()


@dataclass
class BatchSummary:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- image jobs
def _message(exc: BaseException) -> str:
    """An error as the command line words it: the message, plus the flags that fix it where it says so
    (``AniSketchError.fix``: each entry is one way out, e.g. "(--engine xdog or --model PATH)")."""
    text = str(exc)
    flags = " or ".join(f"--{key.replace('_', '-')} {value}" for key, value in getattr(exc, "fix", {}).items())
    return f"{text} ({flags})" if flags else text


def options_from_args(args) -> Options:
    """The ``Options`` a command's flags ask for (not yet validated)."""
    modes = commands()[args.command]
    mode = next((m for m in modes if m.engine == getattr(args, "engine", None)), modes[0])
    xdog = {key: getattr(args, key) for key in XDOG_NAMES if getattr(args, key, None) is not None}
    models = {}
    for task in mode.tasks:
        flag = "model" if task == modes[0].tasks[-1] else f"{task}_model"
        models[task] = getattr(args, flag, None) or ""
    return Options(
        mode=mode.key,
        models=models,
        xdog=xdog,
        xdog_preset=getattr(args, "preset", None) or "",
        xdog_auto=getattr(args, "auto", False),
        transparent=getattr(args, "transparent", False),
        flats=getattr(args, "flats", None),
        speck_size=getattr(args, "specks", 0),
        device=getattr(args, "device", "auto"),
        tile=getattr(args, "tile", None),
        memory_mb=getattr(args, "memory", None),
        template=args.name,
        if_exists="overwrite" if args.overwrite else "skip",
        max_pixels=args.max_pixels,
        line_weight=getattr(args, "line_weight", 0),
        threshold=getattr(args, "threshold", 0.0),
        tint=getattr(args, "tint", False),
        format=getattr(args, "format", "png"),
        hints=getattr(args, "hints", None) or "",
        reference=getattr(args, "reference", None) or "",
        soft=getattr(args, "soft", False),
        layers=getattr(args, "layers", False),
        outputs=getattr(args, "write", ("color",)),
    )


def run_images(args) -> int:
    from anisketch_desktop.core import imageio

    try:
        options = options_from_args(args).validate()
    except AniSketchError as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    try:
        files = imageio.iter_image_files(args.inputs, recursive=args.recursive)
    except AniSketchError as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 1
    if not files:
        print("error: no images found in the given inputs" + ("" if args.recursive else
              " (use --recursive for sub-folders)"), file=sys.stderr)
        return 1
    if options.hints and Path(options.hints).is_file() and len(files) > 1:
        print(f"error: --hints {Path(options.hints).name} is one picture's hints, but {len(files)} pictures were "
              "given; pass a folder of <stem>.json instead", file=sys.stderr)
        return 2
    out_dir = Path(args.output)
    plan = plan_batch(files, out_dir, options)
    bar = ProgressBar(len(plan.jobs), enabled=not args.quiet)
    if plan.left_out:
        bar.message(f"note: left out {len(plan.left_out)} file(s) that are this tool's own outputs "
                    f"(e.g. {plan.left_out[0]})")
    summary = BatchSummary(failed=[(path, _message(exc)) for path, exc in plan.failed])
    for path, reason in summary.failed:
        bar.message(f"failed: {_named(path, reason)}")
    started = time.monotonic()
    jobs = plan.jobs

    def on_result(result: ItemResult) -> None:
        job = jobs[result.key]
        if result.state == "skipped":
            summary.skipped.append(job.source)
            bar.message(f"skipped {job.rel}: {job.target} exists (use --overwrite to replace it)")
        elif result.state == "done" and result.outcome is not None:
            summary.done.append(result.outcome.output)
            if args.verbose:
                bar.message(f"wrote {result.outcome.output}")
        elif result.state == "failed":
            reason = _message(result.error) if isinstance(result.error, AniSketchError) else result.reason
            summary.failed.append((job.source, reason))
            bar.message(f"failed: {_named(job.rel, reason)}")

    # reading, the network and writing overlap (application.batch); results arrive in input order
    run_batch(
        [BatchItem(index, job.source, job.target, options, job.rel) for index, job in enumerate(jobs)],
        on_progress=lambda index, f: bar.update(index, f, str(jobs[index].rel)),
        on_result=on_result,
    )
    elapsed = time.monotonic() - started
    bar.message(
        f"{len(summary.done)} written, {len(summary.skipped)} skipped, {len(summary.failed)} failed "
        f"in {elapsed:.1f}s -> {out_dir}"
    )
    for path, reason in summary.failed:
        print(f"  failed: {_named(path, reason)}", file=sys.stderr)
    return 1 if summary.failed else 0


def _named(path: Path, reason: str) -> str:
    """``reason`` led by the file's path, unless the message names the file already."""
    return reason if Path(path).name in reason else f"{path}: {reason}"


def run_presets(args) -> int:
    from anisketch_desktop.core import xdog

    for name, params in sorted(xdog.PRESETS.items()):
        values = ", ".join(f"{k}={v:g}" for k, v in params.to_dict().items() if isinstance(v, (int, float)))
        print(f"{name:<10} {values}")
    return 0


def run_models(args) -> int:
    from anisketch_desktop.core import models

    found = models.list_models()
    if not found:
        print("No models installed. Use --engine xdog, or train one: anisketch train --help")
    name_width = max((len(info.name) for info in found), default=0)
    label_width = max((len(info.label) for info in found), default=0)
    for info in found:  # NAME is what --model takes
        origin = "shipped" if info.shipped else "yours"
        print(f"{info.task:<9} {info.name:<{name_width}}  {info.label:<{label_width}}  {origin:<8} {info.path}")
    for path, reason in models.skipped_models():
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return 0


def run_self_test(args) -> int:
    from anisketch_desktop.self_test import self_test

    return self_test(print)


# --------------------------------------------------------------------------------------------- parser
XDOG_NAMES = ("sigma", "k", "p", "epsilon", "phi")


def _add_image_command(sub, name: str, help_text: str):
    p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and/or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    p.add_argument("-r", "--recursive", action="store_true", help="also process sub-folders (structure is kept)")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--name", default=DEFAULT_TEMPLATE, metavar="TEMPLATE",
                   help=f"output file name (default: %(default)s; the extension is added); {template_help()}")
    p.add_argument("--max-pixels", type=int, default=100_000_000, metavar="N",
                   help="refuse images larger than N pixels (default: 100 MP)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="print every file written")
    return p


def _add_device_options(p):
    p.add_argument("--device", default="auto", choices=list(DEVICES),
                   help="where the network runs (default: auto = CUDA, then Apple MPS, then CPU)")
    p.add_argument("--tile", type=_tile_size, default=None, metavar="PX",
                   help="cut pictures into tiles of at most PX pixels a side (blended without seams). Default: "
                        "auto = only when the picture does not fit the memory budget, in tiles as large as it "
                        "allows (on a GPU: from free VRAM, halved on out-of-memory). 0 = never tile (the whole "
                        "picture in one pass: fastest, but memory grows with the picture)")
    p.add_argument("--memory", type=_megabytes, default=None, metavar="MB",
                   help="memory budget of the network in MB, which sets the automatic tile size (default: 512 "
                        "MB or 1/16 of RAM on the CPU, 60%% of free VRAM on a GPU)")


def _tile_size(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a tile size (auto, 0 or pixels)") from None
    if value < 0 or 0 < value < MIN_TILE:
        raise argparse.ArgumentTypeError(f"tile size {value}: use auto, 0 (never tile) or at least {MIN_TILE} pixels")
    return value


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of megabytes") from None
    if not value >= MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(f"memory budget {value:g} MB is too small (at least {MIN_MEMORY_MB})")
    return value


def _add_flats_option(p):
    p.add_argument("--flats", action=argparse.BooleanOptionalAction, default=None,
                   help="one flat colour per closed region of the line art (default); --no-flats keeps the "
                        "colours' variation inside each region")


def _add_transparent_option(p):
    p.add_argument("--transparent", action="store_true",
                   help="lines on a transparent background (for importing into Krita / Clip Studio)")


def _add_specks_option(p):
    p.add_argument("--specks", type=int, default=0, metavar="N", help="remove ink specks smaller than N pixels")


def _add_xdog_options(p):
    g = p.add_argument_group("XDoG parameters (Winnemöller 2012)")
    g.add_argument("--preset", help="named parameter set (list them with: anisketch presets)")
    g.add_argument("--auto", action="store_true", help="tune the parameters for each picture automatically")
    g.add_argument("--sigma", type=float, help="blur radius of the finer Gaussian (line thickness)")
    g.add_argument("--k", type=float, help="ratio of the two Gaussians' radii")
    g.add_argument("--p", type=float, help="edge sharpening strength (the tau form is p/(1+p))")
    g.add_argument("--epsilon", type=float, help="threshold: higher = fewer, darker lines only")
    g.add_argument("--phi", type=float, help="threshold softness: higher = crisper, more binary lines")


def _line_weight(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -2 <= value <= 2:
        raise argparse.ArgumentTypeError(f"must be a whole number from -2 (thinnest) to 2 (boldest), not {text!r}")
    return value


def _unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def _add_line_options(p):
    g = p.add_argument_group("lines (applied after the network)")
    g.add_argument("--line-weight", type=_line_weight, default=0, metavar="N",
                   help="thinner (-2, -1) or bolder (1, 2) lines; 0 = as drawn (default)")
    g.add_argument("--threshold", type=_unit, default=0.0, metavar="T",
                   help="0 keeps soft gray pencil lines (default); up to 1 = crisp black-and-white ink")
    g.add_argument("--tint", action="store_true",
                   help="lines in colour (色トレス): each line takes a dark shade of the picture's colours beside it")


def _add_format_option(p):
    p.add_argument("--format", choices=["png", "svg"], default="png",
                   help="png (default) or svg: the lines traced into filled vector paths (<stem>_sketch.svg) "
                        "for Inkscape / Illustrator / Krita")


def _add_hints_options(p):
    g = p.add_argument_group("colour hints")
    g.add_argument("--hints", metavar="PATH",
                   help="a JSON file of one picture's hints, or a folder of <stem>.json, one per picture; format: "
                        '{"points": [{"x": 120, "y": 340, "color": "#e8b4a0"}], "strokes": [{"points": '
                        '[[10, 12], [40, 15]], "color": "#334455", "width": 6}]} in the line picture\'s pixels '
                        "(origin top-left). Every closed region takes the colour of the hints in it")
    g.add_argument("--reference", metavar="REF",
                   help="a coloured picture (e.g. the previous page) whose palette the colours are taken from")
    g.add_argument("--soft", action="store_true",
                   help="add the network's light and shade inside the flat regions (a shading layer)")


def _output_kinds(text: str) -> tuple[str, ...]:
    from anisketch_desktop.application.guided import OUTPUTS

    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    bad = [k for k in kinds if k not in OUTPUTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown output {', '.join(bad) or '(none)'}; use {', '.join(OUTPUTS)}")
    return kinds


def _add_layers_options(p):
    from anisketch_desktop.application.guided import OUTPUTS

    g = p.add_argument_group("outputs")
    g.add_argument("--layers", action="store_true",
                   help="also write a layered PSD next to the picture (<stem>_colorize.psd; style: "
                        "<stem>_style.psd): layers lines (Multiply, transparent background), flats, shading")
    g.add_argument("--write", default=("color",), metavar="KINDS", type=_output_kinds,
                   help="pictures to write, comma-separated: " + "; ".join(f"{k} = {v}" for k, v in OUTPUTS.items())
                        + " (named with {mode} = the kind: <stem>_color.png, <stem>_flats.png, <stem>_lines.png; "
                        "default: color)")


# one adder per option group of modes.OPTION_GROUPS (test_application checks that none is missing)
OPTION_FLAGS = {
    "transparent": _add_transparent_option,
    "specks": _add_specks_option,
    "flats": _add_flats_option,
    "device": _add_device_options,
    "xdog": _add_xdog_options,
    "lines": _add_line_options,
    "format": _add_format_option,
    "hints": _add_hints_options,
    "layers": _add_layers_options,
}


def _add_mode_command(sub, name: str, modes: list[Mode]):
    """One image command for ``modes`` (its own mode first; others chosen by ``--engine``)."""
    own = modes[0]
    help_text = own.tip + "."
    if len(modes) > 1:
        others = ", ".join(f"--engine {m.engine}: {m.label}" for m in modes[1:])
        help_text = f"{own.tip} (or {others})."
    p = _add_image_command(sub, name, help_text)
    if len(modes) > 1:
        p.add_argument("--engine", choices=[m.engine for m in modes], default=own.engine,
                       help="default: %(default)s")
    for task in own.tasks:
        main_model = task == own.tasks[-1]
        flag = "--model" if main_model else f"--{task}-model"
        p.add_argument(flag, metavar="NAME|PATH", help=MODEL_HELP.format(task=task))
    for group in OPTION_GROUPS:
        if any(group in m.options for m in modes):
            OPTION_FLAGS[group](p)
    p.set_defaults(func=run_images)


def build_parser() -> argparse.ArgumentParser:
    from anisketch_desktop import cli_dataset

    parser = argparse.ArgumentParser(
        prog="anisketch",
        description="AniSketch: turn anime pictures into clean line art, colorize line art, or both.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"anisketch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modes in commands().items():
        _add_mode_command(sub, name, modes)

    sub.add_parser("presets", help="List the XDoG presets.").set_defaults(func=run_presets)
    sub.add_parser("models", help="List installed models.").set_defaults(func=run_models)
    sub.add_parser("self-test", help="Check the installation on a built-in sample.").set_defaults(
        func=run_self_test
    )
    cli_dataset.register(sub)
    try:
        from training import cli as training_cli
    except ModuleNotFoundError as exc:  # training/ is not installed with the app; real import bugs still raise
        if exc.name not in ("training", "training.cli"):
            raise
    else:
        training_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted: finished files are kept, nothing half-written was left", file=sys.stderr)
        return 130
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except AniSketchError as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, an unwritable folder: one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
