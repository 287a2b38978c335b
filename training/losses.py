"""Losses. Sketch: ink-weighted L1 plus a soft Dice on ink (so predicting blank paper never pays off).
Colorize: L1 on Lab lightness plus cross-entropy over the ab bins against soft targets, rebalanced by rarity.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from anisketch_desktop.core import color


def sketch_loss(logits: torch.Tensor, target: torch.Tensor, ink_weight: float = 4.0, dice: float = 0.5):
    """``logits`` raw model output, ``target`` in [0, 1] (1 = paper). Returns (loss, parts dict)."""
    pred = torch.sigmoid(logits.float())
    weight = 1.0 + ink_weight * (1.0 - target)
    l1 = (weight * (pred - target).abs()).sum() / weight.sum()
    loss = l1
    parts = {"l1": float(l1.detach())}
    if dice > 0:
        ink_p, ink_t = 1.0 - pred, 1.0 - target
        inter = (ink_p * ink_t).sum(dim=(1, 2, 3))
        denom = ink_p.sum(dim=(1, 2, 3)) + ink_t.sum(dim=(1, 2, 3))
        dice_loss = (1.0 - (2 * inter + 1.0) / (denom + 1.0)).mean()
        loss = loss + dice * dice_loss
        parts["dice"] = float(dice_loss.detach())
    return loss, parts


def ab_prior(rgb_images, unshuffle: int = 2, smoothing: float = 0.5) -> torch.Tensor:
    """Per-bin rebalancing weights (Zhang et al.): ``1 / ((1-l) p + l / Q)``, normalised so E_p[w] = 1."""
    centers = color.bin_centers()
    counts = torch.zeros(len(centers), dtype=torch.float64)
    for rgb in rgb_images:
        small = rgb[:: 4 * unshuffle, :: 4 * unshuffle]
        t = torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1)[None].float() / 255.0
        ab = color.rgb_to_lab(t)[0, 1:].reshape(2, -1).T
        idx = torch.cdist(ab, centers).argmin(dim=1)
        counts += torch.bincount(idx, minlength=len(centers)).double()
    p = counts / counts.sum().clamp_min(1)
    w = 1.0 / ((1 - smoothing) * p + smoothing / len(p))
    w = w / (p * w).sum()
    return w.float()


def colorize_loss(raw, target_rgb: torch.Tensor, unshuffle: int = 2, rebalance: torch.Tensor | None = None,
                  l_weight: float = 1.0, ab_weight: float = 1.0, ce_stride: int = 2, l_kind: str = "l1",
                  rgb_weight: float = 0.0, to_image=None, weight: torch.Tensor | None = None):
    """``raw = (L_logits, ab_logits[, lines])``, ``target_rgb`` B x 3 x H x W in [0, 1]. Returns (loss, parts).

    The colour-bin cross-entropy is taken on every ``ce_stride``-th bin pixel in each direction (colours change
    slowly; this makes the loss 4x cheaper at stride 2 with the same gradient in expectation). ``l_kind`` "l2"
    fits the lightness by its conditional mean (L1 fits the median). ``rgb_weight`` > 0 adds the mean squared
    error of the decoded picture (``to_image(raw)``, the model's own decoding) in RGB: the error PSNR measures.
    ``weight`` (B x 1 x H x W) weighs every pixel's share of the lightness and colour terms (mean 1 = no change).
    """
    parts = {}
    rgb_loss = 0.0
    if rgb_weight > 0 and to_image is not None:
        rgb_loss = ((to_image(raw) - target_rgb.float()) ** 2).mean()
        parts["mse_rgb"] = float(rgb_loss.detach())
    l_logits, ab_logits = raw[:2]
    lab = color.rgb_to_lab(target_rgb.float())
    lightness = torch.sigmoid(l_logits.float())
    if len(raw) > 2:  # multiply_lines: the input lines darken the painted layer
        lightness = lightness * raw[2].float()
    diff = lightness - lab[:, :1] / 100.0
    err = diff * diff * 5.0 if l_kind == "l2" else diff.abs()  # x5: about L1-sized
    l_loss = err.mean() if weight is None else (err * weight).sum() / weight.sum().clamp_min(1e-6)
    ab = F.avg_pool2d(lab[:, 1:], unshuffle) if unshuffle > 1 else lab[:, 1:]
    if ce_stride > 1:
        ab = ab[..., ::ce_stride, ::ce_stride]
        ab_logits = ab_logits[..., ::ce_stride, ::ce_stride]
    soft = color.encode_ab(ab)
    logp = F.log_softmax(ab_logits.float(), dim=1)
    ce = -(soft * logp).sum(dim=1)  # B x h x w
    if rebalance is not None:
        ce = ce * rebalance.to(ce.device)[soft.argmax(dim=1)]
    if weight is None:
        ce = ce.mean()
    else:
        w = F.avg_pool2d(weight.float(), unshuffle) if unshuffle > 1 else weight.float()
        w = w[:, 0, ::ce_stride, ::ce_stride] if ce_stride > 1 else w[:, 0]
        ce = (ce * w).sum() / w.sum().clamp_min(1e-6)
    loss = l_weight * l_loss + ab_weight * ce + rgb_weight * rgb_loss
    return loss, {"l1_L": float(l_loss.detach()), "ce_ab": float(ce.detach()), **parts}
