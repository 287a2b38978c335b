"""Running a mode: ``process`` (a picture or a file -> result), ``run_job`` (file -> output file, honouring
the if-exists policy) and the batch plan (which inputs, which output paths). The CLI and the window's workers
call these; torch is only imported when a model is loaded, on the caller's thread.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anisketch_desktop.application.modes import MODES, Mode, draw_lines, draws_lines, get_mode, model_path
from anisketch_desktop.application.naming import output_name, output_path
from anisketch_desktop.application.options import Options
from anisketch_desktop.core.errors import AniSketchError, Cancelled

Progress = Callable[[float], None] | None
Cancel = Callable[[], bool] | None


@dataclass
class RunInfo:
    device: str  # e.g. "CPU", "CUDA (NVIDIA H100)", "CPU (XDoG)"
    note: str | None  # why a GPU was not used, when it was skipped
    seconds: float


@dataclass
class JobOutcome:
    output: Path
    skipped: bool
    info: RunInfo | None


def describe_device(device) -> str:
    """A short, readable name of a ``torch.device``."""
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        import torch

        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA ({torch.cuda.get_device_name(index)})"
    if kind == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def load_engines(mode: Mode, options: Options) -> dict:
    """One ``InferenceEngine`` per task of ``mode`` (cached by ``core.engine``)."""
    if not mode.tasks:
        return {}
    from anisketch_desktop.core import engine

    return {
        task: engine.get_engine(
            model_path(options.model(task), task), options.device, tile_size=options.tile, memory_mb=options.memory_mb
        )
        for task in mode.tasks
    }


def process(
    item: np.ndarray | str | os.PathLike, options: Options, progress: Progress = None, cancel: Cancel = None,
    *, lines_only: bool = False,
) -> tuple[Any, RunInfo]:
    """Run ``options.mode`` on a picture (an array, or a file that is read first); returns the result (a uint8
    array for picture modes) and where / how long it ran.

    ``lines_only`` (modes that ``draw_lines``): stop before the line controls and return the engine's line
    art (float, 1 = paper); ``modes.finish_lines`` then makes the result, as often as the controls move."""
    options.validate()
    mode = get_mode(options.mode)
    if isinstance(item, np.ndarray):
        image = item
    else:
        from anisketch_desktop.core import imageio

        image = imageio.read_image(item, max_pixels=options.max_pixels)
    start = time.perf_counter()
    engines = load_engines(mode, options)
    if lines_only:
        if not draws_lines(mode):
            raise AniSketchError(f"{mode.label} does not draw line art")
        out = draw_lines(image, options, engines, progress, cancel)
    else:
        out = mode.run(image, options, engines, progress, cancel)
    seconds = time.perf_counter() - start
    if not mode.tasks:
        return out, RunInfo("CPU (XDoG)", None, seconds)
    used = engines[mode.tasks[-1]]
    return out, RunInfo(describe_device(used.device), used.device_note, seconds)


def numbered(path: Path) -> Path:
    """``path``, or ``stem (2).png``, ``stem (3).png``… — the first that does not exist."""
    from anisketch_desktop.core.imageio import fit_name

    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(fit_name(f"{path.stem} ({n}){path.suffix}"))
        n += 1
    return candidate


def run_job(
    source: Path, target: Path, options: Options, progress: Progress = None, cancel: Cancel = None,
    rel: Path | None = None,
) -> JobOutcome:
    """Read ``source``, process it, write ``target`` atomically; an existing target is skipped, overwritten or
    numbered as ``options.if_exists`` says. Colorize and style may write more files beside ``target``
    (``application.guided``: flats, lines, a layered PSD); the outcome names the first."""
    mode = get_mode(options.mode)
    if "layers" in mode.options:
        return _run_guided_job(source, target, options, progress, cancel, rel)
    if target.exists():
        if options.if_exists == "skip":
            return JobOutcome(target, True, None)
        if options.if_exists == "rename":
            target = numbered(target)
    out, info = process(source, options, progress, cancel)
    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    mode.output_kind_for(options).write(target, out, options.if_exists == "overwrite")
    return JobOutcome(target, False, info)


def _run_guided_job(source, target, options, progress, cancel, rel) -> JobOutcome:
    from anisketch_desktop.application import guided
    from anisketch_desktop.core import imageio

    options.validate()
    paths = guided.output_paths(source, target, rel, options)
    if any(p.exists() for p in paths.values()):
        if options.if_exists == "skip":
            return JobOutcome(next(p for p in paths.values() if p.exists()), True, None)
        if options.if_exists == "rename":
            paths = {kind: numbered(p) for kind, p in paths.items()}
    image = imageio.read_image(source, max_pixels=options.max_pixels)
    start = time.perf_counter()
    mode = get_mode(options.mode)
    engines = load_engines(mode, options)
    result = guided.result_of(image, options, engines, progress, cancel, source=Path(source))
    if cancel is not None and cancel():
        raise Cancelled("Cancelled")
    written = guided.write_outputs(paths, result, image, options.if_exists == "overwrite")
    used = engines[mode.tasks[-1]]
    info = RunInfo(describe_device(used.device), used.device_note, time.perf_counter() - start)
    return JobOutcome(written[0], False, info)


# --------------------------------------------------------------------------------------------- batches
def path_key(path: str | os.PathLike) -> str:
    """``path`` as compared here: absolute, case-folded where the file system ignores case."""
    return os.path.normcase(os.path.abspath(path))


_key = path_key


class OutputPlanner:
    """Output paths for the inputs of one batch: two inputs never share one (``pic.png`` and ``pic.jpg``: the
    first keeps ``pic_sketch.png``, the second gets ``pic.jpg_sketch.png``, then numbers), and no output is
    ever an input (``reserve``) or the input itself. The same input asking again gets the same path."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # output -> the input it belongs to

    def reserve(self, sources: Iterable[str | os.PathLike]) -> None:
        """Inputs of the batch: no other input's output may be written over them."""
        for source in sources:
            self._owner.setdefault(_key(source), _key(source))

    def target(self, source: Path, rel: Path | None, out_dir: str | Path | None, options: Options) -> Path:
        rel = Path(rel) if rel else Path(Path(source).name)
        first = output_path(source, rel, out_dir, options)
        if _key(first) == _key(source):
            raise AniSketchError(
                f"{rel}: the output name {first.name} is the picture itself; change the name template "
                "or the output folder"
            )
        from anisketch_desktop.core.imageio import fit_name

        base = first.with_name(output_name(rel, options, stem=rel.name))
        numbered = (base.with_name(fit_name(f"{base.stem} ({n}){base.suffix}")) for n in range(2, 10_000))
        for candidate in itertools.chain((first, base), numbered):  # lazily: 10,000 paths per input are slow
            owner = self._owner.get(_key(candidate))
            if owner is None or (owner == _key(source) and _key(candidate) != _key(source)):
                self._owner[_key(candidate)] = _key(source)
                return candidate
        raise AniSketchError(f"{rel}: too many inputs share the output name {first.name}")  # pragma: no cover


@dataclass
class PlannedJob:
    source: Path
    rel: Path
    target: Path


@dataclass
class BatchPlan:
    jobs: list[PlannedJob] = field(default_factory=list)
    left_out: list[Path] = field(default_factory=list)  # this tool's own outputs found among the inputs
    failed: list[tuple[Path, AniSketchError]] = field(default_factory=list)


def plan_batch(files: Iterable[tuple[Path, Path]], out_dir: str | Path | None, options: Options) -> BatchPlan:
    """The jobs for ``(file, relative path)`` inputs (``core.imageio.iter_image_files``): own outputs left out
    (see :func:`own_outputs`), one distinct output path each; an input whose name cannot work fails alone."""
    options.validate()
    files = list(files)
    plan = BatchPlan()
    skip = own_outputs(files, out_dir)
    planner = OutputPlanner()
    planner.reserve(path for path, _rel in files if _key(path) not in skip)
    for path, rel in files:
        if _key(path) in skip:
            plan.left_out.append(path)
            continue
        try:
            plan.jobs.append(PlannedJob(path, rel, planner.target(path, rel, out_dir, options)))
        except AniSketchError as exc:
            plan.failed.append((path, exc))
    return plan


_OUTPUT_STEM = re.compile("_(?:" + "|".join(sorted({re.escape(m.suffix) for m in MODES.values()}
                                                   | {"flats", "lines"})) + ")(?=-|$)")  # + guided outputs


def own_outputs(files: list[tuple[Path, Path]], out_dir: str | Path | None) -> set[str]:
    """The inputs (as normalised paths) that are this tool's outputs from an earlier run, so a re-run does not
    process them again:

    * files inside ``out_dir`` when it lies inside a scanned input folder (``pics/ -o pics/out``);
    * where outputs go next to their inputs (no ``out_dir``, or ``out_dir`` is the input's folder), files named
      like an output of a sibling input: ``a_sketch.png``, ``a_color-mine.png`` or ``a.png_sketch.png`` next
      to ``a.png``.
    """
    out = _key(out_dir) if out_dir else None
    found: set[str] = set()
    stems: dict[str, set[str]] = {}
    for path, _rel in files:
        stems.setdefault(_key(Path(path).parent), set()).update({Path(path).stem, Path(path).name})
    for path, rel in files:
        key = _key(path)
        folder = _key(Path(path).parent)
        root = _key(Path(path).parents[len(Path(rel).parts) - 1]) if Path(rel).parts else folder
        if out is not None and out != root and key.startswith(out + os.sep) and out.startswith(root + os.sep):
            found.add(key)
            continue
        if out is not None and out != root:
            continue
        stem = Path(path).stem
        for match in _OUTPUT_STEM.finditer(stem):
            base = stem[: match.start()]
            if base and base in stems[folder] - {Path(path).stem, Path(path).name}:
                found.add(key)
                break
    return found
