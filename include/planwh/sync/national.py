"""The national shared database: its versioned schema and how a batch is applied to it.

Schema ``national`` (version 2):

``national.schema_version``
    One row per migration applied (version, applied_at, description). Migrations run in order,
    each once, under an advisory lock, by every sync and package load.
``national.indicator_values``
    Indicator x province (``00`` = national) x year, per deployment: value, numerator and
    denominator, unit, target (operator, value, upper bound, scope, year), baseline and
    trajectory, status, agencies reported/expected, completeness rate.
``national.indicator_values_legacy`` (version 2)
    The same for the 63 legacy provinces over the years they existed (2023-2025), as reported,
    with the current province each merged into and the targets of its own plan.
``national.submission_compliance``
    Province (``00`` = national) x year x kind of report (``year``: the annual report,
    ``quarter``: the quarterly ones), per deployment: reports owed, received, on time, late,
    missing, sent unasked; completeness and timeliness rates (DHIS2-style, percent).
``national.training_coverage``
    Trainee category x province (``00`` = national) x year, per deployment: persons trained
    for the first time that year and in total since 2023 (each person once), the headcount and
    the coverage rate. Aggregates only: no person, course or roster line reaches this database.
``national.indicators``, ``national.province_mapping``
    Indicator metadata and the legacy/current provinces with the 2025 merger, per deployment.
``national.batches``
    The ledger: one row per batch applied, with the deployment, the source's batch sequence,
    schema version, timestamps (started at the source, received, finished, acknowledged),
    rows inserted/updated/deleted in total and per table, the checksum and the status
    (``committed``: applied, not yet acknowledged by the sender; ``acknowledged``; ``loaded``:
    from an offline package, which nobody acknowledges).

A *deployment* is one sending warehouse (a province's, or the ministry's); its rows are keyed
by ``deployment_id`` so deployments never overwrite each other. Every data table has
``row_hash`` (content hash, see :mod:`planwh.sync.contract`), ``batch_id`` (the batch that last
changed the row) and ``updated_at``.

A batch is applied in one transaction: COPY of each file into a temporary table of text, then
typed (SDMX's missing-value markers become NULL, codes the mart values), set-based checks
(structure, actions, codes, types, keys, every row hash re-derived, batch checksum), deletes and
``insert ... on conflict do update`` merges, then the ledger row. Any failure rolls all of it
back. Batches of one deployment are serialised by a transaction-level advisory lock keyed by
the deployment, applied at most once (the ledger is checked under that lock), never older
than what is already there (source sequence), and a delta only on the state it was computed
against (``base_batch_id``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from planwh.db import connect
from planwh.ddl import create_schemas_sql
from planwh.sync.contract import (
    BATCH_CHECKSUM_SQL,
    SCHEMA_VERSION,
    SHARED_TABLES,
    STRUCTURE,
    Batch,
    Column,
    SharedTable,
    quote,
    row_hash_sql,
    sql_literal,
)
from planwh.sync.errors import BatchRejected, SyncError

MIGRATION_LOCK = (10791, 0)
DEPLOYMENT_LOCK_CLASS = 10792

MIGRATION_1 = """
create table national.indicator_values (
    deployment_id uuid not null,
    -- dimensions
    indicator_code text not null,
    province_code text not null,
    year integer not null,
    -- measures
    value numeric,
    numerator numeric,
    denominator numeric,
    unit text,
    -- target and progress
    target_scope text,
    target_operator text,
    target_value numeric,
    target_value_high numeric,
    target_year integer,
    baseline_year integer,
    baseline_value numeric,
    trajectory_value numeric,
    status text,
    -- completeness
    agencies_reported integer,
    agencies_expected integer,
    completeness_rate numeric,
    -- sync
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, indicator_code, province_code, year)
);

create table national.submission_compliance (
    deployment_id uuid not null,
    -- dimensions
    province_code text not null,
    year integer not null,
    period_kind text not null,
    -- rates
    completeness_rate numeric,
    timeliness_rate numeric,
    -- counts of reports owed (agency x period)
    reports_expected integer,
    reports_received integer,
    reports_on_time integer,
    reports_late integer,
    reports_missing integer,
    reports_not_expected integer,
    -- sync
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, province_code, year, period_kind)
);

create table national.training_coverage (
    deployment_id uuid not null,
    -- dimensions
    category_code text not null,
    province_code text not null,
    year integer not null,
    -- coverage
    coverage_rate numeric,
    indicator_code text,
    trainees_new_in_year integer,
    trainees_cumulative integer,
    headcount numeric,
    headcount_agencies integer,
    -- sync
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, category_code, province_code, year)
);

create table national.indicators (
    deployment_id uuid not null,
    indicator_code text not null,
    name_vi text,
    name_en text,
    unit text,
    direction text,
    is_cumulative boolean,
    computation text,
    trainee_category_code text,
    target_operator text,
    target_value numeric,
    target_value_high numeric,
    target_label text,
    target_scope_default text,
    baseline_year integer,
    target_year integer,
    source_reference text,
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, indicator_code)
);

create table national.province_mapping (
    deployment_id uuid not null,
    province_period text not null,
    province_code text not null,
    province_name text,
    province_name_full text,
    province_kind text,
    valid_from date,
    valid_to date,
    current_province_code text,
    current_province_name text,
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, province_period, province_code)
);

create table national.batches (
    batch_id uuid primary key,
    deployment_id uuid not null,
    deployment_name text not null,
    source_sequence bigint not null,
    kind text not null check (kind in ('direct', 'package')),
    mode text not null check (mode in ('delta', 'replace')),
    base_batch_id uuid,
    source_schema_version integer not null,
    started_at timestamptz not null,
    received_at timestamptz not null,
    finished_at timestamptz not null,
    acknowledged_at timestamptz,
    status text not null check (status in ('committed', 'acknowledged', 'loaded')),
    rows_received integer not null,
    rows_inserted integer not null,
    rows_updated integer not null,
    rows_deleted integer not null,
    counts jsonb not null,
    checksum char(64) not null check (checksum ~ '^[0-9a-f]{64}$'),
    unique (deployment_id, source_sequence)
);

comment on schema national is
    'Decision 1079/QĐ-TTg plan data shared by provincial and ministry warehouses (planwh national sync). '
    'Aggregates only; rows keyed by the sending deployment.';
comment on table national.indicator_values is
    'Indicator x province (00 = national) x year per deployment: value, target, status, completeness.';
comment on table national.submission_compliance is
    'Province (00 = national) x year x kind of report per deployment: reports owed, received, on time; rates.';
comment on table national.training_coverage is
    'Trainee category x province (00 = national) x year per deployment: persons trained (each once), headcount.';
comment on table national.indicators is 'Indicator metadata (names, unit, national target) per deployment.';
comment on table national.province_mapping is
    'Legacy (63) and current (34) provinces and the 2025 merger, as each deployment maps them.';
comment on table national.batches is
    'Ledger of applied batches: deployment, source sequence, counts per table, checksum, status.';
comment on column national.indicator_values.province_code is 'Current province code, or 00 for the whole country.';
comment on column national.indicator_values.status is
    'achieved, on track, at risk, off track, no data or not applicable (against a straight line 2023 -> 2028).';
comment on column national.batches.counts is
    'Per table: {"received": n, "inserted": n, "updated": n, "deleted": n}.';
comment on column national.batches.checksum is 'SHA-256 over the sorted row hashes of the batch, one per line.';
"""


MIGRATION_2 = """
create table national.indicator_values_legacy (
    deployment_id uuid not null,
    -- dimensions
    indicator_code text not null,
    province_code text not null,
    year integer not null,
    -- measures
    value numeric,
    current_province_code text,
    numerator numeric,
    denominator numeric,
    unit text,
    -- target and progress
    target_scope text,
    target_operator text,
    target_value numeric,
    target_value_high numeric,
    target_year integer,
    baseline_year integer,
    baseline_value numeric,
    trajectory_value numeric,
    status text,
    -- completeness
    agencies_reported integer,
    agencies_expected integer,
    completeness_rate numeric,
    -- sync
    row_hash char(64) not null,
    batch_id uuid not null,
    updated_at timestamptz not null,
    primary key (deployment_id, indicator_code, province_code, year)
);

comment on table national.indicator_values_legacy is
    'Indicator x legacy province (63, until 2025-06-30) x year per deployment, as reported: value, own-plan target, status.';
comment on column national.indicator_values_legacy.province_code is
    'Legacy province code; the same code may name another current province (52: legacy Bình Định, current Gia Lai).';
comment on column national.indicator_values_legacy.current_province_code is 'The current province it merged into.';
"""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "indicator values, submission compliance, training coverage, metadata, batch ledger", MIGRATION_1),
    Migration(2, "indicator values of the legacy provinces", MIGRATION_2),
)


def open_national(url: str) -> psycopg.Connection:
    """A connection to the national database: autocommit, with explicit transactions."""
    return connect(url, autocommit=True, application_name="planwh sync", client_encoding="UTF8")


def ensure_schema(conn: psycopg.Connection) -> int:
    """Apply the migrations the national database lacks; return its schema version."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
        conn.execute(create_schemas_sql("national"))
        conn.execute(
            """
            create table if not exists national.schema_version (
                version integer primary key,
                applied_at timestamptz not null default now(),
                description text not null
            )
            """
        )
        applied = conn.execute("select coalesce(max(version), 0) from national.schema_version").fetchone()[0]
        if applied > SCHEMA_VERSION:
            raise SyncError(
                f"the national database is at schema version {applied}, newer than this planwh knows "
                f"({SCHEMA_VERSION}): upgrade planwh before syncing"
            )
        for migration in MIGRATIONS:
            if migration.version > applied:
                conn.execute(migration.sql)
                conn.execute(
                    "insert into national.schema_version (version, description) values (%s, %s)",
                    (migration.version, migration.description),
                )
    return SCHEMA_VERSION


@dataclass(frozen=True)
class LedgerEntry:
    batch_id: str
    sequence: int
    status: str
    counts: dict[str, dict[str, int]]


def ledger_entry(conn: psycopg.Connection, batch_id: str) -> LedgerEntry | None:
    row = conn.execute(
        "select batch_id::text, source_sequence, status, counts from national.batches where batch_id = %s",
        (batch_id,),
    ).fetchone()
    return LedgerEntry(*row) if row else None


def latest_batch(conn: psycopg.Connection, deployment_id: str) -> LedgerEntry | None:
    """The deployment's most recent batch applied here (highest source sequence)."""
    row = conn.execute(
        """
        select batch_id::text, source_sequence, status, counts
        from national.batches
        where deployment_id = %s
        order by source_sequence desc
        limit 1
        """,
        (deployment_id,),
    ).fetchone()
    return LedgerEntry(*row) if row else None


def mark_acknowledged(conn: psycopg.Connection, batch_ids: list[str]) -> None:
    """Record that the sender has acknowledged these batches."""
    with conn.transaction():
        conn.execute(
            """
            update national.batches
            set status = 'acknowledged', acknowledged_at = now()
            where batch_id = any(%s::uuid[]) and status = 'committed'
            """,
            (batch_ids,),
        )


@dataclass
class Applied:
    """What applying a batch did (or, for a repeat, what the first application did)."""

    batch_id: str
    already_applied: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, what: str) -> int:
        return sum(c.get(what, 0) for c in self.counts.values())


def apply_batch(
    conn: psycopg.Connection,
    batch: Batch,
    *,
    expected_rows: Mapping[str, int] | None = None,
    commit: bool = True,
) -> Applied:
    """Apply ``batch`` in one transaction; a batch already in the ledger is left alone.

    ``expected_rows`` (table -> data rows, from a package manifest) is checked after COPY.
    ``commit=False`` does everything and rolls back: the counts of a dry run are exact.
    """
    if batch.schema_version != SCHEMA_VERSION:
        raise BatchRejected(
            f"batch {batch.batch_id} is of schema version {batch.schema_version}; this national "
            f"database and planwh handle version {SCHEMA_VERSION}"
        )
    missing = [t.name for t in SHARED_TABLES if t.name not in batch.files]
    if missing:
        raise BatchRejected(f"batch {batch.batch_id} lacks the file(s) of {', '.join(missing)}")
    with conn.transaction() as tx:
        applied = _apply(conn, batch, expected_rows)
        if not commit:
            raise psycopg.Rollback(tx)
    return applied


def _apply(conn: psycopg.Connection, batch: Batch, expected_rows: Mapping[str, int] | None) -> Applied:
    conn.execute("set local datestyle to 'ISO, YMD'")
    conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))", (DEPLOYMENT_LOCK_CLASS, batch.deployment_id))
    done = conn.execute("select counts from national.batches where batch_id = %s", (batch.batch_id,)).fetchone()
    if done:
        return Applied(batch.batch_id, True, done[0])
    latest = conn.execute(
        "select batch_id::text, source_sequence from national.batches where deployment_id = %s "
        "order by source_sequence desc limit 1",
        (batch.deployment_id,),
    ).fetchone()
    if latest and latest[1] >= batch.sequence:
        raise BatchRejected(
            f"batch {batch.batch_id} (sequence {batch.sequence} of deployment {batch.deployment_id}) is older "
            f"than batch {latest[0]} (sequence {latest[1]}) already applied here: loading it would bring back "
            "older figures; export a new package"
        )
    if batch.mode == "delta" and (latest[0] if latest else None) != batch.base_batch_id:
        raise BatchRejected(
            f"batch {batch.batch_id} is a delta on batch {batch.base_batch_id or '(none)'}, but the national "
            f"database's latest batch of this deployment is {latest[0] if latest else '(none)'}: it changed "
            "since the delta was computed; run the sync again"
        )

    counts: dict[str, dict[str, int]] = {}
    for table in SHARED_TABLES:
        received = load_table(conn, table, batch.files[table.name])
        check_table(conn, table, batch.mode)
        if expected_rows is not None and expected_rows.get(table.name) != received:
            raise BatchRejected(
                f"{table.file_name}: {received} data rows, but the manifest says {expected_rows.get(table.name)}"
            )
        counts[table.name] = {"received": received, **merge_table(conn, table, batch)}

    union = " union all ".join(f'select "ROW_HASH" as row_hash from {_temp(t)}' for t in SHARED_TABLES)
    checksum = conn.execute(f"select {BATCH_CHECKSUM_SQL} from ({union}) as hashes").fetchone()[0]
    if checksum != batch.checksum:
        raise BatchRejected(
            f"batch {batch.batch_id}: the checksum of the rows received ({checksum}) differs from the "
            f"batch's ({batch.checksum}); the batch was altered or truncated on the way"
        )

    applied = Applied(batch.batch_id, False, counts)
    conn.execute(
        """
        insert into national.batches (
            batch_id, deployment_id, deployment_name, source_sequence, kind, mode, base_batch_id,
            source_schema_version, started_at, received_at, finished_at, status,
            rows_received, rows_inserted, rows_updated, rows_deleted, counts, checksum
        )
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), clock_timestamp(), %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            batch.batch_id, batch.deployment_id, batch.deployment_name, batch.sequence, batch.kind,
            batch.mode, batch.base_batch_id, batch.schema_version, batch.created_at,
            "loaded" if batch.kind == "package" else "committed",
            applied.total("received"), applied.total("inserted"), applied.total("updated"),
            applied.total("deleted"), json.dumps(counts), batch.checksum,
        ),
    )
    return applied


def _temp(table: SharedTable) -> str:
    return f"sync_in_{table.name}"


def _in(column: Column) -> str:
    return f"i.{quote(column.header)}"


def _describe_key(conn: psycopg.Connection, table: SharedTable, line: int) -> str:
    values = conn.execute(
        f"select {', '.join(quote(c.header) for c in table.key)} from {_temp(table)} where _line = %s", (line,)
    ).fetchone()
    return ", ".join(f"{c.header}={v}" for c, v in zip(table.key, values, strict=True))


def _raw(table: SharedTable) -> str:
    return f"sync_raw_{table.name}"


def _decoded(column: Column) -> str:
    """SQL reading a raw text field: the missing-value marker is NULL, a code its mart value."""
    raw = f"r.{quote(column.header)}"
    value = raw
    if column.code_map:
        cases = " ".join(f"when {sql_literal(code)} then {sql_literal(v)}" for v, code in column.code_map.items())
        value = f"(case {raw} {cases} end)"
    return f"(case when {raw} = {sql_literal(column.missing)} then null else {value} end)"


def load_table(conn: psycopg.Connection, table: SharedTable, data: bytes) -> int:
    """COPY one SDMX-CSV file into a temporary table of text, then type it; return its data rows.

    A field that is not a code of its codelist or not of its column's type is refused with
    its data row and column.
    """
    first_line = data.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = next(csv.reader([first_line.decode("utf-8")]), [])
    except UnicodeDecodeError as exc:
        raise BatchRejected(f"{table.file_name}: the header is not UTF-8 ({exc})") from exc
    if tuple(header) != table.headers:
        raise BatchRejected(
            f"{table.file_name}: header {','.join(header) or '(empty)'} differs from the expected "
            f"{','.join(table.headers)}"
        )
    raw = _raw(table)
    columns = ", ".join(f"{quote(h)} text" for h in table.headers)
    conn.execute(f"create temp table {raw} (_line bigint generated always as identity, {columns}) on commit drop")
    listed = ", ".join(quote(h) for h in table.headers)
    try:
        with conn.cursor().copy(f"copy {raw} ({listed}) from stdin (format csv, header true)") as copy:
            copy.write(data)
    except psycopg.DataError as exc:
        where = exc.diag.context or ""
        raise BatchRejected(f"{table.file_name}: {exc.diag.message_primary} ({where.strip()})") from exc
    for column in table.columns:
        _check_field(conn, table, column)
    typed = ", ".join(f"{_decoded(c)}::{c.type} as {quote(c.header)}" for c in table.columns)
    conn.execute(
        f'create temp table {_temp(table)} on commit drop as select r._line, r."STRUCTURE", r."STRUCTURE_ID", '
        f'r."ACTION", {typed}, r."ROW_HASH" from {raw} as r'
    )
    return conn.execute(f"select count(*) from {_temp(table)}").fetchone()[0]


def _check_field(conn: psycopg.Connection, table: SharedTable, column: Column) -> None:
    """The first data row whose field is neither a code of the column's codelist nor of its type."""
    field = f"r.{quote(column.header)}"
    if column.code_map:
        codes = ", ".join(sql_literal(code) for code in column.code_map.values())
        bad = f"{field} not in ({codes}, {sql_literal(column.missing)})"
        expected = f"a code of {column.codelist} ({', '.join(column.code_map.values())}) or {column.missing}"
    elif column.type != "text" and conn.info.server_version >= 160000:
        bad = f"{field} <> {sql_literal(column.missing)} and not pg_input_is_valid({field}, {sql_literal(column.type)})"
        expected = f"a value of type {column.type} or {column.missing}"
    else:
        return
    found = conn.execute(f"select r._line, {field} from {_raw(table)} as r where {bad} order by r._line limit 1").fetchone()
    if found:
        raise BatchRejected(
            f"{table.file_name}, data row {found[0]}, {column.header}: {found[1]!r} is not {expected}"
        )


def check_table(conn: psycopg.Connection, table: SharedTable, mode: str) -> None:
    """Set-based checks of a loaded file; the first problem found is raised with its row."""
    temp = _temp(table)
    actions = "('I')" if mode == "replace" else "('I', 'U', 'D')"
    null_key = " or ".join(f"{quote(c.header)} is null" for c in table.key)
    recomputed = row_hash_sql(table, lambda c: quote(c.header))
    checks = (
        ('"STRUCTURE" is distinct from %(structure)s or "STRUCTURE_ID" is distinct from %(structure_id)s',
         f"STRUCTURE/STRUCTURE_ID must be {STRUCTURE}/{table.structure_id}"),
        (f'"ACTION" is null or "ACTION" not in {actions}',
         "ACTION must be I in a full snapshot" if mode == "replace" else "ACTION must be I, U or D"),
        (null_key, "a dimension is empty"),
        ("\"ROW_HASH\" is null or \"ROW_HASH\" !~ '^[0-9a-f]{64}$'", "ROW_HASH must be 64 hexadecimal digits"),
        (f"\"ACTION\" <> 'D' and \"ROW_HASH\" is distinct from {recomputed}",
         "ROW_HASH does not match the row's content (the row was changed after it was hashed)"),
    )
    select = ", ".join(f"min(_line) filter (where {condition})" for condition, _ in checks)
    found = conn.execute(
        f"select {select} from {temp}", {"structure": STRUCTURE, "structure_id": table.structure_id}
    ).fetchone()
    for line, (_, message) in zip(found, checks, strict=True):
        if line is not None:
            raise BatchRejected(f"{table.file_name}, data row {line}: {message}")
    keys = ", ".join(quote(c.header) for c in table.key)
    duplicate = conn.execute(
        f"select min(_line) from (select _line, count(*) over (partition by {keys}) as n from {temp}) as k "
        "where n > 1"
    ).fetchone()[0]
    if duplicate is not None:
        raise BatchRejected(
            f"{table.file_name}, data row {duplicate}: the key ({_describe_key(conn, table, duplicate)}) "
            "appears more than once"
        )


def merge_table(conn: psycopg.Connection, table: SharedTable, batch: Batch) -> dict[str, int]:
    """Deletes, then one ``insert ... on conflict do update`` of the table's rows in the batch.

    An upsert whose row hash equals the stored one changes nothing (not even updated_at): a
    full snapshot only touches what differs.
    """
    target = f"national.{table.name}"
    temp = _temp(table)
    same_key = " and ".join(f"t.{quote(c.name)} = {_in(c)}" for c in table.key)
    params = {"deployment": batch.deployment_id, "batch": batch.batch_id}
    if batch.mode == "replace":
        deleted = conn.execute(
            f"delete from {target} as t where t.deployment_id = %(deployment)s "
            f"and not exists (select 1 from {temp} as i where {same_key})",
            params,
        ).rowcount
    else:
        deleted = conn.execute(
            f"delete from {target} as t using {temp} as i "
            f"where t.deployment_id = %(deployment)s and i.\"ACTION\" = 'D' and {same_key}",
            params,
        ).rowcount
    names = [c.name for c in table.columns]
    insert_columns = ", ".join(["deployment_id", *map(quote, names), "row_hash", "batch_id", "updated_at"])
    values = ", ".join(["%(deployment)s::uuid", *(_in(c) for c in table.columns), 'i."ROW_HASH"',
                        "%(batch)s::uuid", "now()"])
    updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in [*names, "row_hash", "batch_id", "updated_at"])
    conflict = ", ".join(["deployment_id", *(quote(c.name) for c in table.key)])
    inserted, updated = conn.execute(
        f"""
        with upserted as (
            insert into {target} as t ({insert_columns})
            select {values} from {temp} as i where i."ACTION" in ('I', 'U')
            on conflict ({conflict}) do update set {updates}
            where t.row_hash is distinct from excluded.row_hash
            returning (xmax = 0) as is_insert
        )
        select count(*) filter (where is_insert), count(*) filter (where not is_insert) from upserted
        """,
        params,
    ).fetchone()
    return {"inserted": inserted, "updated": updated, "deleted": deleted}


def read_rows(conn: psycopg.Connection, table: SharedTable, deployment_id: str | None = None) -> list[tuple]:
    """A national table's mapped columns (and row hash), sorted by key; for checks and tests."""
    columns = ", ".join([*(quote(c.name) for c in table.columns), "row_hash"])
    order = ", ".join(quote(c.name) for c in table.key)
    where = "where deployment_id = %s" if deployment_id else ""
    rows = conn.execute(
        f"select {columns} from national.{table.name} {where} order by {order}",
        (deployment_id,) if deployment_id else (),
    ).fetchall()
    return rows


def overview(conn: psycopg.Connection) -> list[tuple]:
    """Per deployment: name, id, provinces (00 aside), indicators, first and last year, rows, last batch."""
    return conn.execute(
        """
        with latest as (
            select distinct on (deployment_id) deployment_id, deployment_name, finished_at
            from national.batches
            order by deployment_id, source_sequence desc
        )
        select
            latest.deployment_name,
            latest.deployment_id::text,
            count(distinct v.province_code) filter (where v.province_code <> '00'),
            count(distinct v.indicator_code),
            min(v.year),
            max(v.year),
            count(v.indicator_code),
            latest.finished_at
        from latest
        left join national.indicator_values as v on v.deployment_id = latest.deployment_id
        group by latest.deployment_name, latest.deployment_id, latest.finished_at
        order by latest.deployment_name
        """
    ).fetchall()
