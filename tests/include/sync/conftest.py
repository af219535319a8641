"""Fixtures of the sync tests: a warehouse with hand-made marts, its national database, a spare one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sync_marts import Marts, create_marts

from planwh.settings import Settings


@pytest.fixture
def marts(settings: Settings) -> Marts:
    data = Marts()
    with psycopg.connect(settings.warehouse_url) as conn:
        create_marts(conn)
        data.write(conn)
    return data


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def national_db(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.national_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def spare_national_url(server_url: str) -> Iterator[str]:
    """A third, empty database: the national side of a place that only receives packages."""
    name = f"t_{uuid.uuid4().hex[:12]}_pkg"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield server_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
