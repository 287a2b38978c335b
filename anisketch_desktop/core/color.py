"""CIE Lab conversion (sRGB, D65) and the quantised ab bins of the colorize head, in torch.

Colorizing with an L1 loss averages plausible colours into sepia; predicting a distribution over ab bins and
decoding it with an annealed mean (Zhang et al., 2016) keeps colours saturated.
"""

from __future__ import annotations

from functools import lru_cache

import torch

BIN_SIZE = 10.0
_WHITE = (0.95047, 1.0, 1.08883)
_RGB2XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """``B x 3 x H x W`` sRGB in [0, 1] -> Lab (L in [0, 100], a/b roughly [-110, 110])."""
    rgb = rgb.clamp(0.0, 1.0)
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = torch.tensor(_RGB2XYZ, dtype=rgb.dtype, device=rgb.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    white = torch.tensor(_WHITE, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    t = xyz / white
    f = torch.where(t > _EPS, t.clamp_min(1e-12) ** (1.0 / 3.0), (_KAPPA * t + 16.0) / 116.0)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_lab` (output clamped to [0, 1])."""
    lightness, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (lightness + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    f = torch.cat([fx, fy, fz], dim=1)
    t = torch.where(f**3 > _EPS, f**3, (116.0 * f - 16.0) / _KAPPA)
    white = torch.tensor(_WHITE, dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    xyz = t * white
    m_inv = torch.linalg.inv(torch.tensor(_RGB2XYZ, dtype=torch.float64)).to(lab.dtype).to(lab.device)
    lin = torch.einsum("ij,bjhw->bihw", m_inv, xyz).clamp(0.0, 1.0)
    rgb = torch.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin.clamp_min(1e-12) ** (1.0 / 2.4) - 0.055)
    return rgb.clamp(0.0, 1.0)


@lru_cache(maxsize=1)
def _centers_cpu() -> torch.Tensor:
    """ab centres (Q x 2) of the BIN_SIZE grid cells that some sRGB colour falls into.

    Made as an ordinary tensor even when first asked for under ``torch.inference_mode`` (the engine): the
    cached value is also used by training, where an inference tensor cannot take part in autograd."""
    with torch.inference_mode(False), torch.no_grad():
        steps = torch.linspace(0.0, 1.0, 33)
        r, g, b = torch.meshgrid(steps, steps, steps, indexing="ij")
        rgb = torch.stack([r, g, b]).reshape(1, 3, -1, 1)
        ab = rgb_to_lab(rgb)[0, 1:, :, 0].T  # N x 2
        cells = torch.unique(torch.round(ab / BIN_SIZE), dim=0)
        return cells * BIN_SIZE


def bin_centers(device: torch.device | str = "cpu") -> torch.Tensor:
    return _centers_cpu().to(device)


def num_bins() -> int:
    return int(_centers_cpu().shape[0])


def decode_ab(logits: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
    """Annealed mean of a ``B x Q x h x w`` bin distribution -> ``B x 2 x h x w`` ab."""
    centers = bin_centers(logits.device).to(logits.dtype)
    if logits.dim() == 4 and not logits.is_contiguous() and logits.is_contiguous(memory_format=torch.channels_last):
        # the engine's channels-last output: a softmax over axis 1 reads it strided (on the CPU that was 40 % of
        # a colour proposal's time); over the last axis of the channels-last view it takes half as long
        probs = torch.softmax(logits.permute(0, 2, 3, 1) / temperature, dim=-1)
        return (probs @ centers).permute(0, 3, 1, 2)
    probs = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", probs, centers)


def encode_ab(ab: torch.Tensor, neighbours: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Soft targets ``B x Q x h x w``: Gaussian weights on the nearest bins of each true ab value."""
    centers = bin_centers(ab.device).to(ab.dtype)  # Q x 2
    bsz, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    dist = torch.cdist(flat, centers)  # N x Q
    near_d, near_i = dist.topk(neighbours, dim=1, largest=False)
    weights = torch.exp(-(near_d**2) / (2 * sigma**2))
    weights = weights / weights.sum(dim=1, keepdim=True)
    target = torch.zeros_like(dist).scatter_(1, near_i, weights)
    return target.reshape(bsz, h, w, -1).permute(0, 3, 1, 2)
