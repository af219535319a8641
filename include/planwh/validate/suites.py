"""Which suite validates which batch, the code lists they are given, and the rules' metadata.

The suites themselves are the reviewed JSON files in ``expectations/gx/expectations/``. Each
expectation carries ``meta``:

``rule``
    a short name, unique in its suite; quarantine reason codes are ``gx_<rule>``.
``severity``
    ``error`` (the data must not be published as is) or ``warning`` (published, and recorded).
``on_failure``
    what an error does to a file's batch: ``quarantine_rows`` holds back the rows GX reports
    as unexpected, ``quarantine_batch`` holds back the whole file; ``fail_run`` fails a mart
    validation. A warning's is ``publish``.

Code lists are not written into the suites: a suite names them as ``{"$PARAMETER": "..."}``
and ``suite_parameters()`` reads them from the reference seeds (``dbt_project/seeds/*.csv``,
the files ``dbt seed`` loads into ``reference.*``) each time a process starts validating, so
a new province code or measure is a seed change, never a suite change.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from planwh.settings import PROJECT_ROOT

GX_PROJECT_DIR = PROJECT_ROOT / "expectations"
SUITES_DIR = GX_PROJECT_DIR / "gx" / "expectations"
SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"

# Columns whose values never leave the warehouse in a sample or a quarantine message. Names and
# ID numbers do not reach raw at all; the pseudonym and a trainee's gender and position could
# still single a person out when combined.
PERSONAL_COLUMNS = frozenset({"person_key", "gender", "position"})
PERSONAL_PLACEHOLDER = "[withheld: personal data]"

SEVERITIES = ("error", "warning")
BATCH_ACTIONS = ("quarantine_rows", "quarantine_batch")
MART_ACTIONS = ("fail_run",)


_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)
_ALIASED_BATCH = re.compile(r"\{batch\}\s+as\s+\w+", re.IGNORECASE)


def query_has_join(query: str) -> bool:
    return bool(_JOIN.search(query))


def substitute_batch(query: str, subquery: str) -> str:
    """``{batch}`` replaced the way GX 1.x does it for a filtered batch.

    A query with a JOIN gets the bare parenthesised subquery and must alias it itself; any other
    query gets it already aliased (``AS subselect``) and must not.
    """
    batch = f"({subquery})" if query_has_join(query) else f"({subquery}) AS subselect"
    return query.format(batch=batch)


class SuiteError(ValueError):
    """A reviewed suite file is malformed (the message names the file and the expectation)."""


@dataclass(frozen=True)
class BatchSuite:
    """A suite run on one file's rows of one raw table."""

    suite: str
    asset: str
    table: str
    # The file's rows_loaded counts this table's rows; a roster's course header does not count,
    # and any error in it holds back the whole roster.
    holds_file_rows: bool = True


@dataclass(frozen=True)
class MartSuite:
    suite: str
    asset: str
    schema: str
    table: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


SOURCE_SUITES: dict[str, tuple[BatchSuite, ...]] = {
    "agencies": (BatchSuite("agency_register", "agency_register", "agency_register"),),
    "submissions": (BatchSuite("agency_submissions", "agency_submissions", "agency_submissions"),),
    "portal": (BatchSuite("portal_statistics", "portal_statistics", "portal_statistics"),),
    "rosters": (
        BatchSuite("training_courses", "training_courses", "training_courses", holds_file_rows=False),
        BatchSuite("training_attendance", "training_attendance", "training_attendance"),
    ),
}

MART_SUITES: tuple[MartSuite, ...] = (
    MartSuite("fct_indicator_progress", "fct_indicator_progress", "marts", "fct_indicator_progress"),
    MartSuite("fct_submission_compliance", "fct_submission_compliance", "marts", "fct_submission_compliance"),
)


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite as reviewed (parameters not yet substituted)."""

    suite: str
    name: str
    expectation_type: str
    kwargs: dict
    severity: str
    on_failure: str
    description: str

    @property
    def columns(self) -> tuple[str, ...]:
        kw = self.kwargs
        if "column" in kw:
            return (kw["column"],)
        if "column_A" in kw:
            return (kw["column_A"], kw["column_B"])
        return tuple(kw.get("column_list", ()))

    @property
    def reason_code(self) -> str:
        return f"gx_{self.name}"

    @property
    def touches_personal_data(self) -> bool:
        return bool(PERSONAL_COLUMNS.intersection(self.columns))


def _read_seed(name: str, column: str) -> list[str]:
    path = SEEDS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"reference seed {path} is missing (generate it: python -m planwh.reference.build_seeds)"
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sorted({row[column].strip() for row in csv.DictReader(fh) if (row.get(column) or "").strip()})


@cache
def suite_parameters() -> dict[str, list[str]]:
    """The code lists the suites name with ``$PARAMETER``, from the reference seeds."""
    return {
        "province_codes": sorted(
            set(_read_seed("ref_provinces_legacy.csv", "province_code"))
            | set(_read_seed("ref_provinces_current.csv", "province_code"))
        ),
        "current_province_codes": _read_seed("ref_provinces_current.csv", "province_code"),
        "measure_codes": _read_seed("ref_measures.csv", "measure_code"),
        "language_codes": _read_seed("ref_languages.csv", "language_code"),
        "trainee_categories": _read_seed("ref_trainee_categories.csv", "category_code"),
        "agency_kinds": _read_seed("ref_agency_kinds.csv", "agency_kind"),
        # An agency with no reporting duty is registered as "none" (SOURCES.md, agency register).
        "reporting_modes": sorted(set(_read_seed("ref_reporting_calendar.csv", "frequency")) | {"none"}),
        "task_codes": _read_seed("ref_plan_tasks.csv", "task_code"),
        "indicator_codes": _read_seed("ref_indicators.csv", "indicator_code"),
    }


def _parameter_names(value: object) -> set[str]:
    if isinstance(value, dict):
        if "$PARAMETER" in value:
            return {value["$PARAMETER"]}
        return set().union(*(_parameter_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameter_names(v) for v in value)) if value else set()
    return set()


def load_rules(suite: str, *, for_marts: bool = False, suites_dir: Path = SUITES_DIR) -> dict[str, Rule]:
    """The rules of a suite file, checked: every expectation needs a valid ``meta``."""
    path = suites_dir / f"{suite}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"suite file {path} is missing") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path} is not valid JSON: {exc}") from None
    if document.get("name") != suite:
        raise SuiteError(f"{path}: name is {document.get('name')!r}, expected {suite!r}")
    actions = MART_ACTIONS if for_marts else BATCH_ACTIONS
    known_parameters = set(suite_parameters())
    rules: dict[str, Rule] = {}
    for index, expectation in enumerate(document.get("expectations", [])):
        meta = expectation.get("meta") or {}
        where = f"{path.name}, expectation {index + 1} ({expectation.get('type')})"
        name = meta.get("rule")
        if not name or not isinstance(name, str):
            raise SuiteError(f"{where}: meta.rule is missing")
        if name in rules:
            raise SuiteError(f"{where}: meta.rule {name!r} is used twice")
        severity = meta.get("severity")
        if severity not in SEVERITIES:
            raise SuiteError(f"{where}: meta.severity must be one of {SEVERITIES}, got {severity!r}")
        on_failure = meta.get("on_failure")
        allowed = actions if severity == "error" else ("publish",)
        if on_failure not in allowed:
            raise SuiteError(
                f"{where}: meta.on_failure of a {severity} must be one of {allowed}, got {on_failure!r}"
            )
        kwargs = expectation.get("kwargs") or {}
        unknown = _parameter_names(kwargs) - known_parameters
        if unknown:
            raise SuiteError(
                f"{where}: unknown $PARAMETER {sorted(unknown)}; known: {sorted(known_parameters)}"
            )
        if (
            expectation.get("type") == "unexpected_rows_expectation"
            and on_failure == "quarantine_rows"
            and "row_number" not in kwargs.get("unexpected_rows_query", "")
        ):
            raise SuiteError(f"{where}: a quarantine_rows query must select row_number")
        query = kwargs.get("unexpected_rows_query")
        if isinstance(query, str):
            aliased = bool(_ALIASED_BATCH.search(query))
            if query_has_join(query) and len(_ALIASED_BATCH.findall(query)) != query.count("{batch}"):
                raise SuiteError(
                    f"{where}: a query with a JOIN must alias every {{batch}} ({{batch}} as b): "
                    "GX substitutes it unaliased there"
                )
            if not query_has_join(query) and aliased:
                raise SuiteError(
                    f"{where}: a query without a JOIN must not alias {{batch}}: GX substitutes "
                    "it as an aliased subquery there"
                )
        rules[name] = Rule(
            suite=suite,
            name=name,
            expectation_type=expectation.get("type", ""),
            kwargs=kwargs,
            severity=severity,
            on_failure=on_failure,
            description=expectation.get("description") or name.replace("_", " "),
        )
    if not rules:
        raise SuiteError(f"{path} has no expectations")
    return rules
