"""What the dbt tests share: a warehouse database of their own, with ``published.*`` ready."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest

from planwh.ingest.schema import ensure_schema
from planwh.settings import Settings, load_settings

PUBLISHED_TABLES = (
    "agency_register", "agency_submissions", "portal_statistics", "training_courses", "training_attendance",
)


@contextmanager
def _warehouse_database(server_url: str, base: Path) -> Iterator[Settings]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    settings = load_settings({
        "PLANWH_WAREHOUSE_URL": url,
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_DOTENV": str(base / "no.env"),
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
    })
    try:
        with psycopg.connect(url) as conn:
            ensure_schema(conn)
            conn.execute("create schema if not exists published")
            for table in PUBLISHED_TABLES:
                conn.execute(f"create table if not exists published.{table} (like raw.{table} including all)")
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def warehouse_database(server_url: str) -> Callable[[Path], AbstractContextManager[Settings]]:
    """``with warehouse_database(base) as settings``: a new database on the test server with the
    ingestion schemas and ``published.*`` as the gate leaves them, settings pointing at it (state
    and landing folders under ``base``); dropped on exit."""
    return lambda base: _warehouse_database(server_url, base)
