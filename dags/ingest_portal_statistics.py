"""
### Ingest portal statistics

Every Viet Nam day: the provincial e-portals' article statistics are loaded into
`raw.portal_statistics`, checked by the Great Expectations gate and published to
`published.portal_statistics`. Two ways in:

1. **The portals' HTTP APIs**: every day from each portal's cursor
   (`landing.portal_api_cursor`) to the run's day, so a day the API or the scheduler missed is
   pulled by the next run (at most `PLANWH_PORTAL_API_MAX_DAYS` days a run; the next run goes
   on). A run pulls its own day again: unchanged rows change nothing. The Airflow Variable
   `planwh_portal_api_portals` lists the portals (a JSON list, e.g. `["quangnam.gov.vn"]`; or
   the environment variable `AIRFLOW_VAR_PLANWH_PORTAL_API_PORTALS`). Each portal's base URL and
   token come from the connection `portal_api_<portal>` (dots and dashes written `_`), or else
   from `PLANWH_PORTAL_API_URL` / `PLANWH_PORTAL_API_TOKEN`. A day's rows are kept as
   `<landing>/portal/api/<portal>/<day>.jsonl`, received at the end of that day. No portal
   configured: nothing is pulled.
2. **Exported files** in `<landing>/portal/`, taken as the reception ledger decides: see
   `ingest_agency_submissions`.

A day re-sent later is a new version of that portal and day and supersedes the earlier one.
Re-running a day changes nothing. Failures and the landing check: see
`ingest_agency_submissions`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import dag_kwargs, daily, default_args

SOURCES = ("portal",)


@dag(
    dag_id="ingest_portal_statistics",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    **dag_kwargs(tags=["ingest", "portal"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_portal_statistics():
    @task(outlets=[Asset("planwh://raw/portal")])
    def pull_portal_apis() -> dict:
        from planwh.orchestration.tasks import (
            StepResult,
            current_interval,
            portal_apis_from_airflow,
            pull_portal_interval,
        )
        from planwh.settings import load_settings

        apis = portal_apis_from_airflow()
        if not apis:
            return StepResult().to_xcom()
        return pull_portal_interval(load_settings(), apis, current_interval()).to_xcom()

    @task(outlets=[Asset("planwh://raw/portal")])
    def load_portal_files() -> dict:
        from planwh.orchestration.tasks import current_interval, ingest_interval
        from planwh.settings import load_settings

        return ingest_interval(load_settings(), "portal", current_interval()).to_xcom()

    @task(outlets=[Asset("planwh://published/portal")])
    def validate_and_publish(pulled: dict, files: dict) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, pulled, files)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    @task
    def check_landing_backlog() -> dict:
        from planwh.orchestration.tasks import landing_check_step

        return landing_check_step(SOURCES)

    pulled = pull_portal_apis()
    files = load_portal_files()
    pulled >> files
    fail_on_rejected_batches(validate_and_publish(pulled, files))
    files >> check_landing_backlog()


ingest_portal_statistics()
