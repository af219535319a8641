"""Idempotency: every DAG's task code run twice for the same data interval leaves the same
warehouse, the same marts and the same national database.

The session's pipeline (``conftest.pipeline``) runs the three ingest DAGs, ``transform_warehouse``
and ``sync_national`` over one interval, then all of them again over the same interval, and
fingerprints every table (row count and md5 of the sorted rows) after each round.
"""

from __future__ import annotations

import psycopg

# Tables that are logs of runs, not data: a second run adds its own rows there by design.
RUN_LOGS = {
    "audit.dbt_node_results",  # one row per dbt node per build (build id = the run)
    "sync.batches",  # an offline export is recorded as a batch of kind 'package'
}


def test_every_dag_run_twice_for_the_same_interval_gives_identical_marts_and_warehouse(pipeline) -> None:
    first, second = pipeline.rounds

    # the second round really ran every step: the landing files were all seen again, dbt rebuilt
    # every model (the marts were dropped and recreated) and the sync and export ran
    for dag_id, step in second["ingest"].items():
        assert step["files_received"] == first["ingest"][dag_id]["files_received"] > 0, dag_id
        assert step["file_ids"] == [] and step.get("files_loaded", 0) == 0, dag_id
    assert first["build"] == second["build"] and second["build"].get("success", 0) > 40
    assert second["sync"]["batch_id"] is None and first["sync"]["inserted"] > 0

    marts_first = {k: v for k, v in first["fingerprints"].items() if k.startswith("marts.")}
    marts_second = {k: v for k, v in second["fingerprints"].items() if k.startswith("marts.")}
    assert len(marts_first) >= 12 and all(count > 0 for count, _ in marts_first.values()), marts_first
    assert marts_second == marts_first

    # every other table of the warehouse (ledger, raw, quarantine, published, audit) is unchanged
    data_first = {k: v for k, v in first["fingerprints"].items() if k not in RUN_LOGS}
    data_second = {k: v for k, v in second["fingerprints"].items() if k not in RUN_LOGS}
    assert data_second == data_first
    assert second["national"] == first["national"] and sum(c for c, _ in first["national"].values()) > 0


def test_the_second_round_only_added_run_records(pipeline) -> None:
    with psycopg.connect(pipeline.url) as conn:
        builds = conn.execute(
            "select build_id, count(*) from audit.dbt_node_results group by 1 order by 1"
        ).fetchall()
        batches = conn.execute("select kind, status, count(*) from sync.batches group by 1, 2 order by 1, 2").fetchall()
    assert [b for b, _ in builds] == ["reliability-round-1", "reliability-round-2"]
    assert builds[0][1] == builds[1][1]
    # one direct batch (the first sync; the second had nothing to send) and one export per round
    assert batches == [("direct", "acknowledged", 1), ("package", "exported", 2)]
    with psycopg.connect(pipeline.national_url) as conn:
        assert conn.execute("select count(*) from national.batches").fetchone()[0] == 1
