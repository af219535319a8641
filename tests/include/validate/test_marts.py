"""The mart suites on small marts built by the test, with the columns the dbt models declare."""

from __future__ import annotations

import pytest

from planwh.validate import GateError, ValidationFailed, validate_marts

PROGRESS_DDL = """
create schema if not exists marts;
create table marts.fct_indicator_progress (
    indicator_code text not null, scope text not null, province_code text not null, year integer not null,
    value numeric, status text not null, completeness_rate numeric,
    coverage_rate numeric, provinces_reporting integer, provinces_total integer, min_coverage_percent numeric
);
"""
COMPLIANCE_DDL = """
create table marts.fct_submission_compliance (
    agency_code text not null, period text not null, period_kind text, year integer not null,
    province_code text, is_expected boolean not null, is_received boolean not null, is_on_time boolean,
    days_late integer, submission_versions integer not null
);
"""

NO_COVERAGE = (None, None, None, 80)
GOOD_PROGRESS = [
    ("spokesperson_mechanism", "province", "48", 2024, 80, "on track", 90, *NO_COVERAGE),
    ("trained_hr_officials", "province", "48", 2024, 45.5, "at risk", 100, *NO_COVERAGE),
    ("books_published", "province", "48", 2024, 12, "not applicable", 50, *NO_COVERAGE),
    ("spokesperson_mechanism", "province", "91", 2024, None, "no data", 0, *NO_COVERAGE),
    ("spokesperson_mechanism", "province", "01", 2024, None, "no register", None, *NO_COVERAGE),
    ("spokesperson_mechanism", "national", "00", 2024, 72, "at risk", 81.5, 88.2, 30, 34, 80),
    ("trained_hr_officials", "national", "00", 2024, 40, "insufficient coverage", 75, 14.7, 5, 34, 80),
]
BAD_PROGRESS = [
    # the same indicator, province and year twice
    ("spokesperson_mechanism", "province", "48", 2024, 70, "on track", 90, *NO_COVERAGE),
    # a legacy province code, a negative value, an unknown status, completeness above 100
    ("books_published", "province", "49", 2024, -1, "improving", 150, *NO_COVERAGE),
    # a national row not coded 00, and a training coverage above 100 % (a warning)
    ("trained_info_officials", "national", "01", 2024, 130, "achieved", 100, 100, 34, 34, 80),
    # a national status judged on 5 provinces of 34, and a national value without its coverage
    ("fake_news_handled", "national", "00", 2024, 91, "achieved", 60, 14.7, 5, 34, 80),
    ("misinformation_share", "national", "00", 2024, 9, "achieved", 60, None, None, None, 80),
]
GOOD_COMPLIANCE = [
    ("QNA_STTTT", "2024", "year", 2024, "48", True, True, True, 0, 2),
    ("QNA_SGDDT", "2024", "year", 2024, "48", True, True, False, 3, 1),
    ("QNA_SYT", "2024", "year", 2024, "48", True, False, False, None, 0),
    ("QNA_BAO", "2024-11", "month", 2024, None, False, True, None, None, 1),
]
BAD_COMPLIANCE = [
    # on time though never received
    ("QNA_SNV", "2024", "year", 2024, "48", True, False, True, None, 0),
    # a legacy province code (a warning), negative days late, received without a version
    ("QNA_SNN", "2024", "year", 2024, "49", True, True, False, -2, 0),
]


def _build(warehouse, progress, compliance=None):
    warehouse.conn.execute(PROGRESS_DDL)
    with warehouse.conn.cursor() as cur:
        cur.executemany(
            "insert into marts.fct_indicator_progress values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", progress
        )
        if compliance is not None:
            cur.execute(COMPLIANCE_DDL)
            cur.executemany(
                "insert into marts.fct_submission_compliance values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                compliance,
            )
    warehouse.conn.commit()


def test_good_marts_pass_and_each_adds_one_run(settings, warehouse):
    _build(warehouse, GOOD_PROGRESS, GOOD_COMPLIANCE)

    verdicts = validate_marts(settings)

    assert [(v.relation, v.status) for v in verdicts] == [
        ("marts.fct_indicator_progress", "passed"),
        ("marts.fct_submission_compliance", "passed"),
    ]
    runs = warehouse.rows(
        "select data_asset, file_id, success from audit.validation_runs order by data_asset"
    )
    assert runs == [
        ("marts.fct_indicator_progress", None, True),
        ("marts.fct_submission_compliance", None, True),
    ]


def test_bad_marts_fail_after_recording_every_result(settings, warehouse):
    _build(warehouse, GOOD_PROGRESS + BAD_PROGRESS, GOOD_COMPLIANCE + BAD_COMPLIANCE)

    with pytest.raises(ValidationFailed) as failure:
        validate_marts(settings)

    failed = dict(warehouse.rows("select rule, severity from audit.expectation_results where not success"))
    assert failed == {
        "one_row_per_indicator_province_year": "error",
        "province_rows_on_current_provinces": "error",
        "national_rows_coded_00": "error",
        "value_not_negative": "error",
        "status_known": "error",
        "completeness_is_a_percentage": "error",
        "national_rows_carry_coverage": "error",
        "national_status_needs_coverage": "error",
        "trained_within_headcount": "warning",
        "on_time_only_if_received": "error",
        "days_late_not_negative": "error",
        "received_has_a_version": "error",
        "province_code_current": "warning",
    }
    message = str(failure.value)
    assert "\n  marts.fct_indicator_progress: fct_indicator_progress." in message
    assert "status_known [expect_column_values_to_be_in_set] 1 of 12 rows unexpected" in message
    assert "\n  marts.fct_submission_compliance: fct_submission_compliance." in message
    assert warehouse.run_count() == 2


def test_a_mart_the_project_does_not_build_is_reported_missing(settings, warehouse):
    _build(warehouse, GOOD_PROGRESS)

    verdicts = validate_marts(settings)

    assert [(v.relation, v.status) for v in verdicts] == [
        ("marts.fct_indicator_progress", "passed"),
        ("marts.fct_submission_compliance", "missing"),
    ]
    assert warehouse.run_count() == 1


def test_validating_marts_before_dbt_built_any_says_so(settings, warehouse):
    with pytest.raises(
        GateError, match="marts.fct_indicator_progress, marts.fct_submission_compliance not found"
    ):
        validate_marts(settings)
