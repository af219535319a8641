"""Write-audit-publish: validate every loaded file with GX, publish what passes, hold back the rest.

Ingestion writes a file's rows to ``raw.*`` and marks it ``loaded`` in ``landing.files``. A
loaded file with no verdict in ``audit.batches`` is pending. For each pending file, in file
order (so a day's portal volume is judged against the days published before it):

1. its batch (the file's rows of its raw table; for a roster the course header and the trainee
   rows) is validated with the source's suites;
2. in one transaction: its rows are published to ``published.*`` except those held back
   (delete-then-insert on ``file_id``), the held-back rows are listed in
   ``quarantine.rejected_rows`` with reason ``gx_<rule>``, the verdict goes to
   ``audit.batches`` and the run to the history tables.

An error-level failure holds back the unexpected rows or the whole file (the rule's
``on_failure``); a warning publishes and is recorded. When a file failed an error-level rule,
``validate_pending`` raises ``ValidationFailed`` after every file is recorded and published,
so a scheduler task fails visibly without blocking the other files.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from planwh.db import connect, warehouse_url
from planwh.ingest.schema import SOURCES
from planwh.settings import Settings, load_settings
from planwh.validate.history import RunRecord, record_run
from planwh.validate.results import RuleOutcome, describe_row, read_suite_result, sanitise
from planwh.validate.schema import ensure_published_schema, published_columns
from planwh.validate.suites import SOURCE_SUITES, BatchSuite, load_rules, substitute_batch, suite_parameters

if TYPE_CHECKING:
    from planwh.validate.gx_project import SuiteResult

log = logging.getLogger(__name__)


class GateError(RuntimeError):
    """The gate cannot judge a file (its ledger and raw rows disagree, or it is not loaded)."""


@dataclass(frozen=True)
class RuleFailure:
    suite: str
    rule: str
    expectation_type: str
    severity: str
    on_failure: str
    summary: str

    def describe(self) -> str:
        return f"{self.suite}.{self.rule} [{self.expectation_type}] {self.summary}"


@dataclass(frozen=True)
class BatchVerdict:
    file_id: int
    source: str
    original_name: str
    status: str  # passed | warned | failed
    batch_quarantined: bool
    rows_loaded: int
    rows_published: int
    rows_quarantined: int
    failures: tuple[RuleFailure, ...] = ()
    run_ids: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def errors(self) -> tuple[RuleFailure, ...]:
        return tuple(f for f in self.failures if f.severity == "error")

    def describe(self) -> str:
        held = (
            f"whole file held back ({self.rows_loaded} rows)"
            if self.batch_quarantined
            else f"{self.rows_quarantined} of {self.rows_loaded} rows held back"
        )
        checks = "; ".join(f.describe() for f in self.errors)
        return f"file {self.file_id} ({self.source}, {self.original_name}): {checks} -> {held}"


class ValidationFailed(RuntimeError):
    """At least one file (or mart) failed an error-level expectation; everything was recorded."""

    def __init__(self, failed: Sequence[object], verdicts: Sequence[object]):
        self.failed = list(failed)
        self.verdicts = list(verdicts)
        lines = [f"{len(self.failed)} of {len(self.verdicts)} validated batches failed an error-level check:"]
        lines += [f"  {v.describe()}" for v in self.failed]
        super().__init__("\n".join(lines))

    def __reduce__(self):
        # A scheduler may pickle a task's exception; the default would call __init__(message).
        return (self.__class__, (self.failed, self.verdicts))


@dataclass(frozen=True)
class _File:
    file_id: int
    source: str
    original_name: str
    rows_loaded: int


@dataclass(frozen=True)
class _SuiteRun:
    spec: BatchSuite
    record: RunRecord
    suite_result: SuiteResult


def _now() -> datetime:
    return datetime.now(UTC)


def _select_files(
    conn: psycopg.Connection, source: str | None, file_ids: Iterable[int] | None
) -> list[_File]:
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if file_ids is not None:
        wanted = sorted(set(file_ids))
        rows = conn.execute(
            """
            select file_id, source, original_name, rows_loaded, status
            from landing.files where file_id = any(%s::bigint[]) order by file_id
            """,
            (wanted,),
        ).fetchall()
        found = {r[0] for r in rows}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise GateError(f"no file with file_id {', '.join(map(str, missing))} in landing.files")
        not_loaded = [f"{r[0]} ({r[4]})" for r in rows if r[4] != "loaded"]
        if not_loaded:
            raise GateError(f"only loaded files can be validated; not loaded: {', '.join(not_loaded)}")
        return [_File(r[0], r[1], r[2], r[3]) for r in rows if source is None or r[1] == source]
    rows = conn.execute(
        """
        select f.file_id, f.source, f.original_name, f.rows_loaded
        from landing.files as f
        where f.status = 'loaded'
            and (%(source)s::text is null or f.source = %(source)s)
            and not exists (select from audit.batches as b where b.file_id = f.file_id)
        order by f.file_id
        """,
        {"source": source},
    ).fetchall()
    return [_File(*r) for r in rows]


def _lock_key(file_id: int) -> str:
    return f"planwh.validate.file:{file_id}"


class _Gate:
    def __init__(self, settings: Settings, conn: psycopg.Connection):
        self.settings = settings
        self.conn = conn
        self.gate_run_id = uuid.uuid4()
        self.parameters = suite_parameters()
        self.rules = {
            spec.suite: load_rules(spec.suite) for specs in SOURCE_SUITES.values() for spec in specs
        }
        from planwh.validate.gx_project import gx_version

        self.gx_version = gx_version()

    # -- one file ----------------------------------------------------------------------
    def validate_file(self, file: _File, *, forced: bool) -> BatchVerdict | None:
        conn = self.conn
        got = conn.execute(
            "select pg_try_advisory_lock(hashtextextended(%s, 0))", (_lock_key(file.file_id),)
        ).fetchone()[0]
        conn.commit()
        if not got:
            log.warning("file %s is being validated by another process; skipped", file.file_id)
            return None
        try:
            if (
                not forced
                and conn.execute("select 1 from audit.batches where file_id = %s", (file.file_id,)).fetchone()
            ):
                return None
            return self._validate_locked(file)
        finally:
            conn.rollback()
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (_lock_key(file.file_id),))
            conn.commit()

    def _validate_locked(self, file: _File) -> BatchVerdict:
        clock = time.perf_counter()
        specs = SOURCE_SUITES[file.source]
        counts = {
            spec.table: self.conn.execute(
                sql.SQL("select count(*) from {} where file_id = %s").format(
                    sql.Identifier("raw", spec.table)
                ),
                (file.file_id,),
            ).fetchone()[0]
            for spec in specs
        }
        main = next(spec for spec in specs if spec.holds_file_rows)
        if counts[main.table] != file.rows_loaded:
            raise GateError(
                f"file {file.file_id} ({file.original_name}): landing.files says {file.rows_loaded} rows "
                f"loaded but raw.{main.table} holds {counts[main.table]}; the ledger and raw disagree, "
                "nothing was published"
            )
        # GX reads through its own connections: hold no snapshot or lock meanwhile.
        self.conn.commit()

        runs = [self._run_suite(spec, file) for spec in specs if counts[spec.table] > 0]

        failing = [(run.spec, o) for run in runs for o in run.record.outcomes if not o.success]
        errors = [(spec, o) for spec, o in failing if o.rule.severity == "error"]
        batch_quarantined = any(
            not spec.holds_file_rows or o.rule.on_failure == "quarantine_batch" or not o.rows_complete
            for spec, o in errors
        )
        held_rows = sorted({n for spec, o in errors if spec.holds_file_rows for n in o.rows})
        rows_quarantined = file.rows_loaded if batch_quarantined else len(held_rows)
        status = "failed" if errors else ("warned" if failing else "passed")
        failures = tuple(
            RuleFailure(
                spec.suite,
                o.rule.name,
                o.rule.expectation_type,
                o.rule.severity,
                o.rule.on_failure,
                o.summary(),
            )
            for spec, o in failing
        )

        with self.conn.transaction():
            published = self._publish(file, specs, held_rows, batch_quarantined)
            if published != file.rows_loaded - rows_quarantined:
                raise GateError(
                    f"file {file.file_id}: published {published} rows, expected {file.rows_loaded} loaded - "
                    f"{rows_quarantined} held back; nothing was published"
                )
            self._quarantine(file, errors, batch_quarantined)
            self._record_verdict(
                file, status, batch_quarantined, published, rows_quarantined, failing, errors
            )
            for run in runs:
                record_run(self.conn, run.record)

        from planwh.validate.gx_project import store_result

        for run in runs:
            for entry in run.suite_result.result.results:
                rule = self.rules[run.spec.suite][entry.expectation_config.meta["rule"]]
                entry.result = sanitise(entry.result, rule)
            store_result(
                self.settings,
                run.suite_result,
                suite=run.spec.suite,
                run_id=str(run.record.run_id),
                batch=f"file_{file.file_id}",
            )

        verdict = BatchVerdict(
            file_id=file.file_id,
            source=file.source,
            original_name=file.original_name,
            status=status,
            batch_quarantined=batch_quarantined,
            rows_loaded=file.rows_loaded,
            rows_published=published,
            rows_quarantined=rows_quarantined,
            failures=failures,
            run_ids=tuple(str(run.record.run_id) for run in runs),
            seconds=time.perf_counter() - clock,
        )
        log.info(
            "file %s (%s): %s, %s published, %s held back",
            file.file_id,
            file.source,
            status,
            published,
            rows_quarantined,
        )
        return verdict

    def _run_suite(self, spec: BatchSuite, file: _File) -> _SuiteRun:
        from planwh.validate.gx_project import run_suite

        result = run_suite(
            self.settings, spec.suite, spec.asset, self.parameters, file_id=file.file_id, started_at=_now()
        )
        rules = self.rules[spec.suite]
        outcomes = read_suite_result(result.document, rules)
        for outcome in outcomes:
            if outcome.failed_error and not outcome.rows_complete and outcome.exception_message is None:
                self._complete_rows(outcome, spec, file.file_id)
        record = RunRecord(
            run_id=uuid.uuid4(),
            gate_run_id=self.gate_run_id,
            suite=spec.suite,
            data_asset=f"raw.{spec.table}",
            file_id=file.file_id,
            source=file.source,
            started_at=result.started_at,
            finished_at=result.finished_at,
            outcomes=tuple(outcomes),
            gx_version=self.gx_version,
        )
        return _SuiteRun(spec=spec, record=record, suite_result=result)

    def _complete_rows(self, outcome: RuleOutcome, spec: BatchSuite, file_id: int) -> None:
        """List the unexpected rows GX judged but did not name, with the rule's own predicate.

        GX returns at most 200 rows of an ``unexpected_rows_expectation`` query, and no row
        index at all for ``expect_compound_columns_to_be_unique`` on SQL. A rule left without
        its rows holds back the whole file.
        """
        rule = outcome.rule
        if rule.on_failure != "quarantine_rows":
            return
        batch = sql.SQL("(select * from {} where file_id = {}) as b").format(
            sql.Identifier("raw", spec.table), sql.Literal(int(file_id))
        )
        query: sql.Composable
        if rule.expectation_type == "unexpected_rows_expectation":
            text = rule.kwargs.get("unexpected_rows_query")
            if not isinstance(text, str) or "row_number" not in text:
                return
            subquery = (
                sql.SQL("select * from {} where file_id = {}")
                .format(sql.Identifier("raw", spec.table), sql.Literal(int(file_id)))
                .as_string(self.conn)
            )
            query = sql.SQL(substitute_batch(text, subquery))  # the reviewed query, as GX runs it
        elif rule.expectation_type == "expect_compound_columns_to_be_unique":
            # Suites use this rule on NOT NULL keys, where PARTITION BY and GX's check agree.
            columns = sql.SQL(", ").join(map(sql.Identifier, rule.columns))
            query = sql.SQL(
                "select row_number, {columns} from ("
                "select *, count(*) over (partition by {columns}) as copies "
                "from {batch}) as counted where copies > 1"
            ).format(columns=columns, batch=batch)
        else:
            return
        with self.conn.cursor() as cur:
            cur.execute(query)
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
        self.conn.commit()
        outcome.rows = {
            int(r["row_number"]): describe_row(r) for r in rows if r.get("row_number") is not None
        }
        outcome.rows_complete = len(outcome.rows) > 0

    # -- the publish transaction -----------------------------------------------------------
    def _publish(
        self, file: _File, specs: Sequence[BatchSuite], held_rows: list[int], batch_quarantined: bool
    ) -> int:
        published_main = 0
        for spec in specs:
            target = sql.Identifier("published", spec.table)
            self.conn.execute(sql.SQL("delete from {} where file_id = %s").format(target), (file.file_id,))
            if batch_quarantined:
                continue
            columns = sql.SQL(", ").join(map(sql.Identifier, published_columns(self.conn, spec.table)))
            held = held_rows if spec.holds_file_rows else []
            cur = self.conn.execute(
                sql.SQL(
                    "insert into {target} ({columns}) select {columns} from {source} "
                    "where file_id = %s and not (row_number = any(%s::integer[]))"
                ).format(target=target, columns=columns, source=sql.Identifier("raw", spec.table)),
                (file.file_id, held),
            )
            if spec.holds_file_rows:
                published_main = cur.rowcount
        return published_main

    def _quarantine(
        self, file: _File, errors: list[tuple[BatchSuite, RuleOutcome]], batch_quarantined: bool
    ) -> None:
        self.conn.execute(
            "delete from quarantine.rejected_rows where file_id = %s and reason_code like 'gx\\_%%'",
            (file.file_id,),
        )
        entries: list[tuple] = []
        for spec, outcome in errors:
            rule = outcome.rule
            column = ", ".join(rule.columns) or None
            whole = (
                not spec.holds_file_rows or rule.on_failure == "quarantine_batch" or not outcome.rows_complete
            )
            if whole:
                what = (
                    "whole roster held back (course header)"
                    if not spec.holds_file_rows
                    else "whole file held back"
                )
                entries.append(
                    (
                        file.file_id,
                        None,
                        column,
                        None,
                        rule.reason_code,
                        f"{what}: rule '{rule.description}' failed ({outcome.summary()})",
                    )
                )
            if spec.holds_file_rows:
                for row_number, found in sorted(outcome.rows.items()):
                    entries.append(
                        (
                            file.file_id,
                            row_number,
                            column,
                            found or None,
                            rule.reason_code,
                            f"row {row_number} breaks the rule '{rule.description}': {found}",
                        )
                    )
        if not entries:
            return
        with (
            self.conn.cursor() as cur,
            cur.copy(
                "copy quarantine.rejected_rows "
                "(file_id, row_number, column_name, value, reason_code, message) from stdin"
            ) as copy,
        ):
            for entry in entries:
                copy.write_row(entry)

    def _record_verdict(
        self,
        file: _File,
        status: str,
        batch_quarantined: bool,
        published: int,
        quarantined: int,
        failing: list[tuple[BatchSuite, RuleOutcome]],
        errors: list[tuple[BatchSuite, RuleOutcome]],
    ) -> None:
        message = "; ".join(f"{o.rule.name}: {o.summary()}" for _, o in errors) or None
        self.conn.execute(
            """
            insert into audit.batches (
                file_id, source, validation_status, batch_quarantined, rows_loaded, rows_published,
                rows_quarantined, failed_rules, message, gate_run_id, validated_at
            )
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (file_id) do update set
                validation_status = excluded.validation_status,
                batch_quarantined = excluded.batch_quarantined,
                rows_loaded = excluded.rows_loaded,
                rows_published = excluded.rows_published,
                rows_quarantined = excluded.rows_quarantined,
                failed_rules = excluded.failed_rules,
                message = excluded.message,
                gate_run_id = excluded.gate_run_id,
                validated_at = excluded.validated_at
            """,
            (
                file.file_id,
                file.source,
                status,
                batch_quarantined,
                file.rows_loaded,
                published,
                quarantined,
                sorted({o.rule.name for _, o in failing}),
                message,
                self.gate_run_id,
                _now(),
            ),
        )


def validate_pending(
    settings: Settings | None = None,
    *,
    source: str | None = None,
    file_ids: Iterable[int] | None = None,
) -> list[BatchVerdict]:
    """Validate and publish every loaded file without a verdict (or exactly ``file_ids``, again).

    Returns the verdicts; raises ``ValidationFailed`` (listing file, rule and counts) after
    recording and publishing everything when any file failed an error-level rule.
    """
    settings = settings or load_settings()
    with connect(warehouse_url(settings)) as conn:
        ensure_published_schema(conn)
        files = _select_files(conn, source, file_ids)
        conn.commit()
        if not files:
            return []
        gate = _Gate(settings, conn)
        verdicts = [v for f in files if (v := gate.validate_file(f, forced=file_ids is not None)) is not None]
    failed = [v for v in verdicts if v.status == "failed"]
    if failed:
        raise ValidationFailed(failed, verdicts)
    return verdicts


def summarise(verdicts: Iterable[BatchVerdict]) -> dict[str, int]:
    """Counts for a task's return value or a log line (XCom-friendly: plain ints)."""
    totals = {
        "files_passed": 0,
        "files_warned": 0,
        "files_failed": 0,
        "rows_published": 0,
        "rows_quarantined": 0,
    }
    for v in verdicts:
        totals[f"files_{v.status}"] += 1
        totals["rows_published"] += v.rows_published
        totals["rows_quarantined"] += v.rows_quarantined
    return totals
