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


# What a file id stands for when two warehouses loaded the same files in another order.
FILE_KEY = "(select f.source || ':' || f.original_name || ':' || coalesce(f.sha256, '') from landing.files as f " \
           "where f.file_id = {ref})"
# What a reception id stands for: the landing file registered (source, path, SHA-256).
RECEPTION_KEY = "(select r.source || ':' || r.path || ':' || coalesce(r.sha256, '') from landing.receptions as r " \
                "where r.reception_id = {ref})"
# Columns that record where or when a load ran, not what it loaded: the archive under the state
# folder, the time of loading, when a sweep saw or a run claimed a file (the reception time they
# give it, received_at, is content).
LOAD_CIRCUMSTANCES = {
    ("landing", "files", "archive_path"), ("landing", "files", "loaded_at"),
    ("landing", "receptions", "archive_path"), ("landing", "receptions", "first_seen_at"),
    ("landing", "receptions", "registered_at"), ("landing", "receptions", "taken_at"),
}
# Tables that are the sweeps' own bookkeeping (when each folder was looked at, what was on disk then).
SWEEP_BOOKKEEPING = {("landing", "sweeps"), ("landing", "observations")}
# Text that names a file by its id ("the same bytes were already received as file 128"): the id is
# compared through duplicate_of_file_id, the rest of the text as it is.
ID_IN_TEXT = {("landing", "files", "reason"): r"regexp_replace(t.{}, 'file \d+', 'file #', 'g')"}


def table_fingerprints(url: str, schema: str, *, by_file: bool = False) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the sorted rows of every table in ``schema``.

    ``by_file``: every file id (``file_id``, ``*_file_id``) is replaced by the file it stands for
    (source, name, SHA-256), every reception id by the landing file it registered, and the load
    circumstances and the sweeps' bookkeeping are left out, so two warehouses that loaded the same
    files in another order (parallel DAG runs, two executors) compare equal.
    """
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
            if by_file and (schema, table) in SWEEP_BOOKKEEPING:
                continue
            if by_file:
                columns = [
                    sql.SQL(FILE_KEY.format(ref="t.{}")).format(sql.Identifier(name))
                    if name == "file_id" or name.endswith("_file_id")
                    else sql.SQL(RECEPTION_KEY.format(ref="t.{}")).format(sql.Identifier(name))
                    if name == "reception_id"
                    else sql.SQL(ID_IN_TEXT[(schema, table, name)]).format(sql.Identifier(name))
                    if (schema, table, name) in ID_IN_TEXT else sql.SQL("t.{}").format(sql.Identifier(name))
                    for name, in conn.execute(
                        "select column_name from information_schema.columns where table_schema = %s "
                        "and table_name = %s order by ordinal_position",
                        (schema, table),
                    )
                    if (schema, table, name) not in LOAD_CIRCUMSTANCES
                ]
                rows = sql.SQL("(select row({}) as r from {} as t)").format(
                    sql.SQL(", ").join(columns), sql.Identifier(schema, table)
                )
                query = sql.SQL(
                    "select count(*), md5(coalesce(string_agg(s.r::text, '|' order by s.r::text), '')) from {} as s"
                ).format(rows)
            else:
                query = sql.SQL(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t"
                ).format(sql.Identifier(schema, table))
            result[table] = conn.execute(query).fetchone()
    return result


def warehouse_content(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the ledger, raw, published, quarantine and the marts, by file (see
    ``table_fingerprints``): what two runs of the same days must agree on, whatever the executor."""
    content = {}
    for schema in ("landing", "raw", "published", "quarantine", "marts"):
        content.update({f"{schema}.{k}": v for k, v in table_fingerprints(url, schema, by_file=True).items()})
    return content


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
