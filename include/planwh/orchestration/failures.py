"""The failure callback of every DAG: record the failure in the warehouse, notify if configured.

``audit.task_failures`` gets one row per task that failed for good (after its retries) and per
DAG run that failed or timed out (``task_id`` empty): which DAG, run, data interval and try,
the exception's type and message. BI and ``planwh`` read failures from there, next to the
gate's verdicts, without access to Airflow.

Notification: when the Airflow connection ``planwh_alerts`` exists (an HTTP connection whose
host is a webhook URL, e.g. ``AIRFLOW_CONN_PLANWH_ALERTS='{"conn_type": "http", "host":
"https://chat.example/hooks/..."}'``), a JSON message ``{"text": ...}`` is POSTed to it.

A callback never raises: a warehouse or webhook that cannot be reached is logged, and the
task's own failure stays what Airflow shows.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planwh.ddl import create_schemas_sql

log = logging.getLogger(__name__)

ALERT_CONNECTION = "planwh_alerts"
MESSAGE_LIMIT = 4000

DDL = create_schemas_sql("audit") + """
create table if not exists audit.task_failures (
    failure_id bigint generated always as identity primary key,
    dag_id text not null,
    task_id text,
    run_id text,
    logical_date timestamptz,
    data_interval_start timestamptz,
    data_interval_end timestamptz,
    try_number integer,
    exception_type text,
    message text,
    notified boolean not null default false,
    failed_at timestamptz not null default clock_timestamp()
);
create index if not exists task_failures_dag_time on audit.task_failures (dag_id, failed_at);
"""


@dataclass(frozen=True)
class Failure:
    dag_id: str
    task_id: str | None
    run_id: str | None
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    try_number: int | None
    exception_type: str | None
    message: str | None

    def text(self) -> str:
        where = f"{self.dag_id}.{self.task_id}" if self.task_id else f"DAG run of {self.dag_id}"
        interval = ""
        if self.data_interval_start and self.data_interval_end:
            interval = f" for {self.data_interval_start.isoformat()} - {self.data_interval_end.isoformat()}"
        what = f"{self.exception_type}: {self.message}" if self.exception_type else (self.message or "failed")
        return f"planwh: {where} failed{interval} (run {self.run_id}, try {self.try_number}): {what}"[
            :MESSAGE_LIMIT
        ]


def failure_from_context(context: Any, *, dag_run_level: bool = False) -> Failure:
    """The facts of a failure from an Airflow callback context (a task's, or the DAG run's)."""
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_run = context.get("dag_run")
    exception = context.get("exception")
    reason = context.get("reason")
    dag_id = getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?")
    # A DAG run's callback context may still carry the last failed task instance: the run is
    # what failed there, so no task is named.
    task_id = None if dag_run_level else getattr(ti, "task_id", None)
    message = str(exception) if exception is not None else (str(reason) if reason else None)
    return Failure(
        dag_id=str(dag_id),
        task_id=task_id,
        run_id=context.get("run_id") or getattr(dag_run, "run_id", None),
        logical_date=context.get("logical_date"),
        data_interval_start=context.get("data_interval_start"),
        data_interval_end=context.get("data_interval_end"),
        try_number=getattr(ti, "try_number", None) if task_id else None,
        exception_type=type(exception).__name__ if exception is not None else None,
        message=message[:MESSAGE_LIMIT] if message else None,
    )


def record(failure: Failure, settings=None, *, notified: bool = False) -> int:
    """Insert the failure into ``audit.task_failures``; return its id."""
    from planwh.db import connect, warehouse_url
    from planwh.settings import load_settings

    settings = settings or load_settings()
    with connect(warehouse_url(settings)) as conn:
        conn.execute(DDL)
        row = conn.execute(
            """
            insert into audit.task_failures (
                dag_id, task_id, run_id, logical_date, data_interval_start, data_interval_end,
                try_number, exception_type, message, notified
            )
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning failure_id
            """,
            (
                failure.dag_id,
                failure.task_id,
                failure.run_id,
                failure.logical_date,
                failure.data_interval_start,
                failure.data_interval_end,
                failure.try_number,
                failure.exception_type,
                failure.message,
                notified,
            ),
        ).fetchone()
        conn.commit()
    return int(row[0])


def webhook_url() -> str | None:
    """The alert webhook from the Airflow connection ``planwh_alerts``, or None."""
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(ALERT_CONNECTION)
    except Exception:  # noqa: BLE001 - not configured (or no Airflow): no notification
        return None
    extra = getattr(connection, "extra_dejson", None) or {}
    url = str(extra.get("url") or connection.host or "").strip()
    if url and "://" not in url:
        url = f"{connection.schema or 'https'}://{url}"
    return url or None


def notify(failure: Failure, url: str, timeout: float = 10.0) -> bool:
    """POST ``{"text": ...}`` to the webhook; whether it answered 2xx."""
    body = json.dumps({"text": failure.text()}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as exc:
        log.warning("failure notification to the %s webhook failed: %s", ALERT_CONNECTION, type(exc).__name__)
        return False


def on_failure(context: Any) -> None:
    """``on_failure_callback`` of every task: record, then notify if configured."""
    _handle(context, dag_run_level=False)


def on_dag_failure(context: Any) -> None:
    """``on_failure_callback`` of every DAG: a failed or timed-out run (``task_id`` empty)."""
    _handle(context, dag_run_level=True)


def _handle(context: Any, *, dag_run_level: bool) -> None:
    try:
        failure = failure_from_context(context, dag_run_level=dag_run_level)
    except Exception:  # noqa: BLE001 - a callback must never mask the task's own failure
        log.exception("could not read the failure context")
        return
    url = webhook_url()
    notified = notify(failure, url) if url else False
    try:
        record(failure, notified=notified)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record the failure of %s in audit.task_failures: %s", failure.dag_id, exc)
