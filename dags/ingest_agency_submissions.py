"""
### Ingest agency submissions

Every Viet Nam day: the agency registers, then the agencies' reports, that arrived in
`<landing>/agencies/` and `<landing>/submissions/`, are loaded into `raw.agency_register` and
`raw.agency_submissions`, checked by the Great Expectations gate and published to
`published.*`. The register goes first because a submission from an agency that is not
registered for its period is rejected.

**Which files:** the reception ledger decides, never a file's modification time
(`planwh.ingest.reception`). The run right after its day (or the first run after an outage)
sweeps the landing folders and loads every file no run has loaded yet; a backfill, or a manual
run of an older day (`airflow dags trigger -l 2025-12-29`: that day), loads what the ledger
received in that day. A file still being written waits for the next run; hidden files, Excel
lock files and OS litter are skipped and listed once. A corrected report sent months later is
received then, loaded as a new version of its agency and period, and the marts take it at the
next dbt build. Re-running a day changes nothing.

**Failures:** rejected rows and files are data, not task failures: they are in
`quarantine.rejected_rows` and `landing.files`, with a feedback file per file. A file that fails
an error-level expectation is recorded and held back while the rest is published and
`planwh://published/...` is updated; then `fail_on_rejected_batches` fails the run so that it
shows. `check_landing_backlog` fails the run when a landing file has waited longer than
`PLANWH_LANDING_STALE_HOURS` (`planwh landing status` lists them). Every final failure lands in
`audit.task_failures` (and the `planwh_alerts` webhook).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import dag_kwargs, daily, default_args

SOURCES = ("agencies", "submissions")


@dag(
    dag_id="ingest_agency_submissions",
    schedule=daily(),
    default_args=default_args(execution_timeout=timedelta(minutes=30)),
    **dag_kwargs(tags=["ingest", "submissions"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def ingest_agency_submissions():
    @task(outlets=[Asset("planwh://raw/agencies")])
    def load_agency_register() -> dict:
        from planwh.orchestration.tasks import current_interval, ingest_interval
        from planwh.settings import load_settings

        return ingest_interval(load_settings(), "agencies", current_interval()).to_xcom()

    @task(outlets=[Asset("planwh://raw/submissions")])
    def load_submissions() -> dict:
        from planwh.orchestration.tasks import current_interval, ingest_interval
        from planwh.settings import load_settings

        return ingest_interval(load_settings(), "submissions", current_interval()).to_xcom()

    @task(outlets=[Asset(f"planwh://published/{source}") for source in SOURCES])
    def validate_and_publish(register: dict, submissions: dict) -> dict:
        from planwh.orchestration.tasks import publish_step

        return publish_step(SOURCES, register, submissions)

    @task
    def fail_on_rejected_batches(gate: dict) -> None:
        from planwh.orchestration.tasks import fail_on_gate

        fail_on_gate(gate)

    @task
    def check_landing_backlog() -> dict:
        from planwh.orchestration.tasks import landing_check_step

        return landing_check_step(SOURCES)

    register = load_agency_register()
    submissions = load_submissions()
    register >> submissions
    fail_on_rejected_batches(validate_and_publish(register, submissions))
    submissions >> check_landing_backlog()


ingest_agency_submissions()
