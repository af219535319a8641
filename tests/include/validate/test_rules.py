"""Every rule of the source suites catches its own fault, and only that rule fires.

One file per fault, all validated in one gate run: each file's failed rules and held-back rows
are compared with what the fault should cause. ``"file"`` means the whole file is held back.
"""

from __future__ import annotations

from datetime import date

import pytest
from validate_batches import article, course, submission, trainee

from planwh.validate import ValidationFailed, validate_pending
from planwh.validate.suites import SOURCE_SUITES, load_rules


def agency(**changes) -> dict:
    return {
        "agency_code": "QNA_STTTT",
        "agency_name": "Sở TT&TT",
        "province_code": "49",
        "agency_kind": "department",
        "reporting": "annual",
        "valid_from": date(2023, 1, 1),
        "valid_to": None,
        **changes,
    }


def quarter(measure: str, value: float, **changes) -> dict:
    return {**submission(measure, value), **changes}


CASES: list[tuple[str, str, dict, set[str], list[int] | str]] = [
    # (name, source, what to load, failed rules, held rows)
    ("register province", "agencies", {"rows": [agency(province_code="99")]}, {"province_code_known"}, [1]),
    ("register kind", "agencies", {"rows": [agency(agency_kind="ministry")]}, {"agency_kind_known"}, [1]),
    (
        "register reporting",
        "agencies",
        {"rows": [agency(reporting="monthly")]},
        {"reporting_mode_known"},
        [1],
    ),
    (
        "register twice",
        "agencies",
        {"rows": [agency(), agency(agency_name="Sở TTTT")]},
        {"agency_validity_unique"},
        [1, 2],
    ),
    (
        "register validity",
        "agencies",
        {"rows": [agency(valid_to=date(2022, 1, 1))]},
        {"valid_to_not_before_valid_from"},
        [1],
    ),
    (
        "register successor itself",
        "agencies",
        {"rows": [agency(valid_to=date(2025, 2, 28), successor_agency_code="QNA_STTTT")]},
        {"successor_not_itself"},
        [1],
    ),
    (
        # a warning: the row is published
        "register successor of an open row",
        "agencies",
        {"rows": [agency(successor_agency_code="QNA_SKHCN")]},
        {"successor_on_an_open_row"},
        [],
    ),
    (
        "unknown measure",
        "submissions",
        {"rows": [submission("likes", 3), submission("books_published", 1)]},
        {"measure_code_known"},
        [1],
    ),
    (
        "unknown task",
        "submissions",
        {"rows": [submission("task_status", 1, task_code="9.9")]},
        {"task_code_known"},
        [],
    ),
    (
        "weekly period",
        "submissions",
        {"rows": [quarter("books_published", 1, period_kind="week")]},
        {"period_kind_known"},
        [1],
    ),
    (
        "status without task",
        "submissions",
        {"rows": [submission("task_status", 1)]},
        {"task_status_names_task"},
        [1],
    ),
    (
        "status 3",
        "submissions",
        {"rows": [submission("task_status", 3, task_code="2.1")]},
        {"task_status_in_range"},
        [1],
    ),
    (
        "measure twice",
        "submissions",
        {"rows": [submission("books_published", 1), submission("books_published", 2)]},
        {"measure_unique_per_submission"},
        [1, 2],
    ),
    (
        "misinformation",
        "submissions",
        {
            "rows": [
                submission("hr_items_monitored", 3),
                submission("misinformation_items", 5),
                submission("books_published", 1),
            ]
        },
        {"misinformation_exceeds_monitored"},
        [1, 2],
    ),
    (
        "digitised",
        "submissions",
        {"rows": [submission("data_sources_digitised_shared", 4), submission("data_sources_total", 2)]},
        {"digitised_exceeds_total"},
        [1, 2],
    ),
    (
        "future period",
        "submissions",
        {
            "rows": [
                quarter(
                    "books_published",
                    1,
                    period="2025",
                    period_start=date(2025, 1, 1),
                    period_end=date(2025, 12, 31),
                    submitted_at=date(2025, 1, 2),
                )
            ]
        },
        {"period_not_in_future"},
        "file",
    ),
    (
        "signed before period",
        "submissions",
        {"rows": [submission("books_published", 1, submitted_at=date(2023, 12, 1))]},
        {"submitted_within_period"},
        [1],
    ),
    (
        "submission province",
        "submissions",
        {"rows": [quarter("books_published", 1, province_code="99")]},
        {"province_code_known"},
        [1],
    ),
    (
        "visitors above views",
        "portal",
        {"rows": [article(1, views=5, visitors=9), article(2)]},
        {"visitors_exceed_views"},
        [1],
    ),
    (
        "negative views",
        "portal",
        {"rows": [{**article(1, views=-1), "unique_visitors": None}]},
        {"page_views_not_negative"},
        [1],
    ),
    (
        "negative visitors",
        "portal",
        {"rows": [article(1, visitors=-2)]},
        {"unique_visitors_not_negative"},
        [1],
    ),
    (
        "article twice",
        "portal",
        {"rows": [article(1), article(1), article(2)]},
        {"article_day_unique"},
        [1, 2],
    ),
    (
        "portal province",
        "portal",
        {"rows": [{**article(1), "province_code": "99"}]},
        {"province_code_known"},
        [1],
    ),
    (
        "unknown category",
        "rosters",
        {"rows": [trainee(1, category="student"), trainee(2)], "course": course()},
        {"category_known"},
        [1],
    ),
    (
        "course province",
        "rosters",
        {"rows": [trainee(1)], "course": course(province_code="99")},
        {"province_code_known"},
        "file",
    ),
    (
        "course not started",
        "rosters",
        {"rows": [trainee(1)], "course": course(start_date=date(2024, 12, 10), end_date=date(2024, 12, 12))},
        {"course_not_in_future"},
        "file",
    ),
]

TABLES = {
    "agencies": "agency_register",
    "submissions": "agency_submissions",
    "portal": "portal_statistics",
    "rosters": "training_attendance",
}


@pytest.fixture
def validated(settings, warehouse):
    file_ids = {
        name: warehouse.add_file(source, TABLES[source], load["rows"], course=load.get("course"), name=name)
        for name, source, load, _, _ in CASES
    }
    with pytest.raises(ValidationFailed) as failure:
        validate_pending(settings)
    verdicts = {v.file_id: v for v in failure.value.verdicts}
    return warehouse, file_ids, verdicts


def test_each_rule_catches_its_fault_and_nothing_else(validated):
    warehouse, file_ids, verdicts = validated
    for name, source, load, rules, held in CASES:
        verdict = verdicts[file_ids[name]]
        assert {f.rule for f in verdict.failures} == rules, name
        if held == "file":
            assert verdict.batch_quarantined and verdict.rows_published == 0, name
        else:
            assert not verdict.batch_quarantined, name
            rows = sorted({r[0] for r in warehouse.quarantine(file_ids[name])})
            assert rows == held, name
            assert warehouse.published_rows(TABLES[source], file_ids[name]) == [
                n for n in range(1, len(load["rows"]) + 1) if n not in held
            ], name


def test_every_row_and_file_rule_has_a_case():
    covered = {rule for *_, rules, _ in CASES for rule in rules}
    # Exercised in test_gate.py; columns and types are checked by the schema-drift test.
    covered |= {
        "flag_is_zero_or_one",
        "value_not_negative",
        "handled_exceeds_detected",
        "products_exceed_total",
        "language_known",
        "volume_within_history",
        "stat_date_not_in_future",
        "trainee_unique_per_course",
        "completed_without_attending",
        "course_ends_after_start",
    }
    for specs in SOURCE_SUITES.values():
        for spec in specs:
            for rule in load_rules(spec.suite):
                if rule != "columns" and not rule.startswith("type_"):
                    assert rule in covered, f"{spec.suite}.{rule} has no test case"


def test_a_raw_table_that_changed_shape_holds_back_its_files(settings, warehouse):
    # GIVEN ingestion added a column the reviewed suite does not know
    warehouse.conn.execute("alter table raw.portal_statistics add column shares bigint")
    warehouse.conn.commit()
    portal = warehouse.add_file("portal", "portal_statistics", [article(1)])

    with pytest.raises(ValidationFailed, match="portal_statistics.columns"):
        validate_pending(settings)

    assert warehouse.verdict(portal)["batch_quarantined"]
    assert warehouse.quarantine(portal)[0][:2] == (None, "gx_columns")
