"""Tiled inference in numpy: padding to the network's multiple, a tile grid, and seamless blending.

The image is cut into overlapping tiles (sides are multiples of the network's ``multiple``, starts too, so
a tile sees the same pooling grid as the whole image would). Each tile's prediction is weighted by a
raised-cosine ramp across every overlap with a neighbour and the weights are normalised per axis, so they
sum to exactly one everywhere: no seams, and no full-size weight buffer. Pixels past the bottom/right border
are reflected (or replicated, for images smaller than the padding) tile by tile, so no padded copy of the
image is ever made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from anisketch_desktop.core.errors import Cancelled

TileFn = Callable[[np.ndarray], np.ndarray]


def round_up(n: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is >= ``n`` (and >= ``multiple``)."""
    return max(multiple, -(-n // multiple) * multiple)


def pad_index(length: int, padded: int) -> np.ndarray:
    """Source index of each of ``padded`` positions: identity, then reflection (edge repeat if too short)."""
    idx = np.arange(padded)
    if padded <= length:
        return idx
    if padded - length < length:  # reflect needs pad < size
        return np.where(idx < length, idx, 2 * (length - 1) - idx)
    return np.minimum(idx, length - 1)


def axis_tiles(length: int, tile: int, overlap: int, multiple: int) -> tuple[int, list[int]]:
    """``(size, starts)`` of the fewest tiles no longer than ``tile`` that cover ``length`` with neighbours
    overlapping by at least ``overlap``; sizes are equal and as small as that allows (a 1088-pixel side with
    1024-pixel tiles gets two 576-pixel tiles, not two of 1024), starts are spread evenly.

    Works in units of ``multiple``: ``length`` and ``tile`` are multiples of it, and so are sizes and starts.
    """
    units, tile_units = length // multiple, max(1, tile // multiple)
    if tile_units >= units:
        return length, [0]
    ov = min(-(-overlap // multiple), tile_units - 1)
    count = 1 + -(-(units - tile_units) // (tile_units - ov))
    size = -(-(units + (count - 1) * ov) // count)
    starts = [round(i * (units - size) / (count - 1)) for i in range(count)]
    return size * multiple, [s * multiple for s in starts]


def _ramp(n: int) -> np.ndarray:
    """Raised cosine rising from near 0 to near 1 over ``n`` samples (never exactly 0)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def axis_weights(starts: list[int], tile: int, length: int) -> list[np.ndarray]:
    """Per-tile 1-D blend weights over one axis, normalised so they sum to 1 at every position."""
    raw = []
    for i, start in enumerate(starts):
        w = np.ones(tile, dtype=np.float32)
        if i > 0:  # ramp up across the overlap with the previous tile
            ov = starts[i - 1] + tile - start
            w[:ov] *= _ramp(ov)
        if i + 1 < len(starts):  # ramp down across the overlap with the next tile
            ov = start + tile - starts[i + 1]
            w[tile - ov :] *= _ramp(ov)[::-1]
        raw.append(w)
    total = np.zeros(length, dtype=np.float32)
    for start, w in zip(starts, raw, strict=True):
        total[start : start + tile] += w
    return [w / total[start : start + tile] for start, w in zip(starts, raw, strict=True)]


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of one image go (all sizes in pixels of the image, before cropping back)."""

    height: int
    width: int
    padded_h: int
    padded_w: int
    tile_h: int
    tile_w: int
    ys: list[int]
    xs: list[int]

    @property
    def count(self) -> int:
        return len(self.ys) * len(self.xs)


def plan_tiles(height: int, width: int, multiple: int, tile: int | None, overlap: int) -> TilePlan:
    """Tile grid for an image; ``tile=None`` means one tile (the whole padded image)."""
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1, got {width}x{height}")
    padded_h, padded_w = round_up(height, multiple), round_up(width, multiple)
    side = max(padded_h, padded_w) if tile is None else round_up(tile, multiple)
    overlap = min(max(0, overlap), side // 2)
    tile_h, ys = axis_tiles(padded_h, side, overlap, multiple)
    tile_w, xs = axis_tiles(padded_w, side, overlap, multiple)
    return TilePlan(height, width, padded_h, padded_w, tile_h, tile_w, ys, xs)


def extract_tile(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image[rows][:, cols]`` as a contiguous array, slicing when the indices are a plain range."""
    h, w = image.shape[:2]
    plain = rows[-1] - rows[0] == len(rows) - 1 and cols[-1] - cols[0] == len(cols) - 1
    if plain and rows[-1] < h and cols[-1] < w:
        return np.ascontiguousarray(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return np.ascontiguousarray(image.take(rows, axis=0).take(cols, axis=1))


def run_tiled(
    image: np.ndarray,
    fn: TileFn,
    *,
    multiple: int,
    out_channels: int,
    tile: int | None = 1024,
    overlap: int = 64,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Apply ``fn`` (``h x w x C`` float32 -> ``h x w x out_channels``) tile by tile; ``H x W x out``.

    ``image`` may be of any dtype: ``prepare`` turns each raw tile into the float32 tile ``fn`` takes (default:
    a plain ``float32`` cast), so a uint8 picture is never converted whole. Results are blended one row of
    tiles at a time in a float32 band and written into ``out`` (float32, or uint8 rounded as
    ``imageio.to_uint8`` does), so no whole-picture float buffer exists when ``out`` is uint8.
    """
    height, width = image.shape[:2]
    plan = plan_tiles(height, width, multiple, tile, overlap)
    if out is None:
        out = np.zeros((height, width, out_channels), dtype=np.float32)
    elif out.shape[:2] != (height, width):
        raise ValueError(f"out has shape {out.shape}, need {(height, width, out_channels)}")
    out3 = out.reshape(height, width, out_channels)
    prepare = prepare or (lambda raw: raw.astype(np.float32, copy=False))
    row_src, col_src = pad_index(height, plan.padded_h), pad_index(width, plan.padded_w)
    wys = axis_weights(plan.ys, plan.tile_h, plan.padded_h)
    wxs = axis_weights(plan.xs, plan.tile_w, plan.padded_w)
    done, carry = 0, None
    for row, (y0, wy) in enumerate(zip(plan.ys, wys, strict=True)):
        vh = min(plan.tile_h, height - y0)
        band = None
        if vh > 0 and plan.count > 1:
            band = np.zeros((vh, width, out_channels), dtype=np.float32)
            if carry is not None:  # partial sums of the rows the previous band shares with this one
                band[: len(carry)] = carry
        for x0, wx in zip(plan.xs, wxs, strict=True):
            if cancel is not None and cancel():
                raise Cancelled("Cancelled")
            raw = extract_tile(image, row_src[y0 : y0 + plan.tile_h], col_src[x0 : x0 + plan.tile_w])
            pred = fn(prepare(raw))
            vw = min(plan.tile_w, width - x0)
            if vh > 0 and vw > 0:
                if band is None:  # one tile: the prediction is the result
                    store(out3, pred[:vh, :vw])
                else:
                    band[:, x0 : x0 + vw] += pred[:vh, :vw] * (wy[:vh, None, None] * wx[None, :vw, None])
            done += 1
            if progress is not None:
                progress(done / plan.count)
        if band is not None:
            final = vh if row + 1 == len(plan.ys) else min(vh, plan.ys[row + 1] - y0)
            store(out3[y0 : y0 + final], band[:final])
            carry = band[final:] if final < vh else None
    return out


def store(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src``; float [0, 1] into uint8 is scaled, rounded and clipped like ``imageio.to_uint8``."""
    if dst.dtype != np.uint8:
        dst[...] = src
        return
    scaled = np.multiply(src, 255.0, dtype=np.float32)
    scaled += 0.5
    np.clip(scaled, 0.0, 255.0, out=scaled)
    dst[...] = scaled  # the cast truncates, which rounds after the +0.5
