"""A real local Airflow: API server, DAG processor and scheduler with the LocalExecutor, or
with the CeleryExecutor and Celery workers on a Redis broker (what compose runs).

For the scheduler tests and ``bench/cosmos_modes.py``: the metadata database is a database on
the warehouse's PostgreSQL server (the LocalExecutor's workers write concurrently), Airflow's
home is under the state folder. The processes are started with the environment of
:func:`planwh.orchestration.airflow_env.airflow_environment` and stopped (by their own process
ids) when the context ends::

    with LocalAirflow(settings, database="airflow_test") as airflow:
        airflow.cli("dags", "unpause", "ingest_portal_statistics")
        airflow.cli("backfill", "create", "--dag-id", "ingest_portal_statistics", ...)
        airflow.wait_until_idle(["ingest_portal_statistics", "transform_warehouse"], timeout=300)

    celery = CeleryWorkers(broker_url="redis://127.0.0.1:6379/7", queue="planwh_test", count=2)
    with LocalAirflow(settings, database="airflow_celery", celery=celery) as airflow:
        ...
        airflow.worker_workloads()   # which task instances each worker ran, from its log

DAG runs and task instances are read straight from the metadata database (an ``airflow`` CLI
call costs seconds of start-up).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from planwh.orchestration.airflow_env import (
    CELERY_VISIBILITY_TIMEOUT,
    DAGS_FOLDER,
    AirflowEnvironmentError,
    airflow_cli,
    airflow_environment,
    child_environment,
    prepare_metadata,
)
from planwh.settings import Settings

COMPONENTS = ("api-server", "dag-processor", "scheduler")
FINISHED = ("success", "failed")
# What a Celery worker logs (at INFO) for each task it is handed (the Celery provider's
# execute_workload): the task instance's ids are in the workload's repr.
WORKLOAD_LINE = re.compile(
    r"Executing workload in Celery: .*?\btask_id='(?P<task_id>[^']+)', dag_id='(?P<dag_id>[^']+)', "
    r"run_id='(?P<run_id>[^']+)'"
)


@dataclass(frozen=True)
class CeleryWorkers:
    """Celery workers on one host: a broker, the one queue they serve, how many, their concurrency.

    Each worker gets its own Celery host name and log-server port (two on a host clash on
    Airflow's default 8793).
    """

    broker_url: str
    queue: str = "default"
    count: int = 2
    concurrency: int = 2


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunRecord:
    dag_id: str
    run_id: str
    run_type: str
    state: str
    logical_date: datetime | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None


def _stop_with_parent() -> None:
    """In a component's process before it starts: ask Linux for SIGTERM when the process that
    started it dies, so a killed test or benchmark leaves no scheduler behind (elsewhere: no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalAirflow:
    """Start the Airflow components on a Postgres metadata database; stop them on exit."""

    def __init__(
        self,
        settings: Settings,
        *,
        database: str = "airflow",
        dags_folder: Path = DAGS_FOLDER,
        parallelism: int = 4,
        extra_env: dict[str, str] | None = None,
        celery: CeleryWorkers | None = None,
    ):
        self.settings = settings
        self.celery = celery
        self.api_port = _free_port()
        self.env = airflow_environment(
            settings,
            "postgres",
            database=database,
            api_port=self.api_port,
            parallelism=parallelism,
            dags_folder=dags_folder,
        )
        self.env.update(
            {
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                **(extra_env or {}),
            }
        )
        self.metadata_url = self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace(
            "postgresql+psycopg2://", "postgresql://", 1
        )
        if celery:
            self.env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__CELERY__BROKER_URL": celery.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(celery.concurrency),
                    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(CELERY_VISIBILITY_TIMEOUT),
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": celery.queue,
                }
            )
        self.log_dir = settings.airflow_home / "logs" / "components"
        self.processes: dict[str, subprocess.Popen] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> LocalAirflow:
        prepare_metadata(self.env)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for component in COMPONENTS:
                log = open(self.log_dir / f"{component}.log", "ab")  # noqa: SIM115 - closed in stop()
                self.processes[component] = subprocess.Popen(
                    [*airflow_cli(), component],
                    env=child_environment(self.env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_stop_with_parent,
                )
                log.close()
            for number in range(1, (self.celery.count if self.celery else 0) + 1):
                self._start_worker(number)
            self._wait_for_api()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_worker(self, number: int) -> None:
        name = f"worker-{number}"
        env = {
            **self.env,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            # INFO: the worker's log then names every task instance it runs (worker_workloads)
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed below, the child keeps it
        self.processes[name] = subprocess.Popen(
            [*airflow_cli(), "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", self.celery.queue,
             "--concurrency", str(self.celery.concurrency), "--without-mingle", "--without-gossip"],
            env=child_environment(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent,
        )
        log.close()

    def worker_workloads(self) -> dict[str, set[tuple[str, str, str]]]:
        """Per Celery worker, the task instances (dag_id, task_id, run_id) it was handed, from its log.

        Complete once the workers have stopped: a pool process's log lines may wait in its buffer.
        """
        found = {}
        for number in range(1, (self.celery.count if self.celery else 0) + 1):
            text = (self.log_dir / f"worker-{number}.log").read_text(errors="replace")
            found[f"worker-{number}"] = {
                (m["dag_id"], m["task_id"], m["run_id"]) for m in WORKLOAD_LINE.finditer(text)
            }
        return found

    def _wait_for_api(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health"
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.5)
        raise AirflowEnvironmentError(
            f"the Airflow API server did not answer in {timeout:.0f} s; see {self.log_dir}"
        )

    def _check_alive(self) -> None:
        for component, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{component}.log").read_text(errors="replace")[-3000:]
                raise AirflowEnvironmentError(
                    f"airflow {component} exited with {process.returncode}:\n{tail}"
                )

    def stop(self) -> None:
        """Stop the components this object started (each by its own process group)."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    # -- commands and state ------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run ``airflow <args>`` against this Airflow; return its output, raise on failure."""
        result = subprocess.run(
            [*airflow_cli(), *args],
            env=child_environment(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AirflowEnvironmentError(
                f"airflow {' '.join(args)} failed ({result.returncode}):\n{(result.stderr or result.stdout)[-3000:]}"
            )
        return result.stdout

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 120) -> None:
        """Until the DAG processor has stored every DAG in ``dag_ids``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with psycopg.connect(self.metadata_url) as conn:
                if conn.execute("select to_regclass('public.serialized_dag')").fetchone()[0] is not None:
                    found = {
                        r[0]
                        for r in conn.execute(
                            "select dag_id from serialized_dag where dag_id = any(%s)", (dag_ids,)
                        )
                    }
                    if found >= set(dag_ids):
                        return
            time.sleep(0.5)
        raise AirflowEnvironmentError(
            f"DAGs {dag_ids} were not parsed in {timeout:.0f} s; see {self.log_dir}"
        )

    def runs(self, dag_ids: list[str] | None = None) -> list[RunRecord]:
        with psycopg.connect(self.metadata_url) as conn:
            rows = conn.execute(
                """
                select dag_id, run_id, run_type, state, logical_date, queued_at, start_date, end_date
                from dag_run where %(ids)s::text[] is null or dag_id = any(%(ids)s)
                order by coalesce(queued_at, start_date), id
                """,
                {"ids": dag_ids},
            ).fetchall()
        return [RunRecord(*row) for row in rows]

    def all_task_instances(self) -> list[tuple[str, str, str, str, str | None]]:
        """(dag_id, task_id, run_id, state, queue) of every task instance."""
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(
                "select dag_id, task_id, run_id, state, queue from task_instance order by dag_id, run_id, task_id"
            ).fetchall()

    def task_instances(self, dag_id: str, run_id: str) -> list[tuple[str, str, datetime, datetime]]:
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(
                "select task_id, state, start_date, end_date from task_instance "
                "where dag_id = %s and run_id = %s order by start_date",
                (dag_id, run_id),
            ).fetchall()

    def wait_until_idle(
        self,
        dag_ids: list[str],
        *,
        expect: dict[str, int] | None = None,
        timeout: float = 600,
        settle: float = 8,
    ) -> list[RunRecord]:
        """Until every run of ``dag_ids`` is finished, at least ``expect[dag_id]`` runs exist, and
        nothing new was queued for ``settle`` seconds (an asset event schedules a run a moment
        after the run that emitted it ends). Returns the runs."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        last: tuple = ()
        while time.monotonic() < deadline:
            self._check_alive()
            runs = self.runs(dag_ids)
            counts = {d: sum(1 for r in runs if r.dag_id == d) for d in dag_ids}
            done = all(r.state in FINISHED for r in runs) and all(
                counts.get(d, 0) >= n for d, n in (expect or {}).items()
            )
            snapshot = tuple((r.run_id, r.state) for r in runs)
            if done and snapshot == last:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    return runs
            else:
                quiet_since = None
            last = snapshot
            time.sleep(0.5)
        states = [(r.dag_id, r.run_id, r.state) for r in self.runs(dag_ids)]
        raise AirflowEnvironmentError(f"runs did not finish in {timeout:.0f} s: {states}; see {self.log_dir}")
