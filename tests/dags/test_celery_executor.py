"""The CeleryExecutor, as compose runs it: two Celery workers on Redis run the daily chain, and the
warehouse ends as a LocalExecutor run leaves it.

Airflow's API server, DAG processor and scheduler run as child processes with their metadata in
a fresh database of the test's PostgreSQL server; two ``airflow celery worker`` processes serve a
queue of their own on the machine's Redis (127.0.0.1:6379, a database number and queue name
unique to the run), each with its own log-server port. The daily chain is the scheduler's: once
unpaused, the three ingest DAGs run yesterday's interval, the live run, whose first sweep takes
the sample's landing folder over; the transform and the national sync follow through their asset
schedules. The
same chain then runs under the LocalExecutor into a second warehouse, and the two are compared
table by table, file ids mapped to the files they stand for (the three ingest DAGs load in
parallel, so the ids differ).
"""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from dag_helpers import warehouse_content, write_sample
from psycopg import sql

from planwh.orchestration.local_run import INGEST_DAGS, SYNC_DAG, TRANSFORM_DAG
from planwh.orchestration.scheduler import CeleryWorkers, LocalAirflow, RunRecord
from planwh.orchestration.transform_dag import ensure_manifest
from planwh.settings import Settings

REDIS = ("127.0.0.1", 6379)
CHAIN = (*INGEST_DAGS, TRANSFORM_DAG, SYNC_DAG)
# the national tables' columns that name the sender and the batch, not the data
NATIONAL_BOOKKEEPING = ("deployment_id", "batch_id", "updated_at")


def _database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _drop(server_url: str, *names: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def run_daily_chain(airflow: LocalAirflow) -> list[RunRecord]:
    """Unpause the chain: the scheduler runs the ingest DAGs' latest interval (yesterday's), the live
    run, whose first sweep takes the sample's landing folder over; wait until they, the transform
    and the sync have finished."""
    airflow.wait_for_dags(list(CHAIN), timeout=180)
    for dag_id in CHAIN:
        airflow.cli("dags", "unpause", dag_id)
    return airflow.wait_until_idle(
        list(CHAIN), expect={**dict.fromkeys(INGEST_DAGS, 1), TRANSFORM_DAG: 1, SYNC_DAG: 1}, timeout=900
    )


def national_content(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of each national table's data columns (not who sent it in which batch)."""
    found = {}
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'national' "
            "and table_name not in ('batches', 'schema_version') order by 1")]
        for table in tables:
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'national' "
                "and table_name = %s and column_name <> all(%s) order by ordinal_position",
                (table, list(NATIONAL_BOOKKEEPING)))]
            query = sql.SQL(
                "select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
                "from (select row({}) as r from national.{}) as s"
            ).format(sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
            found[table] = conn.execute(query).fetchone()
    return found


@pytest.fixture
def redis_queue():
    """A Redis database number and a queue name of this run; the run's keys are removed after."""
    import redis

    suffix = uuid.uuid4().hex[:8]
    database = 1 + int(suffix, 16) % 15
    client = redis.Redis(*REDIS, db=database, socket_timeout=5)
    client.ping()
    queue = f"planwh_test_{suffix}"
    yield f"redis://{REDIS[0]}:{REDIS[1]}/{database}", queue
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    client.close()


# two Airflows one after the other: 8 to 11 min measured on the 2-core machine under load averages of 6 to 10
@pytest.mark.timeout(1800)
def test_two_celery_workers_run_the_daily_chain_into_the_warehouse_a_local_executor_builds(
    settings: Settings, server_url: str, redis_queue: tuple[str, str], tmp_path
) -> None:
    # GIVEN the sample's landing folder and the dbt manifest
    write_sample(settings)
    ensure_manifest(settings)
    broker_url, queue = redis_queue
    suffix = queue.rsplit("_", 1)[1]
    started = time.monotonic()

    try:
        # WHEN a scheduler runs the daily chain on two Celery workers
        celery = CeleryWorkers(broker_url=broker_url, queue=queue, count=2, concurrency=1)
        with LocalAirflow(settings, database=f"airflow_celery_{suffix}", parallelism=2, celery=celery) as airflow:
            runs = run_daily_chain(airflow)
            instances = airflow.all_task_instances()
        # read once the workers have stopped: their pool processes flush their logs on exit
        workloads = airflow.worker_workloads()
        celery_seconds = time.monotonic() - started

        # THEN every run succeeded, and both workers ran tasks of the chain from the run's own queue
        assert {r.dag_id for r in runs} == set(CHAIN)
        assert all(r.state == "success" for r in runs), [(r.dag_id, r.run_id, r.state) for r in runs]
        finished = {(d, t, r) for d, t, r, state, _ in instances if state in ("success", "failed")}
        executed = set().union(*workloads.values())
        assert len(finished) >= 15
        assert all(q == queue for *_, q in instances)
        assert all(workloads.values()) and len(workloads) == 2, {w: len(t) for w, t in workloads.items()}
        # every task that ran, ran on one of the workers (a publish task with nothing to publish
        # ran there too and skipped itself), and none ran on both
        assert finished <= executed <= {(d, t, r) for d, t, r, *_ in instances}
        assert not workloads["worker-1"] & workloads["worker-2"]
        assert {(r.dag_id, r.run_id) for r in runs} <= {(d, r) for d, _, r in finished}  # every run ran there

        # WHEN the same chain runs under the LocalExecutor into another warehouse
        local = settings.with_overrides(
            warehouse_url=_database(server_url, f"local_{suffix}"),
            national_url=_database(server_url, f"local_{suffix}_nat"),
            airflow_home=tmp_path / "airflow-local",
            state_dir=tmp_path / "state-local",
        )
        with LocalAirflow(local, database=f"airflow_local_{suffix}", parallelism=2) as airflow:
            local_runs = run_daily_chain(airflow)
        assert all(r.state == "success" for r in local_runs)

        # THEN both warehouses hold the same ledger, raw, published, quarantined and mart rows,
        # and sent the same rows to their national databases
        celery_content = warehouse_content(settings.warehouse_url)
        assert celery_content["marts.fct_indicator_progress"][0] > 0
        assert celery_content["published.agency_submissions"][0] > 0
        assert celery_content == warehouse_content(local.warehouse_url)
        national = national_content(settings.national_url)
        assert national["indicator_values"][0] > 0 and national["indicator_values_legacy"][0] > 0
        assert national == national_content(local.national_url)
        print(f"Celery chain: {celery_seconds:.0f} s; both executors: {time.monotonic() - started:.0f} s")
    finally:
        _drop(server_url, f"airflow_celery_{suffix}", f"airflow_local_{suffix}", f"local_{suffix}",
              f"local_{suffix}_nat")
