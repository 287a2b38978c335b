"""Full-image inference for validation: the engine when it exists, else pad + ``model.predict``."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from training import augment


@torch.no_grad()
def run_model(model, image: np.ndarray) -> np.ndarray:
    """uint8 input (RGB for sketch, gray for colorize) -> uint8 output (gray sketch or RGB)."""
    cfg = model.config
    if cfg.input_norm == "levels":
        image = augment.normalize_levels(image)
    arr = image.astype(np.float32) / 255.0
    x = torch.from_numpy(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy())[None]
    device = next(model.parameters()).device
    x = x.to(device)
    h, w = x.shape[-2:]
    m = cfg.multiple
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    was_training = model.training
    model.eval()
    out = model.predict(x)[..., :h, :w]
    model.train(was_training)
    out = (out[0].clamp(0, 1) * 255.0).round().byte().cpu().numpy()
    return out[0] if out.shape[0] == 1 else out.transpose(1, 2, 0)
