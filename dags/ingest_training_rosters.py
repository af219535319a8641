"""
### Ingest training rosters

Loads course rosters from `<landing>/rosters/` into `raw.training_courses` and
`raw.training_attendance`. Trainees are pseudonymised while the file is read (HMAC-SHA256 of
the national ID, or of agency + staff ID, with the key from the settings): names, ID numbers
and birth years never reach the warehouse, the logs or XCom.

**Which files:** every file under the landing sub-folder whose bytes were not processed
before (see `ingest_agency_submissions`); a corrected roster of the same course supersedes the
earlier one. Rejected rows and files are recorded and explained in feedback files; they do not
fail the task.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task

TRAINING_ATTENDANCE = Asset("planwh://raw/training_attendance")


@dag(
    dag_id="ingest_training_rosters",
    schedule="@daily",
    start_date=datetime(2023, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["planwh", "ingest", "rosters"],
    default_args={
        "owner": "planwh",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
)
def ingest_training_rosters():
    @task(outlets=[TRAINING_ATTENDANCE])
    def load_rosters() -> dict[str, int]:
        from planwh.ingest.load import ingest_landing, summarise
        from planwh.settings import load_settings

        return summarise(ingest_landing(load_settings(), "rosters"))

    load_rosters()


ingest_training_rosters()
