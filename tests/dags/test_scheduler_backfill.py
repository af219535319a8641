"""A real scheduler: ``airflow dags trigger -l`` of a past day and ``airflow backfill create`` of
the following days give the warehouse that three single daily runs give, and so does ``planwh
backfill`` without a scheduler; each day takes what the reception ledger received that day.

Airflow's API server, DAG processor and scheduler (LocalExecutor) run as child processes with
their metadata in a database of the test's PostgreSQL server; the backfill goes through the
``airflow`` CLI as an operator would type it, and the transform DAG follows through its asset
schedule. The same three days are then run one by one with ``dag.test()`` into a second
warehouse, and the two are compared table by table.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import psycopg
from dag_helpers import PORTAL_RECEIVED_DAYS, warehouse_content, warehouse_state, write_sample

from planwh.ingest.reception import sweep
from planwh.orchestration.airflow_env import AirflowEnvironmentError
from planwh.orchestration.backfill import backfill
from planwh.orchestration.local_run import run_dags
from planwh.orchestration.scheduler import LocalAirflow
from planwh.orchestration.tasks import Interval
from planwh.orchestration.transform_dag import ensure_manifest

PORTAL = "ingest_portal_statistics"
TRANSFORM = "transform_warehouse"


def _database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _drop(server_url: str, *names: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def _backfill(airflow: LocalAirflow, first: date, last: date, reprocess: str) -> None:
    """``airflow backfill create`` of the portal DAG, a day at a time in order; waits while the scheduler
    has not yet closed the previous backfill (Airflow allows one active backfill per DAG)."""
    args = ["backfill", "create", "--dag-id", PORTAL, "--from-date", first.isoformat(), "--to-date",
            last.isoformat(), "--max-active-runs", "1", "--reprocess-behavior", reprocess]
    deadline = time.monotonic() + 120
    while True:
        try:
            airflow.cli(*args)
            return
        except AirflowEnvironmentError as exc:
            if "AlreadyRunningBackfill" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(2)


def _received_on(settings, day: date) -> list[str]:
    """The landing files whose reception the ledger places on ``day``."""
    interval = Interval.for_day(day)
    with psycopg.connect(settings.warehouse_url) as conn:
        return sorted(r[0].rsplit("/", 1)[-1] for r in conn.execute(
            "select path from landing.receptions where received_at >= %s and received_at < %s",
            (interval.start, interval.end),
        ))


def _loaded(settings) -> list[str]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return sorted(r[0] for r in conn.execute("select original_name from landing.files where status = 'loaded'"))


def test_backfill_under_a_scheduler_equals_three_daily_runs(settings, server_url: str, tmp_path) -> None:
    # GIVEN the dbt manifest, and a scheduler
    ensure_manifest(settings)
    first, last = PORTAL_RECEIVED_DAYS[0], PORTAL_RECEIVED_DAYS[-1]
    suffix = uuid.uuid4().hex[:8]
    metadata = f"airflow_{suffix}"

    try:
        with LocalAirflow(settings, database=metadata, parallelism=2) as airflow:
            airflow.wait_for_dags([PORTAL, TRANSFORM], timeout=180)
            for dag_id in (PORTAL, TRANSFORM, "sync_national"):
                airflow.cli("dags", "unpause", dag_id)
            # unpausing schedules the latest interval (yesterday's): the live run, which sweeps the landing
            # folder, empty so far
            airflow.wait_until_idle([PORTAL, TRANSFORM], expect={PORTAL: 1}, timeout=300)

            # GIVEN then a landing folder whose portal exports arrived on three days, registered at their own
            # times (`planwh landing sweep portal --history`: how a deployment takes a folder's history over)
            write_sample(settings)
            assert len(sweep(settings, "portal", history=True).registered) == 6

            # WHEN an operator triggers the first day by hand (the CLI gives such a run the data interval
            # before today: the tasks judge the day of its logical date instead)
            airflow.cli("dags", "trigger", PORTAL, "--logical-date", first.isoformat())
            manual = airflow.wait_until_idle([PORTAL, TRANSFORM], expect={PORTAL: 2, TRANSFORM: 1}, timeout=600)
            loaded_by_manual_run = _loaded(settings)

            # WHEN a scheduler runs `airflow backfill create` of the portal DAG over the three days
            _backfill(airflow, first, last, "none")
            runs = airflow.wait_until_idle([PORTAL, TRANSFORM], expect={PORTAL: 4, TRANSFORM: 1}, timeout=900)
            before = warehouse_state(settings.warehouse_url)

            # WHEN the same days are backfilled again: as by default (days that have a run are left
            # alone), then with --reprocess-behavior completed (every day runs again, the manual run too)
            _backfill(airflow, first, last, "none")
            left_alone = airflow.runs([PORTAL, TRANSFORM])
            _backfill(airflow, first, last, "completed")
            rerun = airflow.wait_until_idle([PORTAL, TRANSFORM], expect={PORTAL: 4, TRANSFORM: 1}, timeout=600)

        # THEN the manual run of the first day took exactly what the ledger received that day
        (by_hand,) = [r for r in manual if r.run_type == "manual"]
        assert by_hand.state == "success" and by_hand.logical_date == Interval.for_day(first).start
        assert loaded_by_manual_run == _received_on(settings, first) and len(loaded_by_manual_run) == 2
        # ... the backfill ran the two other days, with their intervals, and the marts were rebuilt after
        portal = [r for r in runs if r.dag_id == PORTAL and r.run_type == "backfill"]
        assert [r.state for r in portal] == ["success"] * 2
        assert sorted(r.logical_date for r in portal) == [Interval.for_day(d).start for d in PORTAL_RECEIVED_DAYS[1:]]
        assert all(r.state == "success" for r in runs if r.dag_id == PORTAL)
        transforms = [r for r in runs if r.dag_id == TRANSFORM]
        assert all(r.state == "success" and r.run_type == "asset_triggered" for r in transforms)
        assert max(r.end_date for r in transforms) > max(r.end_date for r in portal)

        # ... `none` created no run; `completed` ran the three days again, and that changed nothing:
        # no file taken twice, nothing published, so no asset event and no transform run
        assert left_alone == runs
        again = [r for r in rerun if r.dag_id == PORTAL and r.run_type == "backfill"]
        assert [r.state for r in again] == ["success"] * 3
        assert min(r.end_date for r in again) > max(r.end_date for r in portal)
        assert [r for r in rerun if r.dag_id == TRANSFORM] == transforms
        assert warehouse_state(settings.warehouse_url) == before

        # WHEN the same three days run one by one, then the transform, into another warehouse
        daily_url = _database(server_url, f"daily_{suffix}")
        daily = settings.with_overrides(
            warehouse_url=daily_url,
            national_url=_database(server_url, f"daily_{suffix}_nat"),
            airflow_home=tmp_path / "airflow-daily",
            state_dir=tmp_path / "state-daily",
        )
        sweep(daily, "portal", history=True)
        results = run_dags(daily, [*((PORTAL, d) for d in PORTAL_RECEIVED_DAYS), (TRANSFORM, None)])
        assert [r.state for r in results] == ["success"] * 4

        # WHEN an engineer backfills the same days without a scheduler (`planwh backfill portal --transform`)
        laptop_url = _database(server_url, f"laptop_{suffix}")
        laptop = settings.with_overrides(
            warehouse_url=laptop_url,
            national_url=_database(server_url, f"laptop_{suffix}_nat"),
            state_dir=tmp_path / "state-laptop",
        )
        sweep(laptop, "portal", history=True)
        report = backfill(laptop, "portal", first, last, transform=True, progress=False)
        assert not report.failures and report.dbt

        # THEN the three warehouses hold the same ledger, raw, published and quarantined rows and
        # marts, table by table
        backfilled = warehouse_content(settings.warehouse_url)
        assert backfilled["published.portal_statistics"][0] > 0 and backfilled["marts.fct_portal_articles_daily"][0] > 0
        assert backfilled == warehouse_content(daily_url) == warehouse_content(laptop_url)
        with psycopg.connect(daily_url) as conn:
            daily_ledger = conn.execute(
                "select file_id, original_name, sha256, status, received_at from landing.files order by file_id"
            ).fetchall()
        # every portal export of the small sample (2 portals x 3 days), each received within its day's run
        assert [r[3] for r in daily_ledger] == ["loaded"] * 6
        assert all(
            Interval.for_day(first).start <= r[-1] < Interval.for_day(last).start + timedelta(days=1)
            for r in daily_ledger
        )
    finally:
        _drop(
            server_url, metadata, f"daily_{suffix}", f"daily_{suffix}_nat", f"laptop_{suffix}", f"laptop_{suffix}_nat"
        )
