"""``planwh transform``: build the marts from the published data with dbt."""

from __future__ import annotations

import argparse
import sys

from planwh.settings import load_settings

EPILOG = """Examples:
  planwh transform                                   # seeds, models and tests (dbt build)
  planwh transform --select +fct_indicator_progress  # one mart and what it depends on
  planwh transform --full-refresh                    # rebuild incremental models from scratch
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transform",
        help="build the marts with dbt (seeds, models, tests)",
        description="Run `dbt build` against the warehouse: reference seeds, staging, intermediate and\n"
        "mart models, with every data and unit test right after the node it checks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--select", "-s", nargs="+", metavar="SELECTOR", help="dbt node selection (e.g. marts.plan, +dim_province)"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models instead of merging into them"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planwh.dbt import dbt_paths
    from planwh.transform import summarise, transform

    settings = load_settings()
    outcome = transform(settings, select=args.select, full_refresh=args.full_refresh, raise_on_failure=False)
    counts = summarise(outcome)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing selected"
    if outcome.success:
        print(f"dbt build succeeded: {summary}")
        return 0
    print(f"dbt build failed: {summary}", file=sys.stderr)
    for line in outcome.failures():
        print(f"  {line}", file=sys.stderr)
    print(f"  dbt log: {dbt_paths(settings)['logs'] / 'dbt.log'}", file=sys.stderr)
    return 1
