"""Speed and memory of the core: XDoG, XDoG auto-tune and the U-Net sketch, against two anchor networks.

    python -m benchmarks.bench_core --sizes 1mp,1080p,4k,8k --threads 2
    python benchmarks/bench_core.py --model resources/models/sketch.safetensors --anchor-sizes 1mp,1080p,4k

Every case runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own and includes the Python
interpreter, numpy, OpenCV and torch. Each case is warmed up once on a smaller input of the same tile shape
(the first call of a network pays one-off kernel set-up), then timed ``--repeat`` times; the best run counts.
Cases go through ``core.pipeline`` with a uint8 RGB picture, so the figures include the conversions a user
pays for. The anchors are the random-weight speed stand-ins of ``shared/bench/anchor_nets.py`` (Anime2Sketch's
pix2pix U-Net and Informative Drawings' ResNet generator), timed as their code runs them (fp32, eager).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {"1mp": (1024, 1024), "1080p": (1920, 1080), "4k": (3840, 2160), "8k": (7680, 4320)}
TARGETS = ("XDoG 4K < 0.5 s; U-Net 1080p <= 1.0 s; U-Net 8K peak RSS < 3 GB; "
           ">= 10x faster than Anime2Sketch at full resolution, 1080p")


# ------------------------------------------------------------------------------------------ child process


def _picture(width: int, height: int):
    """A deterministic flat-shaded picture with outlines (content barely matters for timing)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    img = np.full((height, width, 3), 240, np.uint8)
    scale = max(width, height) / 1000
    for _ in range(60):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(20, 200) * scale) + 1, int(rng.integers(20, 200) * scale) + 1)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.ellipse(img, centre, axes, float(rng.integers(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(img, centre, axes, 0, 0, 360, (20, 20, 20), max(1, int(2 * scale)), cv2.LINE_AA)
    return img


def _rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _load_anchors(path: str):
    spec = importlib.util.spec_from_file_location("anchor_nets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _round_to(n: int, multiple: int) -> int:
    return max(multiple, int(n / multiple + 0.5) * multiple)


def _time(fn, repeat: int) -> tuple[float, float]:
    """Best ``(wall ms, process CPU ms)`` of ``repeat`` runs (CPU time sums all threads)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, ((time.perf_counter() - start) * 1000.0, (time.process_time() - cpu) * 1000.0))
    return best


def run_case(spec: dict) -> dict:
    """Time one case in this process; returns ``{"ms", "rss_mb", "shape", "note"}``."""
    import cv2
    import torch

    torch.set_num_threads(spec["threads"])
    cv2.setNumThreads(spec["threads"])
    case, (width, height), repeat = spec["case"], spec["size"], spec["repeat"]
    note = ""
    if case == "baseline":
        from anisketch_desktop.core import engine, pipeline, xdog  # noqa: F401

        return {"ms": 0.0, "cpu_ms": 0.0, "rss_mb": _rss_mb(), "shape": [0, 0], "note": "imports only"}
    if case in ("xdog", "xdog_auto", "unet"):
        from anisketch_desktop.core import pipeline, tiling

        image = _picture(width, height)
        if case == "unet":
            from anisketch_desktop.core.engine import InferenceEngine, working_scale

            eng = InferenceEngine(spec["model"], spec["device"], tile_size=spec["tile"], precision="auto")
            scale = working_scale(height, width, eng.min_megapixels)
            wide, high = round(width * scale), round(height * scale)
            plan = tiling.plan_tiles(high, wide, eng.config.multiple, spec["tile"], eng.overlap)
            note = f"{plan.count} tiles of {plan.tile_w}x{plan.tile_h}, {eng.device.type}"
            if scale > 1.0:  # the model enlarges small pictures first (its min_megapixels): warm up on all of it
                note = f"drawn at {wide}x{high} (model min {eng.min_megapixels:g} MP): " + note
                pipeline.sketch(image, model=eng)
            else:
                pipeline.sketch(image[: plan.tile_h, : plan.tile_w], model=eng)  # warm-up on one tile's shape
            if eng._autocast is not None:
                note += f" {str(eng._autocast).replace('torch.', '')}"
            run = lambda: pipeline.sketch(image, model=eng)  # noqa: E731
        else:
            kw = {"engine": "xdog", "auto": case == "xdog_auto"}
            pipeline.sketch(image[:256, :256], **kw)
            run = lambda: pipeline.sketch(image, **kw)  # noqa: E731
        ms, cpu_ms = _time(run, repeat)
        return {"ms": ms, "cpu_ms": cpu_ms, "rss_mb": _rss_mb(), "shape": [width, height], "note": note}
    anchors = _load_anchors(spec["anchors"])
    if case == "a2s_512":
        net, width, height = anchors.Pix2PixUNet(), 512, 512
        note = "squashed to 512x512 (its README)"
    elif case == "a2s_full":
        net, width, height = anchors.Pix2PixUNet(), _round_to(width, 256), _round_to(height, 256)
        note = "full resolution, sides rounded to 256"
    elif case == "infodraw":
        net, width, height = anchors.ResGen(), _round_to(width, 4), _round_to(height, 4)
        note = "full resolution"
    else:
        raise SystemExit(f"unknown case {case}")
    net.eval()
    x = torch.rand(1, 3, height, width)
    with torch.inference_mode():
        if width * height <= 2_100_000:
            net(x)  # warm-up (skipped above 1080p: it would double minutes-long runs)
        ms, cpu_ms = _time(lambda: net(x), repeat)
    return {"ms": ms, "cpu_ms": cpu_ms, "rss_mb": _rss_mb(), "shape": [width, height], "note": note}


# ----------------------------------------------------------------------------------------- parent process


def _spawn(spec: dict) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]), MKL_NUM_THREADS=str(spec["threads"]))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _random_model(folder: Path) -> Path:
    import torch

    from anisketch_desktop.core.model_io import save_model
    from anisketch_desktop.core.unet_model import UNet, UNetConfig

    torch.manual_seed(0)
    return save_model(UNet(UNetConfig.sketch()).eval(), folder / "random_sketch.safetensors", {"name": "random"})


def _parse_sizes(text: str) -> list[str]:
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [n for n in names if n not in SIZES]
    if bad:
        raise SystemExit(f"unknown size(s) {bad}; choose from {', '.join(SIZES)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1mp,1080p,4k,8k",
                        help=f"comma list of {', '.join(SIZES)} (default: %(default)s)")
    parser.add_argument("--anchor-sizes", default="1mp,1080p", help="sizes the anchors run at (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="torch/OpenCV threads (default: %(default)s)")
    parser.add_argument("--model", help="sketch model (default: the shipped one, else a random UNetConfig.sketch())")
    parser.add_argument("--anchors", default=str(REPO.parent / "shared" / "bench" / "anchor_nets.py"),
                        help="anchor_nets.py (default: <repo>/../shared/bench/anchor_nets.py)")
    parser.add_argument("--device", default="cpu", help="device of the U-Net (default: %(default)s)")
    parser.add_argument("--tile", type=int, default=1024, help="U-Net tile size (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per case, best counts (default: 1)")
    parser.add_argument("--skip", default="", help="comma list of cases to skip: xdog,xdog_auto,unet,anchors")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_case(json.loads(args.child))))
        return 0

    from anisketch_desktop.core.models import shipped_model_path

    sizes, anchor_sizes = _parse_sizes(args.sizes), _parse_sizes(args.anchor_sizes)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    tmp = tempfile.TemporaryDirectory()
    model = args.model or (str(shipped_model_path("sketch")) if shipped_model_path("sketch").is_file() else None)
    model_note = model or "random UNetConfig.sketch() (no shipped model)"
    model = model or str(_random_model(Path(tmp.name)))
    anchors_ok = Path(args.anchors).is_file() and "anchors" not in skip
    base = {"threads": args.threads, "repeat": args.repeat, "model": model, "device": args.device,
            "tile": args.tile, "anchors": args.anchors}
    import torch

    print(f"threads={args.threads}  torch={torch.__version__}  cpu={torch.backends.cpu.get_cpu_capability()}  "
          f"model={model_note}")
    if not anchors_ok:
        print(f"anchors skipped: {args.anchors} not found" if "anchors" not in skip else "anchors skipped")
    rows = [("baseline", "-", _spawn({**base, "case": "baseline", "size": [0, 0]}))]
    for size in sizes:
        for case in ("xdog", "xdog_auto", "unet"):
            if case not in skip:
                rows.append((case, size, _spawn({**base, "case": case, "size": SIZES[size]})))
        if anchors_ok and size in anchor_sizes:
            for case in ("a2s_512", "a2s_full", "infodraw"):
                rows.append((case, size, _spawn({**base, "case": case, "size": SIZES[size]})))
        print(f"... {size} done", file=sys.stderr, flush=True)
    tmp.cleanup()
    _report(rows, sizes, anchor_sizes if anchors_ok else [])
    return 0


def _report(rows, sizes, anchor_sizes) -> None:
    print(f"\n{'case':<10} {'size':<6} {'input':>10} {'ms':>9} {'cpu ms':>9} {'ms/MP':>8} {'peak RSS MB':>12}  note")
    results = {}
    for case, size, res in rows:
        if "error" in res:
            print(f"{case:<10} {size:<6} {'':>10} {'error':>9}  {res['error']}")
            continue
        w, h = res["shape"]
        mp = w * h / 1e6
        per_mp = f"{res['ms'] / mp:8.0f}" if mp else f"{'-':>8}"
        dims = f"{w}x{h}" if mp else "-"
        print(f"{case:<10} {size:<6} {dims:>10} {res['ms']:9.0f} {res['cpu_ms']:9.0f} {per_mp} "
              f"{res['rss_mb']:12.0f}  {res['note']}")
        results[(case, size)] = res
    print(f"\ntargets: {TARGETS}")

    def ms(case, size):
        return results.get((case, size), {}).get("ms")

    checks = [
        ("XDoG 4K < 500 ms", ms("xdog", "4k"), lambda v: v < 500),
        ("U-Net 1080p <= 1000 ms", ms("unet", "1080p"), lambda v: v <= 1000),
        ("U-Net 8K peak RSS < 3072 MB", results.get(("unet", "8k"), {}).get("rss_mb"), lambda v: v < 3072),
    ]
    for label, value, ok in checks:
        if value is not None:
            print(f"  {label:<30} {value:8.0f}  {'PASS' if ok(value) else 'FAIL'}")
    for size in anchor_sizes:
        unet = ms("unet", size)
        if unet is None:
            continue
        for case, label in (("a2s_full", "Anime2Sketch full-res"), ("a2s_512", "Anime2Sketch @512x512"),
                            ("infodraw", "Informative Drawings")):
            other = ms(case, size)
            if other:
                verdict = ""
                if case == "a2s_full" and size == "1080p":  # where the target is set
                    verdict = "  PASS (>= 10x)" if other / unet >= 10 else "  FAIL (< 10x)"
                print(f"  {size:<6} U-Net vs {label:<24} {other / unet:6.1f}x faster{verdict}")


if __name__ == "__main__":
    sys.exit(main())
