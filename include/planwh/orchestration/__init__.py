"""Running the pipeline under Airflow: DAG defaults, interval-scoped tasks, local runs, backfills.

Nothing here imports Airflow at package import: :mod:`planwh.orchestration.tasks` (what every
DAG task calls) and :mod:`planwh.orchestration.backfill` run without it, so the same code can be
driven by a scheduler, by ``dag.test()`` or by ``planwh backfill`` on a laptop.

* :mod:`~planwh.orchestration.tasks` — the interval a run works on, load the files the reception
  ledger gives it (``planwh.ingest.reception``), pull the portal APIs from their cursors, validate
  and publish what was loaded, check the landing backlog;
* :mod:`~planwh.orchestration.dag_defaults` — owner, schedule, retries, timeouts (imports Airflow);
* :mod:`~planwh.orchestration.failures` — the failure callback (``audit.task_failures`` and an
  optional webhook);
* :mod:`~planwh.orchestration.transform_dag` — the dbt DAG, task per model through Cosmos;
* :mod:`~planwh.orchestration.airflow_env` — the environment of a local Airflow (metadata
  database under the state folder or on the warehouse's server);
* :mod:`~planwh.orchestration.local_run` — ``dag.test()`` of the real DAGs in a child process;
* :mod:`~planwh.orchestration.backfill` — the task code over a range of days, no scheduler.
"""
