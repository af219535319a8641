"""The direct sync against a real second database: deltas, restatements, deletions, exactly once."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import psycopg
import pytest
from sync_marts import Marts

from planwh.db import DatabaseError
from planwh.settings import Settings
from planwh.sync import MartsNotReady, SyncBusy, SyncError, describe_national, national, source, sync_national
from planwh.sync.contract import SCHEMA_VERSION, SHARED_TABLES, TABLES_BY_NAME, batch_checksum

INDICATOR_VALUES = TABLES_BY_NAME["indicator_values"]


def national_rows(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {t.name: national.read_rows(conn, t) for t in SHARED_TABLES}


def row_versions(conn: psycopg.Connection, table: str = "indicator_values") -> dict[tuple, tuple]:
    """Key -> (batch_id, updated_at) of every row of a national table."""
    key = ", ".join(c.name for c in TABLES_BY_NAME[table].key)
    return {
        tuple(r[:-2]): tuple(r[-2:])
        for r in conn.execute(f"select {key}, batch_id::text, updated_at from national.{table}")
    }


def ledger(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select batch_id::text, mode, status, rows_inserted, rows_updated, rows_deleted, checksum "
        "from national.batches order by source_sequence"
    ).fetchall()


def test_first_sync_sends_every_row_and_a_second_sends_nothing(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection
) -> None:
    # WHEN the warehouse syncs for the first time
    first = sync_national(settings)

    # THEN every mart row is in the national database, under one batch in both ledgers
    assert first.batch_id and first.mode == "delta"
    assert first.total("inserted") == marts.total == 72
    assert first.total("updated") == first.total("deleted") == 0
    rows = national_rows(national_db)
    assert {name: len(r) for name, r in rows.items()} == {
        "indicator_values": 27, "indicator_values_legacy": 12, "submission_compliance": 12,
        "training_coverage": 12, "indicators": 4, "province_mapping": 5,
    }
    assert national_db.execute("select version from national.schema_version").fetchall() == [(1,), (2,)]
    (batch_id, mode, status, inserted, updated, deleted, checksum), = ledger(national_db)
    assert (batch_id, mode, status, inserted, updated, deleted) == (first.batch_id, "delta", "acknowledged", 72, 0, 0)
    # the checksum is the sha256 of the sorted row hashes the national side holds
    assert checksum == batch_checksum(r[-1] for table_rows in rows.values() for r in table_rows)
    assert warehouse.execute("select status, checksum from sync.batches").fetchall() == [("acknowledged", checksum)]
    assert warehouse.execute("select count(*) from sync.acknowledged_rows").fetchone()[0] == 72
    assert warehouse.execute("select count(*) from sync.batch_rows").fetchone()[0] == 0
    # values arrive as the marts hold them (numeric scale aside)
    hanoi = next(r for r in rows["indicator_values"] if r[:3] == ("trained_hr_officials", "01", 2024))
    mart_row = marts.find("fct_indicator_progress", indicator_code="trained_hr_officials", province_code="01",
                          year=2024)
    assert hanoi[3] == mart_row["value"] and hanoi[15] == mart_row["status"]
    deployment = warehouse.execute("select deployment_id::text from sync.deployment").fetchone()[0]
    assert national_db.execute("select distinct deployment_id::text from national.indicator_values").fetchall() == [
        (deployment,)
    ]
    # ... and the overview counts the provinces (00 aside), indicators and years it holds
    overview = describe_national(settings).splitlines()[-1].split()
    assert overview[1:6] == [deployment[:8], "2", "3", "2023-2025", "27"]

    # WHEN it syncs again with nothing changed
    second = sync_national(settings)

    # THEN nothing is sent and no batch is recorded on either side
    assert second.batch_id is None and second.changed == 0
    assert "nothing to send" in second.describe()
    assert len(ledger(national_db)) == 1
    assert warehouse.execute("select count(*) from sync.batches").fetchone()[0] == 1
    assert national_rows(national_db) == rows


def test_a_corrected_value_updates_exactly_that_row_and_a_deleted_row_is_deleted(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection
) -> None:
    # GIVEN a first sync
    first = sync_national(settings)
    before = row_versions(national_db)
    others_before = {t.name: row_versions(national_db, t.name) for t in SHARED_TABLES[1:]}

    # WHEN one submission is corrected (a restatement of Đà Nẵng's 2024 value) and the marts rebuilt
    row = marts.find("fct_indicator_progress", indicator_code="spokesperson_mechanism", province_code="48", year=2024)
    row["value"], row["numerator"], row["status"] = Decimal("75"), Decimal("3"), "at risk"
    marts.write(warehouse)
    second = sync_national(settings)

    # THEN exactly that row is updated, in a second batch; nothing else is touched
    assert second.total("updated") == 1 and second.changed == 1
    assert second.counts["indicator_values"] == {"received": 1, "inserted": 0, "updated": 1, "deleted": 0}
    after = row_versions(national_db)
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {("spokesperson_mechanism", "48", 2024)}
    assert after[("spokesperson_mechanism", "48", 2024)][0] == second.batch_id
    assert {v[0] for k, v in after.items() if k not in changed} == {first.batch_id}
    assert {t.name: row_versions(national_db, t.name) for t in SHARED_TABLES[1:]} == others_before
    value, status = national_db.execute(
        "select value, status from national.indicator_values "
        "where indicator_code = 'spokesperson_mechanism' and province_code = '48' and year = 2024"
    ).fetchone()
    assert (value, status) == (Decimal("75"), "at risk")

    # WHEN a row disappears from a mart (a withdrawn report) and a legacy province is dropped
    marts.rows["fct_training_coverage"].remove(
        marts.find("fct_training_coverage", category_code="info_official", province_code="01", year=2023)
    )
    marts.rows["dim_province"].remove(marts.find("dim_province", province_period="legacy", province_code="49"))
    marts.write(warehouse)
    third = sync_national(settings)

    # THEN both are deleted on the national side and nothing else changes
    assert (third.total("deleted"), third.changed) == (2, 2)
    assert national_db.execute(
        "select count(*) from national.training_coverage where category_code = 'info_official' "
        "and province_code = '01' and year = 2023"
    ).fetchone()[0] == 0
    assert national_db.execute("select count(*) from national.province_mapping").fetchone()[0] == 4
    assert row_versions(national_db) == after
    assert [r[3:6] for r in ledger(national_db)] == [(72, 0, 0), (0, 1, 0), (0, 0, 2)]
    assert sync_national(settings).batch_id is None


def test_target_down_mid_batch_leaves_nothing_there_and_the_next_run_completes(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a national database whose connection is killed after two tables were merged
    original = national.merge_table
    merged: list[str] = []

    def merge_then_lose_the_server(conn, table, batch):
        counts = original(conn, table, batch)
        merged.append(table.name)
        if len(merged) == 2:
            with psycopg.connect(settings.national_url, autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return counts

    monkeypatch.setattr(national, "merge_table", merge_then_lose_the_server)

    # WHEN the sync runs
    with pytest.raises(SyncError, match="run the sync again"):
        sync_national(settings)

    # THEN the national database holds nothing of the batch, and the warehouse still has it pending
    assert merged == ["indicator_values", "indicator_values_legacy"]
    assert all(not rows for rows in national_rows(national_db).values())
    assert ledger(national_db) == []
    (lost_batch, status), = warehouse.execute("select batch_id::text, status from sync.batches").fetchall()
    assert status == "pending"
    assert warehouse.execute("select count(*) from sync.acknowledged_rows").fetchone()[0] == 0

    # WHEN the server is back and the sync runs again
    monkeypatch.setattr(national, "merge_table", original)
    result = sync_national(settings)

    # THEN the lost batch is marked failed and a new one brings everything, once
    assert result.abandoned == [lost_batch]
    assert result.total("inserted") == marts.total
    assert sum(len(r) for r in national_rows(national_db).values()) == marts.total
    assert warehouse.execute("select status from sync.batches order by sequence").fetchall() == [
        ("failed",), ("acknowledged",)
    ]
    assert [r[0] for r in ledger(national_db)] == [result.batch_id]


def test_a_crash_between_national_commit_and_acknowledgement_resends_nothing(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a sync whose process dies right after the national side committed
    original = source.acknowledge_batch

    def crash(conn, batch_id, counts):
        raise RuntimeError("process killed before acknowledging")

    monkeypatch.setattr(source, "acknowledge_batch", crash)
    with pytest.raises(RuntimeError, match="process killed"):
        sync_national(settings)
    (committed, status, inserted), = national_db.execute(
        "select batch_id::text, status, rows_inserted from national.batches"
    ).fetchall()
    assert (status, inserted) == ("committed", marts.total)
    assert warehouse.execute("select status from sync.batches").fetchall() == [("pending",)]
    versions = row_versions(national_db)

    # ... and a value is corrected before the next run
    monkeypatch.setattr(source, "acknowledge_batch", original)
    row = marts.find("fct_submission_compliance_by_province", province_code="01", year=2025, period_kind="year")
    row["on_time"], row["received_late"] = row["on_time"] - 1, row["received_late"] + 1
    marts.write(warehouse)

    # WHEN the sync runs again
    result = sync_national(settings)

    # THEN the committed batch is acknowledged from the national ledger, not resent, and only
    # the correction travels
    assert result.recovered == [committed] and result.abandoned == []
    assert result.changed == 1 and result.counts["submission_compliance"]["updated"] == 1
    assert row_versions(national_db) == versions
    assert national_db.execute(
        "select batch_id::text, status, rows_inserted, rows_updated from national.batches order by source_sequence"
    ).fetchall() == [(committed, "acknowledged", marts.total, 0), (result.batch_id, "acknowledged", 0, 1)]
    assert warehouse.execute("select status from sync.batches order by sequence").fetchall() == [
        ("acknowledged",), ("acknowledged",)
    ]
    assert sync_national(settings).batch_id is None


def test_concurrent_syncs_do_not_interleave(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a slow national database (each table takes a moment to merge)
    original = national.merge_table

    def slow_merge(conn, table, batch):
        time.sleep(0.1)
        return original(conn, table, batch)

    monkeypatch.setattr(national, "merge_table", slow_merge)

    # WHEN two syncs start at the same moment
    results, errors = [], []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(sync_national(settings, wait_seconds=30))
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # THEN one sends everything, the other waits for it and then finds nothing to send
    assert errors == []
    assert sorted(r.changed for r in results) == [0, marts.total]
    assert len(ledger(national_db)) == 1
    assert sum(len(r) for r in national_rows(national_db).values()) == marts.total

    # WHEN a sync finds the lock held and may not wait
    with psycopg.connect(settings.warehouse_url, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s, %s)", source.SOURCE_LOCK)
        with pytest.raises(SyncBusy, match=r"another national sync or export .* backend \d+"):
            sync_national(settings, wait_seconds=0.3)

        # ... or may wait, and the other finishes meanwhile
        threading.Timer(0.3, lambda: other.execute("select pg_advisory_unlock(%s, %s)", source.SOURCE_LOCK)).start()
        began = time.perf_counter()
        waited = sync_national(settings, wait_seconds=10)
    assert waited.batch_id is None and time.perf_counter() - began >= 0.3


def test_an_unreachable_national_database_stops_the_sync_before_anything_is_prepared(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection
) -> None:
    unreachable = settings.with_overrides(national_url="postgresql://postgres@127.0.0.1:1/planwh_national")

    with pytest.raises(DatabaseError, match="cannot connect to postgresql://postgres@127.0.0.1:1/planwh_national"):
        sync_national(unreachable)

    assert warehouse.execute("select to_regclass('sync.batches')").fetchone()[0] is None  # nothing prepared
    assert sync_national(settings).total("inserted") == marts.total


def test_a_sync_during_a_dbt_rebuild_sees_the_rebuilt_mart_not_an_empty_one(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection
) -> None:
    # GIVEN a first sync, then dbt replacing a mart the way its table materialisation does:
    # a new table renamed into place in one transaction, still open when the next sync starts
    sync_national(settings)
    with psycopg.connect(settings.warehouse_url) as dbt:
        dbt.execute("create table marts.fct_training_coverage__tmp as select * from marts.fct_training_coverage")
        dbt.execute("update marts.fct_training_coverage__tmp set coverage_rate = 99 "
                    "where category_code = 'hr_official' and province_code = '48' and year = 2025")
        dbt.execute("alter table marts.fct_training_coverage rename to fct_training_coverage__backup")
        dbt.execute("alter table marts.fct_training_coverage__tmp rename to fct_training_coverage")
        results = []
        syncing = threading.Thread(target=lambda: results.append(sync_national(settings)))
        syncing.start()
        time.sleep(0.5)
        dbt.execute("drop table marts.fct_training_coverage__backup")
        dbt.commit()
    syncing.join(30)

    # THEN the sync waited for the rebuild and sent the one change, not the table as deleted
    (result,) = results
    assert result.changed == 1 and result.counts["training_coverage"]["updated"] == 1
    assert national_db.execute("select count(*) from national.training_coverage").fetchone()[0] == 12


def test_a_missing_mart_is_named_and_nothing_is_sent(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection
) -> None:
    warehouse.execute("drop table marts.fct_training_coverage")
    warehouse.execute("alter table marts.dim_indicator rename column name_en to name_english")

    with pytest.raises(MartsNotReady) as raised:
        sync_national(settings)

    message = str(raised.value)
    assert "marts.fct_training_coverage does not exist" in message
    assert "marts.dim_indicator lacks column(s) name_en" in message
    assert "planwh transform" in message
    assert national_db.execute("select count(*) from national.batches").fetchone()[0] == 0
    assert warehouse.execute("select count(*) from sync.batches").fetchone()[0] == 0


def test_dry_run_shows_the_delta_and_records_nothing(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, national_db: psycopg.Connection
) -> None:
    planned = sync_national(settings, dry_run=True)

    assert planned.dry_run and planned.total("inserted") == marts.total
    assert "nothing was recorded" in planned.describe()
    assert warehouse.execute("select count(*) from sync.batches").fetchone()[0] == 0
    assert national_db.execute("select count(*) from national.batches").fetchone()[0] == 0
    assert sync_national(settings).total("inserted") == marts.total


def test_the_national_schema_matches_the_shared_tables(national_db: psycopg.Connection) -> None:
    """A column added to the mapping without a national migration fails here, not in production."""
    assert national.ensure_schema(national_db) == national.ensure_schema(national_db) == SCHEMA_VERSION
    assert national_db.execute("select array_agg(version) from national.schema_version").fetchone()[0] == [
        m.version for m in national.MIGRATIONS
    ]
    assert national.MIGRATIONS[-1].version == SCHEMA_VERSION
    type_names = {"text": "text", "integer": "integer", "numeric": "numeric", "boolean": "boolean", "date": "date"}
    for table in SHARED_TABLES:
        columns = national_db.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'national' and table_name = %s order by ordinal_position",
            (table.name,),
        ).fetchall()
        expected = [("deployment_id", "uuid"), *((c.name, type_names[c.type]) for c in table.columns),
                    ("row_hash", "character"), ("batch_id", "uuid"), ("updated_at", "timestamp with time zone")]
        assert sorted(columns) == sorted(expected), table.name
        key = national_db.execute(
            "select array_agg(a.attname order by k.ord) from pg_index as i "
            "cross join unnest(i.indkey) with ordinality as k(attnum, ord) "
            "inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum "
            "where i.indrelid = %s::regclass and i.indisprimary",
            (f"national.{table.name}",),
        ).fetchone()[0]
        assert key == ["deployment_id", *(c.name for c in table.key)], table.name
