"""The ``planwh`` command line.

Each command lives in the module that owns its logic and registers itself through a
``register(subparsers)`` function listed in ``COMMAND_MODULES``; this file only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

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
    "planwh.commands.landing",
    "planwh.commands.airflow_local",
    "planwh.commands.demo",
    "planwh.commands.bi",
    "planwh.commands.web",
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
    except KeyboardInterrupt:
        print("planwh: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(f"planwh {args.command}: {error_line(exc, args.command)}", file=sys.stderr)
        return 2


def error_line(exc: BaseException, command: str = "COMMAND") -> str:
    """What an operator reads instead of a traceback: one line that says what went wrong and what
    to do (``-v`` shows the traceback)."""
    import psycopg

    from planwh.db import DatabaseError, unreachable

    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, psycopg.errors.QueryCanceled):
        # a connection made outside planwh.db.connect (dbt's lock, a library), or lost on the way
        pgconn = getattr(exc, "pgconn", None)
        where = "postgresql://{}:{}/{}".format(*(_text(getattr(pgconn, a, None)) for a in ("host", "port", "db")))
        exc = unreachable(where if pgconn is not None else "the database", exc)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, DatabaseError | SettingsError):
        return message
    if type(exc).__module__.startswith("planwh."):
        more = str(exc).strip().count("\n")
        return _flat(message) + (" (run with -v for the details)" if more else "")
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or _flat(exc)}:{where}".rstrip(":")
    return f"unexpected {type(exc).__name__}: {_flat(message)}; run `planwh -v {command} ...` for the traceback"


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value or "?")


def _flat(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


if __name__ == "__main__":
    sys.exit(main())
