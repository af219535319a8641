"""The gate on small good and bad batches: what is published, what is held back, what is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from validate_batches import article, course, person, submission, trainee

from planwh.validate import GateError, ValidationFailed, summarise, validate_pending

GOOD_SUBMISSION = [
    submission("spokesperson_mechanism", 1),
    submission("press_briefings_held", 4),
    submission("fake_news_detected", 10),
    submission("fake_news_handled", 9),
    submission("products_total", 50),
    submission("products_ethnic_language", 5),
    submission("products_foreign_language", 7),
    submission("products_digital_platform", 30),
    submission("task_status", 2, task_code="2.1"),
    submission("task_status", 1, task_code="2.3"),
]


def test_good_batches_of_every_source_are_published_whole(settings, warehouse):
    # GIVEN one clean loaded file per source
    register = warehouse.add_file(
        "agencies",
        "agency_register",
        [
            {
                "agency_code": "QNA_STTTT",
                "agency_name": "Sở TT&TT",
                "province_code": "49",
                "agency_kind": "department",
                "reporting": "annual",
                "valid_from": date(2023, 1, 1),
                "valid_to": None,
            },
            {
                "agency_code": "QNA_HUYEN1",
                "agency_name": "UBND huyện 1",
                "province_code": "49",
                "agency_kind": "district_committee",
                "reporting": "annual",
                "valid_from": date(2023, 1, 1),
                "valid_to": date(2025, 6, 30),
            },
        ],
    )
    submissions = warehouse.add_file("submissions", "agency_submissions", GOOD_SUBMISSION)
    portal = warehouse.add_file("portal", "portal_statistics", [article(n) for n in range(1, 6)])
    roster = warehouse.add_file(
        "rosters", "training_attendance", [trainee(n) for n in range(1, 4)], course=course()
    )

    # WHEN the gate runs
    verdicts = validate_pending(settings)

    # THEN every file passed and all its rows are published, with one run per suite
    assert [(v.file_id, v.status, v.rows_published, v.rows_quarantined) for v in verdicts] == [
        (register, "passed", 2, 0),
        (submissions, "passed", 10, 0),
        (portal, "passed", 5, 0),
        (roster, "passed", 3, 0),
    ]
    assert summarise(verdicts) == {
        "files_passed": 4,
        "files_warned": 0,
        "files_failed": 0,
        "rows_published": 20,
        "rows_quarantined": 0,
    }
    assert warehouse.published_rows("agency_submissions", submissions) == list(range(1, 11))
    assert warehouse.scalar("select count(*) from published.training_courses where file_id = %s", roster) == 1
    assert warehouse.run_count() == 5  # the roster has two suites: course header and trainees
    assert warehouse.scalar("select count(*) from audit.expectation_results where not success") == 0
    assert validate_pending(settings) == []  # nothing pending any more


def test_error_rows_are_held_back_and_the_gate_fails_after_publishing_the_rest(settings, warehouse):
    # GIVEN a submission with a negative value, a flag of 2, more fake news handled than detected
    # and more foreign-language products than products, then a clean portal file
    bad = warehouse.add_file(
        "submissions",
        "agency_submissions",
        [
            submission("spokesperson_mechanism", 2),  # row 1: flag out of range
            submission("press_briefings_held", -1),  # row 2: negative
            submission("fake_news_detected", 3),  # row 3: pair with row 4
            submission("fake_news_handled", 5),  # row 4: handled > detected
            submission("products_total", 10),  # row 5: pair with row 6
            submission("products_foreign_language", 12),  # row 6: more than the total
            submission("exhibitions_held", 2),  # row 7: fine
        ],
        name="bao-cao-2024.xlsx",
    )
    good = warehouse.add_file("portal", "portal_statistics", [article(1), article(2)])

    # WHEN the gate runs
    with pytest.raises(ValidationFailed) as failure:
        validate_pending(settings)

    # THEN the message names the file, the rules and the counts
    message = str(failure.value)
    assert f"file {bad} (submissions, bao-cao-2024.xlsx)" in message
    assert "handled_exceeds_detected" in message and "6 of 7 rows held back" in message
    # ... the bad rows are held back with their reasons, the good row is published
    assert warehouse.published_rows("agency_submissions", bad) == [7]
    held = {(row, reason) for row, reason, *_ in warehouse.quarantine(bad)}
    assert held == {
        (1, "gx_flag_is_zero_or_one"),
        (2, "gx_value_not_negative"),
        (3, "gx_handled_exceeds_detected"),
        (4, "gx_handled_exceeds_detected"),
        (5, "gx_products_exceed_total"),
        (6, "gx_products_exceed_total"),
    }
    row2 = next(q for q in warehouse.quarantine(bad) if q[0] == 2)
    assert row2[2] == "value" and "value=-1" in row2[3]
    verdict = warehouse.verdict(bad)
    assert (
        verdict["validation_status"],
        verdict["rows_loaded"],
        verdict["rows_published"],
        verdict["rows_quarantined"],
        verdict["batch_quarantined"],
    ) == ("failed", 7, 1, 6, False)
    # ... and the other file was still validated and published
    assert [v.file_id for v in failure.value.verdicts] == [bad, good]
    assert warehouse.verdict(good)["validation_status"] == "passed"
    assert warehouse.published_rows("portal_statistics", good) == [1, 2]


def test_a_batch_level_error_holds_back_the_whole_file(settings, warehouse):
    # GIVEN a portal day after the day the file was received
    received = datetime(2024, 12, 1, 2, 0, tzinfo=UTC)
    future = warehouse.add_file(
        "portal", "portal_statistics", [article(1, day=date(2024, 12, 5))], received_at=received
    )

    with pytest.raises(ValidationFailed, match="whole file held back"):
        validate_pending(settings)

    assert warehouse.published_rows("portal_statistics", future) == []
    verdict = warehouse.verdict(future)
    assert (
        verdict["batch_quarantined"] and verdict["rows_quarantined"] == 1 and verdict["rows_published"] == 0
    )
    assert warehouse.quarantine(future)[0][:2] == (None, "gx_stat_date_not_in_future")


def test_a_warning_publishes_and_is_recorded(settings, warehouse):
    # GIVEN a portal file with an article in a language the seeds do not list
    portal = warehouse.add_file("portal", "portal_statistics", [article(1), article(2, language="xx")])

    verdicts = validate_pending(settings)

    assert [(v.status, v.rows_published) for v in verdicts] == [("warned", 2)]
    assert warehouse.quarantine(portal) == []
    recorded = warehouse.rows(
        "select rule, severity, success, unexpected_count, element_count, unexpected_sample "
        "from audit.expectation_results where file_id = %s and not success",
        portal,
    )
    assert recorded == [("language_known", "warning", False, 1, 2, ["xx"])]


def test_a_day_far_below_the_portals_trailing_median_is_a_warning(settings, warehouse):
    # GIVEN four published days of ten articles, then a day with one article
    for offset in range(4):
        day = date(2024, 11, 20) + timedelta(days=offset)
        warehouse.add_file("portal", "portal_statistics", [article(n, day=day) for n in range(10)])
    validate_pending(settings)
    thin = warehouse.add_file("portal", "portal_statistics", [article(1, day=date(2024, 11, 25))])

    verdicts = validate_pending(settings)

    assert [(v.file_id, v.status, v.rows_published) for v in verdicts] == [(thin, "warned", 1)]
    sample = warehouse.scalar(
        "select unexpected_sample from audit.expectation_results "
        "where file_id = %s and rule = 'volume_within_history'",
        thin,
    )
    assert sample[0]["articles"] == 1 and sample[0]["median_articles"] == 10


def test_roster_rows_and_course_header(settings, warehouse):
    # GIVEN a roster with a person listed twice and one who completed without attending...
    rows = [trainee(1), trainee(2), trainee(2), trainee(3, attended=False, completed=True)]
    roster = warehouse.add_file("rosters", "training_attendance", rows, course=course())
    # ... and a roster whose course ends before it starts
    broken = warehouse.add_file(
        "rosters",
        "training_attendance",
        [trainee(4)],
        course=course(course_id="QNA-2024-02", end_date=date(2024, 9, 1)),
    )
    with pytest.raises(ValidationFailed) as failure:
        validate_pending(settings)

    assert warehouse.published_rows("training_attendance", roster) == [1]
    assert {(r, code) for r, code, *_ in warehouse.quarantine(roster)} == {
        (2, "gx_trainee_unique_per_course"),
        (3, "gx_trainee_unique_per_course"),
        (4, "gx_completed_without_attending"),
    }
    assert warehouse.published_rows("training_attendance", broken) == []
    assert warehouse.scalar("select count(*) from published.training_courses where file_id = %s", broken) == 0
    assert warehouse.quarantine(broken)[0][:2] == (None, "gx_course_ends_after_start")
    assert {v.file_id: v.batch_quarantined for v in failure.value.failed} == {roster: False, broken: True}
    # No pseudonym reaches a quarantine message, a sample or the GX results kept for Data Docs.
    stored = warehouse.scalar(
        "select string_agg(coalesce(value, '') || message, ' ') "
        "from quarantine.rejected_rows where file_id = %s",
        roster,
    )
    stored += warehouse.scalar(
        "select coalesce(string_agg(unexpected_sample::text, ' '), '') from audit.expectation_results"
    )
    stored += "".join(p.read_text() for p in (settings.state_dir / "gx" / "validations").rglob("*.json"))
    assert "[withheld: personal data]" in stored
    for n in range(1, 5):
        assert person(n) not in stored


def test_revalidating_a_file_is_idempotent_and_adds_one_run(settings, warehouse):
    bad = warehouse.add_file(
        "submissions",
        "agency_submissions",
        [
            submission("fake_news_detected", 1),
            submission("fake_news_handled", 2),
            submission("books_published", 3),
        ],
    )
    with pytest.raises(ValidationFailed):
        validate_pending(settings)
    published = warehouse.published_rows("agency_submissions", bad)
    quarantined = warehouse.quarantine(bad)
    runs = warehouse.run_count(bad)

    with pytest.raises(ValidationFailed):
        validate_pending(settings, file_ids=[bad])

    assert warehouse.published_rows("agency_submissions", bad) == published == [3]
    assert warehouse.quarantine(bad) == quarantined
    assert warehouse.run_count(bad) == runs + 1
    assert warehouse.scalar("select count(*) from audit.batches where file_id = %s", bad) == 1


def test_loaded_rows_always_equal_published_plus_held_back(settings, warehouse):
    warehouse.add_file("submissions", "agency_submissions", GOOD_SUBMISSION)
    warehouse.add_file(
        "submissions",
        "agency_submissions",
        [submission("press_briefings_held", -3), submission("books_published", 1)],
    )
    warehouse.add_file("portal", "portal_statistics", [article(1, day=date(2030, 1, 1))])
    with pytest.raises(ValidationFailed):
        validate_pending(settings)

    # Counted from the tables themselves, not from the verdicts' own numbers.
    mismatches = warehouse.rows("""
        with published as (
            select file_id, count(*) as n from published.agency_submissions group by file_id
            union all
            select file_id, count(*) from published.portal_statistics group by file_id
        )
        select f.file_id, f.rows_loaded, b.rows_published, b.rows_quarantined
        from landing.files as f
        inner join audit.batches as b on f.file_id = b.file_id
        left join published as p on f.file_id = p.file_id
        where f.rows_loaded <> b.rows_published + b.rows_quarantined or b.rows_published <> coalesce(p.n, 0)
    """)
    assert mismatches == []
    assert warehouse.scalar("select count(*) from audit.batches") == 3


def test_a_ledger_that_disagrees_with_raw_stops_the_gate(settings, warehouse):
    warehouse.add_file("portal", "portal_statistics", [article(1)], rows_loaded=2)

    with pytest.raises(GateError, match="landing.files says 2 rows loaded but raw.portal_statistics holds 1"):
        validate_pending(settings)
    assert warehouse.scalar("select count(*) from published.portal_statistics") == 0


def test_source_filter_and_unknown_files(settings, warehouse):
    portal = warehouse.add_file("portal", "portal_statistics", [article(1)])
    submissions = warehouse.add_file("submissions", "agency_submissions", GOOD_SUBMISSION)

    assert [v.file_id for v in validate_pending(settings, source="portal")] == [portal]
    assert [v.file_id for v in validate_pending(settings)] == [submissions]
    with pytest.raises(GateError, match="no file with file_id 999"):
        validate_pending(settings, file_ids=[999])


def test_more_unexpected_rows_than_gx_lists_are_all_held_back(settings, warehouse):
    # GX returns at most 200 rows of a query rule; the gate lists the rest with the same query.
    rows = [submission("books_published", n) for n in range(230)] + [submission("exhibitions_held", 1)]
    big = warehouse.add_file("submissions", "agency_submissions", rows)

    with pytest.raises(ValidationFailed, match="measure_unique_per_submission"):
        validate_pending(settings)

    verdict = warehouse.verdict(big)
    assert (verdict["batch_quarantined"], verdict["rows_quarantined"], verdict["rows_published"]) == (
        False,
        230,
        1,
    )
    assert warehouse.published_rows("agency_submissions", big) == [231]


def test_validating_a_file_reads_only_that_files_rows(settings, warehouse):
    # GIVEN three published portal files and a fourth loaded one
    from sqlalchemy import event

    from planwh.validate.gx_project import DATASOURCE, get_context

    for offset in range(3):
        warehouse.add_file("portal", "portal_statistics", [article(n, day=date(2024, 11, 20) + timedelta(days=offset))
                                                           for n in range(5)])
    validate_pending(settings)
    new = warehouse.add_file("portal", "portal_statistics", [article(n, day=date(2024, 11, 23)) for n in range(5)])
    statements: list[str] = []
    engine = get_context(settings).data_sources.get(DATASOURCE).get_execution_engine().engine
    listener = lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.lower().split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        # WHEN the gate validates it
        verdicts = validate_pending(settings)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    # THEN it is validated on its own rows, and GX never lists the table's files to find it (a
    # scan of the whole history for every file)
    assert [(v.file_id, v.status, v.rows_published) for v in verdicts] == [(new, "passed", 5)]
    portal_reads = [s for s in statements if "portal_statistics" in s]
    assert portal_reads, statements
    assert not [s for s in portal_reads if "distinct" in s and "file_id" in s.split("from")[0]], portal_reads
