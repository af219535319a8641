"""The pipeline the reliability suite looks at, run in a child process so that every line it
prints or logs (at DEBUG, every logger) is captured for the personal-data scan.

The landing folder's history is registered first, at the files' own times (``planwh landing sweep
--history``, a deployment taking a folder over). Then two rounds over the same past data interval,
each exactly what the DAGs' task code does: the three ingest DAGs (the files the ledger received in
the interval + Great Expectations gate), ``transform_warehouse`` (dbt build), ``sync_national``;
then an offline export package and the HTML report. After each round a line
``ROUND {"round": n, "fingerprints": {...}, ...}`` gives a checksum of every table of the schemas
that matter, so the test can compare round 1 with round 2.

Usage: ``python pipeline_driver.py OUT_DIR SINCE END`` with the warehouse configured through the
``PLANWH_*`` environment variables.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime, time
from pathlib import Path

import psycopg
from psycopg import sql

SCHEMAS = ("landing", "raw", "quarantine", "published", "audit", "marts", "sync")


def fingerprints(url: str, schemas: tuple[str, ...]) -> dict[str, list]:
    """``schema.table`` -> [row count, md5 of the sorted rows] for every table of ``schemas``."""
    result: dict[str, list] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s) "
            "and table_type = 'BASE TABLE' order by 1, 2",
            (list(schemas),),
        ).fetchall()
        for schema, table in tables:
            count, digest = conn.execute(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t"
                ).format(sql.Identifier(schema, table))
            ).fetchone()
            result[f"{schema}.{table}"] = [count, digest]
    return result


def main(out_dir: Path, since: date, end: date) -> int:
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from planwh.db import national_url, warehouse_url
    from planwh.ingest.parsing import VIETNAM_TZ
    from planwh.ingest.reception import sweep
    from planwh.ingest.schema import SOURCES
    from planwh.orchestration.tasks import DAG_SOURCES, Interval, build_warehouse, run_ingest_dag_code
    from planwh.report import build_report
    from planwh.settings import load_settings
    from planwh.sync import export_package, sync_national

    settings = load_settings()
    for source in SOURCES:
        sweep(settings, source, history=True)
    interval = Interval(datetime.combine(since, time(), VIETNAM_TZ), datetime.combine(end, time(), VIETNAM_TZ))
    for round_number in (1, 2):
        report: dict[str, object] = {"round": round_number, "ingest": {}, "gate": {}}
        for dag_id in DAG_SOURCES:
            loaded, gate = run_ingest_dag_code(settings, dag_id, interval)
            report["ingest"][dag_id] = loaded.to_xcom()
            report["gate"][dag_id] = gate.to_xcom()
        report["build"] = build_warehouse(settings, build_id=f"reliability-round-{round_number}")
        report["sync"] = sync_national(settings).summary()
        export = export_package(settings, out_dir / f"export-round-{round_number}")
        report["export"] = str(export.directory)
        report["report"] = str(build_report(settings))
        report["fingerprints"] = fingerprints(warehouse_url(settings), SCHEMAS)
        report["national"] = fingerprints(national_url(settings), ("national",))
        print("ROUND " + json.dumps(report, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3])))
