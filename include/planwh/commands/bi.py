"""``planwh bi bundle|check``: the Superset dashboard pointed at this warehouse, and proved in a real Superset."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from planwh.settings import load_settings

EPILOG = """Examples:
  planwh bi bundle /tmp/planwh_dashboard.zip --password-env PLANWH_BI_PASSWORD
      # the dashboard bundle for this warehouse (embedded unless PLANWH_WAREHOUSE_URL is set), then
      # superset import-dashboards -p /tmp/planwh_dashboard.zip -u admin
  make bi-check          # installs Superset into .venv-bi, then: planwh bi check

The check keeps its screenshot and Superset's logs in <state>/bi-check/.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bi",
        help="the Superset dashboard: its bundle for this warehouse, and the check in a real Superset",
        description="bundle: build the Superset dashboard bundle pointed at this warehouse (the login is\n"
        "planwh_bi). check: import it into a real Superset, query every chart and screenshot the\n"
        "dashboard in headless Chromium (what `make bi-check` runs).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["bundle", "check"])
    parser.add_argument("out", nargs="?", type=Path, help="bundle: the ZIP to write")
    parser.add_argument("--password-env", metavar="VARIABLE",
                        help="bundle: environment variable holding planwh_bi's password (written into the ZIP only)")
    parser.add_argument("--superset-venv", type=Path, default=None,
                        help="check: the virtual environment with Superset (default .venv-bi)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planwh import bi

    settings = load_settings()
    if args.action == "bundle":
        if not args.out:
            print("planwh bi bundle: give the ZIP to write", file=sys.stderr)
            return 2
        password = None
        if args.password_env:
            password = os.environ.get(args.password_env, "")
            if not password:
                print(f"planwh bi bundle: environment variable {args.password_env} is not set", file=sys.stderr)
                return 2
        path, (host, port, database) = bi.build_local_bundle(settings, args.out, password)
        print(f"dashboard bundle written to {path}: marts as planwh_bi on {host}:{port}/{database}")
        if not password:
            print("no password in it: Superset's importer needs one (--password-env) for a new connection")
        return 0
    out_dir = settings.state_dir / "bi-check"
    try:
        report = bi.Check(settings, args.superset_venv or bi.DEFAULT_VENV, out_dir).run()
    except bi.CheckFailed as exc:
        print(f"\nbi-check FAILED: {exc}", file=sys.stderr)
        print(f"Superset's logs and what the browser saw: {out_dir}", file=sys.stderr)
        return 1
    print(f"\nbi-check passed: Superset {report.superset_version} imported the bundle, {len(report.charts)} charts "
          f"answered with rows for the default filters {report.default_filters} and drew in Chromium.")
    print(f"screenshot: {report.screenshot}")
    print("seconds: " + ", ".join(f"{name} {seconds}" for name, seconds in report.seconds.items()))
    return 0
