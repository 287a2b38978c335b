"""The training loop: checkpoints + resume, validation with the line metric, NaN stop, logs, DDP.

Every step draws its batch and seeds dropout from ``(seed, step, rank)``, so a run resumed from a
checkpoint produces the same weights as one that was never interrupted. A checkpoint keeps the run's
``fingerprint`` (its data and options, see ``training.session``): a run resumes only when it matches, so
weights trained on other data are never continued or exported. The device comes from the app's engine
(``core.engine.resolve_device``: CUDA with its kernel checks, then Apple MPS, then the CPU).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.core.unet_model import UNet, UNetConfig
from training import logs, losses, metrics
from training.data import PatchSampler, Sample
from training.predict import validation_runner


class TrainingDiverged(AniSketchError):
    """The loss became NaN or infinite."""


@dataclass
class TrainArgs:
    run_dir: str = "runs/sketch"
    task: str = "sketch"
    model: dict = field(default_factory=dict)  # UNetConfig keyword arguments
    steps: int = 1000
    batch_size: int = 4
    crop: int = 256
    scale: tuple = (0.5, 1.0)
    photometric: float = 0.8
    optimizer: str = "adamw"  # or "sgd" (lr 1e-3, momentum 0.9: the original recipe)
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    min_lr_ratio: float = 0.05
    ink_weight: float = 4.0
    dice: float = 0.5
    l_loss: str = "l1"  # colorize lightness loss: "l1" or "l2"
    ab_weight: float = 1.0  # colorize: weight of the colour-bin cross-entropy against the lightness loss
    rgb_weight: float = 0.0  # colorize: weight of the decoded picture's squared error in RGB (what PSNR measures)
    rebalance: bool = True
    eval_every: int = 500
    robust_images: int = 2
    ckpt_every: int = 200
    log_every: int = 20
    seed: int = 0
    init_from: str = ""  # checkpoint (.pt) or model (.safetensors) whose weights start this run
    init_weights: str = "best"  # from a checkpoint: its "best" (validation) or "last" weights
    amp: str = "auto"  # auto: fp16 on CUDA, off on CPU; "bf16": bf16 autocast on CPU too
    threads: int = 2
    device: str = "auto"
    fingerprint: str = ""  # what the run learns from (data + options); a checkpoint resumes only if it matches
    hints: dict = field(default_factory=dict)  # hint models: training.hint_sampler.HintSpec overrides
    solid_ink: float = 0.0  # sketch: share of examples with filled shapes / lettering stamped in (solid_ink.stamp)
    dark_fills: float = 0.0  # sketch: share of those also given outlined dark paint whose inside is not ink
    dark_flats: float = 0.0  # sketch: share of line-layer repaints with some flat colours made dark (flats_data)
    resample: float = 0.15  # share of damaged inputs shrunk and enlarged again (augment.photometric)
    wise: float = 0.0  # > 0: the best weights become (1 - wise) * start + wise * best at the end (WiSE-FT)


class CheckpointWriteError(AniSketchError):
    """A checkpoint could not be written (a full disk, a folder that cannot be written)."""


def _atomic_save(obj, path: Path) -> None:
    """Write a checkpoint by write-then-rename; a failed write (torch reports a full disk as a RuntimeError)
    leaves the last good checkpoint in place and says so in one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise CheckpointWriteError(f"Cannot write the checkpoint {path}: {exc.strerror or exc}") from None
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        Path(tmp).unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:160]
        raise CheckpointWriteError(
            f"Cannot write the checkpoint {path} ({reason}); is the disk full? Free some space and run the "
            "same command again: training resumes from the last checkpoint that was written."
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> dict:
    """Our own checkpoints (written by this module) hold optimizer and RNG state, so they are pickles."""
    return torch.load(str(path), map_location="cpu", weights_only=False)


def _dist_info():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def _lr_at(args: TrainArgs, step: int) -> float:
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, args.steps - args.warmup)
    cosine = 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * cosine)


def _init_weights(model: UNet, source: str, which: str = "best") -> None:
    """Start from a model file or checkpoint. A colorize model without hint inputs can start a hint model:
    its first layer's weights go to the line-art channels, the hint channels start at zero (so the new model
    begins exactly as the old one and learns what the hints mean). A wider model of the same kind starts a
    narrower one through ``training.prune`` (its strongest channels)."""
    if source.endswith(".safetensors"):
        from anisketch_desktop.core.model_io import load_model
        from training.prune import can_prune, prune_into

        wide = load_model(source)[0]
        if can_prune(wide, model):  # a narrower network (a faster default) starts from the wide one's best channels
            prune_into(wide, model)
            return
        state = wide.state_dict()
    else:
        ckpt = load_checkpoint(source)
        state = ckpt["model"] if which == "last" else ckpt.get("best_model") or ckpt["model"]
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    own = model.state_dict()
    for key, value in state.items():
        target = own.get(key)
        if target is not None and value.ndim == 4 and target.ndim == 4 and value.shape[1] < target.shape[1] \
                and value.shape[0] == target.shape[0] and value.shape[2:] == target.shape[2:]:
            grown = torch.zeros_like(target)
            grown[:, : value.shape[1]] = value  # pixel_unshuffle keeps each input channel's sub-pixels together
            state[key] = grown
    model.load_state_dict(state)


def evaluate(model: UNet, val: Sequence[Sample], robust_images: int = 0, device: str = "cpu") -> dict:
    """Sketch: mean line F1 (+ robustness on the first images); colorize: PSNR/SSIM. The model runs through
    the app's engine and pipeline (``training.predict``)."""
    if not val:
        return {}
    if model.config.task == "colorize" and model.config.hint_channels:
        from training.hint_eval import evaluate_hint_model

        return evaluate_hint_model(model, val, device=device)
    run_model = validation_runner(model, device)
    if model.config.task == "colorize":
        from training.color_metrics import colorize_scores

        return colorize_scores([run_model(s.sketch) for s in val], [s.color for s in val])
    f1s, robust = [], []
    for i, s in enumerate(val):
        out = run_model(s.color)
        f1s.append(metrics.line_f1(out, s.truth if s.truth is not None else s.sketch))
        if i < robust_images:
            robust.append(metrics.robustness(run_model, s.color, clean_output=out))
    res = {"f1": float(np.mean(f1s))}
    if robust:
        res["robust"] = float(np.mean([np.mean(list(r.values())) for r in robust]))
        res["robust_min"] = float(min(min(r.values()) for r in robust))
    return res


MIN_COLORFULNESS = 0.5  # colorize checkpoints below half the true pictures' colourfulness are "sepia mush"


def selection_score(res: dict) -> float:
    """Which validation result is best: sketch by line F1; colorize by PSNR among checkpoints whose colours
    keep at least ``MIN_COLORFULNESS`` of the truth's colourfulness (PSNR alone favours grey averages)."""
    if "f1" in res:
        return res["f1"]
    psnr = res.get("psnr", 0.0) + res.get("psnr_hints", 0.0)  # hint models: with and without hints
    return psnr if res.get("colorfulness_ratio", 1.0) >= MIN_COLORFULNESS else psnr - 100.0


def checkpoint_info(run_dir: str | Path) -> dict | None:
    """``{"step", "steps", "fingerprint"}`` of the run's checkpoint, or None when there is none (or it is
    unreadable: a run killed while its first checkpoint was written)."""
    path = Path(run_dir) / "ckpt.pt"
    if not path.is_file():
        return None
    try:
        ck = load_checkpoint(path)
        return {"step": int(ck["step"]), "steps": int(ck.get("args", {}).get("steps", 0)),
                "fingerprint": str(ck.get("args", {}).get("fingerprint", ""))}
    except Exception:  # a truncated or foreign file: not a run that can be resumed
        return None


RUN_FILES = ("ckpt.pt", "log.csv", "log.jsonl", "eval.csv", "loss.png")


def _clear_run(run_dir: Path) -> None:
    """Remove an earlier run's checkpoint and logs from ``run_dir`` (other files are left alone)."""
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)


def training_device(name: str, local_rank: int = 0, world: int = 1) -> tuple[torch.device, str | None]:
    """``(device, note)``: the engine's choice (GPU checks, MPS) for one process; under DDP each rank's GPU."""
    from anisketch_desktop.core.engine import resolve_device

    if world > 1 and name == "auto" and torch.cuda.is_available():
        return torch.device(f"cuda:{local_rank}"), None
    return resolve_device(name)


def train(
    args: TrainArgs, samples: Sequence[Sample], val: Sequence[Sample] = (), resume: bool = True,
    progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
    quiet: bool = False, on_step: Callable[[int, float], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Train (or resume) in ``args.run_dir``; returns a summary with the best validation metrics.

    Writes ``ckpt.pt`` (latest, every ``ckpt_every`` steps, with the best weights), ``log.csv``/
    ``log.jsonl``/``eval.csv`` and ``loss.png``. Under torchrun every rank calls this. ``on_step(step, loss)``
    follows the loss; ``log(line)`` receives what the run says (resumed, started fresh, the device).
    A checkpoint whose ``fingerprint`` differs from ``args.fingerprint`` is not resumed: the run starts fresh.
    """
    say = log or ((lambda line: print(line, file=sys.stderr)) if not quiet else (lambda line: None))
    if not 0.0 <= args.wise <= 1.0:  # said before any training, not after it
        raise ValueError(f"wise must be within [0, 1] (0 = off), not {args.wise}")
    world, rank, local_rank = _dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    device, note = training_device(args.device, local_rank, world)
    if note and rank == 0:
        say(note)
    if device.type == "cpu" and args.threads > 0:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.run_dir)
    is_main = rank == 0
    ckpt_path = run_dir / "ckpt.pt"

    ck = None
    info = checkpoint_info(run_dir) if resume else None
    if info is not None and info["fingerprint"] != args.fingerprint:
        if is_main:
            say(f"{run_dir}: its checkpoint was trained on other data or options; starting fresh")
        info = None
    if info is not None:
        ck = load_checkpoint(ckpt_path)
    elif is_main:
        _clear_run(run_dir)  # a fresh run: no earlier checkpoint, logs or curve mixed into this one

    torch.manual_seed(args.seed)
    cfg_fn = UNetConfig.sketch if args.task == "sketch" else UNetConfig.colorize
    # a resumed run keeps the config it was started with (stored in its checkpoint)
    config = UNetConfig.from_json(ck["config"]) if ck and ck.get("config") else cfg_fn(**args.model)
    model = UNet(config).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    use_amp = device.type == "cuda" and args.amp in ("auto", "fp16")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    cpu_bf16 = device.type == "cpu" and args.amp == "bf16"

    step, best, history = 0, {"score": -math.inf}, []
    best_model = start_model = None
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        scaler.load_state_dict(ck["scaler"])
        step, best, history, best_model = ck["step"], ck["best"], ck["history"], ck.get("best_model")
        start_model = ck.get("start_model")
        torch.set_rng_state(ck["rng"]["torch"])
        if is_main:
            say(f"resumed {ckpt_path} at step {step} of {args.steps}")
    elif args.init_from:
        _init_weights(model, args.init_from, args.init_weights)
    if args.wise > 0 and start_model is None:  # the weights the fine-tuning starts from, kept for the end
        start_model = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local_rank] if device.type == "cuda" else None
        )
    sampler_args = (samples, args.task, args.crop, args.scale, args.photometric, config.input_norm == "levels")
    if config.hint_channels:
        from training.hint_sampler import HintPatchSampler

        sampler = HintPatchSampler(*sampler_args, seed=args.seed, hints=args.hints, encoding=config.hint_encoding)
    else:
        sampler = PatchSampler(*sampler_args, seed=args.seed, solid_ink=args.solid_ink,
                               dark_fills=args.dark_fills, dark_flats=args.dark_flats, resample=args.resample)
    rebalance = None
    if args.task == "colorize" and args.rebalance:
        rebalance = losses.ab_prior([s.color for s in samples], config.unshuffle)
    logger = logs.RunLogger(run_dir, enabled=is_main)

    def snapshot():
        return {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict(),
            "step": step, "best": best, "best_model": best_model, "history": history,
            "config": config.to_json(), "args": asdict(args), "rng": {"torch": torch.get_rng_state()},
            "start_model": start_model,
        }

    def do_eval():
        nonlocal best, best_model
        res = evaluate(model, val, args.robust_images, str(device))
        if not res:
            return
        score = selection_score(res)
        res["step"] = step
        history.append(res)
        logger.eval_row(res)
        if score > best["score"]:
            best = {"score": score, **res}
            best_model = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        if not quiet:
            say(f"\n[eval step {step}] {json.dumps(res)} best={best['score']:.4f}")

    model.train()
    start_step, t0 = step, time.time()
    bar = logs.ProgressBar(args.steps, enabled=is_main and not quiet)
    while step < args.steps:
        if cancel is not None and cancel():
            if is_main:
                _atomic_save(snapshot(), ckpt_path)
            raise Cancelled("Training cancelled (checkpoint saved; it can be resumed).")
        lr = _lr_at(args, step)
        for group in opt.param_groups:
            group["lr"] = lr
        torch.manual_seed(args.seed * 1_000_003 + step * 101 + rank)
        xb, yb = sampler.batch(step, args.batch_size, rank)
        x = torch.from_numpy(xb).to(device)
        y = torch.from_numpy(yb).to(device)
        autocast = (torch.autocast(device.type, dtype=torch.float16 if use_amp else torch.bfloat16)
                    if use_amp or cpu_bf16 else contextlib.nullcontext())
        with autocast:
            raw = ddp_model(x)
        if args.task == "sketch":
            loss, parts = losses.sketch_loss(raw, y, args.ink_weight, args.dice)
        else:
            weight = None
            if y.shape[1] == 4:  # hint models: a per-pixel loss weight after the colours
                y, weight = y[:, :3], y[:, 3:]
            loss, parts = losses.colorize_loss(raw, y, config.unshuffle, rebalance, ab_weight=args.ab_weight,
                                               l_kind=args.l_loss, rgb_weight=args.rgb_weight,
                                               to_image=model.to_image, weight=weight)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"Training stopped: the loss became {float(loss.detach())} at step {step} "
                f"(lr {lr:.2e}). Lower the learning rate or check the data."
            )
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        step += 1
        loss_value = float(loss.detach())
        logger.train_row(step, loss_value, lr, parts)
        bar.update(step, loss_value, time.time() - t0, step - start_step)
        if on_step is not None:
            on_step(step, loss_value)
        if progress is not None:
            progress(step / args.steps)
        if is_main and val and (step % args.eval_every == 0 or step == args.steps):
            do_eval()
        if is_main and (step % args.ckpt_every == 0 or step == args.steps):
            _atomic_save(snapshot(), ckpt_path)
            logger.plot()
        if world > 1 and (step % args.eval_every == 0 or step == args.steps):
            torch.distributed.barrier()
    bar.close()
    if is_main and best_model is None:  # no validation set: the final weights are the best we know
        best_model = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        _atomic_save(snapshot(), ckpt_path)
    if is_main and args.wise > 0 and start_model is not None and not best.get("wise"):
        best_model = wise_average(start_model, best_model, args.wise)
        res = {}
        if val:  # the validation figures of the weights that are exported, not of the tuned ones
            last_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict(best_model)
            res = evaluate(model, val, args.robust_images, str(device))
            model.load_state_dict(last_state)
        score = selection_score(res) if res else best["score"]
        best = {**best, **res, "score": score, "wise": args.wise, "tuned_score": best["score"]}
        _atomic_save(snapshot(), ckpt_path)
        say(f"best weights: {1 - args.wise:g} x the start + {args.wise:g} x the tuned (WiSE-FT); "
            f"validation {best['tuned_score']:.4f} -> {score:.4f}")
    summary = {"step": step, "best": best, "last": history[-1] if history else {}, "config": config.to_json(),
               "run_dir": str(run_dir), "world": world}
    if world > 1:
        summary["ranks_in_sync"] = _ranks_in_sync(model, world)
    if is_main:
        logger.plot()
    return summary


def wise_average(start: dict, tuned: dict, alpha: float) -> dict:
    """``(1 - alpha) * start + alpha * tuned`` for every floating-point tensor (counters are the tuned ones):
    WiSE-FT (Wortsman et al., 2022). Averaging a fine-tuned network with the one it started from keeps
    most of what the fine-tuning taught and much of what it forgot, and is often more robust than either."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"wise must be within (0, 1], not {alpha}")
    return {k: ((1.0 - alpha) * start[k].float() + alpha * v.float()).to(v.dtype) if v.is_floating_point() else v
            for k, v in tuned.items()}


def _ranks_in_sync(model: UNet, world: int) -> bool:
    """True when every DDP rank ends with the same weights (gradients were averaged across ranks)."""
    flat = torch.cat([p.detach().float().flatten() for p in model.parameters()])
    mine = torch.stack([flat.sum(), (flat * flat).sum(), flat[::97].sum()]).double()
    gathered = [torch.zeros_like(mine) for _ in range(world)]
    torch.distributed.all_gather(gathered, mine)
    return all(torch.equal(g, gathered[0]) for g in gathered)


def best_model_from(run_dir: str | Path, which: str = "best") -> UNet:
    """The best (validation) or the last weights of a run, as an eval-mode ``UNet``."""
    ck = load_checkpoint(Path(run_dir) / "ckpt.pt")
    model = UNet(UNetConfig.from_json(ck["config"]))
    model.load_state_dict(ck["model"] if which == "last" else ck.get("best_model") or ck["model"])
    return model.eval()
