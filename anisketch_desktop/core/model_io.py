"""Model files: safetensors weights with the network's config (and a model card summary) in the metadata, and
the architecture's key (``core.architectures``; absent = U-Net).

Only safetensors is accepted; pickled checkpoints (``.pt``/``.pth``/``.ckpt``) are refused, never loaded.

A model file is untrusted input. Before anything is built, :func:`read_config` bounds the config (widths,
depth, channels: :data:`LIMITS`) and :func:`load_model` checks every tensor the file lists -- names, shapes,
dtypes and total bytes -- against the network the config describes (built on torch's ``meta`` device, which
allocates nothing); only then is the network built and filled. Weights that are NaN or infinite are refused.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from anisketch_desktop.core.architectures import ARCH_KEY, architecture, key_of
from anisketch_desktop.core.errors import ModelLoadError

HINT_ENCODINGS = ("dots", "spread", "regions", "claimed")  # core.proposal.encode_hints

CONFIG_KEY = "anisketch_config"
FORMAT_KEY = "anisketch_format"
FORMAT_VERSION = "1"
MAX_CONFIG_CHARS = 4096  # a real config is ~300 characters
LIMITS = {"base_channels": (1, 128), "depth": (1, 6), "unshuffle": (1, 4), "color_bins": (0, 1024),
          "hint_channels": (0, 4)}
NUMBER_LIMITS = {  # inference numbers a model file may set (an absent one is fine)
    "max_upscale": (1.0, 4.0),  # a 4x enlargement is 16x the pixels; no model may ask for more
    "denoise": (0.0, 64.0),  # a noise level in 8-bit units (0 = never smooth)
}
MAX_WIDTH = 2048  # base_channels * 2**depth: the widest layer (shipped models: 384)
MAX_WEIGHT_BYTES = 1 << 30
_CHANNELS = {"sketch": (3, 1), "colorize": (1, 3)}
_FLOAT_DTYPES = {"F16", "BF16", "F32"}  # U-Net limits above; other architectures bound their own configs


def new_temp_file(path: Path) -> Path:
    """An empty, new temporary file next to ``path`` (for write-then-rename), created with the permissions the
    user's umask gives new files (``mkstemp`` would make it private to the user)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name[:200]}.{secrets.token_hex(4)}.part"
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


def config_problem(config: dict) -> str | None:
    """Why a model config (the JSON dict) is outside what the U-Net supports, or None."""
    for key, (low, high) in LIMITS.items():
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
            return f"{key} must be a whole number from {low} to {high}, not {value!r}"
    for key, (least, most) in NUMBER_LIMITS.items():
        value = config.get(key, least)
        if not isinstance(value, int | float) or isinstance(value, bool) or not least <= value <= most:
            return f"{key} must be a number from {least:g} to {most:g}, not {value!r}"
    width = config.get("base_channels", 24) * 2 ** config.get("depth", 4)
    if width > MAX_WIDTH:
        return f"its widest layer would have {width} channels (at most {MAX_WIDTH})"
    task = config.get("task")
    hints = config.get("hint_channels", 0)
    if hints not in (0, 4) or hints and task != "colorize":
        return "hint_channels is 0, or 4 (hint RGB + mask) for a colorize model"
    if config.get("hint_encoding", "dots") not in HINT_ENCODINGS:
        return "hint_encoding is one of " + ", ".join(f'"{e}"' for e in HINT_ENCODINGS)
    channels = (config.get("in_channels", 3), config.get("out_channels", 1))
    expected = (1 + hints, 3) if task == "colorize" else _CHANNELS.get(str(task))
    if expected and channels != expected:
        return f"a {task} model takes {expected[0]} and gives {expected[1]} channels, not {channels}"
    return None


def read_config(meta: dict[str, str], name: str, arch: str = "unet") -> dict:
    """The model config of ``meta`` as a dict, bounded (U-Nets: see :data:`LIMITS`); ``ModelLoadError``
    otherwise."""
    text = meta.get(CONFIG_KEY, "")
    if len(text) > MAX_CONFIG_CHARS:
        raise ModelLoadError(f"{name}: the model config is {len(text)} characters long; not an AniSketch model")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelLoadError(f"{name}: unreadable model config ({str(exc)[:100]})") from None
    if not isinstance(config, dict):
        raise ModelLoadError(f"{name}: the model config is not a JSON object")
    problem = config_problem(config) if arch == "unet" else None
    if problem:
        raise ModelLoadError(f"{name}: unsupported model config: {problem}")
    return config


def load_model(path: str | Path, device="cpu"):
    """Rebuild the network stored in ``path`` on ``device`` in eval mode; returns ``(model, metadata)``.

    The file's tensors are checked against the config before the network is built (see the module doc)."""
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    arch = architecture(meta.get(ARCH_KEY), path.name)
    try:
        config = arch.config_type().from_json(json.dumps(read_config(meta, path.name, arch.key)))
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path.name}: unreadable model config ({exc})") from exc
    with torch.device("meta"):  # shapes and dtypes only: nothing is allocated
        expected = {k: (tuple(v.shape), v.dtype) for k, v in arch.model_type()(config).state_dict().items()}
    _check_tensors(path, expected)
    state = load_file(str(path), device="cpu")
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelLoadError(f"{path.name}: the weights contain NaN or infinite values ({key}); the model "
                                 "would paint garbage. Re-export or retrain it.")
    model = arch.model_type()(config)
    state = {k: v.to(expected[k][1]) for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path.name}: weights do not match the stored config ({exc})") from exc
    model.eval()
    return model.to(torch.device(device)), meta


def _check_tensors(path: Path, expected: dict) -> None:
    """The file lists exactly the tensors of ``expected`` (name -> (shape, torch dtype)), with those shapes,
    floating weights as F16/BF16/F32, and no more bytes than the network needs."""
    from safetensors import safe_open

    def refuse(reason: str):
        raise ModelLoadError(f"{path.name}: the weights do not match the stored config ({reason})")

    try:
        with safe_open(str(path), framework="numpy") as handle:
            listed = {key: (tuple(handle.get_slice(key).get_shape()), handle.get_slice(key).get_dtype())
                      for key in handle.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise ModelLoadError(f"{path.name} is not a valid safetensors file ({exc})") from None
    missing, extra = sorted(set(expected) - set(listed)), sorted(set(listed) - set(expected))
    if missing or extra:
        refuse(f"{len(missing)} tensors missing, {len(extra)} unexpected; e.g. {(missing + extra)[0]}")
    total = 0
    for key, (shape, dtype) in expected.items():
        got_shape, got_dtype = listed[key]
        if got_shape != shape:
            refuse(f"{key} is {list(got_shape)}, the config needs {list(shape)}")
        floating = dtype.is_floating_point
        if (got_dtype in _FLOAT_DTYPES) != floating or (not floating and got_dtype != "I64"):
            refuse(f"{key} is stored as {got_dtype}")
        numel = 1
        for n in shape:
            numel *= n
        total += numel * (2 if got_dtype in ("F16", "BF16") else 4 if got_dtype == "F32" else 8)
    if total > MAX_WEIGHT_BYTES or total > path.stat().st_size:
        refuse(f"{total} bytes of weights listed in a file of {path.stat().st_size} bytes")
