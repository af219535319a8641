"""
### Ingest portal statistics

Every Viet Nam day: the provincial e-portals' article statistics are loaded into
`raw.portal_statistics`, checked by the Great Expectations gate and published to
`published.portal_statistics`. Two ways in:

1. **The portals' HTTP APIs**, for the day of the run's data interval (pulled when the interval
   is over; a backfill pulls each past day). The Airflow Variable `planwh_portal_api_portals`
   lists the portals (a JSON list, e.g. `["quangnam.gov.vn"]`; or the environment variable
   `AIRFLOW_VAR_PLANWH_PORTAL_API_PORTALS`). Each portal's base URL and token come from the
   connection `portal_api_<portal>` (dots and dashes written `_`), or else from
   `PLANWH_PORTAL_API_URL` / `PLANWH_PORTAL_API_TOKEN`. The day's rows are kept as
   `<landing>/portal/api/<portal>/<day>.jsonl` and ingested, received at the end of the interval.
   No portal configured: nothing is pulled.
2. **Exported files** received in `<landing>/portal/` during the data interval (modification
   time in `[data_interval_start, data_interval_end)`).

A day re-sent later is a new version of that portal and day and supersedes the earlier one.
Bytes already processed are skipped, so re-running a day changes nothing. Failures: see
`ingest_agency_submissions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import INGEST_PARAMS, dag_kwargs, daily, default_args

SOURCES = ("portal",)


@dag(
    dag_id="ingest_portal_statistics",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    params=INGEST_PARAMS,
    **dag_kwargs(tags=["ingest", "portal"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_portal_statistics():
    @task(outlets=[Asset("planwh://raw/portal")])
    def pull_portal_apis(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import (
            Interval,
            StepResult,
            portal_apis_from_airflow,
            pull_portal_interval,
        )
        from planwh.settings import load_settings

        interval = Interval.from_context(data_interval_start, data_interval_end, params)
        apis = portal_apis_from_airflow()
        if not apis:
            return StepResult().to_xcom()
        return pull_portal_interval(load_settings(), apis, interval).to_xcom()

    @task(outlets=[Asset("planwh://raw/portal")])
    def load_portal_files(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import Interval, ingest_interval
        from planwh.settings import load_settings

        interval = Interval.from_context(data_interval_start, data_interval_end, params)
        return ingest_interval(load_settings(), "portal", interval).to_xcom()

    @task(outlets=[Asset("planwh://published/portal")])
    def validate_and_publish(
        pulled: dict,
        files: dict,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict | None = None,
    ) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, data_interval_start, data_interval_end, params, pulled, files)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    pulled = pull_portal_apis()
    files = load_portal_files()
    pulled >> files
    fail_on_rejected_batches(validate_and_publish(pulled, files))


ingest_portal_statistics()
