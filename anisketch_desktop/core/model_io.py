"""Model files: safetensors weights with the network's config (and a model card summary) in the metadata, and
the architecture's key (``core.architectures``; absent = U-Net).

Only safetensors is accepted; pickled checkpoints (``.pt``/``.pth``/``.ckpt``) are refused, never loaded.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from anisketch_desktop.core.architectures import ARCH_KEY, architecture, key_of
from anisketch_desktop.core.errors import ModelLoadError

CONFIG_KEY = "anisketch_config"
FORMAT_KEY = "anisketch_format"
FORMAT_VERSION = "1"


def new_temp_file(path: Path) -> Path:
    """An empty, new temporary file next to ``path`` (for write-then-rename), created with the permissions the
    user's umask gives new files (``mkstemp`` would make it private to the user)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def save_model(model, path: str | Path, metadata: dict[str, str] | None = None, half: bool = True) -> Path:
    """Write ``model`` (a registered architecture, e.g. ``UNet``) atomically as safetensors; fp16 by default
    (half the size, same output)."""
    import torch
    from safetensors.torch import save

    path = Path(path)
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    meta[CONFIG_KEY] = model.config.to_json()
    meta[FORMAT_KEY] = FORMAT_VERSION
    meta[ARCH_KEY] = key_of(model)
    tensors = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu").contiguous()
        if half and tensor.is_floating_point():
            tensor = tensor.to(torch.float16)
        tensors[name] = tensor
    tmp = new_temp_file(path)
    try:
        tmp.write_bytes(save(tensors, metadata=meta))  # into our file: save_file would make it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata dict of a model file (raises ``ModelLoadError`` with a readable reason)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"Model file not found: {path}")
    if path.suffix.lower() in {".pt", ".pth", ".ckpt", ".pkl", ".bin"}:
        raise ModelLoadError(
            f"{path.name}: pickled PyTorch files are not loaded (they can run code). "
            "Use a .safetensors model exported by AniSketch."
        )
    try:
        with safe_open(str(path), framework="numpy") as handle:  # header only; "pt" would import torch
            meta = handle.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise ModelLoadError(f"{path.name} is not a valid safetensors file ({exc})") from exc
    if CONFIG_KEY not in meta:
        raise ModelLoadError(f"{path.name} has no AniSketch model config in its metadata")
    return meta


def load_model(path: str | Path, device="cpu"):
    """Rebuild the network stored in ``path`` on ``device`` in eval mode; returns ``(model, metadata)``."""
    import torch
    from safetensors.torch import load_file

    meta = read_metadata(path)
    arch = architecture(meta.get(ARCH_KEY), Path(path).name)
    try:
        config = arch.config_type().from_json(meta[CONFIG_KEY])
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{Path(path).name}: unreadable model config ({exc})") from exc
    model = arch.model_type()(config)
    state = load_file(str(path), device="cpu")
    expected = model.state_dict()
    state = {k: v.to(expected[k].dtype) if k in expected else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{Path(path).name}: weights do not match the stored config ({exc})") from exc
    model.eval()
    return model.to(torch.device(device)), meta
