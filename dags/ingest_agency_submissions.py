"""
### Ingest agency submissions

Every Viet Nam day: the agency registers, then the agencies' reports, received that day in
`<landing>/agencies/` and `<landing>/submissions/`, are loaded into `raw.agency_register` and
`raw.agency_submissions`, checked by the Great Expectations gate and published to
`published.*`. The register goes first because a submission from an agency that is not
registered for its period is rejected.

**Which files:** those received in the run's data interval (file modification time within
`[data_interval_start, data_interval_end)`). A corrected report sent months later is received
then, loaded as a new version of its agency and period, and the marts take it at the next dbt
build. Bytes already processed are skipped, so re-running a day changes nothing.

**Failures:** rejected rows and files are data, not task failures: they are in
`quarantine.rejected_rows` and `landing.files`, with a feedback file per file. A file that fails
an error-level expectation is recorded and held back while the rest is published and
`planwh://published/...` is updated; then `fail_on_rejected_batches` fails the run so that it
shows. Every final failure lands in `audit.task_failures` (and the `planwh_alerts` webhook).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import INGEST_PARAMS, dag_kwargs, daily, default_args

SOURCES = ("agencies", "submissions")


@dag(
    dag_id="ingest_agency_submissions",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    params=INGEST_PARAMS,
    **dag_kwargs(tags=["ingest", "submissions"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_agency_submissions():
    @task(outlets=[Asset("planwh://raw/agencies")])
    def load_agency_register(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import Interval, ingest_interval
        from planwh.settings import load_settings

        interval = Interval.from_context(data_interval_start, data_interval_end, params)
        return ingest_interval(load_settings(), "agencies", interval).to_xcom()

    @task(outlets=[Asset("planwh://raw/submissions")])
    def load_submissions(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import Interval, ingest_interval
        from planwh.settings import load_settings

        interval = Interval.from_context(data_interval_start, data_interval_end, params)
        return ingest_interval(load_settings(), "submissions", interval).to_xcom()

    @task(outlets=[Asset(f"planwh://published/{source}") for source in SOURCES])
    def validate_and_publish(
        register: dict,
        submissions: dict,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, data_interval_start, data_interval_end, params, register, submissions)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    register = load_agency_register()
    submissions = load_submissions()
    register >> submissions
    fail_on_rejected_batches(validate_and_publish(register, submissions))


ingest_agency_submissions()
