"""``planwh sync`` and ``planwh export``: share the plan's data with the national database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planwh.settings import load_settings

EXIT_BUSY = 75  # EX_TEMPFAIL: another sync holds the lock; try again later

SYNC_EPILOG = """Examples:
  planwh sync                              # send what changed since the last acknowledged batch
  planwh sync --dry-run                    # show what would be sent; send and record nothing
  planwh sync --name "Sở TT&TT Đà Nẵng"    # name this warehouse in the national ledger
  planwh sync --from-package DIR           # load an offline package (from `planwh export`)
  planwh sync --from-package DIR --dry-run # check a package and show what it would change

Running it again sends nothing new. Exit status 75 means another sync or export of this
warehouse was still running after --wait seconds.
"""

EXPORT_EPILOG = """Examples:
  planwh export                   # package under <state>/exports/
  planwh export --out /media/usb/planwh-2025-11

The package is a full snapshot: SDMX-CSV files, the same rows as SDMX-ML data, their SDMX
structure (structure.xml: codelists, data structures, dataflows) and manifest.json with
checksums. SDMX tools read it with structure.xml; loading it on the national side
(planwh sync --from-package DIR) replaces this warehouse's rows there.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from planwh.sync.run import DEFAULT_WAIT_SECONDS

    sync = subparsers.add_parser(
        "sync",
        help="send the plan's data to the national shared database",
        description="Send the indicator values, submission compliance, training coverage, indicator\n"
        "metadata and province mapping that changed since the last acknowledged batch to the\n"
        "national shared database (PLANWH_NATIONAL_URL), in one transaction there; or load an\n"
        "offline package into it.",
        epilog=SYNC_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument("--from-package", type=Path, metavar="DIR", help="load this package into the national database")
    sync.add_argument("--dry-run", action="store_true", help="show what would change; commit nothing")
    sync.add_argument("--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
                      help=f"how long to wait for a running sync (default {DEFAULT_WAIT_SECONDS:g})")
    sync.add_argument("--name", help="this warehouse's name in the national ledger (kept for later syncs)")
    sync.set_defaults(func=run_sync)

    export = subparsers.add_parser(
        "export",
        help="write an offline package for the national database",
        description="Write the shared data as an SDMX package (SDMX-CSV and SDMX-ML files, their structure,\n"
        "manifest.json) for a place without a connection to the national database.",
        epilog=EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--out", type=Path, metavar="DIR", help="new or empty folder (default under the state folder)")
    export.add_argument("--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for a running sync (default {DEFAULT_WAIT_SECONDS:g})")
    export.add_argument("--name", help="this warehouse's name in the national ledger (kept for later syncs)")
    export.set_defaults(func=run_export)


def run_sync(args: argparse.Namespace) -> int:
    from planwh.sync import SyncBusy, SyncError, load_package, sync_national

    settings = load_settings()
    try:
        if args.from_package:
            if args.name:
                print("planwh sync: --name names this warehouse; a package carries its sender's name",
                      file=sys.stderr)
                return 2
            print(load_package(args.from_package, settings, dry_run=args.dry_run).describe())
        else:
            result = sync_national(settings, dry_run=args.dry_run, wait_seconds=args.wait,
                                   deployment_name=args.name)
            print(result.describe())
    except SyncBusy as exc:
        print(f"planwh sync: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except SyncError as exc:
        print(f"planwh sync: {exc}", file=sys.stderr)
        return 1
    return 0


def run_export(args: argparse.Namespace) -> int:
    from planwh.sync import SyncBusy, SyncError, export_package

    try:
        result = export_package(load_settings(), args.out, wait_seconds=args.wait, deployment_name=args.name)
    except SyncBusy as exc:
        print(f"planwh export: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except SyncError as exc:
        print(f"planwh export: {exc}", file=sys.stderr)
        return 1
    print(result.describe())
    return 0
