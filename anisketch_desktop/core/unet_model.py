"""The U-Net, in its two directions: sketch (RGB -> line art) and colorize (line art -> RGB).

The first level runs at half resolution: ``pixel_unshuffle`` folds 2x2 pixels into channels and
``pixel_shuffle`` unfolds the head's output, which makes 1080p about 4x cheaper than a full-resolution first
level without losing line placement (the head predicts all four sub-pixels).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

from anisketch_desktop.core import color
from anisketch_desktop.core.model_io import HINT_ENCODINGS, config_problem
from anisketch_desktop.core.unet_parts import DoubleConv, Down, OutConv, Up

TASKS = ("sketch", "colorize")
INPUT_NORMS = ("none", "levels")


@dataclass
class UNetConfig:
    """Everything needed to rebuild a model; stored as JSON in the safetensors metadata."""

    task: str = "sketch"
    in_channels: int = 3
    out_channels: int = 1
    base_channels: int = 24
    depth: int = 4
    unshuffle: int = 2
    dropout: float = 0.1
    color_bins: int = 0  # colorize only: >0 predicts Lab L by regression and ab as a distribution over bins
    bin_temperature: float = 0.38  # annealed-mean temperature used to decode the ab distribution
    input_norm: str = "none"  # "levels": the engine stretches input levels before the network sees them
    multiply_lines: bool = False  # colorize: the net paints a flat colour layer; the input lines multiply onto it
    flat_fill: bool = False  # multiply_lines: the pipeline gives each closed region of the lines one colour
    min_megapixels: float = 0.0  # inference: smaller pictures are enlarged (up to max_upscale) to about this size first
    max_upscale: float = 2.0  # inference: the most a small picture is enlarged for min_megapixels (1-4)
    denoise: float = 0.0  # inference: a picture this noisy (core.denoise.noise_sigma) is smoothed first; 0: never
    hint_channels: int = 0  # colorize: after the line art, colour hints as RGB (3) + a hint mask (1): 4
    work_megapixels: float = 0.0  # hint models: the proposal is drawn at about this size, then enlarged
    hint_encoding: str = "dots"  # hint models: "dots" (the hints as drawn), "spread" (each pixel: the nearest
    # hint's colour and a confidence falling with the distance to it) or "regions" (the same, with confidence 1
    # on the closed regions that hold a hint) or "claimed" (only the closed regions holding a hint, painted in
    # its colour; nothing elsewhere); core.proposal.encode_hints

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")
        if self.input_norm not in INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {INPUT_NORMS}, not {self.input_norm!r}")
        if self.depth < 1 or self.base_channels < 1 or self.unshuffle < 1:
            raise ValueError("depth, base_channels and unshuffle must be positive")
        if self.hint_encoding not in HINT_ENCODINGS:
            raise ValueError(f"hint_encoding must be one of {HINT_ENCODINGS}, not {self.hint_encoding!r}")
        if self.min_megapixels < 0 or self.work_megapixels < 0:
            raise ValueError("min_megapixels and work_megapixels must be >= 0")
        problem = config_problem(asdict(self))  # the bounds a model file is held to (untrusted input)
        if problem:
            raise ValueError(problem)

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this (the engine pads)."""
        return self.unshuffle * 2**self.depth

    @classmethod
    def sketch(cls, **kw) -> UNetConfig:
        return cls(task="sketch", in_channels=3, out_channels=1, **kw)

    @classmethod
    def colorize(cls, **kw) -> UNetConfig:
        kw.setdefault("color_bins", color.num_bins())
        kw.pop("in_channels", None)
        return cls(task="colorize", in_channels=1 + kw.get("hint_channels", 0), out_channels=3, **kw)

    @property
    def line_channels(self) -> int:
        """Channels of the picture itself (the rest of ``in_channels`` are hint planes)."""
        return self.in_channels - self.hint_channels

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> UNetConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


def _unshuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """``F.pixel_unshuffle`` (same values, same channel order); a channels-last input (the engine's) is folded
    as NHWC views, about twice as fast at 1080p as the built-in, which copies through NCHW."""
    b, c, h, w = x.shape
    if c == 1 or not x.is_contiguous(memory_format=torch.channels_last) or x.is_contiguous() or h % r or w % r:
        return F.pixel_unshuffle(x, r)
    nhwc = x.permute(0, 2, 3, 1).reshape(b, h // r, r, w // r, r, c).permute(0, 1, 3, 5, 2, 4)
    return nhwc.reshape(b, h // r, w // r, c * r * r).permute(0, 3, 1, 2)


class UNet(nn.Module):
    """Encoder/decoder of DoubleConvs with skip connections and a plain Conv2d head."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = c = config
        r2 = c.unshuffle**2
        widths = [c.base_channels * 2**i for i in range(c.depth + 1)]
        drop = [c.dropout if i >= c.depth - 1 else 0.0 for i in range(c.depth + 1)]
        self.inc = DoubleConv(c.in_channels * r2, widths[0])
        self.downs = nn.ModuleList(Down(widths[i], widths[i + 1], drop[i + 1]) for i in range(c.depth))
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i], widths[i], drop[i]) for i in reversed(range(c.depth))
        )
        self.ab_head: OutConv | None
        if c.task == "colorize" and c.color_bins > 0:
            self.head = OutConv(widths[0], 1 * r2)  # Lab L, unshuffled to full resolution
            self.ab_head = OutConv(widths[0], c.color_bins, kernel_size=1)  # ab bins at 1/unshuffle resolution
        else:
            self.head = OutConv(widths[0], c.out_channels * r2)
            self.ab_head = None

    def forward(self, x: torch.Tensor):
        """Raw outputs: sketch/RGB logits ``B x C x H x W``; colorize with bins: ``(L_logits, ab_logits)``,
        plus the input line art as a third item when ``multiply_lines`` (the way artists lay flat colours under
        a line layer set to Multiply: lines and fills stay exactly where the drawing has them).

        Hint models (``hint_channels`` 4) take ``B x 5 x H x W``: line art, hint RGB, hint mask (1 where the
        user gave a colour); the hint RGB is 0 where the mask is 0."""
        lines = x[:, :1].clamp(0.0, 1.0) if self.ab_head is not None and self.config.multiply_lines else None
        r = self.config.unshuffle
        if r > 1:
            x = _unshuffle(x, r)
        x = self.inc(x)
        skips = [x]
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        out = self.head(x)
        if r > 1:
            out = F.pixel_shuffle(out, r)
        if lines is not None:
            if self.ab_head is None:
                raise ValueError("multiply_lines needs a colorize model with colour bins (color_bins > 0)")
            return out, self.ab_head(x), lines
        if self.ab_head is not None:
            return out, self.ab_head(x)
        return out

    def to_image(self, raw, multiply: bool = True) -> torch.Tensor:
        """Turn raw outputs into an image batch in [0, 1]: ``B x 1 x H x W`` (sketch) or ``B x 3 x H x W``.

        ``multiply=False``: a ``multiply_lines`` model's colour layer alone, without the lines on it."""
        if self.ab_head is None:
            return torch.sigmoid(raw.float())
        l_logits, ab_logits = raw[:2]
        lightness = torch.sigmoid(l_logits.float()) * 100.0
        ab = color.decode_ab(ab_logits.float(), self.config.bin_temperature)
        ab = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
        if len(raw) > 2 and multiply:  # multiply the lines onto the colour layer (ink -> black, paper -> the layer)
            lines = raw[2].float()
            lightness, ab = lightness * lines, ab * lines
        return color.lab_to_rgb(torch.cat([lightness, ab], dim=1)).clamp(0.0, 1.0)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``to_image(forward(x))``: what inference uses."""
        return self.to_image(self(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
