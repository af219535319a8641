"""What each DAG task does, scoped to its data interval; no Airflow here.

A run works on its data interval ``[start, end)`` and nothing else:

* **landing files**: those *received* in the interval, i.e. whose modification time (when the
  file was put in the landing folder) lies in ``[start, end)``. A late file for an old period is
  received later, so a later interval picks it up, loads it as a new version, and the next dbt
  build corrects the marts (dbt keeps the latest version).
* **portal APIs**: the Viet Nam days whose midnight lies in the interval (one day for a daily
  run), pulled and received at the end of the interval.
* **the gate**: what this run loaded, plus any loaded file still without a verdict (one whose
  gate run crashed) received by the end of the interval.

Bytes already processed are skipped without a ledger row, and the gate re-judges only what it
is given, so re-running an interval changes nothing. The wall clock never enters: a file's
reception time is its modification time, an API pull's the end of the interval.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from planwh.ddl import create_schemas_sql
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.settings import Settings

log = logging.getLogger(__name__)

# The ingest DAGs and the ledger sources they load, in load order (a submission is checked
# against the agency register, so the register goes first).
DAG_SOURCES: dict[str, tuple[str, ...]] = {
    "ingest_agency_submissions": ("agencies", "submissions"),
    "ingest_portal_statistics": ("portal",),
    "ingest_training_rosters": ("rosters",),
}
PUBLISHED_ASSET = "planwh://published/{source}"
RAW_ASSET = "planwh://raw/{source}"
MARTS_ASSET = "planwh://marts/fct_indicator_progress"


class IntervalError(ValueError):
    """A data interval that cannot be worked on (naive or empty)."""


@dataclass(frozen=True)
class Interval:
    """A data interval ``[start, end)`` with time zones."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise IntervalError(f"data interval {self.start} - {self.end} has no time zone")
        if not self.start < self.end:
            raise IntervalError(
                f"data interval {self.start.isoformat()} - {self.end.isoformat()} is empty: schedule the DAG with "
                "a timetable that has data intervals (CronDataIntervalTimetable), not a bare cron trigger"
            )

    @classmethod
    def for_day(cls, day: date) -> Interval:
        """The Viet Nam day ``day``, midnight to midnight (what a daily run covers)."""
        start = datetime.combine(day, time(), VIETNAM_TZ)
        return cls(start, start + timedelta(days=1))

    @classmethod
    def from_context(
        cls, start: datetime | None, end: datetime | None, params: dict | None = None
    ) -> Interval:
        """The run's data interval, reaching back to the run parameter ``received_since`` if set."""
        if start is None or end is None:
            raise IntervalError("this task needs a data interval; trigger it with a logical date")
        since = (params or {}).get("received_since")
        if since:
            try:
                start = min(start, datetime.combine(date.fromisoformat(str(since)), time(), VIETNAM_TZ))
            except ValueError as exc:
                raise IntervalError(
                    f"run parameter received_since must be a date YYYY-MM-DD, got {since!r}"
                ) from exc
        return cls(start, end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def days(self) -> list[date]:
        """The Viet Nam days whose midnight lies in the interval (a portal day is a Viet Nam day)."""
        first = self.start.astimezone(VIETNAM_TZ).date()
        if datetime.combine(first, time(), VIETNAM_TZ) < self.start:
            first += timedelta(days=1)
        days = []
        day = first
        while datetime.combine(day, time(), VIETNAM_TZ) < self.end:
            days.append(day)
            day += timedelta(days=1)
        return days

    def describe(self) -> str:
        return (
            f"{self.start.astimezone(VIETNAM_TZ).isoformat()} - {self.end.astimezone(VIETNAM_TZ).isoformat()}"
        )


@dataclass
class StepResult:
    """What a step did: the files it loaded (ids for the gate) and totals (numbers only: XCom and
    logs never carry names or values)."""

    file_ids: list[int] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, outcomes: Iterable[object]) -> StepResult:
        from planwh.ingest.load import summarise

        outcomes = list(outcomes)
        self.file_ids += [o.file_id for o in outcomes if o.status == "loaded" and o.file_id is not None]
        for key, value in summarise(outcomes).items():
            self.totals[key] = self.totals.get(key, 0) + value
        return self

    def to_xcom(self) -> dict[str, object]:
        return {"file_ids": sorted(self.file_ids), **self.totals}


@dataclass
class GateResult:
    file_ids: list[int]
    totals: dict[str, int]
    failures: list[str]

    def to_xcom(self) -> dict[str, object]:
        return {"file_ids": self.file_ids, "failures": self.failures, **self.totals}


def _received(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def files_received(settings: Settings, source: str, interval: Interval) -> list[Path]:
    """Files under ``<landing>/<source>/`` modified within the interval, oldest first."""
    from planwh.ingest.load import expand_paths

    folder = settings.landing_dir / source
    if not folder.is_dir():
        return []
    found = [(stamp, path) for path in expand_paths([folder]) if interval.contains(stamp := _received(path))]
    return [path for _, path in sorted(found)]


def ingest_interval(
    settings: Settings, source: str, interval: Interval, *, progress: bool = False
) -> StepResult:
    """Ingest the files of ``source`` received in the interval, skipping bytes processed before."""
    from planwh.ingest.load import ingest_paths

    files = files_received(settings, source, interval)
    result = StepResult()
    if files:
        result.add(
            ingest_paths(settings, source, files, progress=progress, received_from_mtime=True, skip_seen=True)
        )
    result.totals["files_received"] = len(files)
    log.info("%s, %s: %s", source, interval.describe(), result.totals)
    return result


def _write_jsonl(path: Path, rows: Sequence[object]) -> None:
    """The API's rows as JSON Lines, written whole or not at all (a reader never sees half a day)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _processed_before(settings: Settings, source: str, path: Path) -> bool:
    from planwh.db import connect, warehouse_url
    from planwh.ingest import ledger
    from planwh.ingest.schema import ensure_schema

    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        return ledger.processed_before(conn, source, ledger.sha256_of(path), -1) is not None


def pull_portal_interval(settings: Settings, apis: Sequence[object], interval: Interval) -> StepResult:
    """Pull each portal's statistics for the interval's days and ingest them (received at the end
    of the interval). A day whose rows were pulled and processed before is skipped."""
    from planwh.ingest.load import ingest_file
    from planwh.ingest.portal_api import fetch_day

    result = StepResult()
    for api in apis:
        for day in interval.days():
            rows = fetch_day(api, day)
            if not rows:
                log.info("portal %s, %s: the API has no rows", api.portal, day)
                continue
            path = settings.landing_dir / "portal" / "api" / api.portal / f"{day.isoformat()}.jsonl"
            _write_jsonl(path, rows)
            if _processed_before(settings, "portal", path):
                result.totals["days_unchanged"] = result.totals.get("days_unchanged", 0) + 1
                continue
            result.add(
                [ingest_file(settings, "portal", path, received_at=interval.end, expected_stat_date=day)]
            )
    return result


def portal_apis_from_airflow() -> list[object]:
    """The portals to pull, as an operator configures them in Airflow: the Variable
    ``planwh_portal_api_portals`` (a JSON list of portal names) and, per portal, the connection
    ``portal_api_<portal>`` (else ``PLANWH_PORTAL_API_URL`` / ``PLANWH_PORTAL_API_TOKEN``)."""
    from airflow.sdk import BaseHook, Variable
    from airflow.sdk.exceptions import AirflowNotFoundException

    from planwh.ingest.portal_api import PortalApi, connection_id

    apis = []
    for portal in Variable.get("planwh_portal_api_portals", default=[], deserialize_json=True) or []:
        try:
            apis.append(PortalApi.from_connection(portal, BaseHook.get_connection(connection_id(portal))))
        except AirflowNotFoundException:
            apis.append(PortalApi.from_environment(portal))
    return apis


def portal_apis_from_environment(portals: Sequence[str]) -> list[object]:
    """The portals named, each with ``PLANWH_PORTAL_API_URL`` / ``PLANWH_PORTAL_API_TOKEN``."""
    from planwh.ingest.portal_api import PortalApi

    return [PortalApi.from_environment(portal) for portal in portals]


def _pending(settings: Settings, sources: Sequence[str], interval: Interval) -> list[int]:
    from planwh.db import connect, warehouse_url
    from planwh.ingest.schema import ensure_schema
    from planwh.validate import ensure_published_schema

    with connect(warehouse_url(settings)) as conn:
        ensure_schema(conn)
        ensure_published_schema(conn)
        conn.commit()
        rows = conn.execute(
            """
            select f.file_id from landing.files as f
            where f.status = 'loaded' and f.source = any(%s) and f.received_at <= %s
                and not exists (select from audit.batches as b where b.file_id = f.file_id)
            order by f.file_id
            """,
            (list(sources), interval.end),
        ).fetchall()
    return [r[0] for r in rows]


def publish_interval(
    settings: Settings, sources: Sequence[str], interval: Interval, file_ids: Iterable[int]
) -> GateResult:
    """Run the Great Expectations gate on what the interval loaded and publish what passes.

    Never raises for data: a file that failed an error-level check is recorded, its good rows
    (or nothing) published, and listed in ``failures`` so that the caller fails visibly *after*
    the assets downstream were told about what was published.
    """
    from planwh.validate import ValidationFailed, summarise, validate_pending

    ids = sorted(set(file_ids) | set(_pending(settings, sources, interval)))
    if not ids:
        return GateResult([], summarise([]), [])
    try:
        verdicts = validate_pending(settings, file_ids=ids)
        failures: list[str] = []
    except ValidationFailed as failed:
        verdicts = failed.verdicts
        failures = [v.describe() for v in failed.failed]
    return GateResult(ids, summarise(verdicts), failures)


def gate_failure_message(failures: Sequence[str]) -> str | None:
    """Why the interval's run must fail, or None: the files that failed an error-level check."""
    if not failures:
        return None
    lines = "\n".join(f"  {line}" for line in failures)
    return (
        f"{len(failures)} file(s) failed an error-level Great Expectations check; everything else was published, "
        f"the held-back rows are in quarantine.rejected_rows and the verdicts in audit.batches:\n{lines}"
    )


def run_ingest_sources(
    settings: Settings,
    sources: Sequence[str],
    interval: Interval,
    *,
    apis: Sequence[object] = (),
    progress: bool = False,
) -> tuple[StepResult, GateResult]:
    """An ingest DAG's tasks in order, for ``planwh backfill`` and the bench without a scheduler:
    pull the portal APIs (if ``portal`` is among the sources and portals are given), ingest each
    source's files received in the interval, then the gate."""
    loaded = StepResult()
    if "portal" in sources and apis:
        pulled = pull_portal_interval(settings, apis, interval)
        loaded.file_ids += pulled.file_ids
        _merge(loaded.totals, pulled.totals)
    for source in sources:
        step = ingest_interval(settings, source, interval, progress=progress)
        loaded.file_ids += step.file_ids
        _merge(loaded.totals, step.totals)
    gate = publish_interval(settings, sources, interval, loaded.file_ids)
    return loaded, gate


def run_ingest_dag_code(
    settings: Settings,
    dag_id: str,
    interval: Interval,
    *,
    apis: Sequence[object] = (),
    progress: bool = False,
) -> tuple[StepResult, GateResult]:
    """The tasks of the ingest DAG ``dag_id`` (see :data:`DAG_SOURCES`) for one interval."""
    return run_ingest_sources(settings, DAG_SOURCES[dag_id], interval, apis=apis, progress=progress)


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value


# Unit tests check the models' SQL against fixed inputs: they run in CI (`make test`), not on
# every day's data, where they cost half of the build (dbt's own advice: not in production).
DAILY_BUILD_EXCLUDE = ("resource_type:unit_test",)


NODE_RESULTS_DDL = create_schemas_sql("audit") + """
create table if not exists audit.dbt_node_results (
    build_id text not null,
    unique_id text not null,
    resource_type text not null,
    status text not null,
    seconds double precision,
    message text,
    recorded_at timestamptz not null default clock_timestamp(),
    primary key (build_id, unique_id)
);
"""


def _previous_build_failed(settings: Settings) -> bool:
    """Whether the last dbt command in the target folder was a build that left failed nodes."""
    from planwh.dbt import dbt_paths

    path = dbt_paths(settings)["target"] / "run_results.json"
    try:
        document = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return False
    statuses = {str(r.get("status", "")).lower() for r in document.get("results", [])}
    return document.get("args", {}).get("which") == "build" and bool(statuses & {"error", "fail", "skipped"})


def build_warehouse(settings: Settings, *, retry: bool = False, build_id: str | None = None) -> dict[str, int]:
    """``dbt build`` of seeds, models and data tests, each test after its model (no unit tests).

    Every node's status and time go to ``audit.dbt_node_results`` under ``build_id``: the
    per-model view of a build that runs as one task. With ``retry`` (a task's second try) and a
    previous build that failed, ``dbt retry`` re-runs only the failed and skipped nodes. Raises
    :class:`planwh.dbt.DbtError` naming the failing nodes.
    """
    from planwh.dbt import run_dbt
    from planwh.transform import summarise

    args = ["retry"] if retry and _previous_build_failed(settings) else ["build", "--exclude", *DAILY_BUILD_EXCLUDE]
    outcome = run_dbt(args, settings, raise_on_failure=False)
    if build_id is not None:
        record_node_results(settings, build_id, outcome.results)
    if not outcome.success:
        from planwh.dbt import DbtError

        detail = "\n".join(outcome.failures()) or "see the dbt log"
        raise DbtError(f"dbt {args[0]} failed:\n{detail}")
    return summarise(outcome)


def record_node_results(settings: Settings, build_id: str, results: Iterable[object]) -> int:
    """Store each dbt node's result of one build (a retry updates the nodes it re-ran)."""
    from planwh.db import connect, warehouse_url

    rows = []
    for result in results:
        node = getattr(result, "node", None)
        if node is None:
            continue
        message = getattr(result, "message", None)
        rows.append((build_id, node.unique_id, str(node.resource_type), str(result.status).lower(),
                     getattr(result, "execution_time", None), str(message)[:2000] if message else None))
    with connect(warehouse_url(settings)) as conn:
        conn.execute(NODE_RESULTS_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into audit.dbt_node_results (build_id, unique_id, resource_type, status, seconds, message)
                values (%s, %s, %s, %s, %s, %s)
                on conflict (build_id, unique_id) do update set status = excluded.status,
                    seconds = excluded.seconds, message = excluded.message, recorded_at = clock_timestamp()
                """,
                rows,
            )
        conn.commit()
    return len(rows)


def mart_row_counts(settings: Settings) -> dict[str, int]:
    """Rows in each table of schema ``marts`` (for logs and XCom)."""
    from psycopg import sql

    from planwh.db import connect, warehouse_url

    with connect(warehouse_url(settings)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = 'BASE TABLE' order by table_name"
            )
        ]
        return {
            t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier("marts", t))).fetchone()[
                0
            ]
            for t in tables
        }


def publish_step(
    sources: Sequence[str],
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    params: dict | None,
    *loaded: dict,
) -> dict:
    """The ingest DAGs' ``validate_and_publish`` task: gate what the load tasks (``loaded``, their
    XCom results) brought in this interval. Skips when nothing was received, so that no asset
    event rebuilds the marts for nothing."""
    from airflow.sdk.exceptions import AirflowSkipException

    from planwh.settings import load_settings

    interval = Interval.from_context(data_interval_start, data_interval_end, params)
    file_ids = [file_id for step in loaded for file_id in step["file_ids"]]
    gate = publish_interval(load_settings(), sources, interval, file_ids)
    if not gate.file_ids:
        raise AirflowSkipException("nothing was received in this interval")
    return gate.to_xcom()


def fail_on_gate(gate: dict) -> None:
    """The ingest DAGs' last task: fail the run when the gate held a file back (after the good
    files were published). No retry: the data will not change on one."""
    from airflow.sdk.exceptions import AirflowFailException

    if message := gate_failure_message(gate["failures"]):
        raise AirflowFailException(message)
