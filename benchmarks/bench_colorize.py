"""Guided colorize speed on the CPU: ``python -m benchmarks.bench_colorize [--threads 2]``.

Prints, for a drawn test page (or ``--lines PICTURE``):

* the colour proposal (``core.proposal.propose_colors``) of a 1 MP drawing without and with 24 hints;
* a hint change on a 1 MP drawing: ``ColorizeSession.render`` with one more hint, after ``prepare``;
* colorize 1920x1080 end to end: a new ``ColorizeSession``, ``prepare`` and ``render`` (hints given).

Targets (issue 11): proposal <= ~0.3 s, hint change <= 0.5 s, 1080p end to end <= 1.5 s, on 2 threads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
import numpy as np


def drawing(width: int, height: int, seed: int = 0) -> np.ndarray:
    """uint8 line art (255 = paper): closed shapes and open strokes, roughly as dense as a character page."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width), 255, np.uint8)
    side = min(width, height)
    for _ in range(60):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(side // 40, side // 6)), int(rng.integers(side // 40, side // 6)))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, 0, max(1, side // 400), cv2.LINE_AA)
    for _ in range(40):
        pts = np.cumsum(rng.normal(0, side / 30, (8, 2)), axis=0) + rng.uniform(0, 1, 2) * (width, height)
        cv2.polylines(img, [pts.astype(np.int32)], False, 0, max(1, side // 500), cv2.LINE_AA)
    return img


def hints_for(lines: np.ndarray, count: int, seed: int = 1):
    from training.hint_eval import as_hints

    rng = np.random.default_rng(seed)
    ys, xs = np.nonzero(lines > 200)
    pick = rng.choice(len(ys), size=count, replace=False)
    colours = rng.integers(0, 256, (count, 3))
    return as_hints([(float(xs[i]), float(ys[i]), tuple(int(v) for v in c)) for i, c in zip(pick, colours,
                                                                                              strict=True)])


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median ``(wall seconds, process CPU seconds)`` of ``repeat`` calls after a warm-up. On a shared machine
    the CPU time divided by the threads is what the wall time would be without the other load."""
    fn()  # warm-up (model load, allocations)
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def show(label: str, t: tuple[float, float], target_ms: int) -> None:
    print(f"{label}: {t[0] * 1000:.0f} ms wall, {t[1] * 1000:.0f} ms CPU (target <= {target_ms} ms)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_colorize", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--model", default=None, help="proposal model (default: the installed one)")
    p.add_argument("--lines", default=None, help="a line drawing to time instead of the drawn test page")
    ns = p.parse_args(argv)
    import torch

    from anisketch_desktop.core.levels import normalize_levels
    from anisketch_desktop.core.proposal import default_proposal_model, propose_colors

    torch.set_num_threads(ns.threads)
    model = ns.model or str(default_proposal_model())
    print(f"model {model}, {ns.threads} threads, median of {ns.repeat}")
    if ns.lines:
        from anisketch_desktop.core.imageio import read_image, to_float_gray, to_uint8

        base = to_uint8(to_float_gray(read_image(ns.lines)))
    else:
        base = drawing(1920, 1080)
    one_mp = cv2.resize(base, (1152, 864), interpolation=cv2.INTER_AREA)
    lines = normalize_levels(one_mp.astype(np.float32) / 255.0)
    hints = hints_for(one_mp, 24)
    for label, h in (("no hints", None), ("24 hints", hints)):
        t = timed(lambda h=h: propose_colors(lines, h, model=model, device="cpu"), ns.repeat)
        show(f"proposal 1 MP ({label})", t, 300)
    try:
        from anisketch_desktop.core.guided import ColorizeSession
    except ImportError:
        print("core.guided not installed: session timings skipped")
        return 0
    session = ColorizeSession(one_mp, model=model, device="cpu")
    session.prepare()
    more = hints_for(one_mp, 25)
    t = timed(lambda: session.render(more), ns.repeat)
    show("hint change, 1 MP", t, 500)
    full = base if base.shape == (1080, 1920) else cv2.resize(base, (1920, 1080), interpolation=cv2.INTER_AREA)
    full_hints = hints_for(full, 24)

    def end_to_end():
        s = ColorizeSession(full, model=model, device="cpu")
        s.prepare()
        s.render(full_hints)

    t = timed(end_to_end, ns.repeat)
    show("colorize 1920x1080 end to end", t, 1500)
    return 0


if __name__ == "__main__":
    sys.exit(main())
