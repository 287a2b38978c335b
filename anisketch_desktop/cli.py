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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop import __version__
from anisketch_desktop.core.errors import AniSketchError, Cancelled

MODE_SUFFIX = {"sketch": "sketch", "xdog": "sketch", "colorize": "color", "style": "style"}
DEFAULT_NAME = "{stem}_{mode}.png"
SKETCH_MODEL_HELP = "sketch model: a name listed by `anisketch models`, or a .safetensors file (default: shipped)"
COLOR_MODEL_HELP = SKETCH_MODEL_HELP.replace("sketch model", "colorize model")

EPILOG = """examples:
  anisketch sketch photo.png -o out/                 U-Net sketch -> out/photo_sketch.png
  anisketch sketch art/ -o out/ --recursive          a whole folder tree, structure kept
  anisketch xdog photo.png -o out/ --auto            XDoG with parameters tuned for this picture
  anisketch xdog photo.png -o out/ --preset pencil   a named XDoG preset (see: anisketch presets)
  anisketch sketch photo.png -o out/ --transparent   lines on a transparent background (Krita, CSP)
  anisketch colorize lines.png -o out/               line art -> colour
  anisketch style photo.png -o out/                  sketch, then colorize
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
            f"\r[{bar:<24}] {100 * done:5.1f}% {index + 1}/{self.total} ETA {eta:5.0f}s {label[:40]:<40}"
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
def output_path(out_dir: Path, rel: Path, mode: str, template: str) -> Path:
    """Where the output of ``rel`` (path relative to its input root) goes, keeping the folder structure."""
    name = template.format(stem=rel.stem, mode=MODE_SUFFIX[mode], ext=rel.suffix.lstrip("."))
    if Path(name).name != name or name in {"", ".", ".."}:
        raise AniSketchError(f"--name must produce a file name, not a path: {name!r}")
    return out_dir / rel.parent / name


def _xdog_params(args):
    from anisketch_desktop.core import xdog

    if args.preset and args.preset not in xdog.PRESETS:
        raise AniSketchError(f"Unknown preset {args.preset!r}; choose from: {', '.join(sorted(xdog.PRESETS))}")
    base = xdog.PRESETS[args.preset] if args.preset else None
    overrides = {
        key: getattr(args, key)
        for key in ("sigma", "k", "p", "epsilon", "phi")
        if getattr(args, key, None) is not None
    }
    if base is None and not overrides:
        return None
    base = base or xdog.XDoGParams()
    return xdog.XDoGParams(**{**base.to_dict(), **overrides})


def _make_processor(args) -> Callable:
    """A function ``(image, progress, cancel) -> output array`` for the chosen command."""
    from anisketch_desktop.core import pipeline

    mode = args.command
    common = {"device": args.device, "tile": args.tile}
    if mode in ("sketch", "xdog"):
        engine = "xdog" if mode == "xdog" else args.engine
        kwargs = dict(
            engine=engine,
            transparent=args.transparent,
            speck_size=args.specks,
        )
        if engine == "xdog":
            kwargs.update(xdog_params=_xdog_params(args), auto=args.auto)
        else:
            kwargs.update(model=args.model, **common)
        return lambda img, progress, cancel: pipeline.sketch(img, progress=progress, cancel=cancel, **kwargs)
    if mode == "colorize":
        return lambda img, progress, cancel: pipeline.colorize(
            img, model=args.model, flats=args.flats, progress=progress, cancel=cancel, **common
        )
    if mode == "style":
        return lambda img, progress, cancel: pipeline.style(
            img,
            sketch_model=args.sketch_model,
            color_model=args.model,
            flats=args.flats,
            progress=progress,
            cancel=cancel,
            **common,
        )
    raise AniSketchError(f"unknown command {mode}")


def run_images(args) -> int:
    from anisketch_desktop.core import imageio

    try:
        files = imageio.iter_image_files(args.inputs, recursive=args.recursive)
    except AniSketchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not files:
        print("error: no images found in the given inputs" + ("" if args.recursive else
              " (use --recursive for sub-folders)"), file=sys.stderr)
        return 1
    out_dir = Path(args.output)
    try:
        process = _make_processor(args)
    except AniSketchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar = ProgressBar(len(files), enabled=not args.quiet)
    summary = BatchSummary()
    started = time.monotonic()
    for index, (path, rel) in enumerate(files):
        label = str(rel)
        try:
            target = output_path(out_dir, rel, args.command, args.name)
            if target.exists() and not args.overwrite:
                summary.skipped.append(path)
                bar.message(f"skipped {rel}: {target} exists (use --overwrite to replace it)")
                continue
            image = imageio.read_image(path, max_pixels=args.max_pixels)
            result = process(image, lambda f, i=index, lab=label: bar.update(i, f, lab), None)
            imageio.save_image(target, result, overwrite=args.overwrite)
            summary.done.append(target)
            if args.verbose:
                bar.message(f"wrote {target}")
        except Cancelled:
            raise
        except AniSketchError as exc:
            summary.failed.append((path, str(exc)))
            bar.message(f"failed: {_named(rel, str(exc))}")
        except (OSError, ValueError, RuntimeError, MemoryError) as exc:
            summary.failed.append((path, f"{type(exc).__name__}: {exc}"))
            bar.message(f"failed: {_named(rel, f'{type(exc).__name__}: {exc}')}")
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
    return 0


def run_self_test(args) -> int:
    from anisketch_desktop.self_test import self_test

    return self_test(print)


# --------------------------------------------------------------------------------------------- parser
def _add_image_command(sub, name: str, help_text: str):
    p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and/or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    p.add_argument("-r", "--recursive", action="store_true", help="also process sub-folders (structure is kept)")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--name", default=DEFAULT_NAME, metavar="TEMPLATE",
                   help="output file name; {stem}, {mode}, {ext} are filled in (default: %(default)s)")
    p.add_argument("--max-pixels", type=int, default=100_000_000, metavar="N",
                   help="refuse images larger than N pixels (default: 100 MP)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="print every file written")
    return p


def _add_model_options(p, model_help: str):
    p.add_argument("--model", metavar="NAME|PATH", help=model_help)
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"],
                   help="where the network runs (default: auto = CUDA, then Apple MPS, then CPU)")
    p.add_argument("--tile", type=int, default=1024, metavar="PX",
                   help="tile size for large images; lower it if memory runs out (default: %(default)s)")


def _add_flats_option(p):
    p.add_argument("--flats", action=argparse.BooleanOptionalAction, default=None,
                   help="one flat colour per closed region of the line art (default: the model's setting; "
                        "the shipped model uses flats)")


def _add_line_options(p):
    p.add_argument("--transparent", action="store_true",
                   help="lines on a transparent background (for importing into Krita / Clip Studio)")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anisketch",
        description="AniSketch: turn anime pictures into clean line art, colorize line art, or both.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"anisketch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _add_image_command(sub, "sketch", "Turn pictures into line art (U-Net by default, or --engine xdog).")
    p.add_argument("--engine", choices=["unet", "xdog"], default="unet", help="default: %(default)s")
    _add_model_options(p, SKETCH_MODEL_HELP)
    _add_line_options(p)
    _add_xdog_options(p)
    p.set_defaults(func=run_images)

    p = _add_image_command(sub, "xdog", "Line art with the XDoG filter (no neural network).")
    _add_line_options(p)
    _add_xdog_options(p)
    p.set_defaults(func=run_images, device="auto", tile=1024)

    p = _add_image_command(sub, "colorize", "Colour line art with the colorize U-Net.")
    _add_model_options(p, COLOR_MODEL_HELP)
    _add_flats_option(p)
    p.set_defaults(func=run_images)

    p = _add_image_command(sub, "style", "Style change: sketch the picture, then colorize the sketch.")
    _add_model_options(p, COLOR_MODEL_HELP)
    p.add_argument("--sketch-model", metavar="NAME|PATH", help=SKETCH_MODEL_HELP)
    _add_flats_option(p)
    p.set_defaults(func=run_images)

    sub.add_parser("presets", help="List the XDoG presets.").set_defaults(func=run_presets)
    sub.add_parser("models", help="List installed models.").set_defaults(func=run_models)
    sub.add_parser("self-test", help="Check the installation on a built-in sample.").set_defaults(
        func=run_self_test
    )

    for module in ("anisketch_desktop.cli_dataset", "training.cli"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as exc:  # an optional part not installed; real import bugs still raise
            if exc.name not in (module, module.rpartition(".")[0]):
                raise
            continue
        mod.register(sub)
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
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
