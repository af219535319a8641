"""Writing the validation history BI reads: ``audit.validation_runs`` and ``audit.expectation_results``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from planwh.validate.results import RuleOutcome


def _jsonb(value: object) -> Jsonb | None:
    # Dates and decimals come back from GX as Python objects; their text form is what a reader wants.
    return (
        None
        if value is None
        else Jsonb(value, dumps=lambda v: json.dumps(v, default=str, ensure_ascii=False))
    )


@dataclass(frozen=True)
class RunRecord:
    run_id: uuid.UUID
    gate_run_id: uuid.UUID
    suite: str
    data_asset: str
    file_id: int | None
    source: str | None
    started_at: datetime
    finished_at: datetime
    outcomes: tuple[RuleOutcome, ...]
    gx_version: str

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)


def record_run(conn: psycopg.Connection, run: RunRecord) -> None:
    """Insert one run and its expectation results (inside the caller's transaction)."""
    successful = sum(1 for o in run.outcomes if o.success)
    conn.execute(
        """
        insert into audit.validation_runs (
            run_id, gate_run_id, started_at, finished_at, suite, data_asset, file_id, source,
            success, evaluated, successful, unsuccessful, gx_version
        )
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            run.run_id,
            run.gate_run_id,
            run.started_at,
            run.finished_at,
            run.suite,
            run.data_asset,
            run.file_id,
            run.source,
            run.success,
            len(run.outcomes),
            successful,
            len(run.outcomes) - successful,
            run.gx_version,
        ),
    )
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.expectation_results (
                run_id, rule, file_id, expectation_type, column_name, kwargs, severity, on_failure,
                success, element_count, unexpected_count, unexpected_percent, unexpected_sample,
                exception_message
            )
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    run.run_id,
                    o.rule.name,
                    run.file_id,
                    o.rule.expectation_type,
                    ", ".join(o.rule.columns) or None,
                    _jsonb(o.rule.kwargs),
                    o.rule.severity,
                    o.rule.on_failure,
                    o.success,
                    o.element_count,
                    o.unexpected_count,
                    o.unexpected_percent,
                    _jsonb(o.sample),
                    o.exception_message,
                )
                for o in run.outcomes
            ],
        )
