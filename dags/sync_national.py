"""
### Sync to the national shared database

Task 5.1 of the provincial plans: share the plan's data into the national shared database.
Runs whenever the transform DAG has rebuilt `marts.fct_indicator_progress`, and sends what
changed in the shared marts since the last batch the national database acknowledged:
indicator values per province and year (value, target, status, completeness), submission
compliance, training coverage (aggregates only), indicator metadata and the province mapping.

**Guarantees:** the whole batch is applied in one transaction on the national side and
recorded in both ledgers (`national.batches`, `sync.batches`); a run with nothing new sends
nothing; two runs never interleave (advisory lock: a second run waits, then fails and is
retried); a run that dies mid-batch leaves nothing partial, and the next run completes it
without sending anything twice. Retries back off exponentially, so a national database that
is down for a while is caught up when it returns.

**Where:** `PLANWH_NATIONAL_URL` (default: database `planwh_national` next to the warehouse).
Places without a connection use `planwh export` and `planwh sync --from-package` instead.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task

from planwh.orchestration.dag_defaults import dag_kwargs, default_args

MARTS_INDICATOR_PROGRESS = Asset("planwh://marts/fct_indicator_progress")
NATIONAL_INDICATOR_VALUES = Asset("planwh://national/indicator_values")


@dag(
    dag_id="sync_national",
    schedule=[MARTS_INDICATOR_PROGRESS],
    # a national database that is down is retried with growing delays (1 min doubling, 15 min
    # at most); nothing is sent twice, so a retry is always safe
    default_args=default_args(execution_timeout=timedelta(minutes=15), retries=4),
    **dag_kwargs(tags=["sync", "national"], doc_md=__doc__, dagrun_timeout=timedelta(hours=2)),
)
def sync_national():
    @task(outlets=[NATIONAL_INDICATOR_VALUES])
    def send_to_national() -> dict:
        from planwh.settings import load_settings
        from planwh.sync import sync_national as run_sync

        return run_sync(load_settings()).summary()

    send_to_national()


sync_national()
