"""``planwh report``: the static HTML report, with the dbt and Great Expectations docs it links."""

from __future__ import annotations

import argparse
from pathlib import Path

from planwh.settings import load_settings

EPILOG = """Examples:
  planwh report                      # .state/report/index.html, with fresh dbt docs and GX Data Docs
  planwh report --out /srv/share     # /srv/share/index.html
  planwh report --no-docs            # the report only (seconds)

The file is self-contained (charts embedded): open it from disk, mail it, put it on a share.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the static HTML progress report (heat map, trajectories, completeness)",
        description="Write one self-contained HTML file with the status of every indicator by province,\n"
        "each indicator's national trajectory to its 2028 target and reporting completeness by\n"
        "province, read from the marts. It links the dbt docs and GX Data Docs, built first.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, help="folder (or .html file) to write (default: <state>/report)")
    parser.add_argument("--no-docs", action="store_true", help="do not rebuild dbt docs and GX Data Docs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planwh.db import check_warehouse
    from planwh.report import build_report

    settings = load_settings()
    check_warehouse(settings)  # before dbt prints its own connection errors
    path = build_report(settings, args.out, docs=not args.no_docs)
    print(path)
    return 0
