"""How to run dbt under Airflow: Cosmos's execution modes against one ``dbt build`` task.

Measures the daily chain for one day of data under a real scheduler (API server, DAG
processor, scheduler with the LocalExecutor, metadata on the embedded PostgreSQL), once per
way of running dbt, each on an identical copy of a warehouse that already holds the demo's
sample up to that day:

* ``single``          one task calling ``planwh.transform.transform()`` (the baseline);
* ``cosmos_local``    Cosmos ExecutionMode.LOCAL + InvocationMode.DBT_RUNNER, a task per model
                      and a test task after it (seeds only when they change);
* ``cosmos_build``    the same with TestBehavior.BUILD: one ``dbt build --select`` task per node;
* ``cosmos_watcher``  Cosmos ExecutionMode.WATCHER: one ``dbt build`` and a sensor per node.

For each mode the three ingest DAGs are backfilled for the day at the same moment; the asset
schedule then runs ``transform_warehouse`` (and ``sync_national`` after it, if that DAG
exists). Printed: the number of dbt tasks, the transform runs' wall time, the chain end to
end (first ingest run queued → last run finished), and ratios to the baseline of the same
run. Timings come from the metadata database, so the CLI's start-up is not counted.

Reproduce (about 10-15 minutes on the 2-core machine)::

    .venv/bin/python bench/cosmos_modes.py                      # all modes, 6 provinces
    .venv/bin/python bench/cosmos_modes.py --modes single cosmos_watcher --provinces 2

Everything lives in ``<state>/bench/cosmos`` and databases ``bench_cosmos_*`` on the warehouse
server; they are replaced at each run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

from planwh.console import format_table, heading
from planwh.db import warehouse_url
from planwh.orchestration.airflow_env import DAGS_FOLDER, airflow_cli, child_environment
from planwh.orchestration.scheduler import LocalAirflow
from planwh.orchestration.tasks import DAG_SOURCES, Interval, run_ingest_dag_code
from planwh.orchestration.transform_dag import MODES, ensure_manifest
from planwh.settings import Settings, load_settings

PREFIX = "bench_cosmos"
TRANSFORM = "transform_warehouse"
SYNC = "sync_national"

TRANSFORM_FILE = '''"""
### transform_warehouse ({mode}, bench)
"""
from airflow.sdk import Asset

from planwh.orchestration.transform_dag import build_transform_dag
from planwh.settings import load_settings

PUBLISHED = [Asset(f"planwh://published/{{s}}") for s in ("agencies", "submissions", "portal", "rosters")]
dag = build_transform_dag(
    dag_id="transform_warehouse", mode="{mode}", schedule=(PUBLISHED[0] | PUBLISHED[1] | PUBLISHED[2] | PUBLISHED[3]),
    doc_md=__doc__, settings=load_settings(),
)
'''


def _server(settings: Settings) -> str:
    return warehouse_url(settings).rsplit("/", 1)[0]


def _recreate(server: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        if template:
            # this process's dbt and GX connections to the template would block the copy
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (template,)
            )
        conn.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    return f"{server}/{name}"


def _prepare_base(settings: Settings, provinces: int, day: date) -> Settings:
    """A warehouse holding everything received before ``day``, marts built (the bench's start)."""
    from planwh.commands.seeds import load_reference
    from planwh.ingest.reception import sweep
    from planwh.ingest.schema import SOURCES
    from planwh.sample import SampleSpec, generate_sample
    from planwh.transform import transform

    server = _server(settings)
    base = settings.with_overrides(
        warehouse_url=_recreate(server, f"{PREFIX}_base"),
        national_url=_recreate(server, f"{PREFIX}_base_nat"),
    )
    generate_sample(base.landing_dir, SampleSpec(provinces=provinces), clean=True)
    load_reference(base)
    for source in SOURCES:  # the sample's history, registered at the files' own times
        sweep(base, source, history=True)
    backlog = Interval(Interval.for_day(date(2023, 1, 1)).start, Interval.for_day(day).start)
    for dag_id in DAG_SOURCES:
        run_ingest_dag_code(base, dag_id, backlog)
    transform(base)
    ensure_manifest(base, force=True)
    return base


def _dags_folder(root: Path, mode: str) -> Path:
    folder = root / f"dags-{mode}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for dag_id in DAG_SOURCES:
        shutil.copy(DAGS_FOLDER / f"{dag_id}.py", folder)
    if (DAGS_FOLDER / f"{SYNC}.py").exists():
        shutil.copy(DAGS_FOLDER / f"{SYNC}.py", folder)
    (folder / f"{TRANSFORM}.py").write_text(TRANSFORM_FILE.format(mode=mode))
    return folder


def _seconds(a: datetime | None, b: datetime | None) -> float:
    return (b - a).total_seconds() if a and b else float("nan")


def measure(base: Settings, root: Path, mode: str, day: date) -> dict:
    server = _server(base)
    settings = base.with_overrides(
        warehouse_url=_recreate(server, f"{PREFIX}_{mode}", template=f"{PREFIX}_base"),
        national_url=_recreate(server, f"{PREFIX}_{mode}_nat", template=f"{PREFIX}_base_nat"),
        airflow_home=root / f"airflow-{mode}",
    )
    shutil.rmtree(settings.airflow_home, ignore_errors=True)
    metadata = f"{PREFIX}_airflow_{mode}"
    _recreate(server, metadata)
    folder = _dags_folder(root, mode)
    has_sync = (folder / f"{SYNC}.py").exists()
    dag_ids = [*DAG_SOURCES, TRANSFORM] + ([SYNC] if has_sync else [])
    with LocalAirflow(settings, database=metadata, dags_folder=folder) as airflow:
        airflow.wait_for_dags(dag_ids, timeout=180)
        with psycopg.connect(airflow.metadata_url, autocommit=True) as conn:
            conn.execute("update dag set is_paused = false where dag_id = any(%s)", (dag_ids,))
        env = child_environment(airflow.env)
        backfills = [
            subprocess.Popen(
                [
                    *airflow_cli(),
                    "backfill",
                    "create",
                    "--dag-id",
                    dag_id,
                    "--from-date",
                    day.isoformat(),
                    "--to-date",
                    day.isoformat(),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for dag_id in DAG_SOURCES
        ]
        for process in backfills:
            if process.wait(timeout=120) != 0:
                raise RuntimeError(
                    f"airflow backfill create failed: {process.stderr.read().decode()[-2000:]}"
                )
        expect = {**dict.fromkeys(DAG_SOURCES, 1), TRANSFORM: 1}
        runs = airflow.wait_until_idle(dag_ids, expect=expect, timeout=1800)
        transforms = [r for r in runs if r.dag_id == TRANSFORM]
        dbt_tasks = len(airflow.task_instances(TRANSFORM, transforms[0].run_id))
    first = min(r.queued_at or r.start_date for r in runs)
    last = max(r.end_date for r in runs)
    ingest = [r for r in runs if r.dag_id in DAG_SOURCES]
    return {
        "mode": mode,
        "tasks": dbt_tasks,
        "transform_runs": len(transforms),
        "transform_s": sum(_seconds(r.start_date, r.end_date) for r in transforms) / len(transforms),
        "ingest_s": max(_seconds(r.queued_at or r.start_date, r.end_date) for r in ingest),
        "chain_s": _seconds(first, last),
        "states": ",".join(sorted({f"{r.dag_id}:{r.state}" for r in runs if r.state != "success"}))
        or "all success",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--provinces", type=int, default=6, help="provinces in the sample (default 6, as the demo)"
    )
    parser.add_argument(
        "--reuse-base",
        action="store_true",
        help="keep the base warehouse of the previous run (same provinces and day)",
    )
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        default=None,
        help="the Viet Nam day measured (default: the third portal day of the sample)",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    root = settings.state_dir / "bench" / "cosmos"
    # The bench's databases live on the warehouse's own server (not a second embedded server).
    bench = settings.with_overrides(
        state_dir=root / "state", landing_dir=root / "landing", warehouse_url=warehouse_url(settings)
    )
    from planwh.sample import SampleSpec

    day = args.day or SampleSpec(provinces=args.provinces).portal_first_day + timedelta(days=2)
    modes = ["single", *[m for m in args.modes if m != "single"]]

    heading(f"Warehouse with the sample received before {day} ({args.provinces} provinces)")
    started = time.perf_counter()
    if args.reuse_base:
        server = _server(bench)
        base = bench.with_overrides(
            warehouse_url=f"{server}/{PREFIX}_base", national_url=f"{server}/{PREFIX}_base_nat"
        )
    else:
        base = _prepare_base(bench, args.provinces, day)
    print(f"   ({time.perf_counter() - started:.0f} s)")

    results = []
    for mode in modes:
        heading(f"Daily chain for {day} under the scheduler, dbt as {mode}")
        result = measure(base, root, mode, day)
        print(result)
        results.append(result)

    baseline = results[0]
    heading(f"dbt under Airflow: daily chain for one day ({day}), LocalExecutor on PostgreSQL")
    rows = [
        [
            r["mode"],
            r["tasks"],
            r["transform_runs"],
            f"{r['transform_s']:.1f}",
            f"{r['transform_s'] / baseline['transform_s']:.1f}x",
            f"{r['ingest_s']:.1f}",
            f"{r['chain_s']:.1f}",
            f"{r['chain_s'] / baseline['chain_s']:.1f}x",
            r["states"],
        ]
        for r in results
    ]
    print(
        format_table(
            [
                "mode",
                "dbt tasks",
                "transform runs",
                "transform s",
                "vs single",
                "ingest s",
                "chain s",
                "vs single",
                "not success",
            ],
            rows,
            align="lrrrrrrrl",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
