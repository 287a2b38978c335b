"""XDoG sketch pairs for every picture of a dataset: ``sketches/<id>.png`` plus parameters and clarity score.

``generate_pairs(dataset_dir, params)`` takes ``None`` (the default preset), a preset name, ``"auto"`` (the
per-picture auto-tuner), an :class:`XDoGParams` or a dict of parameters. For each picture it stores, in the
manifest, the sketch path, the *resolved* parameters as JSON (``{"mode", "params", "speck_size"}``; ``auto``
stores what the tuner picked) and the :func:`clarity_score`.

Regenerating and decisions -- a review decision belongs to the sketch the user saw:

* same resolved parameters and speck size as the stored sketch: the sketch is not recomputed (unless
  ``force``) and the decision stays as it is;
* different ones: the new sketch replaces the old, the decision is **kept but flagged stale**. Stale pairs
  sort with the undecided ones so they are reviewed again, are left out of :func:`approved_pairs` (training
  never uses an approval the user did not give to this sketch), and become normal again as soon as the user
  decides on them (or undoes back to them). A stale rejection still keeps the picture out of training.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from anisketch_desktop.core.errors import AniSketchError, Cancelled
from anisketch_desktop.dataset.lock import dataset_lock
from anisketch_desktop.dataset.store import DatasetStore, check_id, same_sketch


@dataclass
class PairsReport:
    generated: int = 0  # sketches written
    unchanged: int = 0  # already up to date
    stale: int = 0  # decisions that now refer to an older sketch
    failed: list[tuple[str, str]] = field(default_factory=list)  # (image id, reason)


def resolve_params(params=None):
    """``(mode, XDoGParams | None)`` for ``None``/preset name/``"auto"``/XDoGParams/dict; None means auto."""
    from anisketch_desktop.core import xdog

    if params is None:
        return "default", xdog.PRESETS["default"]
    if params == "auto":
        return "auto", None
    if isinstance(params, str) and params not in xdog.PRESETS:
        choices = ", ".join(["auto", *sorted(xdog.PRESETS)])
        raise AniSketchError(f"Unknown XDoG preset {params!r}; choose from: {choices}")
    return (params if isinstance(params, str) else "custom"), xdog.resolve_params(params)


def params_json(mode: str, params, speck_size: int) -> str:
    """The canonical JSON stored in ``sketch_params`` (floats rounded so equal settings compare equal)."""
    values = {key: round(float(value), 6) for key, value in sorted(params.to_dict().items())}
    return json.dumps({"mode": mode, "params": values, "speck_size": int(speck_size)}, sort_keys=True)


def generate_pairs(dataset_dir: str | Path, params=None, speck_size: int = 0,
                   progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
                   *, force: bool = False, ids: Iterable[str] | None = None) -> PairsReport:
    """Write an XDoG sketch for every downloaded/imported picture (or just ``ids``); see the module doc."""
    from anisketch_desktop.core import imageio, xdog

    mode, fixed = resolve_params(params)
    report = PairsReport()
    with DatasetStore(dataset_dir, create=False) as store, dataset_lock(dataset_dir):
        rows = store.images("done", order="id")
        if ids is not None:
            wanted = set(ids)
            rows = [row for row in rows if row.id in wanted]
        for index, row in enumerate(rows):
            if cancel and cancel():
                raise Cancelled("Sketch generation cancelled; finished sketches are kept.")
            target = store.sketches_dir / f"{check_id(row.id)}.png"
            if not force and target.is_file() and _up_to_date(row.sketch_params, mode, fixed, speck_size):
                report.unchanged += 1
                _report(progress, index + 1, len(rows))
                continue
            try:
                if row.path is None:
                    raise AniSketchError(f"{row.id}: the manifest records no picture file")
                image = imageio.read_image(store.dir / row.path)
                chosen = fixed
                if chosen is None:
                    def inner(f, i=index):
                        _report(progress, i + 0.9 * f, len(rows))

                    chosen, _ = xdog.auto_tune(image, progress=inner, cancel=cancel)
                sketch = xdog.xdog(image, chosen, speck_size=speck_size)
                score = xdog.clarity_score(sketch)
                imageio.save_image(target, imageio.to_uint8(sketch), overwrite=True)
            except Cancelled:
                raise
            except (AniSketchError, OSError, ValueError, MemoryError) as exc:
                report.failed.append((row.id, str(exc)))
                continue
            relative = target.relative_to(store.dir).as_posix()
            if store.set_sketch(row.id, relative, params_json(mode, chosen, speck_size), score):
                report.stale += 1
            report.generated += 1
            _report(progress, index + 1, len(rows))
    return report


def _up_to_date(stored: str | None, mode: str, fixed, speck_size: int) -> bool:
    if stored is None:
        return False
    if fixed is not None:
        return same_sketch(stored, params_json(mode, fixed, speck_size))
    try:  # auto: the tuner is deterministic, so an auto sketch with the same speck size is current
        old = json.loads(stored)
    except ValueError:
        return False
    return old.get("mode") == "auto" and old.get("speck_size") == int(speck_size)


def _report(progress, done: float, total: int) -> None:
    if progress:
        progress(min(1.0, done / max(total, 1)))
