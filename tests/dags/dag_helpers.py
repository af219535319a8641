"""Helpers for the DAG tests: a small clean sample, a planted gate failure, warehouse fingerprints.

Airflow itself always runs in child processes (``planwh.orchestration.local_run`` and
``scheduler``): it reads its configuration once, at import, and the test process never imports it.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path

import psycopg
from psycopg import sql

from planwh.ingest.parsing import VIETNAM_TZ
from planwh.sample import SampleSpec, generate_sample
from planwh.settings import Settings

SMALL_SAMPLE = SampleSpec(provinces=2, years=(2024,), portal_days=3, fault_rate=0)
# Portal day D is exported at 01:xx the next morning: the three portal files of the small sample
# are received on these Viet Nam days.
PORTAL_RECEIVED_DAYS = [date(2024, 12, 2), date(2024, 12, 3), date(2024, 12, 4)]


def write_sample(settings: Settings, spec: SampleSpec = SMALL_SAMPLE) -> None:
    generate_sample(settings.landing_dir, spec, clean=True)


def stamp(path: Path, day: date, hour: int = 9) -> None:
    """Give ``path`` a reception time on the Viet Nam day ``day`` (its modification time)."""
    moment = datetime.combine(day, time(hour), VIETNAM_TZ).timestamp()
    os.utime(path, (moment, moment))


def plant_handled_exceeds_detected(settings: Settings, day: date) -> Path:
    """An agency (registered that morning) whose report passes ingestion row by row but says more
    fake news was handled than detected: only the gate's cross-row rule ``handled_exceeds_detected``
    (error level) catches it."""
    register = settings.landing_dir / "agencies" / "danh-muc_gx.csv"
    register.parent.mkdir(parents=True, exist_ok=True)
    register.write_text(
        "Mã đơn vị,Tên đơn vị,Mã tỉnh,Loại đơn vị,Chế độ báo cáo,Hiệu lực từ,Hiệu lực đến\r\n"
        "GXTEST,Sở Thông tin và Truyền thông,48,department,annual,01/01/2023,\r\n",
        encoding="utf-8-sig",
    )
    stamp(register, day, hour=8)
    report = settings.landing_dir / "submissions" / "bao-cao_gx.csv"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        "Mã tỉnh,Mã đơn vị,Tên đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Giá trị,Ghi chú,Ngày báo cáo\r\n"
        "48,GXTEST,Sở TT&TT,2024,fake_news_detected,5,,20/11/2024\r\n"
        "48,GXTEST,Sở TT&TT,2024,fake_news_handled,9,,20/11/2024\r\n"
        "48,GXTEST,Sở TT&TT,2024,books_published,3,,20/11/2024\r\n",
        encoding="utf-8-sig",
    )
    stamp(report, day, hour=9)
    return report


def table_fingerprints(url: str, schema: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the sorted rows of every table in ``schema``."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s "
                "and table_type = 'BASE TABLE' order by 1",
                (schema,),
            )
        ]
        result = {}
        for table in tables:
            query = sql.SQL(
                "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t"
            )
            count, digest = conn.execute(query.format(sql.Identifier(schema, table))).fetchone()
            result[table] = (count, digest)
    return result


# A log of runs, not data: each live run records that it swept the landing folders (the lower bound of
# the next files' reception window), a re-run too.
RUN_LOGS = {"landing.sweeps"}


def warehouse_state(url: str) -> dict[str, object]:
    """What a re-run must not change: the ledger, the gate's verdicts, published and mart rows."""
    state: dict[str, object] = {}
    for schema in ("landing", "published", "marts", "quarantine"):
        state.update({f"{schema}.{k}": v for k, v in table_fingerprints(url, schema).items()
                      if f"{schema}.{k}" not in RUN_LOGS})
    with psycopg.connect(url) as conn:
        state["audit.batches"] = conn.execute(
            "select count(*), max(validated_at) from audit.batches"
        ).fetchone()
    return state
