"""``planwh db up|down|url|psql``: the warehouse server."""

from __future__ import annotations

import argparse
import os
import subprocess

from planwh.db import (
    EmbeddedServer,
    check_warehouse,
    connect,
    national_url,
    postgres_bin_dir,
    redact,
    warehouse_url,
)
from planwh.settings import load_settings

EPILOG = """Examples:
  planwh db up        # start the embedded PostgreSQL (no-op if it runs or a URL is configured)
  planwh db url       # print the warehouse URL, e.g. for a BI tool
  planwh db psql      # open psql on the warehouse
  planwh db psql --national -c 'select count(*) from national.indicator_values'
  planwh db down      # stop the embedded server (data stays in the state folder)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db",
        help="start, stop or reach the warehouse database",
        description="Manage the warehouse database. With no PLANWH_WAREHOUSE_URL configured, this is an\n"
        "embedded PostgreSQL whose data lives in the state folder.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["up", "down", "url", "psql", "status"])
    parser.add_argument("--national", action="store_true", help="the national shared database instead")
    parser.add_argument("--show-password", action="store_true", help="url: do not mask the password")
    parser.add_argument("-c", "--command", dest="sql", help="psql: run this SQL and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.action == "down":
        if not settings.uses_embedded:
            print("a warehouse URL is configured; nothing to stop")
            return 0
        stopped = EmbeddedServer(settings).stop()
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    if args.action == "status":
        if not settings.uses_embedded:
            check_warehouse(settings)
            print(f"configured warehouse, reachable: {redact(settings.warehouse_url)}")
            return 0
        status = EmbeddedServer(settings).status()
        if status.running:
            print(f"embedded PostgreSQL running: pid {status.pid}, 127.0.0.1:{status.port}, data {status.pgdata}")
        else:
            print(f"embedded PostgreSQL stopped (data {status.pgdata})")
        return 0
    url = national_url(settings) if args.national else warehouse_url(settings)
    if args.action in ("up", "psql"):
        with connect(url):  # a configured server that is down says so in one line, as psql would not
            pass
    if args.action == "up":
        where = "embedded" if settings.uses_embedded else "configured"
        print(f"{where} warehouse ready: {redact(url)}")
        return 0
    if args.action == "url":
        print(url if args.show_password else redact(url))
        return 0
    command = [str(postgres_bin_dir() / "psql"), url]
    if args.sql:
        command += ["-X", "-v", "ON_ERROR_STOP=1", "-c", args.sql]
    return subprocess.call(command, env={**os.environ, "PSQLRC": "/dev/null"})
