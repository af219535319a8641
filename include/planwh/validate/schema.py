"""The tables the gate writes: published data, the verdict of each file, and validation history.

``published.<t>``
    Exactly ``create table published.<t> (like raw.<t> including all)`` for every raw table (and
    an index on ``portal_statistics (portal, stat_date)`` for the gate's volume rule):
    the rows of loaded files that passed the gate, the only data dbt reads. A file's rows are
    replaced as a whole (delete-then-insert on ``file_id``), so validating twice is harmless.
``audit.batches``
    One row per validated file: its verdict (``passed``, ``warned``, ``failed``), whether the
    whole file was held back, and ``rows_loaded = rows_published + rows_quarantined`` (a check
    constraint). A loaded file without a row here is pending.
``audit.validation_runs``
    One row per suite validated on one batch (a file's rows, or a mart table), never updated.
``audit.expectation_results``
    One row per expectation of each run, with counts and a sample of unexpected values (at most
    20; the values of personal columns are never stored).

The DDL only adds, as ingestion's does: the history is what BI queries, and nothing rebuilds it.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from planwh.ddl import create_schemas_sql
from planwh.ingest.schema import RAW_COLUMNS, ensure_schema

PUBLISHED_TABLES = tuple(name.split(".", 1)[1] for name in RAW_COLUMNS)

DDL = create_schemas_sql("published", "audit") + """

create table if not exists audit.batches (
    file_id bigint primary key references landing.files (file_id),
    source text not null,
    validation_status text not null check (validation_status in ('passed', 'warned', 'failed')),
    batch_quarantined boolean not null,
    rows_loaded integer not null check (rows_loaded >= 0),
    rows_published integer not null check (rows_published >= 0),
    rows_quarantined integer not null check (rows_quarantined >= 0),
    failed_rules text[] not null default '{}',
    message text,
    gate_run_id uuid not null,
    validated_at timestamptz not null,
    constraint batches_rows_add_up check (rows_loaded = rows_published + rows_quarantined),
    constraint batches_quarantined_holds_all check (not batch_quarantined or rows_published = 0)
);

create table if not exists audit.validation_runs (
    run_id uuid primary key,
    gate_run_id uuid not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    suite text not null,
    data_asset text not null,
    file_id bigint references landing.files (file_id),
    source text,
    success boolean not null,
    evaluated integer not null,
    successful integer not null,
    unsuccessful integer not null,
    gx_version text not null
);
create index if not exists validation_runs_file on audit.validation_runs (file_id);
create index if not exists validation_runs_suite_time on audit.validation_runs (suite, started_at);

create table if not exists audit.expectation_results (
    run_id uuid not null references audit.validation_runs (run_id),
    rule text not null,
    file_id bigint references landing.files (file_id),
    expectation_type text not null,
    column_name text,
    kwargs jsonb not null,
    severity text not null check (severity in ('error', 'warning')),
    on_failure text not null,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double precision,
    unexpected_sample jsonb,
    exception_message text,
    primary key (run_id, rule)
);
create index if not exists expectation_results_failed on audit.expectation_results (rule) where not success;
"""


def _table_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute as a
        where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
        order by a.attnum
        """,
        (f"{schema}.{table}",),
    ).fetchall()
    return dict(rows)


SCHEMA_VERSION = "planwh validation gate schema 2"


def _missing_columns(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(table, column, type) of raw columns that published lacks (every column of a missing table)."""
    missing = []
    for table in PUBLISHED_TABLES:
        published = _table_columns(conn, "published", table)
        missing += [
            (table, c, t) for c, t in _table_columns(conn, "raw", table).items() if c not in published
        ]
    return missing


def _is_current(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'audit'"
    ).fetchone()
    return row is not None and row[0] == SCHEMA_VERSION and not _missing_columns(conn)


def ensure_published_schema(conn: psycopg.Connection) -> None:
    """Create ``published.*`` (like ``raw.*``) and the audit tables if missing; safe to repeat.

    A column that ingestion later adds to a raw table is added to its published twin too, so
    publishing (which names the published table's columns) keeps working. When everything is in
    place only catalog lookups run (``create ... if not exists`` would still take locks that
    wait for a run publishing a file). The work is committed on return unless the caller had a
    transaction open: the advisory lock serialising concurrent runs must not outlive the call.
    """
    caller_in_transaction = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    ensure_schema(conn)
    if not _is_current(conn):
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtextextended('planwh.validate.schema', 0))")
            if not _is_current(conn):
                conn.execute(DDL)
                for table in PUBLISHED_TABLES:
                    conn.execute(
                        sql.SQL("create table if not exists {} (like {} including all)").format(
                            sql.Identifier("published", table), sql.Identifier("raw", table)
                        )
                    )
                # the gate's volume rule reads one portal's 28 days before a batch: without this
                # index it aggregated every published portal row for every file
                conn.execute(
                    "create index if not exists portal_statistics_portal_day"
                    " on published.portal_statistics (portal, stat_date)"
                )
                for table, column, type_name in _missing_columns(conn):
                    conn.execute(
                        sql.SQL("alter table {} add column {} {}").format(
                            sql.Identifier("published", table), sql.Identifier(column), sql.SQL(type_name)
                        )
                    )
                conn.execute(sql.SQL("comment on schema audit is {}").format(sql.Literal(SCHEMA_VERSION)))
    if not caller_in_transaction and not conn.autocommit:
        conn.commit()


def published_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The columns of ``published.<table>`` that ``raw.<table>`` also has, in table order."""
    raw = _table_columns(conn, "raw", table)
    return [c for c in _table_columns(conn, "published", table) if c in raw]
