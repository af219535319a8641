"""The national database goes down during a sync, at the DAG level: the ``sync_national`` DAG
run fails visibly (recorded in ``audit.task_failures``), nothing partial stays on the national
side, a run while it is still down fails before preparing anything, and the first run after it
is back sends everything, once.

The national database is a real server of its own (an embedded PostgreSQL of this module) that
is crashed with ``pg_ctl stop -m immediate`` after two of the shared tables were merged inside
the national transaction. Airflow runs the real DAG file with ``dag.test()`` in a child process
(its own AIRFLOW_HOME and SQLite metadata), retries off so that each run is one try.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import REPO_ROOT, load_module

from planwh.db import EmbeddedServer
from planwh.settings import Settings, load_settings

PORT = 54350

RUNNER = r"""
import json, logging, sys
logging.disable(logging.WARNING)
from airflow.utils.db import initdb
initdb()
from airflow.dag_processing.dagbag import DagBag
from planwh.db import EmbeddedServer
from planwh.settings import load_settings
from planwh.sync import national

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.get_dag("sync_national")
for task in dag.tasks:
    task.retries = 0  # one try per run: the test plays the retries
server = EmbeddedServer(load_settings({"PLANWH_STATE_DIR": sys.argv[2], "PLANWH_EMBEDDED_PORT": sys.argv[3],
                                       "PLANWH_DOTENV": sys.argv[2] + "/no.env"}))
original = national.merge_table
merged = []

def merge_then_crash(conn, table, batch):
    counts = original(conn, table, batch)
    merged.append(table.name)
    if len(merged) == 2:  # the national server dies in the middle of the batch
        done = server._run([str(server._bin("pg_ctl")), "-D", str(server.pgdata), "-m", "immediate", "-w", "stop"])
        assert done.returncode == 0, done.stderr
    return counts

national.merge_table = merge_then_crash
report = {"crashed_run": str(dag.test().state), "merged": list(merged)}
national.merge_table = original
report["run_while_down"] = str(dag.test().state)
server.start()
import psycopg
with psycopg.connect(server.url("planwh_national")) as conn:  # after crash recovery, before the next run
    report["after_recovery"] = {t: conn.execute(f"select count(*) from national.{t}").fetchone()[0]
                                for t in ("batches", "indicator_values", "indicator_values_legacy")}
report["run_after_restore"] = str(dag.test().state)
report["run_again"] = str(dag.test().state)
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def national_server() -> Iterator[EmbeddedServer]:
    state = Path(tempfile.mkdtemp(prefix="planwh-national-"))
    server = EmbeddedServer(load_settings({"PLANWH_STATE_DIR": str(state), "PLANWH_EMBEDDED_PORT": str(PORT),
                                           "PLANWH_DOTENV": str(state / "no.env")}))
    server.start()
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_national_database_down_during_the_sync_dag_leaves_nothing_partial_and_the_next_run_completes(
    settings: Settings, national_server: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN marts in the warehouse and a national database on a server of its own
    sync_marts = load_module("sync_marts", "tests/include/sync/sync_marts.py")
    marts = sync_marts.Marts()
    with psycopg.connect(settings.warehouse_url) as conn:
        sync_marts.create_marts(conn)
        marts.write(conn)
    national_url = national_server.url("planwh_national")
    monkeypatch.setenv("PLANWH_NATIONAL_URL", national_url)
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }

    # WHEN the DAG runs, the national server crashes mid-batch; runs again while it is down;
    # then runs after it is back, and once more
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(REPO_ROOT / "dags"), str(national_server.state_dir), str(PORT)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    report = json.loads(lines[-1][len("REPORT "):])

    # THEN the crashed run and the run while down failed, the next one succeeded, the last had nothing to do
    assert report["merged"] == ["indicator_values", "indicator_values_legacy"]
    assert (report["crashed_run"], report["run_while_down"], report["run_after_restore"], report["run_again"]) == (
        "failed", "failed", "success", "success"
    )
    # ... the national server came back from the crash with nothing of the batch it was merging
    assert report["after_recovery"] == {"batches": 0, "indicator_values": 0, "indicator_values_legacy": 0}
    with psycopg.connect(national_url) as conn:
        # ... and after the next run it holds every row once
        batches = conn.execute("select batch_id::text, status, rows_inserted from national.batches").fetchall()
        held = {
            t: conn.execute(f"select count(*) from national.{t}").fetchone()[0]
            for t in ("indicator_values", "indicator_values_legacy", "submission_compliance", "training_coverage",
                      "indicators", "province_mapping")
        }
    assert len(batches) == 1 and batches[0][1] == "acknowledged" and batches[0][2] == marts.total
    assert sum(held.values()) == marts.total
    with psycopg.connect(settings.warehouse_url) as conn:
        # ... the warehouse's ledger: the crashed batch abandoned, the next acknowledged, nothing pending
        statuses = conn.execute("select status from sync.batches order by sequence").fetchall()
        assert statuses == [("failed",), ("acknowledged",)]
        assert conn.execute("select batch_id::text from sync.batches where status = 'acknowledged'").fetchone()[0] \
            == batches[0][0]
        # ... and both failed runs were recorded for the operator, with the reason
        failures = conn.execute(
            "select dag_id, task_id, message from audit.task_failures where task_id is not null order by failure_id"
        ).fetchall()
    assert [(d, t) for d, t, _ in failures] == [("sync_national", "send_to_national")] * 2
    assert "run the sync again" in failures[0][2] or "national" in failures[0][2]
    assert "cannot connect" in failures[1][2] or "connection" in failures[1][2].lower()
