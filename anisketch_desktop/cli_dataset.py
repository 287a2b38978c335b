"""``anisketch crawl|import|pairs|export``: building a training set without the wizard.

    anisketch crawl --tags "scenery" --count 500 --dataset my_set --yes   # konachan, rating:safe, resumable
    anisketch import --dataset my_set ~/Pictures/anime                    # or your own pictures
    anisketch pairs --dataset my_set --auto                               # XDoG sketches + clarity scores
    anisketch export --dataset my_set exported/                           # approved pairs -> color/ + sketch/
    anisketch rebuild --dataset my_set                                    # a damaged manifest, from images/

Review (approve/reject) happens in the desktop app's dataset wizard. ``register(subparsers)`` adds the
commands to the ``anisketch`` parser; ``main(argv)`` runs them on their own. Progress goes to stderr.
Exit status: 0 done, 1 failed (message on stderr; for ``crawl`` also: every download of the run failed),
2 bad usage or notice not accepted, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time

from anisketch_desktop.application import Options
from anisketch_desktop.core.errors import AniSketchError, Cancelled, InvalidOptionError
from anisketch_desktop.dataset.moebooru import DEFAULT_SITE


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be 0..3600 seconds, not {value}")
    return value


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _Progress:
    """Plain progress lines on stderr, at most a few per second."""

    def __init__(self, label: str, quiet: bool = False):
        self.label, self.quiet, self.last = label, quiet, 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if not self.quiet and (now - self.last >= 0.5 or fraction >= 1.0):
            self.last = now
            _err(f"{self.label}: {100 * fraction:5.1f}%")


def _guard(func):
    """Turn user-facing errors and interruptions into messages and exit codes."""

    def run(args) -> int:
        try:
            return func(args)
        except (KeyboardInterrupt, Cancelled):
            _err("interrupted: finished files are kept; run the same command again to resume")
            return 130
        except AniSketchError as exc:
            _err(f"error: {exc}")
            return 1
        except OSError as exc:  # a full disk, a folder that cannot be written: one line, not a traceback
            _err(f"error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
            return 1

    return run


def _confirm_notice(args) -> bool:
    from anisketch_desktop.dataset.crawl import NOTICE

    _err(NOTICE)
    if args.yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        _err("error: confirm that you read the notice above with --yes")
        return False
    sys.stderr.write("Continue? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


@_guard
def run_crawl(args) -> int:
    from anisketch_desktop.dataset.crawl import CrawlOptions, crawl
    from anisketch_desktop.dataset.http import HttpOptions, user_agent

    if not _confirm_notice(args):
        return 2
    http = HttpOptions(user_agent=args.user_agent or user_agent(args.contact), proxy=args.proxy,
                       delay=args.delay)
    options = CrawlOptions(site=args.site, tags=args.tags, count=args.count, originals=args.originals,
                           min_width=args.min_width, min_height=args.min_height, http=http,
                           workers=args.workers)
    log = (lambda message: None) if args.quiet else _err
    report = crawl(args.dataset, options, progress=_Progress("crawl", args.quiet), log=log)
    summary = f"{report.total} pictures for '{report.query}' in {args.dataset} ({report.downloaded} new"
    summary += f", {report.failed} failed, {report.unsafe} unsafe posts skipped)"
    print(summary)
    if report.failed and not report.downloaded:
        _err(f"error: every download of this run failed ({report.failed}); the first: {report.errors[0]}")
        return 1
    if report.exhausted and report.total < args.count:
        _err(f"note: the site has only {report.total} matching pictures, fewer than --count {args.count}")
    return 0


@_guard
def run_import(args) -> int:
    from anisketch_desktop.dataset.importer import import_folder

    report = import_folder(args.dataset, args.folder, recursive=not args.no_recursive,
                           progress=_Progress("import", args.quiet))
    for path, reason in report.failed:
        _err(f"  skipped {path}: {reason}")
    print(f"{report.added} pictures imported into {args.dataset} ({report.duplicates} already there, "
          f"{len(report.failed)} unreadable)")
    return 0 if report.added or not report.failed else 1


@_guard
def run_pairs(args) -> int:
    from anisketch_desktop.dataset.pairs import generate_pairs

    params = "auto" if args.auto else args.preset
    names = ("sigma", "k", "p", "epsilon", "phi")
    overrides = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if overrides and args.auto:
        raise InvalidOptionError("Auto picks the XDoG values itself; leave out --sigma/--k/--p/--epsilon/--phi")
    if overrides or args.preset:  # the same checks as every XDoG run (ranges, NaN, presets)
        checked = Options(mode="xdog", xdog=overrides, xdog_preset=args.preset or "default").xdog_params()
        if overrides:
            params = checked.to_dict()
    report = generate_pairs(args.dataset, params, speck_size=args.specks,
                            progress=_Progress("pairs", args.quiet), force=args.force)
    for image_id, reason in report.failed:
        _err(f"  failed {image_id}: {reason}")
    line = f"{report.generated} sketches written, {report.unchanged} already up to date"
    if report.stale:
        line += f"; {report.stale} review decisions refer to older sketches and are marked stale"
    print(line)
    return 1 if report.failed else 0


@_guard
def run_export(args) -> int:
    from anisketch_desktop.dataset.approval import export_dataset

    report = export_dataset(args.dataset, args.output, progress=_Progress("export", args.quiet),
                            overwrite=args.overwrite)
    print(f"{report.written} approved pairs written to {report.out_dir} ({report.skipped} unchanged)")
    return 0


@_guard
def run_rebuild(args) -> int:
    from anisketch_desktop.dataset.rebuild import LOST, rebuild_manifest

    report = rebuild_manifest(args.dataset, progress=_Progress("rebuild", args.quiet))
    for path, reason in report.failed:
        _err(f"  skipped {path}: {reason}")
    kept = f"; the old manifest is kept as {report.kept_as.name}" if report.kept_as else ""
    print(f"{report.recorded} pictures recorded in a new manifest of {args.dataset} ({report.duplicates} "
          f"duplicates, {len(report.failed)} unreadable){kept}")
    _err(f"note: {LOST}")
    return 0


def register(sub) -> None:
    """Add ``crawl``, ``import``, ``pairs``, ``rebuild`` and ``export`` to an ``add_subparsers()`` object."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("crawl", help="Download pictures from a Moebooru site (konachan) into a dataset.",
                       description="Download rating:safe pictures from a Moebooru site into a dataset "
                       "folder. Running it again on the same folder resumes.", formatter_class=fmt)
    p.add_argument("--dataset", required=True, metavar="DIR", help="dataset folder (created if needed)")
    p.add_argument("--site", default=DEFAULT_SITE, help="Moebooru site or mirror (default: %(default)s)")
    p.add_argument("--tags", default="", help='up to 4 tags, e.g. "scenery -text" (rating:safe is added)')
    p.add_argument("--count", type=_positive_int, default=100, metavar="N",
                   help="pictures wanted (default: %(default)s)")
    p.add_argument("--originals", action="store_true", help="full-size files instead of <=1500 px samples")
    p.add_argument("--min-width", type=int, default=0, metavar="PX", help="skip posts narrower than PX")
    p.add_argument("--min-height", type=int, default=0, metavar="PX", help="skip posts shorter than PX")
    p.add_argument("--delay", type=_seconds, default=1.0, metavar="S",
                   help="seconds between API calls (default: %(default)s; please keep it >= 1)")
    p.add_argument("--workers", type=int, default=2, choices=[1, 2], help="simultaneous downloads")
    p.add_argument("--user-agent", metavar="UA", help="full User-Agent (default: AniSketch/<version>)")
    p.add_argument("--contact", metavar="URL_OR_EMAIL", help="added to the User-Agent as (+contact)")
    p.add_argument("--proxy", metavar="URL", help="HTTP(S) proxy, e.g. http://127.0.0.1:8080")
    p.add_argument("--yes", action="store_true", help="accept the notice about third-party artwork")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run_crawl)

    p = sub.add_parser("import", help="Copy your own pictures into a dataset.")
    p.add_argument("--dataset", required=True, metavar="DIR")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("--no-recursive", action="store_true", help="ignore sub-folders")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run_import)

    p = sub.add_parser("pairs", help="Make XDoG sketches for every picture of a dataset.")
    p.add_argument("--dataset", required=True, metavar="DIR")
    p.add_argument("--preset", help="XDoG preset (see: anisketch presets); default: default")
    p.add_argument("--auto", action="store_true", help="tune the parameters for each picture")
    for name, text in (("sigma", "inner Gaussian radius"), ("k", "outer/inner radius ratio"),
                       ("p", "edge sharpening"), ("epsilon", "ink threshold"), ("phi", "threshold softness")):
        p.add_argument(f"--{name}", type=float, help=text)
    p.add_argument("--specks", type=int, default=0, metavar="N", help="remove ink specks under N pixels")
    p.add_argument("--force", action="store_true", help="recompute sketches that are up to date")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run_pairs)

    p = sub.add_parser("rebuild", help="Rebuild a damaged or lost dataset manifest from the pictures in it.",
                       description="Make a new dataset.sqlite from the pictures in the dataset's images/ folder "
                       "(the damaged one is kept as dataset.sqlite.damaged-<time>). Review decisions, crawl "
                       "queries and sketch settings were only in the old manifest.")
    p.add_argument("--dataset", required=True, metavar="DIR")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run_rebuild)

    p = sub.add_parser("export", help="Write the approved pairs as plain color/ + sketch/ folders.")
    p.add_argument("--dataset", required=True, metavar="DIR")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--overwrite", action="store_true", help="replace different files already in OUT")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run_export)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anisketch", description=__doc__.split("\n")[0])
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
