"""
### Ingest portal statistics

Loads the provincial e-portals' daily article statistics into `raw.portal_statistics`, from two
places:

1. **The portals' HTTP APIs.** The Airflow Variable `planwh_portal_api_portals` lists the
   portals to pull (a JSON list, e.g. `["quangnam.gov.vn"]`; settable as the environment
   variable `AIRFLOW_VAR_PLANWH_PORTAL_API_PORTALS`). Each portal's base URL and token come from
   the connection `portal_api_<portal>` (dots and dashes written `_`), or else from
   `PLANWH_PORTAL_API_URL` / `PLANWH_PORTAL_API_TOKEN`. Every day after the portal's cursor
   (`landing.portal_api_cursor`) up to the last full day (Viet Nam time) before the end of the
   data interval is pulled, written to `<landing>/portal/api/<portal>/<day>.jsonl` and ingested.
2. **Exported files** dropped in `<landing>/portal/`: every file whose bytes were not processed
   before (see `ingest_agency_submissions`).

A day re-sent later is a new version of that portal and day and supersedes the earlier file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task

PORTAL_STATISTICS = Asset("planwh://raw/portal_statistics")


@dag(
    dag_id="ingest_portal_statistics",
    schedule="@daily",
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["planwh", "ingest", "portal"],
    default_args={
        "owner": "planwh",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def ingest_portal_statistics():
    @task(outlets=[PORTAL_STATISTICS])
    def pull_portal_apis(data_interval_end: datetime | None = None) -> dict[str, int]:
        from airflow.sdk import BaseHook, Variable
        from airflow.sdk.exceptions import AirflowNotFoundException

        from planwh.ingest.load import summarise
        from planwh.ingest.parsing import VIETNAM_TZ
        from planwh.ingest.portal_api import PortalApi, connection_id, pull_portal_incremental
        from planwh.settings import load_settings

        portals = Variable.get("planwh_portal_api_portals", default=[], deserialize_json=True)
        if not portals:
            return {}
        end = data_interval_end or datetime.now(UTC)
        until_day = end.astimezone(VIETNAM_TZ).date() - timedelta(days=1)
        settings = load_settings()
        outcomes = []
        for portal in portals:
            try:
                api = PortalApi.from_connection(portal, BaseHook.get_connection(connection_id(portal)))
            except AirflowNotFoundException:
                api = PortalApi.from_environment(portal)
            outcomes += pull_portal_incremental(settings, api, until_day)
        return summarise(outcomes)

    @task(outlets=[PORTAL_STATISTICS])
    def load_portal_files() -> dict[str, int]:
        from planwh.ingest.load import ingest_landing, summarise
        from planwh.settings import load_settings

        return summarise(ingest_landing(load_settings(), "portal"))

    pull_portal_apis() >> load_portal_files()


ingest_portal_statistics()
