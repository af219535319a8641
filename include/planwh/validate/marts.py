"""Validating the key marts after ``dbt build``: the same suites-and-history machinery, whole tables.

A mart is rebuilt from published data, so nothing is quarantined here: an error-level failure
makes ``validate_marts`` raise ``ValidationFailed`` (after recording every run), a warning is
recorded. A mart the dbt project does not build (yet) is reported as ``missing`` and skipped;
when none exists, dbt has not run and that is an error. dbt tests check keys and
relationships; these suites check what a reader of the marts relies on (value ranges, the
status vocabulary, one row per indicator, province and year).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from planwh.db import connect, warehouse_url
from planwh.settings import Settings, load_settings
from planwh.validate.gate import GateError, RuleFailure, ValidationFailed
from planwh.validate.history import RunRecord, record_run
from planwh.validate.results import read_suite_result, sanitise
from planwh.validate.schema import ensure_published_schema
from planwh.validate.suites import MART_SUITES, MartSuite, load_rules, suite_parameters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MartVerdict:
    suite: str
    relation: str
    status: str  # passed | warned | failed | missing
    failures: tuple[RuleFailure, ...] = ()
    run_id: str | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> tuple[RuleFailure, ...]:
        return tuple(f for f in self.failures if f.severity == "error")

    def describe(self) -> str:
        return f"{self.relation}: " + "; ".join(f.describe() for f in self.errors)


def validate_marts(
    settings: Settings | None = None, suites: tuple[MartSuite, ...] = MART_SUITES
) -> list[MartVerdict]:
    """Validate every key mart; raise ``ValidationFailed`` after recording if an error-level rule failed."""
    from planwh.validate.gx_project import gx_version, run_suite, store_result

    settings = settings or load_settings()
    parameters = suite_parameters()
    gate_run_id = uuid.uuid4()
    verdicts: list[MartVerdict] = []
    with connect(warehouse_url(settings)) as conn:
        ensure_published_schema(conn)
        missing = [
            m.relation
            for m in suites
            if conn.execute("select to_regclass(%s)", (m.relation,)).fetchone()[0] is None
        ]
        conn.commit()
        if len(missing) == len(suites):
            raise GateError(
                f"{', '.join(missing)} not found: build the marts (dbt build) before validating them"
            )
        version = gx_version()
        for mart in suites:
            if mart.relation in missing:
                log.warning("%s does not exist: its suite %s was not run", mart.relation, mart.suite)
                verdicts.append(MartVerdict(suite=mart.suite, relation=mart.relation, status="missing"))
                continue
            clock = time.perf_counter()
            rules = load_rules(mart.suite, for_marts=True)
            result = run_suite(
                settings, mart.suite, mart.asset, parameters, file_id=None, started_at=datetime.now(UTC)
            )
            outcomes = read_suite_result(result.document, rules)
            record = RunRecord(
                run_id=uuid.uuid4(),
                gate_run_id=gate_run_id,
                suite=mart.suite,
                data_asset=mart.relation,
                file_id=None,
                source=None,
                started_at=result.started_at,
                finished_at=result.finished_at,
                outcomes=tuple(outcomes),
                gx_version=version,
            )
            with conn.transaction():
                record_run(conn, record)
            for entry in result.result.results:
                entry.result = sanitise(entry.result, rules[entry.expectation_config.meta["rule"]])
            store_result(settings, result, suite=mart.suite, run_id=str(record.run_id), batch=mart.table)
            failing = [o for o in outcomes if not o.success]
            status = "failed" if any(o.failed_error for o in failing) else ("warned" if failing else "passed")
            verdicts.append(
                MartVerdict(
                    suite=mart.suite,
                    relation=mart.relation,
                    status=status,
                    failures=tuple(
                        RuleFailure(
                            mart.suite,
                            o.rule.name,
                            o.rule.expectation_type,
                            o.rule.severity,
                            o.rule.on_failure,
                            o.summary(),
                        )
                        for o in failing
                    ),
                    run_id=str(record.run_id),
                    seconds=time.perf_counter() - clock,
                )
            )
    failed = [v for v in verdicts if v.status == "failed"]
    if failed:
        raise ValidationFailed(failed, verdicts)
    return verdicts
