"""Reading a GX suite result: which rules failed, on which rows, with what sample.

GX is the judge: a rule failed when GX says so, and the rows held back are the rows GX lists
as unexpected (``unexpected_index_list`` of a map expectation, the ``row_number`` of the rows
an ``unexpected_rows_expectation`` query returns). What is stored is cut down: at most
``SAMPLE_SIZE`` unexpected values, and none from a personal column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planwh.validate.suites import PERSONAL_COLUMNS, PERSONAL_PLACEHOLDER, Rule

SAMPLE_SIZE = 20
ROW_KEY = "row_number"
# Keys of a map expectation's result that list values (possibly every unexpected one).
_LIST_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
)
# Expectations about a column's type or presence observe metadata, never a value.
_SCHEMA_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
        "expect_column_to_exist",
    }
)


def _hides_values(rule: Rule) -> bool:
    return rule.touches_personal_data and rule.expectation_type not in _SCHEMA_EXPECTATIONS


@dataclass
class RuleOutcome:
    rule: Rule
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: Any = None
    # row_number -> what was wrong in it (personal values withheld), for quarantine_rows rules
    rows: dict[int, str] = field(default_factory=dict)
    # False when GX reported more unexpected rows than it listed (a query's 200-row cap)
    rows_complete: bool = True
    exception_message: str | None = None

    @property
    def failed_error(self) -> bool:
        return not self.success and self.rule.severity == "error"

    def summary(self) -> str:
        if self.exception_message:
            return f"could not be evaluated: {self.exception_message.splitlines()[0][:200]}"
        if self.unexpected_count is not None and self.element_count is not None:
            return f"{self.unexpected_count} of {self.element_count} rows unexpected"
        if self.unexpected_count is not None:
            return f"{self.unexpected_count} unexpected rows"
        return f"observed {self.sample!r}"


def describe_row(values: dict[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        if key == ROW_KEY:
            continue
        shown = PERSONAL_PLACEHOLDER if key in PERSONAL_COLUMNS else value
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def _without_personal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (PERSONAL_PLACEHOLDER if k in PERSONAL_COLUMNS else v) for k, v in value.items()}
    return value


def sanitise(result: dict, rule: Rule) -> dict:
    """A copy of a GX expectation ``result`` fit to keep: short lists, no personal values."""
    clean = dict(result)
    for key in _LIST_KEYS:
        if key in clean and isinstance(clean[key], list):
            if _hides_values(rule) and key != "partial_unexpected_counts":
                clean[key] = [_row_numbers_only(v) for v in clean[key][:SAMPLE_SIZE]]
            elif _hides_values(rule):
                clean[key] = []
            else:
                clean[key] = [_without_personal(v) for v in clean[key][:SAMPLE_SIZE]]
    details = clean.get("details")
    if isinstance(details, dict) and isinstance(details.get("unexpected_rows"), list):
        clean["details"] = {
            **details,
            "unexpected_rows": [_without_personal(v) for v in details["unexpected_rows"][:SAMPLE_SIZE]],
        }
    if (
        _hides_values(rule)
        and "observed_value" in clean
        and not isinstance(clean["observed_value"], int | float)
    ):
        clean["observed_value"] = PERSONAL_PLACEHOLDER
    return clean


def _row_numbers_only(value: Any) -> Any:
    if isinstance(value, dict) and ROW_KEY in value:
        return {ROW_KEY: value[ROW_KEY]}
    return PERSONAL_PLACEHOLDER


def _sample(result: dict, rule: Rule) -> Any:
    if _hides_values(rule):
        return None
    if "partial_unexpected_list" in result:
        return [_without_personal(v) for v in result["partial_unexpected_list"][:SAMPLE_SIZE]]
    details = result.get("details")
    if isinstance(details, dict) and isinstance(details.get("unexpected_rows"), list):
        return [_without_personal(v) for v in details["unexpected_rows"][:SAMPLE_SIZE]]
    if "observed_value" in result:
        return {"observed_value": result["observed_value"]}
    return None


def _exception_message(info: Any) -> str | None:
    """GX reports an expectation's own error flat, and a failed metric keyed by the metric."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return (
            (info.get("exception_message") or "GX raised an exception") if info["raised_exception"] else None
        )
    for value in info.values():
        if isinstance(value, dict) and (value.get("raised_exception") or value.get("exception_message")):
            return value.get("exception_message") or "GX raised an exception"
    return None


def read_outcome(document: dict, rule: Rule) -> RuleOutcome:
    """Turn one expectation's entry of a suite result (JSON form) into a RuleOutcome."""
    result = document.get("result") or {}
    outcome = RuleOutcome(rule=rule, success=bool(document.get("success")))
    outcome.exception_message = _exception_message(document.get("exception_info"))
    if outcome.exception_message is not None:
        # A rule GX could not evaluate names no rows: an error-level one holds back the file.
        outcome.success = False
        outcome.rows_complete = False
        return outcome
    outcome.element_count = result.get("element_count")
    outcome.unexpected_count = result.get("unexpected_count")
    outcome.unexpected_percent = result.get("unexpected_percent")
    details = result.get("details")
    listed: list = []
    if rule.expectation_type == "unexpected_rows_expectation":
        outcome.unexpected_count = result.get("observed_value")
    if isinstance(details, dict) and isinstance(details.get("unexpected_rows"), list):
        listed = details["unexpected_rows"]
    elif isinstance(result.get("unexpected_index_list"), list):
        listed = result["unexpected_index_list"]
    outcome.sample = _sample(result, rule)
    for entry in listed:
        if isinstance(entry, dict) and entry.get(ROW_KEY) is not None:
            outcome.rows.setdefault(int(entry[ROW_KEY]), describe_row(entry))
    if not outcome.success:
        expected = outcome.unexpected_count
        outcome.rows_complete = bool(outcome.rows) and (expected is None or len(listed) >= expected)
    return outcome


def read_suite_result(document: dict, rules: dict[str, Rule]) -> list[RuleOutcome]:
    """The outcome of every rule of a suite result, matched to the reviewed rules by name."""
    outcomes = []
    seen = set()
    for entry in document.get("results", []):
        config = entry.get("expectation_config") or {}
        name = (config.get("meta") or {}).get("rule")
        if name not in rules:
            raise KeyError(f"GX returned a result for rule {name!r}, which the reviewed suite does not have")
        seen.add(name)
        outcomes.append(read_outcome(entry, rules[name]))
    missing = set(rules) - seen
    if missing:
        raise KeyError(f"GX returned no result for rules {sorted(missing)}")
    return outcomes
