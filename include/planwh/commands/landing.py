"""``planwh landing status|sweep``: what the landing folders hold that is not loaded, and why."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from planwh.ingest.schema import SOURCES
from planwh.settings import load_settings

EPILOG = """Examples:
  planwh landing status                 # per source: waiting, never registered, registered but not loaded
  planwh landing status --check         # exit 1 when a file has waited longer than PLANWH_LANDING_STALE_HOURS
  planwh landing sweep                  # register what is in the landing folders now (loads nothing)
  planwh landing sweep portal --history # register files added to a swept folder at their own times

A file is loaded by the run that takes it (README: Running and backfilling): the daily run sweeps
and loads every file no run has loaded yet; `planwh backfill` of past days loads what the ledger
received on those days, so on a landing folder with history, `planwh landing sweep` first
registers that history at the files' own times, then the backfill loads it day by day.
"""

STATE_NAMES = {"unregistered": "not registered", "waiting": "waiting", "unloaded": "not loaded"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "landing",
        help="what the landing folders hold that is not loaded yet; register them",
        description="The landing folders seen through the reception ledger: files waiting (still being\n"
        "written), never registered, registered but not loaded, skipped as litter; each portal API's cursor.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["status", "sweep"])
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help=f"one or more of {', '.join(SOURCES)} (default all)")
    parser.add_argument("--check", action="store_true",
                        help="status: exit 1 when a file has waited longer than PLANWH_LANDING_STALE_HOURS")
    parser.add_argument("--history", action="store_true",
                        help="sweep: register new files at their modification times (a take-over of history)")
    parser.set_defaults(func=run)


def _when(moment: datetime | None) -> str:
    from planwh.ingest.parsing import VIETNAM_TZ

    return moment.astimezone(VIETNAM_TZ).strftime("%Y-%m-%d %H:%M") if moment else "never"


def run(args: argparse.Namespace) -> int:
    from planwh.ingest.reception import reception_clock, sweep

    unknown = [s for s in args.sources if s not in SOURCES]
    if unknown:
        print(f"planwh landing: unknown source {unknown[0]!r}; expected one of {', '.join(SOURCES)}", file=sys.stderr)
        return 2
    settings = load_settings()
    sources = args.sources or list(SOURCES)
    if args.action == "sweep":
        now = reception_clock()
        for source in sources:
            report = sweep(settings, source, now=now, history=args.history)
            print(f"{source}: {len(report.registered)} registered, {report.unchanged} already registered, "
                  f"{len(report.waiting)} waiting, {len(report.skipped)} skipped")
            for path, _, reason in report.waiting:
                print(f"  waiting  {path}: {reason}")
        return 0
    return _status(settings, sources, check=args.check)


def _status(settings, sources: list[str], *, check: bool) -> int:
    from datetime import timedelta

    from planwh.console import format_table
    from planwh.ingest.reception import landing_status, reception_clock

    now = reception_clock()
    statuses, cursors = landing_status(settings, sources, now=now)
    limit = now - timedelta(hours=settings.landing_stale_hours)
    rows = []
    for s in statuses:
        oldest = s.pending[0] if s.pending else None
        rows.append([s.source, _when(s.last_sweep), s.registered, s.loaded, len(s.waiting), len(s.unregistered),
                     len(s.unloaded), len(s.skipped), f"{oldest.path} ({_when(oldest.since)})" if oldest else ""])
    print(format_table(
        ["source", "last sweep", "registered", "loaded", "waiting", "not registered", "not loaded", "skipped",
         "oldest waiting file"], rows, align="llrrrrrrl"))
    stale = 0
    for s in statuses:
        for w in s.pending:
            old = w.since < limit
            stale += old
            mark = "  STALE" if old else ""
            print(f"{s.source}/{w.path}: {STATE_NAMES[w.state]} since {_when(w.since)}: {w.reason}{mark}")
        for item in s.skipped:
            print(f"{s.source}/{item.shown}: skipped, {item.reason}")
    if cursors:
        print("\nportal API cursors (last day pulled):")
        for c in cursors:
            print(f"  {c.portal}: {c.last_day.isoformat()} (pulled {_when(c.updated_at)})")
    if stale:
        print(f"\n{stale} file(s) waiting longer than {settings.landing_stale_hours} h (PLANWH_LANDING_STALE_HOURS)",
              file=sys.stderr)
        return 1 if check else 0
    return 0
