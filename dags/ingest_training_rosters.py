"""
### Ingest training rosters

Every Viet Nam day: the course rosters that arrived in `<landing>/rosters/` are loaded into
`raw.training_courses` and `raw.training_attendance`, checked by the Great Expectations gate
and published. Trainees are pseudonymised while the file is read (HMAC-SHA256 of the national
ID, or of agency + staff ID, with the key from the settings): names, ID numbers and birth years
never reach the warehouse, the logs or XCom.

**Which files:** as the reception ledger decides (see `ingest_agency_submissions`); a corrected
roster of the same course received later supersedes the earlier one. Re-running a day changes
nothing. Failures and the landing check: see `ingest_agency_submissions`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import dag_kwargs, daily, default_args

SOURCES = ("rosters",)


@dag(
    dag_id="ingest_training_rosters",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    **dag_kwargs(tags=["ingest", "rosters"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_training_rosters():
    @task(outlets=[Asset("planwh://raw/rosters")])
    def load_rosters() -> dict:
        from planwh.orchestration.tasks import current_interval, ingest_interval
        from planwh.settings import load_settings

        return ingest_interval(load_settings(), "rosters", current_interval()).to_xcom()

    @task(outlets=[Asset("planwh://published/rosters")])
    def validate_and_publish(rosters: dict) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, rosters)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    @task
    def check_landing_backlog() -> dict:
        from planwh.orchestration.tasks import landing_check_step

        return landing_check_step(SOURCES)

    rosters = load_rosters()
    fail_on_rejected_batches(validate_and_publish(rosters))
    rosters >> check_landing_backlog()


ingest_training_rosters()
