"""Run the real DAGs with ``dag.test()`` in a child process: the demo's and the tests' Airflow.

Airflow is configured when it is imported, so it runs in a child process with the environment
of :func:`planwh.orchestration.airflow_env.airflow_environment` (Airflow home and SQLite
metadata database under the state folder, the project's ``dags/``, no examples). The metadata
database is migrated once (~7 s); the first task of each child waits ~10 s for Airflow's
in-process execution API, later tasks take ~0.5 s, so a whole chain runs in one child.

The child's output goes to ``<airflow_home>/logs/local_runs/<dag or chain>-<time>.log``; the
caller sees one line per DAG run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from planwh.orchestration.airflow_env import (
    DAGS_FOLDER,
    airflow_environment,
    child_environment,
    prepare_metadata,
)
from planwh.orchestration.tasks import DAG_SOURCES, Interval
from planwh.settings import Settings

RESULT_PREFIX = "PLANWH-DAG-RUN "
START_PREFIX = "PLANWH-DAG-START "
ERROR_PREFIX = "PLANWH-IMPORT-ERRORS "
INGEST_DAGS = tuple(DAG_SOURCES)
TRANSFORM_DAG = "transform_warehouse"
PUBLISH_TASK = "validate_and_publish"  # its outlets are what schedules the transform
SYNC_DAG = "sync_national"


class LocalRunError(RuntimeError):
    """The child process could not run the DAGs (import errors, a crash); names the log file."""


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    state: str  # success | failed | missing (no such DAG in the folder)
    seconds: float
    run_id: str | None = None


@dataclass(frozen=True)
class _Request:
    dag_id: str
    logical_date: datetime | None
    conf: dict | None = None
    optional: bool = False  # a DAG that may not exist yet (sync_national)
    after_success_of: str | None = None  # run only if that DAG's run succeeded (its asset event)
    after_publish: bool = False  # run only if an earlier run published something (asset events)

    def as_json(self) -> dict:
        return {
            "dag_id": self.dag_id,
            "logical_date": self.logical_date.isoformat() if self.logical_date else None,
            "conf": self.conf,
            "optional": self.optional,
            "after_success_of": self.after_success_of,
            "after_publish": self.after_publish,
        }


def _child_main(spec_path: str) -> int:
    """In the child: parse the dags folder once, then ``dag.test()`` each requested DAG in order."""
    import logging

    spec = json.loads(Path(spec_path).read_text())
    logging.getLogger("airflow").setLevel(logging.WARNING)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=spec["dags_folder"])
    if bag.import_errors:
        print(
            ERROR_PREFIX + json.dumps({k: str(v)[-3000:] for k, v in bag.import_errors.items()}), flush=True
        )
        return 3
    states: dict[str, str] = {}
    published = False
    for request in spec["runs"]:
        needed = request["after_success_of"]
        if (needed and states.get(needed) != "success") or (request["after_publish"] and not published):
            continue
        dag = bag.get_dag(request["dag_id"])
        if dag is None:
            state = "missing"
            print(
                RESULT_PREFIX + json.dumps({"dag_id": request["dag_id"], "state": state, "seconds": 0}),
                flush=True,
            )
            if request["optional"]:
                continue
            return 4
        print(START_PREFIX + request["dag_id"], flush=True)
        started = time.perf_counter()
        logical = datetime.fromisoformat(request["logical_date"]) if request["logical_date"] else None
        run = dag.test(logical_date=logical, run_conf=request["conf"])
        state = getattr(run.state, "value", str(run.state))
        states[request["dag_id"]] = state
        gate = run.get_task_instance(PUBLISH_TASK)
        published = published or (gate is not None and str(getattr(gate.state, "value", gate.state)) == "success")
        print(
            RESULT_PREFIX
            + json.dumps(
                {
                    "dag_id": request["dag_id"],
                    "state": state,
                    "seconds": round(time.perf_counter() - started, 2),
                    "run_id": run.run_id,
                }
            ),
            flush=True,
        )
    return 0


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
# A line our task code logs (structlog's console format): "<time> [info     ] <message> [<logger>] ..."
_TASK_LOG = re.compile(r"^\S+ \[(?:info|warning|error)\s*\] (.*?)\s+\[planwh\.[\w.]+\]")


def progress_message(line: str, dag_id: str | None) -> str | None:
    """The line of a child's output worth showing while it runs: a task starting, or what our
    task code logged (files received, loaded, published); None for Airflow's own chatter."""
    started = _TASK_START.search(line)
    if started:
        return f"{dag_id or '?'}.{started.group(1)}"
    logged = _TASK_LOG.match(line)
    if logged:
        return f"    {logged.group(1)}"
    return None


def _run(
    settings: Settings,
    requests: Sequence[_Request],
    *,
    label: str,
    on_result: Callable[[DagRunResult], None] | None,
    timeout: float,
    dags_folder: Path,
    on_progress: Callable[[str], None] | None = None,
) -> list[DagRunResult]:
    env = airflow_environment(settings, "sqlite", dags_folder=dags_folder)
    prepare_metadata(env)
    logs = settings.airflow_home / "logs" / "local_runs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_path = logs / f"{label}-{stamp}.log"
    spec_path = logs / f"{label}-{stamp}.json"
    spec_path.write_text(
        json.dumps({"dags_folder": str(dags_folder), "runs": [r.as_json() for r in requests]})
    )
    results: list[DagRunResult] = []
    import_errors: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    current: str | None = None
    with (
        open(log_path, "w", encoding="utf-8") as log,
        subprocess.Popen(
            [sys.executable, "-m", "planwh.orchestration.local_run", str(spec_path)],
            env=child_environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as child,
    ):
        assert child.stdout is not None
        for line in child.stdout:
            log.write(line)
            if line.startswith(RESULT_PREFIX):
                data = json.loads(line[len(RESULT_PREFIX) :])
                result = DagRunResult(data["dag_id"], data["state"], data["seconds"], data.get("run_id"))
                results.append(result)
                if on_result is not None:
                    on_result(result)
            elif line.startswith(ERROR_PREFIX):
                import_errors = json.loads(line[len(ERROR_PREFIX) :])
            elif line.startswith(START_PREFIX):
                current = line[len(START_PREFIX) :].strip()
            elif on_progress is not None:
                message = progress_message(line, current)
                if message:
                    on_progress(message)
            if time.monotonic() > deadline:
                child.kill()
                raise LocalRunError(f"the DAG runs took more than {timeout:.0f} s; see {log_path}")
        code = child.wait()
    if import_errors:
        detail = "\n".join(f"{path}:\n{error}" for path, error in import_errors.items())
        raise LocalRunError(f"the dags folder has import errors (log: {log_path}):\n{detail}")
    if code != 0:
        missing = [r.dag_id for r in results if r.state == "missing"]
        what = f"no DAG {', '.join(missing)} in {dags_folder}" if missing else f"exit code {code}"
        raise LocalRunError(f"dag.test() failed: {what}; see {log_path}")
    return results


def dag_ids(dags_folder: Path = DAGS_FOLDER) -> list[str]:
    """The DAGs of the folder, without starting Airflow: one DAG per file, named as the file."""
    return sorted(p.stem for p in dags_folder.glob("*.py") if not p.name.startswith("_"))


def manual_logical_date(day: date) -> datetime:
    """The logical date of a manual run (``dag.test()``) of the Viet Nam day ``day``: its start,
    as for a scheduled or backfilled run of that day (the tasks work on the day of a manual run's
    logical date, not on the interval Airflow infers for it: ``tasks.Interval.for_run``)."""
    return Interval.for_day(day).start


def last_complete_day(now: datetime | None = None) -> date:
    """Yesterday on the Viet Nam clock: the day whose run is the live one now, the run that
    sweeps the landing folders and loads whatever no run has loaded yet."""
    from planwh.ingest.parsing import VIETNAM_TZ
    from planwh.ingest.reception import reception_clock

    return (now or reception_clock()).astimezone(VIETNAM_TZ).date() - timedelta(days=1)


def run_dag(
    dag_id: str,
    logical_date: datetime | date | None,
    settings: Settings,
    conf: dict | None = None,
    *,
    timeout: float = 1800,
    dags_folder: Path = DAGS_FOLDER,
) -> str:
    """``dag.test()`` one DAG run; returns its final state (``success`` or ``failed``).

    A ``date`` means that Viet Nam day (the run's data interval is midnight to midnight);
    ``None`` suits an asset-scheduled DAG (no data interval).
    """
    if isinstance(logical_date, date) and not isinstance(logical_date, datetime):
        logical_date = manual_logical_date(logical_date)
    request = _Request(dag_id, logical_date, conf)
    return _run(settings, [request], label=dag_id, on_result=None, timeout=timeout, dags_folder=dags_folder)[
        0
    ].state


def run_dags(
    settings: Settings,
    runs: Sequence[tuple[str, date | datetime | None]],
    *,
    label: str = "runs",
    timeout: float = 3600,
    dags_folder: Path = DAGS_FOLDER,
) -> list[DagRunResult]:
    """``dag.test()`` several DAG runs in order in one child process (one start-up): each is
    ``(dag_id, day or logical date or None)``, as for :func:`run_dag`."""
    requests = []
    for dag_id, when in runs:
        if isinstance(when, date) and not isinstance(when, datetime):
            when = manual_logical_date(when)
        requests.append(_Request(dag_id, when))
    return _run(settings, requests, label=label, on_result=None, timeout=timeout, dags_folder=dags_folder)


def run_daily_chain(
    settings: Settings,
    day: date,
    *,
    on_result: Callable[[DagRunResult], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    timeout: float = 3600,
    dags_folder: Path = DAGS_FOLDER,
) -> dict[str, str]:
    """The daily chain for the Viet Nam day ``day`` through the real DAGs, in one child process:
    the three ingest DAGs, ``transform_warehouse`` if one of them published something (its asset
    schedule), then ``sync_national`` if it exists and the transform succeeded.

    The chain of :func:`last_complete_day` is the live one: it sweeps the landing folders and
    loads every file no run has loaded yet; on a folder never swept (a first deployment, the
    demo) that is its whole history, received at the files' own times. Returns
    ``{dag_id: state}``; an ingest run
    whose gate held back a file is ``failed`` and the chain goes on, as the scheduler's would
    (the good files were published). ``on_progress`` gets a line per task started and per
    message our task code logs, as the child runs.
    """
    from planwh.orchestration.transform_dag import ensure_manifest

    ensure_manifest(settings)
    start = manual_logical_date(day)
    requests = [_Request(dag_id, start) for dag_id in INGEST_DAGS]
    # Without a successful transform there is no asset event, so the scheduler would not sync.
    requests += [
        _Request(TRANSFORM_DAG, None, after_publish=True),
        _Request(SYNC_DAG, None, optional=True, after_success_of=TRANSFORM_DAG),
    ]
    results = _run(
        settings,
        requests,
        label=f"chain-{day.isoformat()}",
        on_result=on_result,
        timeout=timeout,
        dags_folder=dags_folder,
        on_progress=on_progress,
    )
    return {r.dag_id: r.state for r in results if r.state != "missing"}


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1]))
