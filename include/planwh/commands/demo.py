"""``planwh demo``: the whole pipeline on sample data, ending with the indicator table.

Steps: warehouse up → sample landing files → the real Airflow DAGs under ``dag.test()`` (the
three ingest DAGs with their gate, ``transform_warehouse``, ``sync_national``: the daily chain of
yesterday, the live run, whose first sweep takes the sample's history over at the files' own
times) → the database roles (``planwh roles apply``: planwh_bi for BI tools) → what the DAGs did,
read back from the warehouse → HTML report → indicator progress by province. Running the demo twice
gives the same warehouse (the second chain finds every file already processed).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime

from planwh.console import format_table, heading
from planwh.db import check_warehouse, connect, redact, warehouse_url
from planwh.settings import Settings, load_settings

EPILOG = """Examples:
  planwh demo                     # 6 provinces, 2023-2025, on the embedded PostgreSQL
  planwh demo --provinces 34      # more provinces

Airflow's log of the run is under .state/airflow/logs/local_runs/.
"""

STATUS_MARK = {
    "achieved": "A",
    "on track": "o",
    "at risk": "!",
    "off track": "x",
    "insufficient coverage": "?",
    "partial year": "~",
    "not applicable": "-",
    "no data": ".",
    "no register": "_",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline end to end on sample data",
        description="Generate sample landing files and run them through the Airflow DAGs (dag.test()):\n"
        "ingestion, validation, dbt and the national sync; then print indicator progress by province.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--provinces", type=int, default=6, help="provinces in the sample (default 6)")
    parser.add_argument("--seed", type=int, default=1079, help="random seed of the sample (default 1079)")
    parser.set_defaults(func=run)


def _step(title: str):
    heading(title)
    return time.perf_counter()


def _done(started: float) -> None:
    print(f"   ({time.perf_counter() - started:.1f} s)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    total = time.perf_counter()

    started = _step("Warehouse")
    check_warehouse(settings)
    url = warehouse_url(settings)
    where = "embedded PostgreSQL in " + str(settings.pgdata_dir) if settings.uses_embedded else "configured"
    print(f"{redact(url)} ({where})")
    _done(started)

    started = _step("Sample landing files")
    from planwh.ingest.parsing import VIETNAM_TZ
    from planwh.sample import SampleSpec, generate_sample

    spec = SampleSpec(provinces=args.provinces, seed=args.seed)
    manifest = generate_sample(settings.landing_dir, spec, clean=True)
    print(f"written to {settings.landing_dir}")
    print(manifest.summary_table())
    last_sent = max(datetime.fromisoformat(f.sent_at).astimezone(VIETNAM_TZ).date() for f in manifest.files)
    print(f"each file dated when its sender sent it ({min(spec.years)}-01-01 to {last_sent})")
    _done(started)

    from planwh.orchestration.local_run import last_complete_day

    day = last_complete_day()
    started = _step(
        f"Airflow DAGs, dag.test(): the daily chain of {day} (yesterday: the live run, which sweeps the landing "
        "folders and loads every file not loaded yet; a first sweep takes the folder's history over at the "
        "files' own times)"
    )
    states = _run_chain(settings, day)
    _done(started)

    # before the roles: its tables, made here by the warehouse's login, are then handed to planwh_web
    started = _step("Sender page (planwh serve): demo accounts")
    print(_sender_accounts(settings))
    _done(started)

    started = _step("Database roles (loader, transformer, sync, BI reader planwh_bi, sender page planwh_web)")
    print(_apply_roles(settings))
    _done(started)

    heading("What the DAGs did")
    _ingest_summary(settings)
    _gate_summary(settings)
    _build_summary(settings)
    if states.get("sync_national") == "success":
        from planwh.sync import describe_national

        print("\nnational shared database after sync_national:")
        print(describe_national(settings))

    started = _step("Report (static HTML with charts, dbt docs, GX Data Docs)")
    from planwh.report import build_report

    report = build_report(settings, docs=True)
    print(f"open {report}")
    _done(started)

    heading("Indicator progress by province (latest reported year)")
    print(indicator_table(settings))
    print(f"\ndemo finished in {time.perf_counter() - total:.0f} s")
    built = states.get("transform_warehouse") == "success" and states.get("sync_national") == "success"
    if not built:
        print("the marts were not built and synced: see the Airflow log above", file=sys.stderr)
    return 0 if built else 1


class _Progress:
    """Task starts on their own line; the gate's line per file counted on one line (a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.files = 0

    def __call__(self, message: str) -> None:
        if message.startswith("    file "):
            self.files += 1
            if self.tty:
                print(f"\r    gate: {self.files} files judged, last {message.strip()}"[:110].ljust(110), end="", flush=True)
            elif self.files % 100 == 0:
                print(f"    gate: {self.files} files judged ...", flush=True)
            return
        self._end_line()
        print(message if not message.startswith(" ") else message[:200], flush=True)

    def _end_line(self) -> None:
        if self.files:
            if self.tty:
                print()
            print(f"    gate: {self.files} files judged")
            self.files = 0


def _run_chain(settings: Settings, day: date) -> dict[str, str]:
    from planwh.orchestration.local_run import run_daily_chain

    progress = _Progress()

    def result(r) -> None:
        progress._end_line()
        print(f"==> {r.dag_id}: {r.state} ({r.seconds:.0f} s)", flush=True)

    states = run_daily_chain(settings, day, on_result=result, on_progress=progress)
    progress._end_line()
    failed = [dag for dag, state in states.items() if state != "success"]
    if failed and set(failed) <= {"ingest_agency_submissions", "ingest_training_rosters", "ingest_portal_statistics"}:
        print(
            "ingest runs marked failed: the sample plants files that fail error-level expectations; "
            "the gate held them back, published the rest and failed the run so it shows red "
            "(audit.task_failures, quarantine.rejected_rows)"
        )
    return states


def _apply_roles(settings: Settings) -> str:
    """``planwh roles apply``: the roles BI tools and the compose services log in as (passwords from
    PLANWH_<ROLE>_PASSWORD when set; the embedded server trusts local logins without one)."""
    import os

    from planwh.commands.roles import describe_outcome, passwords_from_environment
    from planwh.db import national_url
    from planwh.roles import apply_roles

    outcome = apply_roles(
        warehouse_url(settings), passwords_from_environment([], dict(os.environ)), national_url=national_url(settings)
    )
    return describe_outcome(outcome)


def _sender_accounts(settings: Settings) -> str:
    """Accounts for one sample agency that owes a report and its province's focal point, each with a
    one-time sign-in link (printed here only), and how to start the page."""
    from planwh.web.accounts import invite
    from planwh.web.obligations import province_name
    from planwh.web.schema import ensure_web_schema

    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_web_schema(conn)
        row = conn.execute(
            """
            select c.agency_code, c.agency_name, c.province_code from marts.fct_submission_compliance as c
            inner join marts.dim_agency as a on a.agency_code = c.agency_code and a.is_latest_version
            where c.is_expected and not c.is_received and c.period_kind = 'year' and a.agency_kind = 'department'
            order by c.year desc, c.province_code, c.agency_code limit 1
            """
        ).fetchone()
        if row is None:
            return "no agency owes a report in the sample: no demo account made"
        agency = invite(conn, settings, agency=(row[0], row[1]))
        focal = invite(conn, settings, province=(row[2], province_name(conn, row[2]) or row[2]))
    return (
        f"start the page:   .venv/bin/planwh serve        (listens on {settings.web_public_url}; Ctrl-C stops it)\n"
        f"then open, once:  {agency.link}\n"
        f"                  ({agency.account.display_name}, user name {agency.account.username}: set a password there)\n"
        f"focal point of province {row[2]}: {focal.link}\n"
        "more accounts:    .venv/bin/planwh senders invite --agency CODE | --province CODE | --all --province CODE"
    )


def _ingest_summary(settings: Settings) -> None:
    with connect(warehouse_url(settings)) as conn:
        rows = conn.execute(
            """
            select source,
                   count(*),
                   count(*) filter (where status = 'loaded'),
                   count(*) filter (where status = 'rejected'),
                   count(*) filter (where status = 'duplicate'),
                   coalesce(sum(rows_in), 0),
                   coalesce(sum(rows_loaded), 0),
                   coalesce(sum(rows_rejected), 0),
                   coalesce(sum(rows_skipped), 0)
            from landing.files
            group by source
            order by array_position(array['agencies', 'submissions', 'portal', 'rosters'], source)
            """
        ).fetchall()
        reasons = conn.execute(
            "select reason_code, count(*) from quarantine.rejected_rows where severity = 'error' "
            "group by reason_code order by count(*) desc, reason_code"
        ).fetchall()
    print(
        format_table(
            ["source", "files", "loaded", "rejected", "duplicate", "rows in", "rows loaded", "rows rejected",
             "rows skipped"],
            [list(r) for r in rows],
        )
    )
    if reasons:
        print("\nquarantined rows by reason:")
        print(format_table(["reason", "problems"], [list(r) for r in reasons]))
    print(f"feedback files for the senders: {settings.feedback_dir}")


def _gate_summary(settings: Settings) -> None:
    with connect(warehouse_url(settings)) as conn:
        rows = conn.execute(
            "select validation_status, count(*), coalesce(sum(rows_published), 0), "
            "coalesce(sum(rows_quarantined), 0) from audit.batches group by 1 order by 1"
        ).fetchall()
    print("\nGreat Expectations gate, per file batch:")
    print(format_table(["verdict", "batches", "rows published", "rows held back"], [list(r) for r in rows]))


def _build_summary(settings: Settings) -> None:
    with connect(warehouse_url(settings)) as conn:
        rows = conn.execute(
            """
            select resource_type, status, count(*)
            from audit.dbt_node_results
            where build_id = (select build_id from audit.dbt_node_results order by recorded_at desc limit 1)
            group by 1, 2 order by 1, 2
            """
        ).fetchall()
    print("\ndbt build of transform_warehouse, per node:")
    print(format_table(["node", "status", "count"], [list(r) for r in rows]))


def indicator_table(settings: Settings) -> str:
    """Status of every indicator by current province for the latest year with data; under the
    national row, its coverage (provinces with data out of the 34)."""
    with connect(warehouse_url(settings)) as conn:
        year = conn.execute(
            "select max(year) from marts.fct_indicator_progress where value is not null"
        ).fetchone()[0]
        if year is None:
            return "no indicator has data yet"
        indicators = conn.execute(
            "select indicator_code, short_name_vi from marts.dim_indicator order by indicator_code"
        ).fetchall()
        rows = conn.execute(
            """
            select province_code, province_name, indicator_code, value, status, provinces_reporting, provinces_total
            from marts.fct_indicator_progress
            where year = %s
            order by province_code = '00' desc, province_code, indicator_code
            """,
            (year,),
        ).fetchall()
    grid: dict[tuple[str, str], dict[str, tuple]] = {}
    coverage: dict[str, str] = {}
    for code, name, indicator, value, status, reporting, total in rows:
        grid.setdefault((code, name), {})[indicator] = (value, status)
        if code == "00" and total:
            coverage[indicator] = f"{reporting}/{total}"
    codes = [code for code, _ in indicators]
    short = {code: f"I{i + 1}" for i, code in enumerate(codes)}
    header = ["code", "province"] + [short[c] for c in codes]
    body = []
    for (code, name), cells in grid.items():
        line = [code, name]
        for indicator in codes:
            value, status = cells.get(indicator, (None, "no data"))
            mark = STATUS_MARK.get(status, "?")
            line.append(mark if value is None else f"{float(value):.0f}{mark}")
        body.append(line)
        if code == "00":
            body.append(["", "độ phủ (coverage)"] + [coverage.get(c, "") for c in codes])
    legend = "\n".join(f"  {short[c]} = {name} ({c})" for c, name in indicators)
    marks = "  ".join(f"{v}={k}" for k, v in STATUS_MARK.items())
    return (
        f"year {year}; value then status mark ({marks}); national coverage = provinces with data / all\n"
        + format_table(header, body, align="ll" + "r" * len(codes))
        + f"\n{legend}"
    )
