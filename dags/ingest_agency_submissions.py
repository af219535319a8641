"""
### Ingest agency submissions

Loads the agency register (`<landing>/agencies/`), then the agencies' reports
(`<landing>/submissions/`), into `raw.agency_register` and `raw.agency_submissions`.
The register goes first because a submission from an agency that is not registered for its
period is rejected.

**Which files:** every file under the landing sub-folder whose bytes were not processed
before. Files stay where the senders put them; a file already loaded (or rejected) is skipped
without a new ledger row, a corrected file (new bytes) is loaded as a new version of its agency
and period. So the run is idempotent whatever its data interval: re-running it changes nothing.

Rejected rows and files are data, not task failures: they are in `quarantine.rejected_rows`
and `landing.files`, with a feedback file per file in the state folder. The task fails only if
the warehouse or the archive cannot be reached.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task

AGENCY_REGISTER = Asset("planwh://raw/agency_register")
AGENCY_SUBMISSIONS = Asset("planwh://raw/agency_submissions")


@dag(
    dag_id="ingest_agency_submissions",
    schedule="@daily",
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["planwh", "ingest", "submissions"],
    default_args={
        "owner": "planwh",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def ingest_agency_submissions():
    @task(outlets=[AGENCY_REGISTER])
    def load_agency_register() -> dict[str, int]:
        from planwh.ingest.load import ingest_landing, summarise
        from planwh.settings import load_settings

        return summarise(ingest_landing(load_settings(), "agencies"))

    @task(outlets=[AGENCY_SUBMISSIONS])
    def load_submissions() -> dict[str, int]:
        from planwh.ingest.load import ingest_landing, summarise
        from planwh.settings import load_settings

        return summarise(ingest_landing(load_settings(), "submissions"))

    load_agency_register() >> load_submissions()


ingest_agency_submissions()
