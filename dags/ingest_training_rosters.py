"""
### Ingest training rosters

Every Viet Nam day: the course rosters received that day in `<landing>/rosters/` are loaded
into `raw.training_courses` and `raw.training_attendance`, checked by the Great Expectations
gate and published. Trainees are pseudonymised while the file is read (HMAC-SHA256 of the
national ID, or of agency + staff ID, with the key from the settings): names, ID numbers and
birth years never reach the warehouse, the logs or XCom.

**Which files:** those received in the run's data interval (modification time within
`[data_interval_start, data_interval_end)`); a corrected roster of the same course received
later supersedes the earlier one. Bytes already processed are skipped, so re-running a day
changes nothing. Failures: see `ingest_agency_submissions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import INGEST_PARAMS, dag_kwargs, daily, default_args

SOURCES = ("rosters",)


@dag(
    dag_id="ingest_training_rosters",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    params=INGEST_PARAMS,
    **dag_kwargs(tags=["ingest", "rosters"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_training_rosters():
    @task(outlets=[Asset("planwh://raw/rosters")])
    def load_rosters(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import Interval, ingest_interval
        from planwh.settings import load_settings

        interval = Interval.from_context(data_interval_start, data_interval_end, params)
        return ingest_interval(load_settings(), "rosters", interval).to_xcom()

    @task(outlets=[Asset("planwh://published/rosters")])
    def validate_and_publish(
        rosters: dict,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, data_interval_start, data_interval_end, params, rosters)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    fail_on_rejected_batches(validate_and_publish(load_rosters()))


ingest_training_rosters()
