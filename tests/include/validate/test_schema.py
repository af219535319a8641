"""The published and audit tables: their shape, and that creating them leaves nothing locked."""

from __future__ import annotations

import psycopg

from planwh.db import connect
from planwh.ingest.schema import RAW_COLUMNS
from planwh.validate.schema import ensure_published_schema

COLUMNS = """
    select table_name, column_name, data_type, is_nullable
    from information_schema.columns where table_schema = %s order by table_name, ordinal_position
"""


def test_published_tables_are_raw_twins_and_creating_them_commits(settings):
    with connect(settings.warehouse_url) as conn:
        ensure_published_schema(conn)
        # Nothing left open: a transaction here would hold the schema lock another run waits for.
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    with connect(settings.warehouse_url) as other:
        raw = other.execute(COLUMNS, ("raw",)).fetchall()
        published = other.execute(COLUMNS, ("published",)).fetchall()
        keys = other.execute(
            "select conrelid::regclass::text from pg_constraint where contype = 'p' "
            "and connamespace = 'published'::regnamespace order by 1"
        ).fetchall()
    assert published == raw
    assert {t for t, *_ in published} == {name.split(".")[1] for name in RAW_COLUMNS}
    # delete-then-insert by file relies on the primary keys copied from raw
    assert [k[0] for k in keys] == sorted(f"published.{name.split('.')[1]}" for name in RAW_COLUMNS)


def test_a_column_added_to_raw_reaches_published(settings):
    with connect(settings.warehouse_url) as conn:
        ensure_published_schema(conn)
        conn.execute("alter table raw.portal_statistics add column shares bigint")
        conn.commit()
        ensure_published_schema(conn)
        added = conn.execute(
            "select data_type from information_schema.columns "
            "where table_schema = 'published' and table_name = 'portal_statistics' and column_name = 'shares'"
        ).fetchone()
    assert added == ("bigint",)
