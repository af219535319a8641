"""What every planwh DAG shares: owner, schedule, retries, timeouts, the failure callback.

Imported by the DAG files at parse time, so it stays light: Airflow's SDK and pendulum only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable

from planwh.orchestration.airflow_env import TIMEZONE
from planwh.orchestration.failures import on_dag_failure, on_failure

OWNER = "planwh"
START_DATE = pendulum.datetime(2023, 1, 1, tz=TIMEZONE)  # the plan period starts in 2023


def daily() -> CronDataIntervalTimetable:
    """Every Viet Nam day, with a data interval (midnight to midnight) and the run after it.

    A bare ``"@daily"`` in Airflow 3 is a cron *trigger* whose data interval is empty; the tasks
    work on intervals, so the interval timetable is explicit. The logical date is the start
    of the day processed (``airflow backfill create --from-date 2024-12-02`` processes that day);
    a manual run (``airflow dags trigger -l 2024-12-02``) processes the day of its logical date
    too, whatever data interval Airflow infers for it (``tasks.Interval.for_run``).
    """
    return CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE)


def default_args(*, execution_timeout: timedelta = timedelta(minutes=30), retries: int = 2) -> dict[str, Any]:
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": execution_timeout,
        "on_failure_callback": on_failure,
    }


def dag_kwargs(
    *, tags: list[str], doc_md: str | None, dagrun_timeout: timedelta, **overrides: Any
) -> dict[str, Any]:
    """Keyword arguments of ``@dag`` shared by the planwh DAGs."""
    kwargs: dict[str, Any] = {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,  # one interval after the other: versions are ordered by reception
        "dagrun_timeout": dagrun_timeout,
        "doc_md": doc_md,
        "tags": ["planwh", *tags],
        "on_failure_callback": on_dag_failure,
    }
    kwargs.update(overrides)
    return kwargs
