"""``planwh seeds build|check|load``: the reference data (provinces, indicators, tasks...)."""

from __future__ import annotations

import argparse

from planwh.settings import load_settings

EPILOG = """Examples:
  planwh seeds load     # load dbt_project/seeds/*.csv into the warehouse (schema reference)
  planwh seeds check    # are the committed CSVs what the province packages give? (exit 1 if not)
  planwh seeds build    # regenerate the CSVs from vietnamadminunits / vietnam-provinces
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "seeds",
        help="build, check or load the reference data",
        description="Reference data lives in dbt_project/seeds/ as CSV files generated from the\n"
        "province packages and the plan documents, and is loaded by dbt into schema `reference`.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["build", "check", "load"])
    parser.set_defaults(func=run)


def load_reference(settings=None) -> dict[str, int]:
    """``dbt seed`` into the warehouse; returns the row count of each reference table."""
    from planwh.db import connect
    from planwh.dbt import run_dbt

    settings = settings or load_settings()
    run_dbt(["seed", "--full-refresh"], settings)
    from planwh.db import warehouse_url

    with connect(warehouse_url(settings)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'reference' "
                "order by table_name"
            )
        ]
        return {
            name: conn.execute(f'select count(*) from reference."{name}"').fetchone()[0] for name in tables
        }


def run(args: argparse.Namespace) -> int:
    from planwh.reference import build_seeds

    if args.action == "build":
        written = build_seeds.build_all(build_seeds.SEEDS_DIR)
        for path in sorted(written.values()):
            print(f"wrote {path}")
        return 0
    if args.action == "check":
        return build_seeds.main(["--check"])
    from planwh.console import format_table

    counts = load_reference()
    print(format_table(["reference table", "rows"], sorted(counts.items())))
    return 0
