"""The sync_national DAG: scheduled on the marts asset, follows the house rules, and a run syncs.

Airflow runs in a child process with its own AIRFLOW_HOME and SQLite metadata database (it
reads its configuration once, at import); the child inherits the test's warehouse and national
database through the environment the ``settings`` fixture sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from sync_marts import Marts

from planwh.settings import Settings

REPO = Path(__file__).resolve().parents[3]

RUNNER = r"""
import json, sys, logging
logging.disable(logging.WARNING)
from airflow.utils.db import initdb
initdb()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.get_dag("sync_national")
task = dag.tasks[0]
report = {
    "import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()},
    "tags": sorted(dag.tags), "doc_md": bool(dag.doc_md), "task_id": task.task_id, "owner": task.owner,
    "retries": task.retries, "backoff": task.retry_exponential_backoff,
    "timeout": bool(task.execution_timeout), "callback": bool(task.on_failure_callback),
    "dagrun_timeout": bool(dag.dagrun_timeout),
    "schedule": sorted(a.uri for a in dag.timetable.asset_condition.objects),
    "outlets": sorted(o.uri for o in task.outlets),
}
task.retries = 0  # a failure should end the test run, not wait for the retry delay
report["state"] = str(dag.test().state)
print("REPORT " + json.dumps(report))
"""


def test_sync_national_dag_runs_on_the_marts_asset_and_fills_the_national_database(
    settings: Settings, marts: Marts, tmp_path: Path
) -> None:
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    done = subprocess.run([sys.executable, "-c", RUNNER, str(REPO / "dags")], env=env, capture_output=True,
                          text=True, timeout=180, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    report = json.loads(lines[-1][len("REPORT "):])

    assert report["import_errors"] == {}
    assert report["doc_md"] and "sync" in report["tags"]
    assert report["owner"] == "planwh" and report["retries"] >= 1 and report["backoff"]
    assert report["timeout"] and report["callback"] and report["dagrun_timeout"]
    assert report["schedule"] == ["planwh://marts/fct_indicator_progress"]
    assert report["outlets"] == ["planwh://national/indicator_values"]
    assert report["state"] == "success"
    with psycopg.connect(settings.national_url) as conn:
        assert conn.execute("select count(*) from national.indicator_values").fetchone()[0] == 27
        assert conn.execute("select status from national.batches").fetchall() == [("acknowledged",)]
