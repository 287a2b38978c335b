"""Guided colorize speed on 2 CPU threads: a hint change on a 1 MP drawing, and 1920x1080 end to end.

    python -m benchmarks.bench_guided [--lines ../shared/data/lineart_flats/line/smexp_0078_left.png]

* hint change: ``ColorizeSession.render`` after ``prepare`` on a 1 MP drawing, with 1..24 hints (target 0.5 s);
* 1080p: read the PNG, ``pipeline.colorize_result`` (regions + proposal + fill), write the PNG — a warm run
  (model loaded, as in a batch or the app) and the first, cold run (target 1.5 s).
Prints which proposal ran (the hint network ``core.proposal`` or the fallback colorize U-Net).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # <repo>/../shared/data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default=str(SHARED_DATA / "lineart_flats/line/smexp_0078_left.png"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    from anisketch_desktop.core import pipeline
    from anisketch_desktop.core.guided import ColorizeSession
    from anisketch_desktop.core.hints import HintPoint, Hints
    from anisketch_desktop.core.imageio import read_image, save_image
    from anisketch_desktop.core.proposer import hint_network, takes_hints

    if hint_network() is None:
        which = "the fallback (colorize U-Net colour layer)"
    else:
        which = "core.proposal with a " + ("hint model" if takes_hints(None) else "model without hint inputs")
    print(f"proposal: {which}; {args.threads} threads")
    source = read_image(args.lines)
    h, w = source.shape[:2]
    s = (1e6 / (h * w)) ** 0.5
    one_mp = cv2.resize(source, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    start = time.perf_counter()
    session = ColorizeSession(one_mp, device="cpu")
    session.prepare()
    print(f"1 MP ({one_mp.shape[1]}x{one_mp.shape[0]}) prepare: {time.perf_counter() - start:.2f} s "
          f"(first: loads the model), {session.regions.count} regions")
    rng = np.random.default_rng(0)
    ys, xs = np.nonzero(session.regions.paper)
    times, cpus = [], []
    for n in (1, 4, 12, 24) * args.repeat:
        pick = rng.choice(len(ys), n, replace=False)
        hints = Hints(points=tuple(HintPoint(float(xs[i]), float(ys[i]), tuple(int(v) for v in rng.integers(0, 256, 3)))
                                   for i in pick))
        t, c = time.perf_counter(), time.process_time()
        session.render(hints)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    print(f"1 MP hint change (render): mean {np.mean(times):.3f} s, max {np.max(times):.3f} s over {len(times)}; "
          f"CPU time mean {np.mean(cpus):.3f} s; load average {os.getloadavg()[0]:.1f}")

    page = np.full((1080, 1920) + source.shape[2:], 255, source.dtype)
    fit = min(1920 / w, 1080 / h)
    art = cv2.resize(source, (round(w * fit), round(h * fit)), interpolation=cv2.INTER_AREA)
    y0, x0 = (1080 - art.shape[0]) // 2, (1920 - art.shape[1]) // 2
    page[y0:y0 + art.shape[0], x0:x0 + art.shape[1]] = art
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "page.png"
        save_image(src, page)
        runs, cpu = [], []
        for i in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            result = pipeline.colorize_result(read_image(src), device="cpu")
            save_image(Path(tmp) / f"out{i}.png", result.rgb)
            runs.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    print(f"1920x1080 end to end (read, regions, proposal, fill, write): warm mean {np.mean(runs[1:] or runs):.2f} s, "
          f"min {np.min(runs):.2f} s, first {runs[0]:.2f} s; CPU time (all threads) warm mean "
          f"{np.mean(cpu[1:] or cpu):.2f} s; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
