"""``planwh airflow env|migrate|run|chain``: Airflow on this machine, with the project's settings."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from planwh.settings import load_settings

EPILOG = """Examples:
  eval "$(planwh airflow env)"          # then any airflow command: airflow dags list
  eval "$(planwh airflow env --metadata postgres)"; airflow standalone   # scheduler + UI, LocalExecutor
  planwh airflow migrate                # Airflow's metadata database (once, ~7 s) and the dbt manifest
  planwh airflow run ingest_portal_statistics --date 2024-12-02    # dag.test() one DAG run of that day
  planwh airflow chain                                             # yesterday: ingest DAGs, transform, sync

Airflow's home and its SQLite database live in the state folder (AIRFLOW_HOME); with
--metadata postgres the metadata is database `airflow` on the warehouse's server. Without --date
a run is yesterday's, the live one: it sweeps the landing folders and loads every file no run has
loaded yet; the run of an older day loads what the reception ledger received that day.
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "airflow",
        help="run the DAGs locally (dag.test) or print the environment for the airflow CLI",
        description="Airflow on this machine, pointed at the project's settings and dags/ folder.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["env", "migrate", "run", "chain"])
    parser.add_argument("dag_id", nargs="?", help="run: the DAG to run")
    parser.add_argument("--date", type=_date, help="run/chain: the Viet Nam day of the data interval (default yesterday)")
    parser.add_argument(
        "--metadata",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="env/migrate: Airflow's metadata database (default sqlite in the state folder)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planwh.orchestration.airflow_env import airflow_environment, prepare_metadata, shell_exports

    settings = load_settings()
    if args.action == "env":
        print(shell_exports(airflow_environment(settings, args.metadata)))
        return 0
    if args.action == "migrate":
        from planwh.orchestration.transform_dag import ensure_manifest

        ran = prepare_metadata(airflow_environment(settings, args.metadata))
        print("metadata database migrated" if ran else "metadata database already up to date")
        print(f"dbt manifest for the transform DAGs: {ensure_manifest(settings)}")
        return 0
    from planwh.db import check_warehouse
    from planwh.orchestration.local_run import dag_ids, last_complete_day, run_dag, run_daily_chain

    day = args.date or last_complete_day()
    if args.action == "run":
        known = dag_ids()
        if not args.dag_id:
            print(f"planwh airflow run: name the DAG, one of {', '.join(known)}", file=sys.stderr)
            return 2
        if args.dag_id not in known:
            print(f"planwh airflow run: no DAG {args.dag_id!r} in dags/; the DAGs are {', '.join(known)}",
                  file=sys.stderr)
            return 2
    # before Airflow starts (~10 s) and its tasks retry for minutes against a warehouse that is down
    check_warehouse(settings)
    if args.action == "run":
        state = run_dag(args.dag_id, day, settings)
        print(f"{args.dag_id} {day}: {state}")
        return 0 if state == "success" else 1
    states = run_daily_chain(
        settings,
        day,
        on_result=lambda r: print(f"==> {r.dag_id}: {r.state} ({r.seconds:.0f} s)", flush=True),
        on_progress=lambda line: print(line, flush=True),
    )
    return 0 if all(state == "success" for state in states.values()) else 1
