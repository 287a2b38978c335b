"""Guided colorize: prepare a drawing once (regions, the network's proposal), then redraw cheaply per hint change.

    session = ColorizeSession(lines_image)          # uint8/float line art as read by core.imageio
    session.prepare(progress, cancel)               # the slow part: regions + the hint-free proposal
    result = session.render(hints, flat=True, soft=False)   # ~0.1 s on a 1 MP drawing (2 CPU threads)

``render`` touches no shared state except read-only caches, so a GUI worker thread may call it while the
user keeps drawing; each call returns a new ``ColorizeResult``. The flats are one colour per region from the
hints and the proposal (``core.fill``); "soft" adds the proposal's own light and shade as a Multiply layer
inside the regions; the line art as drawn is multiplied on last, as an artist's line layer would be.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from anisketch_desktop.core import fill as hint_fill
from anisketch_desktop.core.errors import Cancelled
from anisketch_desktop.core.hints import Hints
from anisketch_desktop.core.regions import Regions, cut_regions, region_means

LARGE_SHARE = 0.15  # an unhinted region over this share of the page (open lines) keeps the proposal's variation
LARGE_SIGMA_1MP = 24.0  # ... smoothed within the region with a Gaussian this wide (pixels at 1 MP)
SHADE_FLOOR = 0.55  # "soft": the darkest the shading layer gets
MEAN_STEP = 2  # region means of the proposal from every 2nd pixel (it is smooth; 4x less work)


@dataclass
class ColorizeResult:
    rgb: np.ndarray  # uint8 HxWx3: the coloured picture (flats or soft colour, lines multiplied on)
    flats: np.ndarray  # uint8 HxWx3: the colour layer only, no lines (one colour per region when flat)
    lines: np.ndarray  # uint8 HxW: the line art as drawn (255 = paper)
    shading: np.ndarray | None = None  # uint8 HxWx3 Multiply layer ("soft")


class ColorizeSession:
    """One drawing being coloured. ``proposal``: a fixed colour proposal (float ``HxWx3`` in [0, 1], e.g. the
    source picture for the style change) instead of the network's. ``open_variation``: unhinted regions over
    ``LARGE_SHARE`` of the page (lines that do not close) keep the proposal's smoothed local colours instead
    of one flat colour (None: only for a fixed proposal, where those colours are the picture's own)."""

    def __init__(self, lines_image: np.ndarray, model=None, device: str = "auto",
                 reference: np.ndarray | None = None, proposal: np.ndarray | None = None,
                 open_variation: bool | None = None):
        from anisketch_desktop.core.imageio import to_float_gray, to_uint8

        image = np.asarray(lines_image)
        gray = to_float_gray(image)
        if image.ndim == 3 and image.shape[2] in (2, 4):  # transparent line art: on white paper
            alpha = image[..., -1].astype(np.float32)
            alpha /= float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
            gray = gray * alpha + (1.0 - alpha)
        self.gray = gray.astype(np.float32, copy=False)
        self.lines = to_uint8(self.gray)
        self.model, self.device, self.reference = model, device, reference
        self._fixed = None if proposal is None else np.asarray(proposal, np.float32)
        self.open_variation = self._fixed is not None if open_variation is None else open_variation
        self._lock = threading.Lock()
        self.prepared = False
        self._last: tuple[str, dict] | None = None  # the latest hint-network proposal state and its hints
        self.follows_hints = False  # whether the proposal itself takes the hints (the hint network)

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape  # type: ignore[return-value]

    # ----------------------------------------------------------------------------------------- prepare
    def prepare(self, progress=None, cancel=None) -> None:
        """Regions and the hint-free proposal (once per drawing and reference)."""
        with self._lock:
            if self.prepared:
                return
            from anisketch_desktop.core.levels import normalize_levels

            self.norm = normalize_levels(self.gray)
            _check(cancel)
            self.regions = cut_regions(self.norm)
            # progress in proportion to the time each step takes (1080p, 2 threads: regions ~40 %, the network's
            # one pass ~50 %, region means ~10 % of prepare)
            _report(progress, 0.4)
            if self._fixed is not None:
                proposal, self.follows_hints = self._fixed, False
            else:
                from anisketch_desktop.core.proposer import propose

                sub = None if progress is None else (lambda f: progress(0.4 + 0.5 * f))
                proposal, self.follows_hints = propose(self.norm, None, self.reference, self.model, self.device,
                                                       sub, cancel)
            _check(cancel)
            self.palette = None
            if self.reference is not None:
                from anisketch_desktop.core.palette import reference_palette

                self.palette = reference_palette(self.reference)
            self._cache = self._proposal_state(proposal)
            self.prepared = True
            _report(progress, 1.0)

    def _proposal_state(self, proposal: np.ndarray) -> dict:
        """What render needs of one proposal: region means (palette-matched), the smoothed colours of large
        regions, the shading."""
        regions = self.regions
        means = region_means(regions, proposal, step=MEAN_STEP)
        if self.palette is not None and not self.follows_hints:
            from anisketch_desktop.core.palette import match_palette

            means = match_palette(means, regions.area, *self.palette)
        large = np.flatnonzero(regions.area > LARGE_SHARE * regions.labels.size)
        if not self.open_variation:
            large = large[:0]
        large_idx = variation = large_labels = None
        if large.size:  # the proposal's variation around the mean in large regions, only where it is used
            mask = np.isin(regions.labels, large)
            sigma = LARGE_SIGMA_1MP * np.sqrt(regions.labels.size / 1e6)
            raw = region_means(regions, proposal)
            large_idx = np.flatnonzero(mask)
            large_labels = regions.labels.ravel()[large_idx]
            variation = _smooth_within(proposal, mask, sigma).reshape(-1, 3)[large_idx] - raw[large_labels]
        return {"proposal": proposal, "means": means, "large_idx": large_idx, "large_labels": large_labels,
                "variation": variation, "shading": None}

    def _hinted_state(self, hints: Hints, quick: bool, cancel) -> dict:
        """The proposal state for ``hints`` from the hint network (kept for the next render of the same hints)."""
        import json

        key = json.dumps(hints.to_json(), sort_keys=True)
        last = self._last
        if last is not None and (quick or last[0] == key):
            return last[1]
        if quick:
            return self._cache
        from anisketch_desktop.core.proposer import propose

        proposal, _ = propose(self.norm, hints, self.reference, self.model, self.device, None, cancel)
        state = self._proposal_state(proposal)
        self._last = (key, state)  # one assignment: a render on another thread sees the old or the new pair
        return state

    def _shading_of(self, state: dict) -> np.ndarray:
        """The "soft" shading layer of a proposal state, made on first use (a race makes it twice, harmlessly)."""
        if state["shading"] is None:
            state["shading"] = _shading(state["proposal"], region_means(self.regions, state["proposal"]),
                                        self.regions)
        return state["shading"]

    # ----------------------------------------------------------------------------------------- render
    def render(self, hints: Hints | None = None, flat: bool = True, soft: bool = False,
               progress=None, cancel=None, quick: bool = False) -> ColorizeResult:
        """The picture for ``hints``: cheap (the regions and proposal are cached by ``prepare``).

        With a hint network (``follows_hints``) the proposal is redrawn for new hints (the same hints reuse
        it); ``quick`` skips that and fills with the latest proposal — a live preview can render ``quick`` at
        once and the full render after (the GUI's two-step redraw)."""
        if not self.prepared:
            self.prepare(progress=progress, cancel=cancel)
        regions = self.regions
        state = self._cache
        if self.follows_hints and hints is not None and not hints.is_empty():
            state = self._hinted_state(hints, quick, cancel)
        _check(cancel)
        assigned = hint_fill.assign_hints(regions, hints)
        colors = hint_fill.region_colors(regions, state["means"], assigned)
        flats = hint_fill.paint(regions, colors, assigned)
        _check(cancel)
        if not flat:  # the proposal's own variation kept inside every region, moved to the region's colour
            shift = state["proposal"] - state["means"][regions.labels]
            flats = np.clip(flats.astype(np.float32) + shift * 255.0 + 0.5, 0, 255).astype(np.uint8)
        elif state["large_idx"] is not None:  # open regions without a hint keep the proposal's local colour
            free = ~assigned.hinted[state["large_labels"]]
            if free.any():
                where = state["large_idx"][free]
                pixels = flats.reshape(-1, 3)
                moved = pixels[where].astype(np.float32) + state["variation"][free] * 255.0 + 0.5
                pixels[where] = np.clip(moved, 0, 255).astype(np.uint8)
        shading = self._shading_of(state) if soft and flat else None
        rgb = compose(flats, self.lines, shading)
        _report(progress, 1.0)
        return ColorizeResult(rgb=rgb, flats=flats, lines=self.lines.copy(), shading=shading)


def compose(flats: np.ndarray, lines: np.ndarray, shading: np.ndarray | None = None) -> np.ndarray:
    """uint8 ``flats x shading x lines`` (each a Multiply layer, as the PSD stacks them), rounded."""
    lines3 = cv2.merge([lines, lines, lines])
    if shading is None:
        return cv2.multiply(flats, lines3, scale=1.0 / 255.0)
    out = flats.astype(np.float32)
    out *= shading.astype(np.float32) * (1.0 / 255.0)
    out *= lines3.astype(np.float32) * (1.0 / 255.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _shading(proposal: np.ndarray, means: np.ndarray, regions: Regions) -> np.ndarray:
    """uint8 ``HxWx3`` Multiply layer: the proposal's lightness against its region's mean (darker only)."""
    from anisketch_desktop.core.levels import luminance

    light = luminance(proposal)
    base = (means @ np.array([0.299, 0.587, 0.114], np.float32))[regions.labels]
    ratio = np.clip(light / np.maximum(base, 1e-3), SHADE_FLOOR, 1.0)
    ratio = cv2.GaussianBlur(ratio, (0, 0), 1.0)
    gray = np.clip(ratio * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def _smooth_within(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: a Gaussian blur of ``image`` that only averages pixels under ``mask``
    (run at reduced resolution for speed; the result is smooth anyway)."""
    h, w = mask.shape
    factor = max(1, int(sigma // 4))
    size = (max(1, w // factor), max(1, h // factor))
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    num = cv2.resize(image * mask[..., None], size, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), sigma / factor)
    den = cv2.GaussianBlur(m, (0, 0), sigma / factor)[..., None]
    return cv2.resize(num / np.maximum(den, 1e-4), (w, h), interpolation=cv2.INTER_LINEAR)


def _check(cancel) -> None:
    if cancel is not None and cancel():
        raise Cancelled("Cancelled.")


def _report(progress, value: float) -> None:
    if progress is not None:
        progress(value)


def style_hints(picture_rgb: np.ndarray, lines: np.ndarray) -> Hints:
    """One hint per region of ``lines`` (uint8/float line art), coloured with the picture's mean colour there
    and placed at the region's most interior pixel: the hints of the style change, editable in the GUI."""
    from anisketch_desktop.core.hints import HintPoint
    from anisketch_desktop.core.imageio import to_float_gray, to_float_rgb
    from anisketch_desktop.core.levels import normalize_levels

    regions = cut_regions(normalize_levels(to_float_gray(np.asarray(lines))))
    rgb, _ = to_float_rgb(np.asarray(picture_rgb))
    if rgb.shape[:2] != regions.shape:
        rgb = cv2.resize(rgb, regions.shape[::-1], interpolation=cv2.INTER_AREA)
    means = region_means(regions, rgb)
    inner = cv2.distanceTransform(regions.paper.astype(np.uint8), cv2.DIST_L2, 3).ravel()
    order = np.lexsort((inner, regions.labels.ravel()))  # by region, then depth: the last of each is deepest
    sorted_labels = regions.labels.ravel()[order]
    last = np.r_[sorted_labels[1:] != sorted_labels[:-1], True]
    h, w = regions.shape
    points = []
    for label, index in zip(sorted_labels[last].tolist(), order[last].tolist(), strict=True):
        if label == 0 or regions.tiny[label]:
            continue
        y, x = divmod(index, w)
        color = tuple(int(v) for v in np.clip(means[label] * 255.0 + 0.5, 0, 255))
        points.append(HintPoint(float(x), float(y), color))  # type: ignore[arg-type]
    return Hints(points=tuple(points))
