"""``anisketch colorize`` / ``style`` jobs: hints per picture, a reference palette, several outputs per picture.

    anisketch colorize page.png -o out/ --hints page.json            # out/page_color.png
    anisketch colorize pages/ -o out/ --hints hints/ --layers        # hints/<stem>.json; + out/<stem>_colorize.psd
    anisketch colorize page2.png -o out/ --reference page1.png       # page 1's colours
    anisketch colorize page.png -o out/ --write color,flats,lines   # + page_flats.png, page_lines.png

A bad hint file fails that picture only (one line naming the file and the problem); the batch goes on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from anisketch_desktop.core.errors import AniSketchError

OUTPUTS = {
    "color": "the coloured picture",
    "flats": "flat colours only, no lines",
    "lines": "the line art on transparency (black ink, alpha = ink)",
}
PSD_NAME = {"colorize": "{stem}_colorize.psd", "style": "{stem}_style.psd"}


class UsageError(AniSketchError):
    """Options that cannot work together (exit status 2)."""


def add_options(p, mode: str) -> None:
    """The guided colorize options of ``colorize`` (``mode`` "colorize") and ``style``."""
    g = p.add_argument_group("colours and outputs")
    if mode == "colorize":
        g.add_argument("--hints", metavar="PATH",
                       help="colour hints: a JSON file (one picture) or a folder of <stem>.json, one per picture; "
                            'format: {"points": [{"x": 120, "y": 340, "color": "#e8b4a0"}], '
                            '"strokes": [{"points": [[10, 12], [40, 15]], "color": "#334455", "width": 6}]} '
                            "in the line picture's pixels (origin top-left)")
        g.add_argument("--reference", metavar="REF",
                       help="a coloured picture (e.g. the previous page) whose palette the colours are taken from")
        g.add_argument("--soft", action="store_true",
                       help="add the network's light and shade inside the flat regions (a shading layer)")
    g.add_argument("--layers", action="store_true",
                   help=f"also write a layered PSD next to the picture ({PSD_NAME[mode].format(stem='<stem>')}): "
                        "layers lines (Multiply, transparent), flats" + (", shading" if mode == "colorize" else ""))
    g.add_argument("--write", default=("color",), metavar="KINDS", type=_kinds,
                   help="which pictures to write, comma-separated: "
                        + "; ".join(f"{k} = {v}" for k, v in OUTPUTS.items())
                        + " (named with {mode} = the kind: <stem>_color.png, <stem>_flats.png, <stem>_lines.png;"
                        " default: color)")


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    bad = [k for k in kinds if k not in OUTPUTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown output {', '.join(bad) or '(none)'}; use {', '.join(OUTPUTS)}")
    return kinds


class GuidedJob:
    """What ``run_images`` needs of a colorize/style run: targets per picture and the work itself."""

    def __init__(self, args, suffix: str):
        from anisketch_desktop.core import imageio

        self.args = args
        self.mode = args.command
        self.suffix = suffix  # the {mode} of the coloured picture's name ("color" / "style")
        self.kinds: tuple[str, ...] = args.write
        self.hints = Path(args.hints) if getattr(args, "hints", None) else None
        if self.hints is not None and not self.hints.exists():
            raise UsageError(f"--hints {self.hints}: no such file or folder")
        self.reference = None
        if getattr(args, "reference", None):
            try:
                self.reference = imageio.read_image(args.reference, max_pixels=args.max_pixels)
            except AniSketchError as exc:
                raise UsageError(f"--reference: {exc}") from None

    def check_inputs(self, files: list[tuple[Path, Path]]) -> None:
        if self.hints is not None and self.hints.is_file() and len(files) > 1:
            raise UsageError(f"--hints {self.hints.name} is one picture's hints, but {len(files)} pictures were "
                             "given; pass a folder of <stem>.json instead")

    def targets(self, out_dir: Path, rel: Path, output_path) -> dict[str, Path]:
        """kind -> file for one picture (``output_path(out_dir, rel, mode, template)`` names the pictures)."""
        found = {}
        for kind in self.kinds:
            found[kind] = output_path(out_dir, rel, self.mode, self.args.name, kind=self.suffix if kind == "color"
                                      else kind)
        if self.args.layers:
            folder = found.get("color", next(iter(found.values()))).parent
            found["psd"] = folder / PSD_NAME[self.mode].format(stem=rel.stem)
        return found

    def sketch_model(self):
        """style: ``--sketch-model``, else ``--model`` unless that is a colorize model (old scripts pass one;
        the style change takes its colours from the picture now)."""
        a = self.args
        if a.sketch_model or not a.model:
            return a.sketch_model or None
        from anisketch_desktop.core.models import read_info

        try:
            return None if read_info(a.model).task == "colorize" else a.model
        except AniSketchError:
            return a.model  # let the sketch step report what is wrong with it

    def _hints_for(self, path: Path, rel: Path, shape):
        from anisketch_desktop.core.hints import load_hints

        if self.hints is None:
            return None
        if self.hints.is_file():
            return load_hints(self.hints, shape)
        for candidate in (self.hints / rel.parent / f"{rel.stem}.json", self.hints / f"{rel.stem}.json"):
            if candidate.is_file():
                return load_hints(candidate, shape)
        return None  # no hints for this picture: the proposal alone

    def run(self, path: Path, rel: Path, image: np.ndarray, progress, cancel):
        from anisketch_desktop.core import pipeline

        a = self.args
        flat = a.flats is not False
        if self.mode == "style":
            return pipeline.style_result(image, sketch_model=self.sketch_model(), device=a.device, tile=a.tile,
                                         flats=flat, progress=progress, cancel=cancel)
        hints = self._hints_for(path, rel, image.shape[:2])
        return pipeline.colorize_result(image, hints=hints, reference=self.reference, model=a.model,
                                        device=a.device, flats=flat, soft=a.soft, progress=progress, cancel=cancel)

    def write(self, targets: dict[str, Path], result, image: np.ndarray, overwrite: bool) -> list[Path]:
        from anisketch_desktop.core import imageio
        from anisketch_desktop.core.pipeline import keep_alpha
        from anisketch_desktop.core.psd import lines_rgba, write_layers_psd

        written = []
        for kind, target in targets.items():
            if kind == "psd":
                write_layers_psd(target, result, overwrite=overwrite)
            else:
                picture = {"color": lambda: keep_alpha(result.rgb, image), "flats": lambda: result.flats,
                           "lines": lambda: lines_rgba(result.lines)}[kind]()
                imageio.save_image(target, picture, overwrite=overwrite)
            written.append(target)
        return written
