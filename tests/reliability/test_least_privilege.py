"""Least privilege: each duty role can do its job and nothing more, checked exhaustively.

Builds on ``tests/include/test_roles.py`` (which checks each role doing its job and a few refusals)
with the negative side, on a copy of the session pipeline's warehouse (every table the pipeline
creates, not a hand-made subset) with the roles applied: for every relation of every schema, which
of SELECT / INSERT / UPDATE / DELETE / TRUNCATE each role holds must be exactly what the policy
below (the README's table, written out independently of ``planwh.roles``) allows; and no role can
create schemas, roles or databases, become another role, read server files or run programs, see other
sessions' statements, or reach the national schema (except the sync role).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from conftest import as_role, attempt, create_database, drop_database
from psycopg import errors

from planwh.ingest.schema import ensure_schema as ingest_schema
from planwh.roles import BI, LOADER, SYNC, TRANSFORMER, WEB, apply_roles
from planwh.sync.national import ensure_schema as national_schema
from planwh.sync.source import ensure_schema as sync_source_schema
from planwh.validate import ensure_published_schema
from planwh.web.schema import ensure_web_schema

DENIED = errors.InsufficientPrivilege.__name__
ALL = ("select", "insert", "update", "delete", "truncate")
READ, APPEND = ("select",), ("select", "insert")

# schema -> role -> privileges on every table in it (README, "Roles"). Absent: nothing at all. The
# sender page's role holds the loader's privileges through its membership, and its own schema.
POLICY: dict[str, dict[str, tuple[str, ...]]] = {
    "landing": {LOADER: ALL, TRANSFORMER: READ, WEB: ALL},
    "raw": {LOADER: ALL, WEB: ALL},
    "quarantine": {LOADER: ALL, WEB: ALL},
    "published": {LOADER: ALL, TRANSFORMER: READ, WEB: ALL},
    "audit": {LOADER: ALL, TRANSFORMER: APPEND, WEB: ALL},
    "reference": {TRANSFORMER: ALL, LOADER: READ, WEB: READ},
    "staging": {TRANSFORMER: ALL},
    "intermediate": {TRANSFORMER: ALL},
    "marts": {TRANSFORMER: ALL, LOADER: READ, SYNC: READ, BI: READ, WEB: READ},
    "sync": {SYNC: ALL},
    "web": {WEB: ALL},
}
NATIONAL_POLICY = {"national": {SYNC: ALL}}
ROLES = (LOADER, TRANSFORMER, SYNC, BI, WEB)


@pytest.fixture(scope="module")
def warehouse(pipeline) -> dict[str, str]:
    server = pipeline.url.rsplit("/", 1)[0] + "/postgres"
    names = {"url": f"t_lp_{uuid.uuid4().hex[:10]}", "national_url": f"t_lp_{uuid.uuid4().hex[:10]}_nat"}
    urls = {
        "url": create_database(server, names["url"], template=pipeline.db_name),
        "national_url": create_database(server, names["national_url"], template=pipeline.national_db_name),
    }
    apply_roles(urls["url"], national_url=urls["national_url"])
    with psycopg.connect(as_role(urls["url"], WEB), autocommit=True) as conn:
        ensure_web_schema(conn)  # the sender page's tables, created by its own role as on its first start
    yield urls
    for name in names.values():
        drop_database(server, name)


def privileges(url: str, role: str) -> dict[str, set[str]]:
    """relation -> the privileges ``role`` holds on it, over every non-system schema it can use or not."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select n.nspname || '.' || c.relname, p.privilege
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            cross join unnest(array['select', 'insert', 'update', 'delete', 'truncate']) as p (privilege)
            where c.relkind in ('r', 'p', 'v', 'm', 'f')
                and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%%'
                and has_schema_privilege(%(role)s, n.oid, 'usage')
                and has_table_privilege(%(role)s, c.oid, p.privilege)
            """,
            {"role": role},
        ).fetchall()
    held: dict[str, set[str]] = {}
    for relation, privilege in rows:
        held.setdefault(relation, set()).add(privilege)
    return held


def relations(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(
            """
            select n.nspname || '.' || c.relname, n.nspname from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p', 'v', 'm', 'f')
                and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%%'
            """
        ).fetchall())


@pytest.mark.parametrize("role", ROLES)
def test_every_relation_grants_the_role_exactly_what_the_policy_allows(warehouse, role: str) -> None:
    for url, policy in ((warehouse["url"], POLICY), (warehouse["national_url"], NATIONAL_POLICY)):
        everything = relations(url)
        assert set(everything.values()) <= set(policy) | {"public"}, "a schema outside the policy exists"
        expected = {
            relation: set(policy[schema][role])
            for relation, schema in everything.items()
            if role in policy.get(schema, {})
        }
        held = privileges(url, role)
        # views (staging, intermediate) cannot be truncated; what a role holds on its own views is all it may
        for relation in list(expected):
            if relation in held and "truncate" in expected[relation] and "truncate" not in held[relation]:
                expected[relation].discard("truncate")
        assert held == expected


def test_the_warehouse_has_the_schemas_and_tables_the_policy_covers(warehouse) -> None:
    everything = relations(warehouse["url"])
    schemas = set(everything.values())
    assert {"landing", "raw", "quarantine", "published", "audit", "reference", "staging", "intermediate", "marts",
            "sync", "web"} <= schemas
    assert len(everything) >= 60


def attempt_alone(url: str, statement: str) -> str:
    """``attempt`` for a statement that cannot run inside a transaction block."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc).__name__
    return "ok"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("statement", [
    "create role planwh_intruder login",
    "create database planwh_intruder",
    "alter role current_user createrole",
    "select rolpassword from pg_authid",
    "select pg_read_file('/etc/passwd')",
    "copy (select 1) to program 'id'",
    "copy raw.training_attendance from '/etc/passwd'",
    "create extension dblink",
    "grant planwh_loader to current_user",
    "grant planwh_web to current_user",
])
def test_no_role_can_administer_the_server_or_escape_to_files_and_programs(warehouse, role: str,
                                                                           statement: str) -> None:
    url = as_role(warehouse["url"], role)
    outcome = attempt_alone(url, statement) if statement.startswith("create database") else attempt(url, statement)
    assert outcome != "ok" and outcome in {DENIED, "UndefinedFile", "FeatureNotSupported"}, outcome


@pytest.mark.parametrize("role", ROLES)
def test_no_role_can_become_another(warehouse, role: str) -> None:
    url = as_role(warehouse["url"], role)
    for other in ROLES:
        if other != role:
            assert attempt(url, f"set role {other}") == DENIED, other
            assert attempt(url, f"set session authorization {other}") == DENIED, other
    assert attempt(url, "set role postgres") == DENIED


def test_no_role_can_create_a_schema_yet_each_writer_runs_its_own_ddl_and_what_it_adds_stays_its_own(
    warehouse,
) -> None:
    url, national = warehouse["url"], warehouse["national_url"]
    for role in ROLES:
        assert attempt(as_role(url, role), "create schema planwh_intruder") == DENIED, role
        assert attempt(as_role(national, role), "create schema planwh_intruder") == DENIED, role
    # The DDL each writer runs on every start (create what is missing) works without that right
    with psycopg.connect(as_role(url, LOADER)) as conn:
        ingest_schema(conn)
        ensure_published_schema(conn)
        conn.commit()
    with psycopg.connect(as_role(url, SYNC), autocommit=True) as conn:
        sync_source_schema(conn)
    with psycopg.connect(as_role(national, SYNC), autocommit=True) as conn:
        national_schema(conn)
    # A table a writer adds to its own schema is its own and nobody else's
    with psycopg.connect(as_role(url, LOADER)) as conn:
        conn.execute("create table raw.new_table as select 1 as person_key")
        for role in (BI, SYNC, TRANSFORMER):
            assert not conn.execute(
                "select has_table_privilege(%s, 'raw.new_table', 'select')", (role,)
            ).fetchone()[0], role
        conn.rollback()


def test_no_role_sees_the_statements_of_another_session(warehouse) -> None:
    with psycopg.connect(as_role(warehouse["url"], LOADER), autocommit=True) as busy:
        busy.execute("select 1 /* planwh-secret-statement */")
        for role in (BI, SYNC, TRANSFORMER):
            with psycopg.connect(as_role(warehouse["url"], role)) as conn:
                texts = [r[0] for r in conn.execute(
                    "select query from pg_stat_activity where pid = %s", (busy.info.backend_pid,)
                )]
            assert texts == ["<insufficient privilege>"], role


def test_only_the_sync_role_reaches_the_national_schema(warehouse) -> None:
    national = warehouse["national_url"]
    for role in (BI, LOADER, TRANSFORMER):
        url = as_role(national, role)
        assert attempt(url, "select count(*) from national.indicator_values") == DENIED, role
        assert attempt(url, "create table national.mine (a int)") == DENIED, role
        assert attempt(url, "create schema mine") == DENIED, role
    sync = as_role(national, SYNC)
    assert attempt(sync, "select count(*) from national.indicator_values") == "ok"
