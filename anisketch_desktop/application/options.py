"""``Options``: everything that decides a result and where it goes, captured when a job is made. The CLI
fills it from flags, the options panel from its widgets; ``validate()`` checks it up front with one readable
line per problem, the same in both faces.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from anisketch_desktop.application.modes import draws_lines, get_mode
from anisketch_desktop.application.naming import DEFAULT_TEMPLATE, check_template
from anisketch_desktop.core.errors import InvalidOptionError
from anisketch_desktop.core.formats import DEFAULT_MAX_PIXELS, DEVICES

IF_EXISTS = {"skip": "Skip it", "overwrite": "Overwrite it", "rename": "Add a number"}
MAX_SPECK_SIZE = 100_000
MIN_TILE = 32
MIN_MEMORY_MB = 64
FORMATS = ("png", "svg")


@dataclass
class Options:
    mode: str = "sketch"  # a key of modes.MODES
    models: dict[str, str] = field(default_factory=dict)  # task -> model file; missing or "" = the default
    xdog: dict[str, float] = field(default_factory=dict)  # XDoG values over the preset's (or the defaults)
    xdog_preset: str = ""  # a name from core.xdog.PRESETS; "" = the defaults
    xdog_auto: bool = False  # tune the XDoG values for each picture
    transparent: bool = False  # sketch: lines on transparent paper
    flats: bool | None = None  # colorize: one flat colour per closed region; None = the model's own setting
    speck_size: int = 0  # remove ink specks up to this many pixels
    device: str = "auto"  # a key of core.engine.DEVICES, or cuda:N
    tile: int | None = None  # tile side for the networks; None = only when memory asks for it; 0 = never
    memory_mb: float | None = None  # the networks' memory budget (None: core.memory.default_budget_mb)
    template: str = DEFAULT_TEMPLATE  # output file name, see naming.py
    if_exists: str = "skip"  # a key of IF_EXISTS
    max_pixels: int = DEFAULT_MAX_PIXELS  # refuse larger inputs
    line_weight: int = 0  # sketch: -2 thinnest .. +2 boldest lines
    threshold: float = 0.0  # sketch: 0 soft gray lines .. 1 crisp black-and-white ink
    tint: bool = False  # sketch: lines in the picture's colours (色トレス)
    format: str = "png"  # sketch: "png" (the template's picture format) or "svg" (traced filled paths)
    hints: str = ""  # colorize: a JSON file of one picture's hints, or a folder of <stem>.json (see guided.py)
    hint_data: Any = None  # colorize: live hints (core.hints.Hints) for the picture at hand; wins over ``hints``
    saved_hints: bool = False  # colorize: without ``hints``, each drawing's hints saved by the window's hint tool
    reference: str = ""  # colorize: a coloured picture whose palette the colours take
    soft: bool = False  # colorize: the network's light and shade inside regions (a shading layer)
    layers: bool = False  # colorize/style: also write a layered PSD (<stem>_colorize.psd)
    outputs: tuple[str, ...] = ("color",)  # colorize/style: pictures written (color, flats, lines)

    def model(self, task: str) -> str:
        return self.models.get(task, "")

    def with_(self, **changes) -> Options:
        """A copy with ``changes``."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def line_options(self):
        """The ``core.lineops.LineOptions`` of these options (``AniSketchError`` for values out of range)."""
        from anisketch_desktop.core.lineops import LineOptions

        return LineOptions(weight=self.line_weight, threshold=self.threshold, tint=self.tint)

    def xdog_params(self):
        """The ``XDoGParams`` these options ask for (``InvalidOptionError`` for bad values or presets)."""
        from anisketch_desktop.core import xdog

        return xdog.resolve_params(self.xdog_preset or None, self.xdog)

    def validate(self) -> Options:
        """``self`` when every option can work; else ``InvalidOptionError`` saying which one and why."""
        mode = get_mode(self.mode)
        if "xdog" in mode.options:
            self.xdog_params()
            if self.xdog_auto and self.xdog:
                names = "/".join(sorted(self.xdog))
                raise InvalidOptionError(f"Auto picks the XDoG values itself; leave out {names}")
        if not (isinstance(self.speck_size, int) and 0 <= self.speck_size <= MAX_SPECK_SIZE):
            raise InvalidOptionError(f"The speck size must be 0..{MAX_SPECK_SIZE} pixels, not {self.speck_size}")
        if "device" in mode.options:
            if self.device not in DEVICES and not re.fullmatch(r"cuda:\d+", self.device or ""):
                raise InvalidOptionError(f"Unknown device {self.device!r}; use {', '.join(DEVICES)} or cuda:N")
            if not (self.tile is None or self.tile == 0 or MIN_TILE <= self.tile):
                raise InvalidOptionError(
                    f"The tile size must be at least {MIN_TILE} pixels (or 0 = never tile, or auto), not {self.tile}"
                )
            if not (self.memory_mb is None or self.memory_mb >= MIN_MEMORY_MB):
                raise InvalidOptionError(f"The memory budget must be at least {MIN_MEMORY_MB} MB, not {self.memory_mb}")
        if "lines" in mode.options:
            if not (isinstance(self.line_weight, int) and -2 <= self.line_weight <= 2):
                raise InvalidOptionError(f"The line weight must be a whole number from -2 to 2, not {self.line_weight}")
            if not 0.0 <= float(self.threshold) <= 1.0:
                raise InvalidOptionError(f"The line threshold must be from 0 to 1, not {self.threshold}")
            if self.tint and not draws_lines(mode):
                raise InvalidOptionError(f"{mode.label} colours the lines itself; lines in colour (--tint) are for "
                                         "the sketch modes")
        if self.format not in FORMATS:
            raise InvalidOptionError(f"Unknown output format {self.format!r}; use {' or '.join(FORMATS)}")
        if self.format != "png" and "format" not in mode.options:
            raise InvalidOptionError(f"{mode.label} writes pictures only; {self.format.upper()} is for line art")
        if "hints" in mode.options or "layers" in mode.options:
            from anisketch_desktop.application import guided

            guided.check(self)
        if self.if_exists not in IF_EXISTS:
            raise InvalidOptionError(f"Unknown if-exists policy {self.if_exists!r}; use {', '.join(IF_EXISTS)}")
        if not (isinstance(self.max_pixels, int) and self.max_pixels > 0):
            raise InvalidOptionError(f"The pixel limit must be a positive number, not {self.max_pixels}")
        check_template(self.template)
        return self

