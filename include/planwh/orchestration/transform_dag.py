"""The dbt DAG: how ``dbt build`` runs under Airflow, and the manifest it is drawn from.

Modes (``bench/cosmos_modes.py`` measures them under a real scheduler):

``single``
    one task calling :func:`planwh.transform.transform` (``dbt build`` in-process): the
    cheapest, but a failed model fails the whole task and shows only in its log.
``cosmos_local``
    Cosmos ``ExecutionMode.LOCAL`` with ``InvocationMode.DBT_RUNNER``: a task per seed and
    model and a test task after each model; a failed model shows and retries alone.
``cosmos_build``
    the same with ``TestBehavior.BUILD``: one task per node runs ``dbt build --select`` that
    node, its tests included (half the tasks).
``cosmos_watcher``
    Cosmos ``ExecutionMode.WATCHER``: one producer task runs a single ``dbt build`` and a
    sensor per node reports that node's result.

The Cosmos modes read the graph from dbt's ``manifest.json`` (``LoadMode.DBT_MANIFEST``), so
parsing the DAG never runs dbt; :func:`ensure_manifest` writes it with ``dbt parse``. Without a
manifest the DAG falls back to ``single``, so it always imports.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from planwh.dbt import DBT_PROJECT_DIR, dbt_paths
from planwh.orchestration.tasks import MARTS_ASSET
from planwh.settings import Settings

MODES = ("single", "cosmos_local", "cosmos_build", "cosmos_watcher")
PROJECT_NAME = "planwh"
PROJECT_INPUTS = ("dbt_project.yml", "models", "seeds", "macros", "tests")


def manifest_path(settings: Settings) -> Path:
    """Where ``dbt parse`` (and every planwh dbt command) writes ``manifest.json``."""
    return dbt_paths(settings)["target"] / "manifest.json"


def _newest_input(project_dir: Path = DBT_PROJECT_DIR) -> float:
    newest = 0.0
    for name in PROJECT_INPUTS:
        root = project_dir / name
        paths = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
        for path in paths:
            newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_current(settings: Settings) -> bool:
    path = manifest_path(settings)
    return path.is_file() and path.stat().st_mtime >= _newest_input()


def ensure_manifest(settings: Settings, *, force: bool = False) -> Path:
    """Write ``manifest.json`` with ``dbt parse`` unless it is newer than every project file."""
    path = manifest_path(settings)
    if force or not manifest_is_current(settings):
        from planwh.dbt import run_dbt

        run_dbt(["parse"], settings)
    return path


def export_dbt_environment(context: Any = None) -> None:
    """``on_execute_callback`` of the Cosmos tasks: the variables ``profiles.yml`` reads, from the
    planwh settings of the worker (the embedded server is started there, never at parse)."""
    from planwh.db import dbt_env, warehouse_url
    from planwh.settings import load_settings

    os.environ.update(dbt_env(warehouse_url(load_settings())))
    os.environ.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"})


def _cosmos_group(mode: str, manifest: Path) -> Any:
    # Airflow first: cosmos.constants imports airflow, and the reverse order is circular.
    import airflow  # noqa: F401
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, SeedRenderingBehavior, TestBehavior

    execution_mode = ExecutionMode.WATCHER if mode == "cosmos_watcher" else ExecutionMode.LOCAL
    render = RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        test_behavior=TestBehavior.BUILD if mode == "cosmos_build" else TestBehavior.AFTER_EACH,
        emit_datasets=False,  # the DAG emits one asset for the marts, not one per table
        seed_rendering_behavior=(
            SeedRenderingBehavior.WHEN_SEED_CHANGES
            if mode == "cosmos_local"
            else SeedRenderingBehavior.ALWAYS
        ),
        enable_mock_profile=False,
        # A relationships test reads two models: run it after both, not after the first one.
        should_detach_multiple_parents_tests=True,
    )
    from planwh.orchestration.tasks import DAILY_BUILD_EXCLUDE

    operator_args: dict[str, Any] = {
        "install_deps": False,
        "on_execute_callback": export_dbt_environment,
        "dbt_cmd_flags": ["--exclude", *DAILY_BUILD_EXCLUDE],
    }
    if mode == "cosmos_watcher":
        # Reschedule-free polling in the worker: no triggerer needed for a local scheduler.
        operator_args.update({"deferrable": False, "poke_interval": 1})
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=manifest, project_name=PROJECT_NAME
        ),
        profile_config=ProfileConfig(
            profile_name=PROJECT_NAME,
            target_name="default",
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=execution_mode, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=render,
        operator_args=operator_args,
    )


def build_transform_dag(
    *,
    dag_id: str,
    mode: str,
    schedule: Any,
    doc_md: str | None,
    settings: Settings,
    tags: list[str] | None = None,
) -> Any:
    """The dbt DAG in ``mode`` (see the module doc); ``single`` when the manifest is missing."""
    from airflow.sdk import DAG, Asset, task

    from planwh.orchestration.dag_defaults import dag_kwargs, default_args

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    manifest = manifest_path(settings)
    if mode != "single" and not manifest.is_file():
        mode = "single"
    marts = Asset(MARTS_ASSET)
    with DAG(
        dag_id=dag_id,
        schedule=schedule,
        default_args=default_args(execution_timeout=timedelta(minutes=30)),
        **dag_kwargs(
            tags=["transform", "dbt", *(tags or [])], doc_md=doc_md, dagrun_timeout=timedelta(hours=1)
        ),
    ) as dag:
        if mode == "single":

            @task(outlets=[marts])
            def build_marts(run_id: str | None = None, ti: Any = None) -> dict[str, int]:
                """dbt build; each node's result goes to audit.dbt_node_results under the run id,
                and a retry re-runs only the failed and skipped nodes (dbt retry)."""
                from planwh.orchestration.tasks import build_warehouse
                from planwh.settings import load_settings

                retry = ti is not None and ti.try_number > 1
                return build_warehouse(load_settings(), retry=retry, build_id=run_id)

            build_marts()
        else:

            @task(outlets=[marts])
            def marts_built() -> dict[str, int]:
                """Row counts of the marts, for the log; the outlet tells the national sync."""
                from planwh.orchestration.tasks import mart_row_counts
                from planwh.settings import load_settings

                return mart_row_counts(load_settings())

            _cosmos_group(mode, manifest) >> marts_built()
    return dag
