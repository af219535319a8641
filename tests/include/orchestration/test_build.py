"""``transform_warehouse`` runs dbt as one task, but a failed model still shows by itself (its row in
``audit.dbt_node_results``) and the task's retry runs only that model and what it blocked."""

from __future__ import annotations

import psycopg
import pytest

from planwh.db import connect
from planwh.dbt import DbtError
from planwh.ingest.schema import ensure_schema
from planwh.orchestration.tasks import build_warehouse
from planwh.settings import Settings
from planwh.validate import ensure_published_schema

FAILING = "model.planwh.stg_portal_statistics__article_days"


def _node_results(settings: Settings, build_id: str, column: str = "status") -> dict[str, object]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return dict(
            conn.execute(
                f"select unique_id, {column} from audit.dbt_node_results where build_id = %s", (build_id,)
            ).fetchall()
        )


def test_a_failed_model_shows_alone_and_the_retry_runs_only_what_failed_or_was_blocked(settings: Settings) -> None:
    # GIVEN an empty warehouse whose published portal table lost a column the staging model reads
    # (a hand-made schema change gone wrong; the source's own tests still pass)
    with connect(settings.warehouse_url) as conn:
        ensure_schema(conn)
        ensure_published_schema(conn)
        conn.execute("alter table published.portal_statistics rename column title to title_away")
        conn.commit()

    # WHEN the transform task runs
    with pytest.raises(DbtError) as failed:
        build_warehouse(settings, build_id="run-1")

    # THEN its error names the portal staging model, and the per-node results show that model
    # failed, what depends on it skipped, and everything else built and tested
    assert "stg_portal_statistics__article_days" in str(failed.value)
    first = _node_results(settings, "run-1")
    assert first[FAILING] == "error"
    assert first["model.planwh.fct_portal_articles_daily"] == "skipped"
    assert first["model.planwh.fct_indicator_progress"] == "success"
    assert first["model.planwh.fct_training_coverage"] == "success"
    built_first = {node for node, status in first.items() if status in ("success", "pass")}
    assert len(built_first) > 100

    recorded_first = _node_results(settings, "run-1", "recorded_at")

    # WHEN the cause is fixed and the task's retry runs (its second try)
    with connect(settings.warehouse_url) as conn:
        conn.execute("alter table published.portal_statistics rename column title_away to title")
        conn.commit()
    build_warehouse(settings, retry=True, build_id="run-1")

    # THEN the retry built the failed and skipped nodes and nothing that had already succeeded
    after = _node_results(settings, "run-1")
    assert set(after.values()) <= {"success", "pass", "no-op"}  # no-op: the exposures
    recorded = _node_results(settings, "run-1", "recorded_at")
    rerun = {node for node, moment in recorded.items() if moment != recorded_first[node]}
    assert FAILING in rerun and "model.planwh.fct_portal_articles_daily" in rerun
    assert not rerun & built_first
