"""The four duty roles, checked by logging in as each of them (the test server trusts local logins).

One warehouse for the module: the roles are applied on an empty database, then the loader
creates the ingestion tables and loads the hand-made dataset of ``tests/dbt``, and the
transformer runs ``dbt build``. Every later check connects as the role it is about.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib.util
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors

from planwh.dbt import run_dbt
from planwh.roles import (
    BI,
    LOADER,
    MEMBER_OF,
    ROLES,
    SYNC,
    TRANSFORMER,
    WAREHOUSE_ACCESS,
    RolesError,
    apply_roles,
)
from planwh.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def _indicator_dataset():
    """The dataset module of the indicator-progress tests (its ``load_dataset``), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "indicator_progress_dataset", REPO_ROOT / "tests" / "dbt" / "test_indicator_progress.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    netloc = f"{role}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Warehouse:
    url: str
    national_url: str
    settings: Settings


def _create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def warehouse(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    from planwh.validate.schema import ensure_published_schema

    name = f"t_roles_{uuid.uuid4().hex[:10]}"
    url = _create_database(server_url, name)
    national = _create_database(server_url, name + "_nat")
    base = tmp_path_factory.mktemp("roles")
    settings = load_settings({
        "PLANWH_WAREHOUSE_URL": as_role(url, TRANSFORMER),
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_DOTENV": str(base / "no.env"),
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
    })
    try:
        # GIVEN the roles applied on an empty warehouse, as the compose init does
        apply_roles(url, national_url=national)
        # WHEN the loader creates its tables and loads data, and the transformer runs dbt
        with psycopg.connect(as_role(url, LOADER)) as conn:
            ensure_published_schema(conn)
            _indicator_dataset().load_dataset(conn)
            conn.commit()
        run_dbt(["build"], settings, url=as_role(url, TRANSFORMER))
        yield Warehouse(url=url, national_url=national, settings=settings)
    finally:
        _drop_database(server_url, name)
        _drop_database(server_url, name + "_nat")


def attempt(url: str, statement: str) -> str:
    """``ok`` or the SQLSTATE name of the error the statement raised (rolled back either way)."""
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc).__name__
        finally:
            conn.rollback()
    return "ok"


DENIED = errors.InsufficientPrivilege.__name__


def readable_relations(url: str, role: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select n.nspname || '.' || c.relname
            from pg_class as c
            inner join pg_namespace as n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p', 'v', 'm', 'f')
                and n.nspname not in ('pg_catalog', 'information_schema')
                and n.nspname not like 'pg_toast%%'
                and has_schema_privilege(%s, n.oid, 'usage')
                and has_table_privilege(%s, c.oid, 'select')
            """,
            (role, role),
        ).fetchall()
    return {r[0] for r in rows}


# -------------------------------------------------------------------------------------------------


def test_bi_reads_the_marts_and_nothing_else(warehouse: Warehouse) -> None:
    bi = as_role(warehouse.url, BI)
    # the marts were built by the transformer after the roles were applied: default privileges
    with psycopg.connect(bi) as conn:
        assert conn.execute("select count(*) from marts.fct_indicator_progress").fetchone()[0] == 12 * 35 * 6
        assert conn.execute("select count(*) from marts.dim_province").fetchone()[0] == 63 + 34
    readable = readable_relations(warehouse.url, BI)
    assert readable and {r.split(".")[0] for r in readable} == {"marts"}
    for table in ("raw.training_attendance", "published.training_attendance", "quarantine.rejected_rows",
                  "landing.files", "audit.batches", "reference.ref_provinces_current",
                  "intermediate.int_trainees_deduplicated", "staging.stg_training_rosters__attendances"):
        assert attempt(bi, f"select * from {table} limit 1") == DENIED, table
    assert attempt(bi, "delete from marts.fct_indicator_progress") == DENIED
    assert attempt(bi, "create table marts.mine (a int)") == DENIED
    assert attempt(bi, "create schema mine") == DENIED


def test_no_person_key_reachable_by_bi_or_sync(warehouse: Warehouse) -> None:
    for role in (BI, SYNC):
        with psycopg.connect(as_role(warehouse.url, role)) as conn:
            # information_schema lists only columns the role has a privilege on
            columns = conn.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where column_name ~ '(person_key|national_id|birth|full_name)' "
                "and table_schema not in ('pg_catalog', 'information_schema')"
            ).fetchall()
        assert columns == [], role
    # ... while the key exists and the transformer (dbt's de-duplication) can read it
    assert attempt(as_role(warehouse.url, TRANSFORMER), "select person_key from published.training_attendance") == "ok"


def test_loader_writes_ingestion_schemas_but_not_marts(warehouse: Warehouse) -> None:
    loader = as_role(warehouse.url, LOADER)
    assert attempt(loader, "insert into quarantine.rejected_rows (file_id, row_number, reason_code, message) "
                           "select file_id, 1, 'test', 'test' from landing.files limit 1") == "ok"
    assert attempt(loader, "update landing.files set status = status") == "ok"
    assert attempt(loader, "delete from published.agency_register") == "ok"
    assert attempt(loader, "select count(*) from marts.fct_indicator_progress") == "ok"
    assert attempt(loader, "select count(*) from reference.ref_provinces_current") == "ok"
    assert attempt(loader, "delete from marts.fct_indicator_progress") == DENIED
    assert attempt(loader, "drop table marts.dim_date") == DENIED
    assert attempt(loader, "create table marts.mine (a int)") == DENIED
    assert attempt(loader, "delete from reference.ref_provinces_current") == DENIED
    assert attempt(loader, "create view staging.mine as select 1") == DENIED
    with psycopg.connect(warehouse.url) as conn:
        owners = dict(conn.execute(
            "select schemaname || '.' || tablename, tableowner from pg_tables "
            "where schemaname in ('landing', 'raw', 'quarantine', 'published', 'audit')"
        ).fetchall())
    assert owners and set(owners.values()) == {LOADER}


def test_transformer_never_sees_raw_or_quarantine(warehouse: Warehouse) -> None:
    transformer = as_role(warehouse.url, TRANSFORMER)
    assert attempt(transformer, "select * from raw.training_attendance") == DENIED
    assert attempt(transformer, "select * from quarantine.rejected_rows") == DENIED
    assert attempt(transformer, "update landing.files set status = status") == DENIED
    assert attempt(transformer, "delete from published.agency_submissions") == DENIED
    assert attempt(transformer, "delete from audit.batches") == DENIED
    assert attempt(transformer, "select * from sync.batches") in {DENIED, "UndefinedTable"}
    with psycopg.connect(warehouse.url) as conn:
        owners = {r[0] for r in conn.execute(
            "select distinct tableowner from pg_tables where schemaname in ('reference', 'marts')"
        )}
    assert owners == {TRANSFORMER}


def test_sync_reads_marts_and_owns_its_schemas(warehouse: Warehouse) -> None:
    from planwh.sync import national, source

    sync_url = as_role(warehouse.url, SYNC)
    # the sync's own idempotent DDL, on both databases, as the sync role
    with psycopg.connect(sync_url) as conn:
        source.ensure_schema(conn)
        conn.commit()
    with psycopg.connect(as_role(warehouse.national_url, SYNC)) as conn:
        national.ensure_schema(conn)
        conn.commit()
    assert attempt(sync_url, "select count(*) from marts.fct_indicator_progress") == "ok"
    assert attempt(sync_url, "select count(*) from sync.batches") == "ok"
    assert attempt(sync_url, "delete from marts.dim_indicator") == DENIED
    assert attempt(sync_url, "select * from published.agency_submissions") == DENIED
    assert attempt(sync_url, "select * from raw.agency_submissions") == DENIED
    assert readable_relations(warehouse.url, SYNC) >= readable_relations(warehouse.url, BI)
    assert {r.split(".")[0] for r in readable_relations(warehouse.url, SYNC)} == {"marts", "sync"}
    # nobody but the sync role writes the national schema
    for role in (BI, LOADER, TRANSFORMER):
        assert attempt(as_role(warehouse.national_url, role), "create table national.mine (a int)") == DENIED


def privileges_snapshot(url: str) -> list[tuple]:
    """Owners and access lists of every schema and relation of the policy, and the default privileges."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            select 'relation', n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner),
                coalesce(c.relacl, acldefault('r', c.relowner))::text
            from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = any(%(schemas)s)
            union all
            select 'schema', nspname, pg_get_userbyid(nspowner), coalesce(nspacl, acldefault('n', nspowner))::text
            from pg_namespace where nspname = any(%(schemas)s)
            union all
            select 'default', coalesce(n.nspname, '') || ':' || pg_get_userbyid(d.defaclrole) || ':'
                || d.defaclobjtype::text, '', d.defaclacl::text
            from pg_default_acl as d left join pg_namespace as n on n.oid = d.defaclnamespace
            order by 1, 2
            """,
            {"schemas": list(WAREHOUSE_ACCESS)},
        ).fetchall()


def test_applying_again_changes_nothing(warehouse: Warehouse) -> None:
    before = privileges_snapshot(warehouse.url)
    outcome = apply_roles(warehouse.url, national_url=warehouse.national_url)
    assert outcome.created == [] and outcome.schemas_created == [] and outcome.ownership_moved == 0
    assert privileges_snapshot(warehouse.url) == before


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier was made from ``password`` (RFC 5802, RFC 7677)."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, _server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)


def test_command_sets_passwords_from_the_environment_without_printing_them(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from planwh.commands import roles as command

    secret = f"bi-{uuid.uuid4().hex}"
    monkeypatch.setenv("PLANWH_WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("PLANWH_NATIONAL_URL", warehouse.national_url)
    monkeypatch.setenv("PLANWH_BI_PASSWORD", secret)
    monkeypatch.setenv("REPORTING_PASSWORD", secret + "-2")
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    caplog.set_level(logging.DEBUG)

    args = parser.parse_args(["roles", "apply"])
    assert args.func(args) == 0
    with psycopg.connect(warehouse.url) as conn:
        verifier = conn.execute("select rolpassword from pg_authid where rolname = %s", (BI,)).fetchone()[0]
    assert scram_matches(verifier, secret)

    # an explicit variable for one role, the documented default for the others
    args = parser.parse_args(["roles", "apply", "--password-env", f"{BI}=REPORTING_PASSWORD"])
    assert args.func(args) == 0
    with psycopg.connect(warehouse.url) as conn:
        verifier = conn.execute("select rolpassword from pg_authid where rolname = %s", (BI,)).fetchone()[0]
    assert scram_matches(verifier, secret + "-2")

    output = capsys.readouterr()
    printed = output.out + output.err + caplog.text
    # each role named once (the warehouse and the national database are one server), no secret
    assert "new password from the environment (not shown) for: planwh_bi\n" in output.out
    assert secret not in printed

    args = parser.parse_args(["roles", "apply", "--password-env", f"{BI}=NOT_SET_ANYWHERE"])
    assert args.func(args) == 2
    assert "NOT_SET_ANYWHERE" in capsys.readouterr().err


def test_the_database_owner_can_apply_and_bi_reads_what_it_builds(server_url: str) -> None:
    # GIVEN the compose layout: a database owned by an application login with CREATEROLE, which
    # created the roles (ADMIN OPTION); the pipeline itself runs as that login
    owner = f"t_owner_{uuid.uuid4().hex[:8]}"
    name = f"t_owned_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create role "{owner}" login createrole')
        for role in ROLES:
            conn.execute(f'grant "{role}" to "{owner}" with admin option, inherit false, set false')
        conn.execute(f'create database "{name}" owner "{owner}"')
    url = as_role(server_url.rsplit("/", 1)[0] + f"/{name}", owner)
    try:
        # WHEN it applies the roles and then builds a mart table itself
        apply_roles(url)
        with psycopg.connect(url) as conn:
            conn.execute("create table marts.fct_example as select 1 as value")
            conn.execute("create table raw.example as select 'secret' as person_key")
            conn.commit()
        # THEN BI reads the new mart, not the raw table, and the loader owns raw
        bi = as_role(url, BI)
        assert attempt(bi, "select value from marts.fct_example") == "ok"
        assert attempt(bi, "select * from raw.example") == DENIED
        with psycopg.connect(url) as conn:
            assert conn.execute("select nspowner::regrole::text from pg_namespace where nspname = 'raw'"
                                ).fetchone()[0] == LOADER
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            # the owner granted the sender page's role its membership of the loader's
            for member, granted in MEMBER_OF.items():
                for role in granted:
                    conn.execute(f'revoke "{role}" from "{member}" granted by "{owner}"')
            conn.execute(f'drop role if exists "{owner}"')


def test_unknown_role_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(RolesError, match="unknown role"):
        apply_roles(warehouse.url, {"planwh_admin": "x"})


def test_the_demo_applies_the_roles_and_prints_no_password(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planwh.commands import demo

    # GIVEN a BI password in the environment, as a deployer sets it
    secret = f"demo-bi-{uuid.uuid4().hex}"
    monkeypatch.setenv("PLANWH_BI_PASSWORD", secret)
    # WHEN the demo's roles step runs on a new warehouse
    printed = demo._apply_roles(settings)
    # THEN planwh_bi exists with that password and may read the marts; the output names it once
    # and shows no password
    with psycopg.connect(settings.warehouse_url) as conn:
        verifier = conn.execute("select rolpassword from pg_authid where rolname = %s", (BI,)).fetchone()[0]
        reads_marts = conn.execute("select has_schema_privilege(%s, 'marts', 'usage')", (BI,)).fetchone()[0]
    assert scram_matches(verifier, secret) and reads_marts
    assert [line for line in printed.splitlines() if "password" in line] == [
        f"new password from the environment (not shown) for: {BI}"
    ]
    assert secret not in printed
