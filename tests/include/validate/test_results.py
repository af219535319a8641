"""Reading GX results: failures GX could not evaluate, and what a stored sample may contain."""

from __future__ import annotations

from planwh.validate.results import read_outcome, sanitise
from planwh.validate.suites import PERSONAL_PLACEHOLDER, Rule


def _rule(**changes) -> Rule:
    values = {
        "suite": "s",
        "name": "r",
        "expectation_type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "category"},
        "severity": "error",
        "on_failure": "quarantine_rows",
        "description": "d",
    }
    return Rule(**{**values, **changes})


def test_a_metric_that_failed_to_compute_is_a_failure_with_its_message():
    # GX keys a failed metric's error by the metric, not in the flat form of an expectation's own error.
    document = {
        "success": False,
        "result": {},
        "exception_info": {
            "MetricConfigurationID(metric_name='unexpected_rows_query.table')": {
                "exception_traceback": "Traceback ...",
                "exception_message": '(psycopg.errors.SyntaxError) syntax error at or near "as"',
            }
        },
    }
    outcome = read_outcome(document, _rule(expectation_type="unexpected_rows_expectation", kwargs={}))
    assert not outcome.success
    assert outcome.summary().startswith("could not be evaluated: (psycopg.errors.SyntaxError)")
    assert outcome.rows_complete is False  # it names no rows, so the gate holds back the whole file


def test_unexpected_rows_are_read_and_personal_values_never_kept():
    rule = _rule(
        kwargs={"column_list": ["course_id", "person_key"]},
        expectation_type="expect_compound_columns_to_be_unique",
    )
    key = "a" * 64
    result = {
        "element_count": 3,
        "unexpected_count": 2,
        "unexpected_percent": 66.7,
        "partial_unexpected_list": [{"course_id": "C1", "person_key": key}] * 2,
        "unexpected_index_list": [{"row_number": 2, "person_key": key}, {"row_number": 3, "person_key": key}],
    }
    outcome = read_outcome(
        {"success": False, "result": result, "exception_info": {"raised_exception": False}}, rule
    )

    assert set(outcome.rows) == {2, 3}
    assert key not in repr(outcome.rows) and PERSONAL_PLACEHOLDER in outcome.rows[2]
    assert outcome.sample is None
    assert key not in repr(sanitise(result, rule))


def test_a_sample_keeps_at_most_twenty_values():
    values = [f"x{n}" for n in range(500)]
    result = {
        "element_count": 500,
        "unexpected_count": 500,
        "partial_unexpected_list": values[:20],
        "unexpected_list": values,
        "unexpected_index_list": [{"row_number": n} for n in range(500)],
    }
    clean = sanitise(result, _rule())
    assert len(clean["unexpected_list"]) == 20 and len(clean["unexpected_index_list"]) == 20
    outcome = read_outcome({"success": False, "result": result}, _rule())
    assert len(outcome.sample) == 20 and len(outcome.rows) == 500
