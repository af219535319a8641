"""Fixtures of the gate tests: a warehouse with the ingestion and gate schemas, per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from validate_batches import Warehouse

from planwh.db import connect
from planwh.settings import Settings
from planwh.validate.schema import ensure_published_schema


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with connect(settings.warehouse_url) as conn:
        ensure_published_schema(conn)  # the ingestion schema too, committed
        yield Warehouse(conn)
