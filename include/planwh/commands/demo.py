"""``planwh demo``: the whole pipeline on sample data, ending with the indicator table.

Steps: warehouse up → reference seeds → sample landing files → ingest → Great Expectations
gate → dbt build → national sync → indicator progress by province. Every step is the same
code the DAGs run; running the demo twice gives the same warehouse (the second ingest finds
every file already processed).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from planwh.console import format_table, heading
from planwh.db import redact, warehouse_url
from planwh.settings import Settings, load_settings

SOURCES_IN_ORDER = ("agencies", "submissions", "portal", "rosters")

EPILOG = """Examples:
  planwh demo                     # 6 provinces, 2023-2025, on the embedded PostgreSQL
  planwh demo --provinces 34      # more provinces
"""

STATUS_MARK = {
    "achieved": "A",
    "on track": "o",
    "at risk": "!",
    "off track": "x",
    "not applicable": "-",
    "no data": ".",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline end to end on sample data",
        description="Generate sample landing files and run them through ingestion, validation, dbt\n"
        "and the national sync, then print indicator progress by province.",
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
    url = warehouse_url(settings)
    where = "embedded PostgreSQL in " + str(settings.pgdata_dir) if settings.uses_embedded else "configured"
    print(f"{redact(url)} ({where})")
    _done(started)

    started = _step("Reference data (dbt seed)")
    from planwh.commands.seeds import load_reference

    counts = load_reference(settings)
    print(format_table(["reference table", "rows"], sorted(counts.items())))
    _done(started)

    started = _step("Sample landing files")
    from planwh.sample import SampleSpec, generate_sample

    manifest = generate_sample(
        settings.landing_dir, SampleSpec(provinces=args.provinces, seed=args.seed), clean=True
    )
    print(f"written to {settings.landing_dir}")
    print(manifest.summary_table())
    _done(started)

    started = _step("Ingest (landing ledger, archive, COPY into raw, quarantine)")
    rejected_files = _ingest(settings)
    _done(started)

    started = _step("Great Expectations gate (write, audit, publish)")
    _validate(settings)
    _done(started)

    started = _step("dbt build (staging, intermediate, marts and their tests)")
    from planwh.transform import summarise, transform

    outcome = transform(settings)
    print(format_table(["dbt node status", "nodes"], sorted(summarise(outcome).items())))
    _done(started)

    _sync(settings)

    started = _step("Report (static HTML with charts, dbt docs, GX Data Docs)")
    from planwh.report import build_report

    report = build_report(settings, docs=True)
    print(f"open {report}")
    _done(started)

    heading("Indicator progress by province (latest reported year)")
    print(indicator_table(settings))
    print(f"\ndemo finished in {time.perf_counter() - total:.0f} s; files rejected whole: {rejected_files}")
    return 0


def _ingest(settings: Settings) -> int:
    from planwh.ingest.load import ingest_landing

    rows = []
    rejected_whole = 0
    reasons: Counter[str] = Counter()
    for source in SOURCES_IN_ORDER:
        outcomes = ingest_landing(settings, source, progress=True)
        status = Counter(o.status for o in outcomes)
        rejected_whole += status.get("rejected", 0)
        for o in outcomes:
            if o.status == "rejected":
                reasons[o.reason_code or "?"] += 1
        rows.append(
            [
                source,
                len(outcomes),
                status.get("loaded", 0),
                status.get("rejected", 0),
                status.get("duplicate", 0),
                sum(o.rows_in or 0 for o in outcomes),
                sum(o.rows_loaded or 0 for o in outcomes),
                sum(o.rows_rejected or 0 for o in outcomes),
            ]
        )
    print(
        format_table(
            ["source", "new files", "loaded", "rejected", "duplicate", "rows in", "rows loaded", "rows rejected"],
            rows,
        )
    )
    if reasons:
        print("files rejected whole: " + ", ".join(f"{k} ×{v}" for k, v in sorted(reasons.items())))
    from planwh.db import connect

    with connect(warehouse_url(settings)) as conn:
        top = conn.execute(
            "select reason_code, count(*) from quarantine.rejected_rows "
            "group by reason_code order by count(*) desc, reason_code"
        ).fetchall()
    if top:
        print("\nquarantined rows by reason:")
        print(format_table(["reason", "problems"], [list(r) for r in top]))
    print(f"feedback files for the senders: {settings.feedback_dir}")
    return rejected_whole


def _validate(settings: Settings) -> None:
    from planwh.validate.gate import ValidationFailed, summarise, validate_pending

    try:
        verdicts = validate_pending(settings)
    except ValidationFailed as failure:
        # The planted faults are meant to fail error-level checks: the demo shows them held
        # back; a scheduled run fails its task instead.
        verdicts = failure.verdicts
        print(str(failure))
    print(format_table(["gate", "count"], sorted(summarise(verdicts).items())))


def _sync(settings: Settings) -> None:
    from planwh.sync import describe_national, sync_national

    started = _step("National sync")
    result = sync_national(settings)
    print(result.describe())
    print(describe_national(settings))
    _done(started)


def indicator_table(settings: Settings) -> str:
    """Status of every indicator by current province for the latest year with data."""
    from planwh.db import connect

    with connect(warehouse_url(settings)) as conn:
        year = conn.execute(
            "select max(year) from marts.fct_indicator_progress where status <> 'no data'"
        ).fetchone()[0]
        if year is None:
            return "no indicator has data yet"
        indicators = [
            r[0] for r in conn.execute("select indicator_code from marts.dim_indicator order by indicator_code")
        ]
        rows = conn.execute(
            """
            select province_code, province_name, indicator_code, value, status
            from marts.fct_indicator_progress
            where year = %s
            order by province_code = '00' desc, province_code, indicator_code
            """,
            (year,),
        ).fetchall()
    grid: dict[tuple[str, str], dict[str, tuple]] = {}
    for code, name, indicator, value, status in rows:
        grid.setdefault((code, name), {})[indicator] = (value, status)
    short = {code: f"I{i + 1}" for i, code in enumerate(indicators)}
    header = ["code", "province"] + [short[c] for c in indicators]
    body = []
    for (code, name), cells in grid.items():
        line = [code, name]
        for indicator in indicators:
            value, status = cells.get(indicator, (None, "no data"))
            mark = STATUS_MARK.get(status, "?")
            line.append("." if value is None else f"{float(value):.0f}{mark}")
        body.append(line)
    legend = "  ".join(f"{short[c]}={c}" for c in indicators)
    marks = "  ".join(f"{v}={k}" for k, v in STATUS_MARK.items())
    return (
        f"year {year}; value then status mark ({marks})\n"
        + format_table(header, body, align="ll" + "r" * len(indicators))
        + f"\n{legend}"
    )
