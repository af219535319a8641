"""The ``planwh`` command line.

Each command lives in the module that owns its logic and registers itself through a
``register(subparsers)`` function listed in ``COMMAND_MODULES``; this file only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from planwh.db import DatabaseError
from planwh.settings import SettingsError

COMMAND_MODULES = [
    "planwh.commands.db",
    "planwh.commands.seeds",
    "planwh.commands.sample",
    "planwh.ingest.cli",
    "planwh.commands.validate",
    "planwh.commands.transform",
    "planwh.commands.sync",
    "planwh.commands.roles",
    "planwh.commands.report",
    "planwh.commands.backfill",
    "planwh.commands.airflow_local",
    "planwh.commands.demo",
    "planwh.commands.bi",
]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planwh",
        formatter_class=HelpFormatter,
        description=(
            "Warehouse for the plans under Decision 1079/QĐ-TTg: ingest, validate, transform,\n"
            "sync and report the plan indicators of every province."
        ),
        epilog="Example:\n  planwh demo            # sample data through the whole pipeline\n"
        "  planwh db url          # where the warehouse is",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (DatabaseError, SettingsError) as exc:
        print(f"planwh: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("planwh: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
