"""What each DAG task does, scoped to its data interval; no Airflow here.

A run works on its data interval ``[start, end)`` (:meth:`Interval.for_run`: a manual run works on
the Viet Nam day of its logical date) and nothing else:

* **landing files**: what the reception ledger gives the interval (``planwh.ingest.reception``).
  The *live* run, which runs before ``end + PLANWH_LIVE_RUN_GRACE_HOURS`` (the scheduled run
  right after its day, the first run after an outage), sweeps the landing folders and takes
  every registered file no run has taken yet; a backfill or a manual run of an older day takes
  the files the ledger received in that day and not taken yet; every run takes again what its
  interval took before. A file is loaded once, whatever its modification time says.
* **portal APIs**: every day from each portal's cursor to the interval's last day, at most
  ``PLANWH_PORTAL_API_MAX_DAYS`` a run (``planwh.ingest.portal_api``), so an outage is filled by
  the next run; a run pulls its own days again (unchanged days change nothing).
* **the gate**: what this run loaded, plus any loaded file still without a verdict (one whose
  gate run crashed) received by the end of the interval.
* **the landing check** (live runs): files left unregistered, or registered but not loaded, for
  longer than ``PLANWH_LANDING_STALE_HOURS`` fail the run, which alerts.

What a run loaded stays loaded, and the gate re-judges only what it is given, so re-running an
interval changes nothing. The reception clock (:func:`planwh.ingest.reception.reception_clock`)
is the only wall clock read, by sweeps, pulls and the live-run test; the task functions take it
as ``now`` so that tests can set it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

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
    def for_run(
        cls,
        data_interval_start: datetime | None,
        data_interval_end: datetime | None,
        logical_date: datetime | None = None,
        run_after: datetime | None = None,
    ) -> Interval:
        """The interval a DAG run works on.

        A scheduled or backfilled run starts its data interval at its logical date: that interval.
        A manual run does not: Airflow infers its data interval as the last complete one before a
        moment (``airflow dags trigger -l 2025-12-29``: the moment of the trigger, so yesterday's;
        the REST API and ``dag.test()``: the logical date, so the 28th), so it works on the Viet Nam
        day of its logical date instead, or, triggered without one, on the day it was triggered.
        (A backfill that re-runs a manual run keeps its logical date.)
        """
        if logical_date is not None and logical_date != data_interval_start:
            return cls.for_day(logical_date.astimezone(VIETNAM_TZ).date())
        if data_interval_start is not None and data_interval_end is not None:
            return cls(data_interval_start, data_interval_end)
        if run_after is not None:
            return cls.for_day(run_after.astimezone(VIETNAM_TZ).date())
        raise IntervalError("this task needs a data interval; trigger it with a logical date")

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


def current_interval() -> Interval:
    """The interval of the DAG run this task belongs to (see :meth:`Interval.for_run`)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return Interval.for_run(
        context.get("data_interval_start"),
        context.get("data_interval_end"),
        context.get("logical_date"),
        getattr(context.get("dag_run"), "run_after", None),
    )


def ingest_interval(
    settings: Settings, source: str, interval: Interval, *, now: datetime | None = None
) -> StepResult:
    """Load the files of ``source`` that the reception ledger gives the interval (see the module
    doc): ``files_received`` counts every file the interval took, loaded now or before."""
    from planwh.ingest.reception import receive

    receipt = receive(settings, source, interval.start, interval.end, now=now)
    result = StepResult().add(receipt.outcomes)
    result.totals["files_received"] = len(receipt.taken)
    if receipt.sweep is not None:
        _merge(result.totals, receipt.sweep.totals())
    log.info("%s, %s%s: %s", source, interval.describe(), " (live)" if receipt.live else "", result.totals)
    return result


def pull_portal_interval(
    settings: Settings, apis: Sequence[object], interval: Interval, *, now: datetime | None = None
) -> StepResult:
    """Pull each portal from its cursor through the interval's last day (its own days again) and
    load the days pulled, taken into the interval (``planwh.ingest.portal_api``)."""
    from planwh.ingest.portal_api import pull_portal_incremental

    result = StepResult()
    days = interval.days()
    if not days:
        return result
    for api in apis:
        report = pull_portal_incremental(settings, api, days[-1], since=days[0], start=interval.start,
                                         end=interval.end, now=now)
        result.add(report.outcomes)
        _merge(result.totals, {"days_pulled": len(report.days), "days_unchanged": report.unchanged,
                               "days_left": report.days_left})
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
    now: datetime | None = None,
) -> tuple[StepResult, GateResult]:
    """An ingest DAG's tasks in order, for ``planwh backfill`` and the bench without a scheduler:
    pull the portal APIs (if ``portal`` is among the sources and portals are given), load each
    source's files the interval takes, then the gate."""
    loaded = StepResult()
    if "portal" in sources and apis:
        pulled = pull_portal_interval(settings, apis, interval, now=now)
        loaded.file_ids += pulled.file_ids
        _merge(loaded.totals, pulled.totals)
    for source in sources:
        step = ingest_interval(settings, source, interval, now=now)
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
    now: datetime | None = None,
) -> tuple[StepResult, GateResult]:
    """The tasks of the ingest DAG ``dag_id`` (see :data:`DAG_SOURCES`) for one interval."""
    return run_ingest_sources(settings, DAG_SOURCES[dag_id], interval, apis=apis, now=now)


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


def publish_step(sources: Sequence[str], *loaded: dict) -> dict:
    """The ingest DAGs' ``validate_and_publish`` task: gate what the load tasks (``loaded``, their
    XCom results) brought in this interval. Skips when nothing was received, so that no asset
    event rebuilds the marts for nothing."""
    from airflow.sdk.exceptions import AirflowSkipException

    from planwh.settings import load_settings

    file_ids = [file_id for step in loaded for file_id in step["file_ids"]]
    gate = publish_interval(load_settings(), sources, current_interval(), file_ids)
    if not gate.file_ids:
        raise AirflowSkipException("nothing was received in this interval")
    return gate.to_xcom()


def landing_backlog(
    settings: Settings, sources: Sequence[str], interval: Interval, *, now: datetime | None = None
) -> str | None:
    """Why the landing check fails, or None: landing files of ``sources`` left unregistered, or
    registered but not loaded, for longer than ``PLANWH_LANDING_STALE_HOURS``. Only the live run
    looks at the present (a backfill of last year would alert on today's backlog): see
    :func:`landing_check_step`."""
    from planwh.ingest.reception import reception_clock, stale_files

    now = now or reception_clock()
    stale = stale_files(settings, sources, now=now)
    if not stale:
        return None
    lines = "\n".join(
        f"  {w.source}/{w.path}: {w.state} since {w.since.astimezone(VIETNAM_TZ):%Y-%m-%d %H:%M} ({w.reason})"
        for w in stale[:20]
    )
    more = f"\n  ... and {len(stale) - 20} more" if len(stale) > 20 else ""
    return (
        f"{len(stale)} landing file(s) not loaded after {settings.landing_stale_hours} h "
        f"(PLANWH_LANDING_STALE_HOURS), checked by the run of {interval.describe()}; nothing is lost, every "
        f"byte is where it was, but no run will load them as they are: see `planwh landing status`\n{lines}{more}"
    )


def landing_check_step(sources: Sequence[str]) -> dict:
    """The ingest DAGs' ``check_landing_backlog`` task: fail, without retries, when the landing
    folders hold files that have waited too long (the failure callback alerts)."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from planwh.ingest.reception import is_live, reception_clock
    from planwh.settings import load_settings

    settings = load_settings()
    interval, now = current_interval(), reception_clock()
    if not is_live(settings, interval.end, now):
        raise AirflowSkipException("a run of a past day does not judge today's landing folders")
    if message := landing_backlog(settings, sources, interval, now=now):
        raise AirflowFailException(message)
    return {"stale_files": 0}


def fail_on_gate(gate: dict) -> None:
    """The ingest DAGs' last task: fail the run when the gate held a file back (after the good
    files were published). No retry: the data will not change on one."""
    from airflow.sdk.exceptions import AirflowFailException

    if message := gate_failure_message(gate["failures"]):
        raise AirflowFailException(message)
