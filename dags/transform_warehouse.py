"""
### Transform the warehouse (dbt)

Runs when any ingest DAG published something (`planwh://published/agencies`, `.../submissions`,
`.../portal`, `.../rosters`): `dbt build` over the published data, reference seeds, staging,
intermediate and mart models, each test right after the model it checks. When done it updates
`planwh://marts/fct_indicator_progress`, which schedules the national sync.

**One task, every model visible:** `build_marts` runs one in-process `dbt build` (seeds,
models, data tests each after its model; unit tests run in CI, not on each day's data). Each
node's status and time are stored in `audit.dbt_node_results` under the run id and listed in
the task log; a retry runs `dbt retry`, so only the failed model and what it blocked run again.
A task per model costs ~6 s of scheduling each under a real scheduler against a few
hundredths of a second of SQL: measured with `bench/cosmos_modes.py`, Cosmos's modes put the
daily chain far over its one-minute target (README, "Running and backfilling"), and a Cosmos
DAG file takes ~1 s to import. `build_transform_dag(mode="cosmos_build")` renders the same
build as a task per model from dbt's manifest when that is wanted.

**Late data:** a corrected file received later is a new version; dbt keeps the latest
version of each report, so the next build corrects the marts.
"""

from __future__ import annotations

from airflow.sdk import Asset

from planwh.orchestration.transform_dag import build_transform_dag
from planwh.settings import load_settings

# Measured by bench/cosmos_modes.py under a real scheduler; see the README.
MODE = "single"

PUBLISHED = [
    Asset(f"planwh://published/{source}") for source in ("agencies", "submissions", "portal", "rosters")
]

dag = build_transform_dag(
    dag_id="transform_warehouse",
    mode=MODE,
    schedule=(PUBLISHED[0] | PUBLISHED[1] | PUBLISHED[2] | PUBLISHED[3]),
    doc_md=__doc__,
    settings=load_settings(),
)
