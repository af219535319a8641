"""``planwh backfill SOURCE --from DATE --to DATE``: the DAGs' task code over past days."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from planwh.settings import load_settings

EPILOG = """Examples:
  planwh backfill portal --from 2024-12-01 --to 2024-12-14
  planwh backfill all --from 2024-01-01 --to 2024-12-31 --transform
  planwh backfill portal --from 2024-12-01 --to 2024-12-03 --portal quangnam.gov.vn   # also pull the API

Days are Viet Nam days. Each day loads the files the reception ledger received that day and runs
the gate on them, exactly as that day's DAG run; days already processed change nothing; yesterday
and today are live days, which sweep the landing folders and load every file not loaded yet.
Files never registered are not loaded by a past day: `planwh landing sweep --history` registers a
landing folder's history at the files' own times first. `submissions` also takes the agency
registers of the same days (checked first). Under a scheduler, use `airflow backfill create`
instead (README: Running and backfilling).
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    from planwh.orchestration.backfill import SOURCE_GROUPS

    parser = subparsers.add_parser(
        "backfill",
        help="run the ingest DAGs' tasks day by day over a range, without a scheduler",
        description="Ingest, validate and publish what was received on each day of a range, day by day,\n"
        "with the same code as the DAG runs (no Airflow needed); optionally dbt build at the end.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", choices=list(SOURCE_GROUPS), help="what to backfill")
    parser.add_argument("--from", dest="first", type=_date, required=True, metavar="DATE", help="first day")
    parser.add_argument(
        "--to", dest="last", type=_date, required=True, metavar="DATE", help="last day (inclusive)"
    )
    parser.add_argument("--transform", action="store_true", help="run dbt build once at the end")
    parser.add_argument(
        "--portal",
        action="append",
        default=[],
        metavar="NAME",
        help="also pull this portal's API for each day (PLANWH_PORTAL_API_URL / _TOKEN); repeatable",
    )
    parser.add_argument("--all-days", action="store_true", help="list days with nothing received as well")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planwh.console import format_table
    from planwh.ingest.portal_api import PortalApiError
    from planwh.orchestration.backfill import HEADERS, BackfillError, backfill
    from planwh.orchestration.tasks import portal_apis_from_environment

    settings = load_settings()
    try:
        apis = portal_apis_from_environment(args.portal)
        report = backfill(settings, args.source, args.first, args.last, apis=apis, transform=args.transform)
    except (BackfillError, PortalApiError) as exc:
        print(f"planwh backfill: {exc}", file=sys.stderr)
        return 2
    days = report.days if args.all_days else report.active_days()
    rows = [d.row() for d in days] + [report.totals()]
    print(format_table(HEADERS, rows, align="ll" + "r" * (len(HEADERS) - 2)))
    _unregistered_note(settings, report)
    if report.dbt is not None:
        print("dbt build: " + ", ".join(f"{n} {status}" for status, n in sorted(report.dbt.items())))
    if report.failures:
        print(
            f"\n{len(report.failures)} file(s) failed an error-level check (published what passed; "
            "see audit.batches and quarantine.rejected_rows):",
            file=sys.stderr,
        )
        for line in report.failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def _unregistered_note(settings, report) -> None:
    """Say so when the landing folders hold files no sweep registered: a backfill of past days
    does not load them (README: Running and backfilling)."""
    from planwh.ingest.reception import landing_status

    sources = sorted({s for d in report.days for s in d.sources})
    statuses, _ = landing_status(settings, sources)
    for status in statuses:
        if status.unregistered:
            print(f"note: {len(status.unregistered)} file(s) in landing/{status.source}/ are not registered, so no "
                  "past day loads them: the next daily run will, or `planwh landing sweep --history "
                  f"{status.source}` registers them at their own times for a backfill of their days")
