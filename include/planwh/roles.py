"""Database roles of the warehouse: one login per duty, each reaching only the schemas it needs.

``planwh_loader``
    Ingestion and the Great Expectations gate: writes ``landing``, ``raw``, ``quarantine``,
    ``published`` and ``audit``; reads ``reference`` (province and agency lists) and ``marts``
    (the gate's checks of the key marts after ``dbt build``).
``planwh_transformer``
    dbt: reads ``landing`` (the file ledger) and ``published``; writes ``reference`` (seeds),
    ``staging``, ``intermediate`` and ``marts``; appends its test history to ``audit``. It never
    sees ``raw`` or ``quarantine``; ``published.training_attendance`` holds pseudonymised person
    keys only, which dbt needs to count each trainee once.
``planwh_sync``
    The national sync: reads ``marts``, keeps its batches in ``sync``; on the national shared
    database it owns schema ``national``.
``planwh_bi``
    BI tools (Superset, Excel, Power BI): reads ``marts`` and nothing else. No ``raw``,
    ``quarantine`` or ``published`` (person keys), no ``landing`` (senders' file names), no
    ``audit`` (rejected values of non-personal columns are sampled there); validation history
    meant for BI is published through a mart.
``planwh_web``
    The sender page (``planwh serve``): owns ``web`` (accounts, password hashes, sessions, the
    audit of sign-ins and uploads), which no other role reads. It runs the loader's own code for
    an upload (the dry-run check inside a transaction that is rolled back, the reception ledger,
    "load now"), so it is a member of ``planwh_loader`` that inherits its privileges but may not
    ``SET ROLE`` to it (``WITH INHERIT TRUE, SET FALSE``, PostgreSQL 16+): one login whose rights
    are exactly the loader's plus its own schema, rather than a copy of the loader's grants that
    would drift from them.

The role that writes a schema owns it and the tables in it, so its own code can run the
idempotent DDL it issues on every run (``create table if not exists``, ``create index if not
exists`` need ownership). No role may create a schema: this creates them, and the writers' DDL
creates a schema only if it is missing (``planwh.ddl``). Default privileges make every table a
writer creates later (each ``dbt build`` recreates the marts) readable by its readers at once.
The role applying this (a superuser, or the database owner with CREATEROLE as in
docker-compose.yml) is made a member of the four roles, so it keeps working on objects they own.

Passwords are optional (the embedded server trusts local connections). A password is sent to
the server already hashed (SCRAM-SHA-256, computed by libpq), so it never appears in a
statement the server could log, and it is never printed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from planwh.db import connect, redact

log = logging.getLogger(__name__)

LOADER = "planwh_loader"
TRANSFORMER = "planwh_transformer"
SYNC = "planwh_sync"
BI = "planwh_bi"
WEB = "planwh_web"
ROLES = (LOADER, TRANSFORMER, SYNC, BI, WEB)
# role -> the roles whose privileges it inherits (never SET ROLE to them)
MEMBER_OF: dict[str, tuple[str, ...]] = {WEB: (LOADER,)}

ROLE_PURPOSE = {
    LOADER: "ingestion and the Great Expectations gate",
    TRANSFORMER: "dbt (seeds, staging, intermediate, marts)",
    SYNC: "national sync (reads marts, writes sync and the national schema)",
    BI: "BI tools: reads marts only",
    WEB: "the sender page: owns web; the loader's rights through membership (inherit, no SET ROLE)",
}

READ = "read"
APPEND = "append"
WRITE = "write"

TABLE_PRIVILEGES = {
    READ: "select",
    APPEND: "select, insert",
    WRITE: "select, insert, update, delete, truncate, references, trigger",
}
SEQUENCE_PRIVILEGES = {READ: None, APPEND: "usage, select", WRITE: "usage, select, update"}

# schema -> {role: access}; exactly one WRITE role per schema, which owns it.
WAREHOUSE_ACCESS: dict[str, dict[str, str]] = {
    "landing": {LOADER: WRITE, TRANSFORMER: READ},
    "raw": {LOADER: WRITE},
    "quarantine": {LOADER: WRITE},
    "published": {LOADER: WRITE, TRANSFORMER: READ},
    "audit": {LOADER: WRITE, TRANSFORMER: APPEND},
    "reference": {TRANSFORMER: WRITE, LOADER: READ},
    "staging": {TRANSFORMER: WRITE},
    "intermediate": {TRANSFORMER: WRITE},
    "marts": {TRANSFORMER: WRITE, LOADER: READ, SYNC: READ, BI: READ},
    "sync": {SYNC: WRITE},
    "web": {WEB: WRITE},
}
NATIONAL_ACCESS: dict[str, dict[str, str]] = {
    "national": {SYNC: WRITE},
}


class RolesError(RuntimeError):
    """The roles could not be applied; the message says which statement and why."""


@dataclass
class RolesOutcome:
    """What ``apply_roles`` did, for the command line (never holds a password)."""

    created: list[str] = field(default_factory=list)
    passwords_set: list[str] = field(default_factory=list)
    schemas_created: list[str] = field(default_factory=list)
    ownership_moved: int = 0
    databases: list[str] = field(default_factory=list)


def owner_of(schema: str, access: Mapping[str, Mapping[str, str]]) -> str:
    writers = [role for role, kind in access[schema].items() if kind == WRITE]
    if len(writers) != 1:
        raise RolesError(f"schema {schema} must have exactly one writing role, has {writers}")
    return writers[0]


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _is_superuser(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0])


def _ensure_roles(
    conn: psycopg.Connection, passwords: Mapping[str, str | None], outcome: RolesOutcome
) -> None:
    superuser = _is_superuser(conn)
    existing = {r[0] for r in conn.execute("select rolname from pg_roles where rolname = any(%s)", (list(ROLES),))}
    for role in ROLES:
        if role not in existing:
            conn.execute(sql.SQL("create role {} login").format(_ident(role)))
            outcome.created.append(role)
        # A duty role never administers the server, whatever was set by hand before; only a
        # superuser may even mention the SUPERUSER, REPLICATION and BYPASSRLS attributes.
        attributes = "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls" if superuser else "login"
        conn.execute(sql.SQL("alter role {} " + attributes).format(_ident(role)))
        password = passwords.get(role)
        if password:
            verifier = conn.pgconn.encrypt_password(password.encode("utf-8"), role.encode("utf-8"))
            conn.execute(
                sql.SQL("alter role {} password {}").format(_ident(role), sql.Literal(verifier.decode("ascii")))
            )
            if role not in outcome.passwords_set:  # roles are server-wide: one per role, not per database
                outcome.passwords_set.append(role)
    for member, granted in MEMBER_OF.items():
        for role in granted:
            # SET FALSE (PostgreSQL 16+): the member uses the role's privileges but cannot become it
            options = " with inherit true, set false" if conn.info.server_version >= 160000 else ""
            conn.execute(sql.SQL("grant {} to {}" + options).format(_ident(role), _ident(member)))
    if not superuser:
        # The database owner created these roles (CREATEROLE gives it ADMIN OPTION on them); as a
        # member it can hand objects to them and keep using what they own.
        options = " with inherit true, set true" if conn.info.server_version >= 160000 else ""
        for role in ROLES:
            conn.execute(sql.SQL("grant {} to current_user" + options).format(_ident(role)))


def _relations_to_hand_over(conn: psycopg.Connection, schema: str, owner: str) -> list[tuple[str, str]]:
    """Tables, views and standalone sequences in ``schema`` not owned by ``owner`` (name, kind)."""
    return conn.execute(
        """
        select c.relname, c.relkind
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = %s
            and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
            and pg_get_userbyid(c.relowner) <> %s
            -- a serial or identity sequence follows its table
            and not exists (
                select 1 from pg_depend as d
                where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')
                    and c.relkind = 'S'
            )
        order by c.relname
        """,
        (schema, owner),
    ).fetchall()


def _apply_schema(
    conn: psycopg.Connection,
    schema: str,
    grants: Mapping[str, str],
    owner: str,
    creators: Iterable[str],
    outcome: RolesOutcome,
) -> None:
    exists = conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create schema {} authorization {}").format(_ident(schema), _ident(owner)))
        outcome.schemas_created.append(schema)
    else:
        conn.execute(sql.SQL("alter schema {} owner to {}").format(_ident(schema), _ident(owner)))
    for name, kind in _relations_to_hand_over(conn, schema, owner):
        statement = "alter sequence {} owner to {}" if kind == "S" else "alter table {} owner to {}"
        conn.execute(sql.SQL(statement).format(_ident(schema, name), _ident(owner)))
        outcome.ownership_moved += 1
    # Whoever else may create tables here (the applying login, when the pipeline runs as the
    # database owner) gets the same default grants, so BI never misses a rebuilt mart.
    for role, access in grants.items():
        if role == owner:
            continue
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), _ident(role)))
        tables = sql.SQL(TABLE_PRIVILEGES[access])
        conn.execute(
            sql.SQL("grant {} on all tables in schema {} to {}").format(tables, _ident(schema), _ident(role))
        )
        sequences = SEQUENCE_PRIVILEGES[access]
        if sequences:
            conn.execute(
                sql.SQL("grant {} on all sequences in schema {} to {}").format(
                    sql.SQL(sequences), _ident(schema), _ident(role)
                )
            )
        for creator in {owner, *creators}:
            conn.execute(
                sql.SQL("alter default privileges for role {} in schema {} grant {} on tables to {}").format(
                    _ident(creator), _ident(schema), tables, _ident(role)
                )
            )
            if sequences:
                conn.execute(
                    sql.SQL("alter default privileges for role {} in schema {} grant {} on sequences to {}").format(
                        _ident(creator), _ident(schema), sql.SQL(sequences), _ident(role)
                    )
                )
    # Roles without an entry get nothing here, including what an earlier policy granted.
    for role in ROLES:
        if role in grants:
            continue
        conn.execute(sql.SQL("revoke all on schema {} from {}").format(_ident(schema), _ident(role)))
        conn.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(_ident(schema), _ident(role)))
        for creator in {owner, *creators}:
            conn.execute(
                sql.SQL("alter default privileges for role {} in schema {} revoke all on tables from {}").format(
                    _ident(creator), _ident(schema), _ident(role)
                )
            )


def _apply_database(
    url: str, access: Mapping[str, Mapping[str, str]], passwords: Mapping[str, str | None], outcome: RolesOutcome
) -> None:
    with connect(url) as conn:
        try:
            with conn.transaction():
                # two deployments applying at once would interleave grants and ownership changes
                conn.execute("select pg_advisory_xact_lock(hashtextextended('planwh.roles', 0))")
                _ensure_roles(conn, passwords, outcome)
                database = conn.execute("select current_database()").fetchone()[0]
                conn.execute(
                    sql.SQL("grant connect on database {} to {}").format(
                        _ident(database), sql.SQL(", ").join(_ident(r) for r in ROLES)
                    )
                )
                # No role may create schemas: the schemas are created here, owned by their writer,
                # and the writers' own DDL only creates what is missing (planwh.ddl). Revoked
                # explicitly, for deployments that applied an earlier version which granted it.
                conn.execute(
                    sql.SQL("revoke create on database {} from {}").format(
                        _ident(database), sql.SQL(", ").join(_ident(r) for r in ROLES)
                    )
                )
                creators = [conn.execute("select current_user").fetchone()[0]]
                for schema, grants in access.items():
                    _apply_schema(conn, schema, grants, owner_of(schema, access), creators, outcome)
        except psycopg.Error as exc:
            raise RolesError(f"applying roles on {redact(url)} failed: {exc}") from exc
        outcome.databases.append(database)


def apply_roles(
    url: str,
    passwords: Mapping[str, str | None] | None = None,
    *,
    national_url: str | None = None,
) -> RolesOutcome:
    """Create or update the four roles and their privileges on the warehouse at ``url``.

    ``passwords`` maps a role name to its password (missing or empty: leave the role's password
    as it is). With ``national_url``, ``planwh_sync`` also gets schema ``national`` of the
    national shared database. Idempotent: applying twice changes nothing the second time.
    """
    passwords = dict(passwords or {})
    unknown = sorted(set(passwords) - set(ROLES))
    if unknown:
        raise RolesError(f"unknown role(s) {', '.join(unknown)}; the roles are {', '.join(ROLES)}")
    outcome = RolesOutcome()
    _apply_database(url, WAREHOUSE_ACCESS, passwords, outcome)
    if national_url:
        # roles are server-wide: the passwords were set above when the server is the same
        _apply_database(national_url, NATIONAL_ACCESS, passwords, outcome)
    log.info("roles applied on %s", ", ".join(outcome.databases))
    return outcome


def access_matrix() -> list[list[str]]:
    """Rows of (schema, one cell per role) for documentation and ``planwh roles show``."""
    rows = []
    for database, access in (("warehouse", WAREHOUSE_ACCESS), ("national", NATIONAL_ACCESS)):
        for schema, grants in access.items():
            rows.append([f"{database}.{schema}", *(grants.get(role, "-") for role in ROLES)])
    return rows
