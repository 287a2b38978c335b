"""Run logs: CSV + JSON lines per step, an eval CSV, a loss-curve PNG drawn with OpenCV, a progress bar."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np


class RunLogger:
    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir, self.enabled = Path(run_dir), enabled
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.evals: list[dict] = []
        if enabled:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            log = self.run_dir / "log.csv"
            if log.is_file():  # resumed run: reload the curve
                with log.open() as fh:
                    for row in csv.DictReader(fh):
                        self.steps.append(int(row["step"]))
                        self.losses.append(float(row["loss"]))

    def train_row(self, step: int, loss: float, lr: float, parts: dict) -> None:
        if not self.enabled:
            return
        self.steps.append(step)
        self.losses.append(loss)
        row = {"step": step, "loss": round(loss, 6), "lr": lr, "time": round(time.time(), 2), **parts}
        path = self.run_dir / "log.csv"
        new = not path.is_file()
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["step", "loss", "lr", "time"], extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        with (self.run_dir / "log.jsonl").open("a") as fh:
            fh.write(json.dumps(row) + "\n")

    def eval_row(self, res: dict) -> None:
        if not self.enabled:
            return
        self.evals.append(res)
        path = self.run_dir / "eval.csv"
        keys = ["step"] + sorted(k for k in res if k != "step")
        new = not path.is_file()
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(res)

    def plot(self) -> Path | None:
        if not self.enabled or len(self.losses) < 2:
            return None
        return draw_curve(self.steps, self.losses, self.run_dir / "loss.png")


def draw_curve(steps, values, path: Path, size=(800, 400), smooth: int = 25) -> Path:
    """Loss curve (raw in light gray, moving average in blue) with axis labels, drawn with cv2."""
    w, h = size
    left, bottom, top, right = 70, 40, 20, 20
    img = np.full((h, w, 3), 255, np.uint8)
    xs = np.asarray(steps, np.float64)
    ys = np.asarray(values, np.float64)
    k = max(1, min(smooth, len(ys) // 5))
    avg = np.convolve(ys, np.ones(k) / k, mode="valid")
    lo, hi = float(np.percentile(ys, 1)), float(np.percentile(ys, 99))
    hi = hi if hi > lo else lo + 1e-6

    def pts(x, y):
        px = left + (x - xs.min()) / max(1e-9, xs.max() - xs.min()) * (w - left - right)
        py = h - bottom - (np.clip(y, lo, hi) - lo) / (hi - lo) * (h - bottom - top)
        return np.stack([px, py], 1).round().astype(np.int32).reshape(-1, 1, 2)

    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    cv2.polylines(img, [pts(xs, ys)], False, (200, 200, 200), 1, cv2.LINE_AA)
    cv2.polylines(img, [pts(xs[k - 1:], avg)], False, (200, 80, 0), 2, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for frac in (0.0, 0.5, 1.0):
        val = lo + frac * (hi - lo)
        y = int(h - bottom - frac * (h - bottom - top))
        cv2.putText(img, f"{val:.3f}", (5, y + 4), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"step {int(xs.min())}..{int(xs.max())}   loss (blue: mean of {k})",
                (left, h - 12), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part.png")
    cv2.imwrite(str(tmp), img)
    tmp.replace(path)
    return path


class ProgressBar:
    """A one-line text bar with steps/s and ETA, rewritten in place on stderr."""

    def __init__(self, total: int, enabled: bool = True, width: int = 30):
        self.total, self.enabled, self.width = total, enabled, width
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def update(self, step: int, loss: float, elapsed: float, done: int) -> None:
        if not self.enabled:
            return
        now = time.time()
        if now - self.last < (0.5 if self.tty else 30.0) and step < self.total:
            return
        self.last = now
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        fill = int(self.width * step / max(1, self.total))
        eta_s = time.strftime("%H:%M:%S", time.gmtime(eta)) if np.isfinite(eta) else "--:--:--"
        line = (f"[{'#' * fill}{'.' * (self.width - fill)}] {step}/{self.total} loss {loss:.4f} "
                f"{rate:.2f} it/s ETA {eta_s}")
        print(("\r" if self.tty else "") + line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            print(file=sys.stderr)
