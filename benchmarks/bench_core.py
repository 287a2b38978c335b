"""Speed and memory of the core, end to end, in ONE table: batches, the network alone, peak memory, colorize,
and the Anime2Sketch stand-in timed in the same run.

    make bench                                   # everything below, 2 threads
    python -m benchmarks.bench_core --threads 2 --skip rss12k
    python -m benchmarks.bench_core --only batch1080p,a2s    # a quick look at one figure

Every case runs in a fresh subprocess, so a peak RSS (``ru_maxrss``) is that case's own and includes the
Python interpreter, numpy, OpenCV and torch. Pictures are deterministic flat-shaded drawings with outlines.

* ``net`` cases: ``InferenceEngine.run`` on a decoded uint8 picture (levels, the tile plan the engine picks
  with its default memory budget, uint8 result), warmed up once; the best of ``--repeat`` runs.
* ``batch`` cases: PNG files on disk -> ``application.batch.run_batch`` (read/decode, the network and
  encode/write overlapped: what ``anisketch sketch DIR`` and the window's queue do) -> PNG files, after one
  warm-up file; also one file after another (``application.run_job``) and the network alone per picture in the
  same process, so the ratio ``batch / network`` is measured on the same load.
* ``rss`` cases: the real CLI (``anisketch sketch BIG.png -o OUT --max-pixels ...``) in a child process; peak
  RSS from ``wait4``.
* ``colorize``: ``application.process`` in colorize mode on the 1080p drawing's line art (flats included),
  with how many progress reports it gave and the largest jump between two of them.
* ``a2s``: the random-weight speed stand-in of Anime2Sketch (``shared/bench/anchor_nets.py``: pix2pix U-Net,
  54.4M parameters) at full resolution (sides rounded to 256), fp32 eager, as its code runs it.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {"1mp": (1024, 1024), "1080p": (1920, 1080), "4k": (3840, 2160), "8k": (7680, 4320),
         "12k": (12000, 12000)}
CASES = ("baseline", "xdog4k", "net1080p", "net4k", "batch1080p", "batch4k", "a2s", "colorize", "rss8k", "rss12k")
GOALS = {"batch_ratio": 1.3, "a2s_ratio": 20.0, "rss8k": 1200.0, "rss12k": 2500.0, "colorize": 1.5, "xdog4k": 0.5}


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


def _best(fn, repeat: int) -> float:
    """Best wall seconds of ``repeat`` runs."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _options(spec: dict, **kw):
    from anisketch_desktop.application import Options

    return Options(models={"sketch": spec["model"]} if spec["model"] else {}, device=spec["device"],
                   if_exists="overwrite", **kw)


def _engine(spec: dict):
    from anisketch_desktop.application.jobs import load_engines
    from anisketch_desktop.application.modes import get_mode

    return load_engines(get_mode("sketch"), _options(spec, mode="sketch"))["sketch"]


def _plan_note(eng, width: int, height: int) -> str:
    plan = eng.plan(height, width)
    work = f"drawn at {plan.width}x{plan.height}, " if (plan.width, plan.height) != (width, height) else ""
    tiles = "untiled" if plan.count == 1 else f"{plan.count} tiles of {plan.tile_w}x{plan.tile_h}"
    return f"{work}{tiles} (budget {eng.budget_mb():.0f} MB), {eng.device.type}"


def _net(spec: dict) -> dict:
    import numpy as np

    width, height = spec["size"]
    image = _picture(width, height)
    eng = _engine(spec)
    run = lambda: eng.run(image, out_dtype=np.uint8)  # noqa: E731
    run()  # warm-up: one-off kernel set-up
    return {"s": _best(run, spec["repeat"]), "note": _plan_note(eng, width, height)}


def _batch(spec: dict) -> dict:
    import numpy as np

    from anisketch_desktop.application import run_job
    from anisketch_desktop.application.batch import BatchItem, run_batch
    from anisketch_desktop.core import imageio

    width, height = spec["size"]
    count = spec["count"]
    folder = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    base = _picture(width, height)
    paths = []
    for i in range(count + 1):  # small shifts: every file decodes and draws for real
        paths.append(imageio.save_image(folder / f"p{i}.png", np.roll(base, 7 * i, axis=1)))
    options = _options(spec, mode="sketch")
    eng = _engine(spec)
    run_job(paths[0], folder / "out" / "warm.png", options)  # loads the model, warms the kernels
    states = []
    start = time.perf_counter()
    run_batch([BatchItem(i, p, folder / "out" / f"{p.stem}_sketch.png", options) for i, p in enumerate(paths[1:])],
              on_result=lambda r: states.append(r.state))
    batch_s = (time.perf_counter() - start) / count
    if states.count("done") != count:
        raise SystemExit(f"batch: {states}")
    start = time.perf_counter()
    for p in paths[1:]:
        run_job(p, folder / "seq" / f"{p.stem}_sketch.png", options)
    sequential_s = (time.perf_counter() - start) / count
    images = [imageio.read_image(p) for p in paths[1:3]]
    network = []
    for _ in range(max(2, spec["repeat"])):
        for image in images:
            start = time.perf_counter()
            eng.run(image, out_dtype=np.uint8)
            network.append(time.perf_counter() - start)
    return {"batch_s": batch_s, "sequential_s": sequential_s, "network_s": statistics.median(network),
            "count": count, "note": _plan_note(eng, width, height)}


def _colorize(spec: dict) -> dict:
    from anisketch_desktop.application import process
    from anisketch_desktop.core import pipeline

    width, height = spec["size"]
    lines = pipeline.sketch(_picture(width, height), model=_engine(spec))
    options = _options(spec, mode="colorize")
    options.models = {}
    process(lines[: height // 2, : width // 2], options)  # warm-up
    reports: list[float] = []
    best = float("inf")
    for _ in range(max(1, spec["repeat"])):
        reports.clear()
        start = time.perf_counter()
        process(lines, options, progress=reports.append)
        best = min(best, time.perf_counter() - start)
    marks = [0.0] + reports + [1.0]
    jump = max(b - a for a, b in zip(marks, marks[1:], strict=False))
    return {"s": best, "note": f"{len(reports)} progress reports, largest jump {100 * jump:.0f} %"}


def _xdog(spec: dict) -> dict:
    from anisketch_desktop.core import pipeline

    width, height = spec["size"]
    image = _picture(width, height)
    pipeline.sketch(image[:256, :256], engine="xdog")
    return {"s": _best(lambda: pipeline.sketch(image, engine="xdog"), spec["repeat"]), "note": "default preset"}


def _a2s(spec: dict) -> dict:
    import torch

    module_spec = importlib.util.spec_from_file_location("anchor_nets", spec["anchors"])
    anchors = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(anchors)
    width, height = (max(256, int(s / 256 + 0.5) * 256) for s in spec["size"])
    net = anchors.Pix2PixUNet().eval()
    x = torch.rand(1, 3, height, width)
    with torch.inference_mode():
        net(x)
        seconds = _best(lambda: net(x), spec["repeat"])
    return {"s": seconds, "note": f"Anime2Sketch stand-in at {width}x{height} (full resolution, sides to 256)"}


def run_case(spec: dict) -> dict:
    import cv2
    import torch

    torch.set_num_threads(spec["threads"])
    cv2.setNumThreads(spec["threads"])
    kind = spec["kind"]
    if kind == "baseline":
        from anisketch_desktop.core import engine, pipeline  # noqa: F401

        result = {"note": "imports only"}
    elif kind == "make_picture":
        import cv2 as _cv2

        width, height = spec["size"]
        _cv2.imwrite(spec["path"], _picture(width, height)[..., ::-1])
        result = {}
    else:
        result = {"net": _net, "batch": _batch, "colorize": _colorize, "xdog": _xdog, "a2s": _a2s}[kind](spec)
    result["rss_mb"] = _rss_mb()
    return result


# ----------------------------------------------------------------------------------------- parent process
def _env(threads: int) -> dict:
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def _spawn(spec: dict) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(spec["threads"]), cwd=REPO)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cli_rss(spec: dict, folder: Path) -> dict:
    """Peak RSS of the real CLI sketching one big picture (written first by another child)."""
    width, height = spec["size"]
    picture = folder / f"big_{width}x{height}.png"
    made = _spawn({**spec, "kind": "make_picture", "path": str(picture)})
    if "error" in made:
        return made
    cmd = [sys.executable, "-m", "anisketch_desktop.cli", "sketch", str(picture), "-o", str(folder / "out"),
           "--overwrite", "-q", "--device", spec["device"], "--max-pixels", str(width * height + 1)]
    if spec["model"]:
        cmd += ["--model", spec["model"]]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(spec["threads"]), cwd=REPO, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    picture.unlink(missing_ok=True)
    if status != 0:
        return {"error": f"CLI exit {status >> 8}: {stderr.splitlines()[-1:] or ''}"}
    rss = usage.ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)
    return {"rss_mb": rss, "s": seconds, "note": f"anisketch sketch {width}x{height} PNG, {seconds:.0f} s"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch/OpenCV threads (default: %(default)s)")
    parser.add_argument("--model", help="sketch model (default: the shipped one)")
    parser.add_argument("--anchors", default=str(REPO.parent / "shared" / "bench" / "anchor_nets.py"),
                        help="anchor_nets.py (default: <repo>/../shared/bench/anchor_nets.py)")
    parser.add_argument("--device", default="cpu", help="device of the networks (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per case, best counts (default: 2)")
    parser.add_argument("--batch-1080p", type=int, default=8, help="pictures in the 1080p batch (default: 8)")
    parser.add_argument("--batch-4k", type=int, default=4, help="pictures in the 4K batch (default: 4)")
    parser.add_argument("--only", default="", help=f"comma list of cases to run ({', '.join(CASES)})")
    parser.add_argument("--skip", default="", help="comma list of cases to skip")
    parser.add_argument("--json", action="store_true", help="also print every result as one JSON line")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_case(json.loads(args.child))))
        return 0
    only = {c.strip() for c in args.only.split(",") if c.strip()} or set(CASES)
    cases = [c for c in CASES if c in only and c not in {s.strip() for s in args.skip.split(",")}]
    if "a2s" in cases and not Path(args.anchors).is_file():
        print(f"a2s skipped: {args.anchors} not found")
        cases.remove("a2s")
    base = {"threads": args.threads, "repeat": args.repeat, "model": args.model or "", "device": args.device,
            "anchors": args.anchors}
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"{datetime.date.today().isoformat()}  threads={args.threads} (machine: {os.cpu_count()} CPUs)  "
          f"torch={torch.__version__}  cpu={torch.backends.cpu.get_cpu_capability()}  device={args.device}  "
          f"model={args.model or 'shipped default'}  load average at start {load[0]:.1f}", flush=True)
    specs = {
        "baseline": {"kind": "baseline", "size": [0, 0]},
        "xdog4k": {"kind": "xdog", "size": SIZES["4k"]},
        "net1080p": {"kind": "net", "size": SIZES["1080p"]},
        "net4k": {"kind": "net", "size": SIZES["4k"]},
        "batch1080p": {"kind": "batch", "size": SIZES["1080p"], "count": args.batch_1080p},
        "batch4k": {"kind": "batch", "size": SIZES["4k"], "count": args.batch_4k},
        "a2s": {"kind": "a2s", "size": SIZES["1080p"]},
        "colorize": {"kind": "colorize", "size": SIZES["1080p"]},
        "rss8k": {"kind": "rss", "size": SIZES["8k"]},
        "rss12k": {"kind": "rss", "size": SIZES["12k"]},
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_core_") as tmp:
        for case in cases:
            spec = {**base, **specs[case]}
            results[case] = _cli_rss(spec, Path(tmp)) if spec["kind"] == "rss" else _spawn(spec)
            print(f"... {case} done", file=sys.stderr, flush=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    _report(results, args.threads, load[0])
    if args.json:
        print(json.dumps(results))
    return 0


def _report(results: dict, threads: int, load_end: float) -> None:
    rows = []  # (figure, measured, goal, verdict, how)

    def get(case, key):
        return results.get(case, {}).get(key)

    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("met" if ok else "GAP")

    for size, case in (("1080p", "batch1080p"), ("4K", "batch4k")):
        res = results.get(case)
        if res is None:
            continue
        if "error" in res:
            rows.append((f"batch {size}", "error", "", "", res["error"]))
            continue
        ratio = res["batch_s"] / res["network_s"]
        rows.append((f"batch {size}: pictures/s end to end", f"{1 / res['batch_s']:.2f}/s "
                     f"({1000 * res['batch_s']:.0f} ms each)", "", "",
                     f"{res['count']} PNG -> PNG; one by one {1000 * res['sequential_s']:.0f} ms each"))
        rows.append((f"batch {size}: per picture / network alone", f"{ratio:.2f}x "
                     f"({1000 * res['network_s']:.0f} ms net)", f"<= {GOALS['batch_ratio']}x",
                     verdict(ratio <= GOALS["batch_ratio"]), res["note"]))
    a2s, batch = get("a2s", "s"), get("batch1080p", "batch_s")
    if a2s and batch:
        ratio = a2s / batch
        rows.append(("1080p vs Anime2Sketch, per picture end to end", f"{ratio:.1f}x ({1000 * a2s:.0f} ms)",
                     f">= {GOALS['a2s_ratio']:.0f}x", verdict(ratio >= GOALS["a2s_ratio"]), results["a2s"]["note"]))
    for size, case in (("1080p", "net1080p"), ("4K", "net4k")):
        if get(case, "s") is not None:
            untiled = "untiled" in results[case]["note"]
            rows.append((f"network alone {size}", f"{1000 * results[case]['s']:.0f} ms", "untiled on a CPU",
                         verdict(untiled), results[case]["note"]))
    for case, label in (("rss8k", "peak RSS 8K sketch (CLI)"), ("rss12k", "peak RSS 12000x12000 sketch (CLI)")):
        res = results.get(case)
        if res is not None:
            if "error" in res:
                rows.append((label, "error", "", "", res["error"]))
            else:
                rows.append((label, f"{res['rss_mb']:.0f} MB", f"<= {GOALS[case]:.0f} MB",
                             verdict(res["rss_mb"] <= GOALS[case]), res["note"]))
    if get("colorize", "s") is not None:
        rows.append(("colorize 1080p end to end", f"{get('colorize', 's'):.2f} s", f"<= {GOALS['colorize']} s",
                     verdict(get("colorize", "s") <= GOALS["colorize"]), results["colorize"]["note"]))
    if get("xdog4k", "s") is not None:
        rows.append(("XDoG 4K", f"{1000 * get('xdog4k', 's'):.0f} ms", f"< {1000 * GOALS['xdog4k']:.0f} ms",
                     verdict(get("xdog4k", "s") < GOALS["xdog4k"]), results["xdog4k"]["note"]))
    if get("baseline", "rss_mb") is not None:
        rows.append(("peak RSS of the imports alone", f"{get('baseline', 'rss_mb'):.0f} MB", "", "",
                     "numpy, cv2, torch"))
    for case, res in results.items():
        if "error" in res and not any(case in r[0] for r in rows):
            rows.append((case, "error", "", "", res["error"]))
    print(f"\n| figure ({threads} threads) | measured | goal | verdict | how |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nload average at the end: {load_end:.1f} (other work on the machine slows every figure)")


if __name__ == "__main__":
    sys.exit(main())
