"""The warehouse side of the national sync: schema ``sync``, the deployment, the lock, deltas.

Schema ``sync`` in the warehouse:

``sync.deployment``
    One row: this warehouse's deployment id (a UUID generated on the first sync or export)
    and a name. The national database keys every row it receives by this id.
``sync.batches``
    Every batch prepared here, with the same batch id as on the national side, its sequence
    (increasing: the national side refuses a batch older than one it holds), kind (``direct``
    or ``package``), mode (``delta`` or ``replace``), counts, checksum and status:
    ``pending`` (prepared, not yet known to be applied), ``acknowledged`` (applied on the
    national side and recorded here), ``failed`` (never applied there; its changes go in a
    later batch) or ``exported`` (written as an offline package).
``sync.batch_rows``
    The keys, actions and row hashes of each pending batch: what to acknowledge once the
    national side confirms it, even if the marts changed in the meantime.
``sync.acknowledged_rows``
    For each shared table and key, the row hash the national database holds (as far as this
    warehouse knows). The next delta is the marts compared with it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
from psycopg import sql

from planwh.db import connect
from planwh.ddl import create_schemas_sql
from planwh.sync.contract import (
    SCHEMA_VERSION,
    SHARED_TABLES,
    STRUCTURE,
    Batch,
    Column,
    SharedTable,
    batch_checksum,
    quote,
    row_hash_sql,
    row_key_sql,
    sql_literal,
)
from planwh.sync.errors import MartsNotReady, SyncBusy, SyncError

SOURCE_LOCK = (10790, 1)
ACTIONS = {"I": "inserted", "U": "updated", "D": "deleted"}

DDL = create_schemas_sql("sync") + """

create table if not exists sync.deployment (
    singleton boolean primary key default true check (singleton),
    deployment_id uuid not null unique,
    name text not null,
    created_at timestamptz not null default now()
);

create table if not exists sync.batches (
    batch_id uuid primary key,
    sequence bigint generated always as identity unique,
    deployment_id uuid not null references sync.deployment (deployment_id),
    kind text not null check (kind in ('direct', 'package')),
    mode text not null check (mode in ('delta', 'replace')),
    base_batch_id uuid,
    schema_version integer not null,
    created_at timestamptz not null,
    acknowledged_at timestamptz,
    target_acknowledged_at timestamptz,
    status text not null check (status in ('pending', 'acknowledged', 'failed', 'exported')),
    rows_sent integer not null,
    counts jsonb not null,
    applied_counts jsonb,
    checksum char(64) not null,
    package_path text,
    error text
);

create table if not exists sync.batch_rows (
    batch_id uuid not null references sync.batches (batch_id) on delete cascade,
    table_name text not null,
    row_key jsonb not null,
    action char(1) not null check (action in ('I', 'U', 'D')),
    row_hash char(64) not null,
    primary key (batch_id, table_name, row_key)
);

create table if not exists sync.acknowledged_rows (
    table_name text not null,
    row_key jsonb not null,
    row_hash char(64) not null,
    batch_id uuid not null,
    acknowledged_at timestamptz not null,
    primary key (table_name, row_key)
);
"""


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    name: str


@dataclass(frozen=True)
class Prepared:
    """A delta or snapshot computed from the marts; ``batch`` is None for a dry run."""

    mode: str
    counts: dict[str, dict[str, int]]  # table -> rows to be inserted/updated/deleted
    batch: Batch | None

    @property
    def rows(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def open_warehouse(url: str) -> psycopg.Connection:
    """A connection for the sync's own work: autocommit, with explicit transactions."""
    return connect(url, autocommit=True, application_name="planwh sync", client_encoding="UTF8")


@contextlib.contextmanager
def locked(url: str, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse's sync lock (session advisory lock) for the block.

    Waits up to ``wait_seconds`` for another sync or export to finish, then raises
    :class:`SyncBusy` naming the session that holds it. The lock lives on its own connection:
    if the process dies, PostgreSQL releases it with the session.
    """
    conn = connect(url, autocommit=True, application_name="planwh sync lock")
    try:
        deadline = time.monotonic() + max(wait_seconds, 0)
        while not conn.execute("select pg_try_advisory_lock(%s, %s)", SOURCE_LOCK).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise SyncBusy(_busy_message(conn, wait_seconds))
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("select pg_advisory_unlock(%s, %s)", SOURCE_LOCK)
    finally:
        conn.close()


def _busy_message(conn: psycopg.Connection, wait_seconds: float) -> str:
    holder = conn.execute(
        """
        select a.pid, a.application_name, a.backend_start
        from pg_locks as l
        inner join pg_stat_activity as a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.classid = %s and l.objid = %s
            and l.database = (select oid from pg_database where datname = current_database())
        """,
        SOURCE_LOCK,
    ).fetchone()
    who = (
        f" (PostgreSQL backend {holder[0]}, '{holder[1]}', connected since {holder[2]:%Y-%m-%d %H:%M:%S %Z})"
        if holder
        else ""
    )
    return (
        f"another national sync or export of this warehouse is running{who}; gave up after waiting "
        f"{wait_seconds:g} s. Run again when it has finished (or wait longer with --wait SECONDS)."
    )


def ensure_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(DDL)


def ensure_deployment(conn: psycopg.Connection, name: str | None = None) -> Deployment:
    """This warehouse's deployment, created on first use; ``name`` renames it."""
    with conn.transaction():
        row = conn.execute("select deployment_id::text, name from sync.deployment for update").fetchone()
        if row is None:
            default = f"{conn.info.dbname}@{socket.gethostname()}"
            row = conn.execute(
                "insert into sync.deployment (deployment_id, name) values (%s, %s) returning deployment_id::text, name",
                (str(uuid.uuid4()), name or default),
            ).fetchone()
        elif name and name != row[1]:
            row = conn.execute(
                "update sync.deployment set name = %s returning deployment_id::text, name", (name,)
            ).fetchone()
    return Deployment(*row)


def check_marts(conn: psycopg.Connection) -> None:
    """Every shared mart exists with every mapped column; else say which and what to run."""
    found: dict[str, set[str]] = {}
    for table_name, column_name in conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = any(%s)",
        ([t.mart for t in SHARED_TABLES],),
    ):
        found.setdefault(table_name, set()).add(column_name)
    problems = []
    for table in SHARED_TABLES:
        if table.mart not in found:
            problems.append(f"marts.{table.mart} does not exist (it feeds national.{table.name})")
            continue
        missing = [c.source for c in table.columns if c.source not in found[table.mart]]
        if missing:
            problems.append(f"marts.{table.mart} lacks column(s) {', '.join(missing)} (national.{table.name})")
    if problems:
        raise MartsNotReady(
            "the warehouse's marts are not ready for the national sync: " + "; ".join(problems)
            + ". Build them with `planwh transform`; if a mart was renamed, update include/planwh/sync/contract.py."
        )


def _lock_marts(conn: psycopg.Connection) -> None:
    """Share-lock the marts before the snapshot is taken (LOCK must precede any query).

    dbt replaces a mart table by renaming a new one into place; a snapshot taken before that
    commit would see the new table empty and the sync would send every row as deleted. With
    the lock, a rebuild waits for the sync, or the sync waits for the rebuild and sees it.
    """
    marts = ", ".join(f"marts.{quote(mart)}" for mart in dict.fromkeys(t.mart for t in SHARED_TABLES))
    try:
        conn.execute(f"lock table {marts} in access share mode")
    except psycopg.errors.UndefinedTable as exc:
        raise MartsNotReady(
            f"a mart disappeared while the sync started ({exc.diag.message_primary}): was a dbt build "
            "running? Run the sync again when it has finished."
        ) from exc


def _stage_current(conn: psycopg.Connection, table: SharedTable) -> None:
    """Temporary ``sync_cur_<table>``: the mart's mapped columns, typed, with key and hash."""
    casts = ", ".join(f"m.{quote(c.source)}::{c.type} as {quote(c.name)}" for c in table.columns)
    key = row_key_sql(table, lambda c: f"s.{quote(c.name)}")
    digest = row_hash_sql(table, lambda c: f"s.{quote(c.name)}")
    conn.execute(
        f"create temp table sync_cur_{table.name} on commit drop as "
        f"select s.*, {key} as row_key, {digest} as row_hash "
        f"from (select {casts} from marts.{quote(table.mart)} as m) as s"
    )
    null_key = " or ".join(f"{quote(c.name)} is null" for c in table.key)
    problem = conn.execute(
        f"""
        select 'an empty key column' as problem, row_key::text from sync_cur_{table.name} where {null_key}
        union all
        (select 'a key shared by several rows', row_key::text from sync_cur_{table.name}
         group by row_key having count(*) > 1)
        limit 1
        """
    ).fetchone()
    if problem:
        raise SyncError(
            f"marts.{table.mart} has {problem[0]} ({problem[1]}): national.{table.name} needs one row per "
            f"{', '.join(c.source for c in table.key)}"
        )
    for column in table.columns:
        if column.code_map is None:
            continue
        unknown = conn.execute(
            f"select {quote(column.name)}, row_key::text from sync_cur_{table.name} "
            f"where {quote(column.name)} is not null and not ({quote(column.name)} = any(%s)) limit 1",
            (list(column.code_map),),
        ).fetchone()
        if unknown:
            raise SyncError(
                f"marts.{table.mart}, row {unknown[1]}: {column.source} {unknown[0]!r} is none of the codes of "
                f"{column.codelist} ({', '.join(column.code_map)}); add it to planwh/sync/contract.py"
            )


def _stage_delta(conn: psycopg.Connection, table: SharedTable, mode: str) -> dict[str, int]:
    """Temporary ``sync_delta_<table>``: key, action and row hash of each row to send."""
    if mode == "replace":
        conn.execute(
            f"create temp table sync_delta_{table.name} on commit drop as "
            f"select row_key, 'I'::char(1) as action, row_hash from sync_cur_{table.name}"
        )
    else:
        conn.execute(
            f"""
            create temp table sync_delta_{table.name} on commit drop as
            select
                coalesce(c.row_key, a.row_key) as row_key,
                (case when a.row_key is null then 'I' when c.row_key is null then 'D' else 'U' end)::char(1)
                    as action,
                coalesce(c.row_hash, a.row_hash) as row_hash
            from sync_cur_{table.name} as c
            full join (
                select row_key, row_hash from sync.acknowledged_rows where table_name = %s
            ) as a on c.row_key = a.row_key
            where a.row_key is null or c.row_key is null or a.row_hash <> c.row_hash
            """,
            (table.name,),
        )
    counts = dict.fromkeys(ACTIONS.values(), 0)
    for action, n in conn.execute(f"select action, count(*) from sync_delta_{table.name} group by action"):
        counts[ACTIONS[action]] = n
    return counts


def _as_code(column: Column, ref: str) -> str:
    """SQL writing a value as the files carry it: the code of a mapped codelist, booleans as true/false."""
    if column.code_map:
        cases = " ".join(f"when {sql_literal(value)} then {sql_literal(code)}" for value, code in column.code_map.items())
        return f"(case {ref} {cases} end)"
    return f"{ref}::text"


def _export_csv(conn: psycopg.Connection, table: SharedTable) -> bytes:
    """The table's delta as SDMX-CSV; a deleted row carries its key only.

    Key values come from the row key for deleted rows; other values are written as codes,
    a NULL as SDMX's missing-value marker of its type.
    """
    columns = []
    for column in table.columns:
        if column.is_key:
            value = _as_code(column, f"coalesce(c.{quote(column.name)}, (d.row_key ->> '{column.name}')::{column.type})")
        else:
            value = (
                f"case when d.action = 'D' then null "
                f"else coalesce({_as_code(column, f'c.{quote(column.name)}')}, {sql_literal(column.missing)}) end"
            )
        columns.append(f"{value} as {quote(column.header)}")
    order = ", ".join(str(4 + i) for i, c in enumerate(table.columns) if c.is_key)
    query = sql.SQL(
        "copy (select {structure} as \"STRUCTURE\", {structure_id} as \"STRUCTURE_ID\", "
        "d.action::text as \"ACTION\", " + ", ".join(columns) + ", d.row_hash::text as \"ROW_HASH\" "
        f"from sync_delta_{table.name} as d left join sync_cur_{table.name} as c on c.row_key = d.row_key "
        f"order by {order}) to stdout (format csv, header true)"
    ).format(structure=sql.Literal(STRUCTURE), structure_id=sql.Literal(table.structure_id))
    out = bytearray()
    with conn.cursor().copy(query) as copy:
        for chunk in copy:
            out += chunk
    return bytes(out)


def prepare_batch(
    conn: psycopg.Connection,
    deployment: Deployment,
    *,
    kind: str,
    mode: str,
    base_batch_id: str | None,
    dry_run: bool = False,
    package_path: str | None = None,
    on_prepared: Callable[[Batch], None] | None = None,
) -> Prepared | None:
    """Compute the batch from the marts and record it in ``sync.batches``, in one transaction.

    Returns None when a delta finds nothing to send (no batch is recorded: an unchanged
    warehouse leaves no trace in either ledger). The marts are share-locked, then read in one
    repeatable-read snapshot, so a table being replaced by dbt is never read half-way. ``on_prepared``
    runs before the commit (an export writes its files there): if it fails, no batch is recorded.
    """
    check_marts(conn)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with conn.transaction() as tx:
            _lock_marts(conn)
            conn.execute("set local datestyle to 'ISO, YMD'")
            counts = {}
            for table in SHARED_TABLES:
                _stage_current(conn, table)
                counts[table.name] = _stage_delta(conn, table, mode)
            planned = Prepared(mode, counts, None)
            if dry_run:
                raise psycopg.Rollback(tx)
            if mode == "delta" and planned.rows == 0:
                return None
            batch_id = str(uuid.uuid4())
            hashes = [
                r[0]
                for t in SHARED_TABLES
                for r in conn.execute(f"select row_hash from sync_delta_{t.name}")
            ]
            checksum = batch_checksum(hashes)
            sequence, created_at = conn.execute(
                """
                insert into sync.batches (
                    batch_id, deployment_id, kind, mode, base_batch_id, schema_version, created_at, status,
                    rows_sent, counts, checksum, package_path
                )
                values (%s, %s, %s, %s, %s, %s, now(), %s, %s, %s, %s, %s)
                returning sequence, created_at
                """,
                (
                    batch_id, deployment.deployment_id, kind, mode, base_batch_id, SCHEMA_VERSION,
                    "pending" if kind == "direct" else "exported", len(hashes), json.dumps(counts),
                    checksum, package_path,
                ),
            ).fetchone()
            if kind == "direct":
                for table in SHARED_TABLES:
                    conn.execute(
                        f"insert into sync.batch_rows (batch_id, table_name, row_key, action, row_hash) "
                        f"select %s, %s, row_key, action, row_hash from sync_delta_{table.name}",
                        (batch_id, table.name),
                    )
            batch = Batch(
                batch_id=batch_id,
                deployment_id=deployment.deployment_id,
                deployment_name=deployment.name,
                sequence=sequence,
                kind=kind,
                mode=mode,
                base_batch_id=base_batch_id,
                schema_version=SCHEMA_VERSION,
                created_at=created_at,
                checksum=checksum,
                files={t.name: _export_csv(conn, t) for t in SHARED_TABLES},
            )
            if on_prepared:
                on_prepared(batch)
            return Prepared(mode, counts, batch)
    finally:
        conn.isolation_level = None
    return planned


def pending_batches(conn: psycopg.Connection) -> list[str]:
    """Batches prepared and maybe applied on the national side, oldest first."""
    return [r[0] for r in conn.execute("select batch_id::text from sync.batches where status = 'pending' order by sequence")]


def last_acknowledged(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "select batch_id::text from sync.batches where status = 'acknowledged' order by sequence desc limit 1"
    ).fetchone()
    return row[0] if row else None


def acknowledge_batch(conn: psycopg.Connection, batch_id: str, applied_counts: dict) -> None:
    """Record that the national side holds ``batch_id``: update acknowledged rows and the ledger."""
    with conn.transaction():
        row = conn.execute(
            "select status, mode from sync.batches where batch_id = %s for update", (batch_id,)
        ).fetchone()
        if row is None or row[0] != "pending":
            raise SyncError(f"batch {batch_id} is {row[0] if row else 'unknown'} here, not pending: cannot acknowledge it")
        if row[1] == "replace":
            conn.execute("delete from sync.acknowledged_rows")
        conn.execute(
            """
            delete from sync.acknowledged_rows as a
            using sync.batch_rows as b
            where b.batch_id = %s and b.action = 'D' and a.table_name = b.table_name and a.row_key = b.row_key
            """,
            (batch_id,),
        )
        conn.execute(
            """
            insert into sync.acknowledged_rows (table_name, row_key, row_hash, batch_id, acknowledged_at)
            select table_name, row_key, row_hash, batch_id, now()
            from sync.batch_rows
            where batch_id = %s and action in ('I', 'U')
            on conflict (table_name, row_key) do update
            set row_hash = excluded.row_hash, batch_id = excluded.batch_id, acknowledged_at = excluded.acknowledged_at
            """,
            (batch_id,),
        )
        conn.execute("delete from sync.batch_rows where batch_id = %s", (batch_id,))
        conn.execute(
            "update sync.batches set status = 'acknowledged', acknowledged_at = now(), applied_counts = %s "
            "where batch_id = %s",
            (json.dumps(applied_counts), batch_id),
        )


def mark_failed(conn: psycopg.Connection, batch_id: str, reason: str) -> None:
    with conn.transaction():
        conn.execute("delete from sync.batch_rows where batch_id = %s", (batch_id,))
        conn.execute(
            "update sync.batches set status = 'failed', error = %s where batch_id = %s and status = 'pending'",
            (reason, batch_id),
        )


def unnotified_acknowledgements(conn: psycopg.Connection) -> list[str]:
    """Acknowledged batches whose acknowledgement the national ledger has not recorded yet."""
    return [
        r[0]
        for r in conn.execute(
            "select batch_id::text from sync.batches where status = 'acknowledged' and target_acknowledged_at is null"
        )
    ]


def mark_notified(conn: psycopg.Connection, batch_ids: list[str]) -> None:
    conn.execute(
        "update sync.batches set target_acknowledged_at = now() where batch_id = any(%s::uuid[])", (batch_ids,)
    )
