"""What the demo and ``planwh airflow chain`` show of a ``dag.test()`` child while it runs."""

from __future__ import annotations

from planwh.orchestration.local_run import progress_message

# Lines as the child writes them (structlog's console format, from a real run's log).
TASK_START = (
    "2026-11-22T07:50:56.798818Z [info     ] [DAG TEST] starting task_id=load_submissions map_index=-1 "
    "[airflow.sdk.definitions.dag] loc=dag.py:1501"
)
OUR_LOG = (
    "2026-11-22T07:50:56.853804Z [info     ] submissions, 2023-01-01T00:00:00+07:00 - 2024-12-11T00:00:00+07:00: "
    "{'files_received': 53} [planwh.orchestration.tasks] loc=tasks.py:170"
)
GATE_WARNING = (
    "2026-11-22T07:51:03.100000Z [warning  ] file 12 is being validated by another process; skipped "
    "[planwh.validate.gate] loc=gate.py:187"
)
AIRFLOW_CHATTER = (
    "2026-11-22T07:50:56.728980Z [info     ] Pushing xcom                   [task] loc=task_runner.py:2280"
)


def test_task_starts_and_our_own_log_lines_are_shown_and_airflow_chatter_is_not() -> None:
    assert progress_message(TASK_START, "ingest_agency_submissions") == "ingest_agency_submissions.load_submissions"
    assert progress_message(OUR_LOG, "ingest_agency_submissions") == (
        "    submissions, 2023-01-01T00:00:00+07:00 - 2024-12-11T00:00:00+07:00: {'files_received': 53}"
    )
    assert progress_message(GATE_WARNING, None) == "    file 12 is being validated by another process; skipped"
    assert progress_message(AIRFLOW_CHATTER, "x") is None
    assert progress_message("PLANWH-DAG-RUN {}", "x") is None
