"""Indicator progress computed by dbt from a small hand-made dataset, checked against hand arithmetic.

The dataset (loaded straight into ``landing.files`` and ``published.*``, as the Great Expectations
gate would leave them):

* provinces: legacy Quảng Nam (49) and legacy Đà Nẵng (48) merged into the current Đà Nẵng (48) on
  2025-07-01; Hà Nội (01) was not merged;
* registers: Quảng Nam (3 agencies), Đà Nẵng sent twice (the 2025 register replaces the 2024 one,
  which listed an agency the 2025 one drops), Hà Nội (3 agencies, one not expected to report);
* submissions for 2023-2025, including quarterly reports, an annual report sent with a quarter of
  the same year, and a corrected re-submission that arrived later but was loaded first;
* rosters: three courses; one person completes two of them, one completes only the second they
  attended.

One ``dbt build`` runs for the module; each test reads the marts.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from planwh.dbt import DbtOutcome, dbt_paths
from planwh.settings import Settings
from planwh.transform import transform

AGENCIES = {
    # code: (name, province code as registered, kind, reporting, valid_from, valid_to)
    "QN-STTTT": ("Sở Thông tin và Truyền thông Quảng Nam", "49", "department", "annual", "2023-01-01", "2025-06-30"),
    # open-ended, but district committees were abolished on 2025-06-30
    "QN-HDX": ("UBND huyện Duy Xuyên", "49", "district_committee", "annual", "2023-01-01", None),
    "QN-BAO": ("Báo Quảng Nam", "49", "press_agency", "annual", "2023-01-01", "2025-06-30"),
    "DN-STTTT": ("Sở Thông tin và Truyền thông Đà Nẵng", "48", "department", "annual", "2023-01-01", None),
    "DN-NGV": ("Sở Ngoại vụ Đà Nẵng", "48", "department", "annual", "2023-01-01", None),
    "DN-MTTQ": ("Ủy ban MTTQ Việt Nam thành phố Đà Nẵng", "48", "sociopolitical_org", "annual", "2023-01-01", None),
    "DN-PHC": ("UBND phường Hải Châu", "48", "commune_committee", "annual", "2025-07-01", None),
    "HN-STTTT": ("Sở Thông tin và Truyền thông Hà Nội", "01", "department", "annual", "2023-01-01", None),
    "HN-CA": ("Công an thành phố Hà Nội", "01", "police", "annual", "2023-01-01", None),
    "HN-BAO": ("Báo Hà Nội mới", "01", "press_agency", "none", "2023-01-01", None),
}


def person(label: str) -> str:
    """A stand-in for the keyed hash ingestion computes (64 hex characters)."""
    return hashlib.sha256(f"person {label}".encode()).hexdigest()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period_bounds(period: str) -> tuple[str, date, date]:
    """``2024`` or ``2024-Q3`` as ingestion normalises them: kind, first and last day."""
    year = int(period[:4])
    if len(period) == 4:
        return "year", date(year, 1, 1), date(year, 12, 31)
    end_month = 3 * int(period[-1])
    return "quarter", date(year, end_month - 2, 1), date(year, end_month, calendar.monthrange(year, end_month)[1])


class Loader:
    """Writes ledger rows and their published rows, the way ingestion + the gate would."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.file_ids: dict[str, int] = {}

    def ledger(self, source: str, name: str, received: str, rows: int, current: bool = True, **keys) -> int:
        file_id = self.conn.execute(
            """
            insert into landing.files (source, original_name, sha256, size_bytes, received_at, status,
                rows_in, rows_loaded, rows_rejected, is_current_version, loaded_at,
                agency_code, province_code, period, portal, stat_date, course_id)
            values (%s, %s, %s, 1000, %s, 'loaded', %s, %s, 0, %s, %s, %s, %s, %s, %s, %s, %s)
            returning file_id
            """,
            (source, name, hashlib.sha256(name.encode()).hexdigest(), at(received), rows, rows, current,
             at(received), keys.get("agency_code"), keys.get("province_code"), keys.get("period"),
             keys.get("portal"), keys.get("stat_date"), keys.get("course_id")),
        ).fetchone()[0]
        self.file_ids[name] = file_id
        return file_id

    def register(self, name: str, province: str, received: str, codes: list[str], current: bool = True) -> None:
        file_id = self.ledger("agencies", name, received, len(codes), current, province_code=province)
        for number, code in enumerate(codes, start=2):
            agency_name, code_province, kind, reporting, valid_from, valid_to = AGENCIES[code]
            self.conn.execute(
                "insert into published.agency_register values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (file_id, number, code, agency_name, code_province, kind, reporting, valid_from, valid_to),
            )

    def submit(self, agency: str, province: str, period: str, received: str, measures: list[tuple],
               name: str | None = None) -> None:
        name = name or f"bao-cao-{agency.lower()}-{period}.xlsx"
        file_id = self.ledger("submissions", name, received, len(measures),
                              agency_code=agency, province_code=province, period=period)
        kind, start, end = period_bounds(period)
        for number, (measure, value, *task) in enumerate(measures, start=2):
            self.conn.execute(
                "insert into published.agency_submissions values "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, null, %s)",
                (file_id, number, province, agency, AGENCIES[agency][0], period, kind, start, end, measure,
                 value, task[0] if task else None, at(received).date()),
            )

    def roster(self, course_id: str, province: str, start: str, end: str, received: str,
               trainees: list[tuple[str, str, str, bool]]) -> None:
        name = f"danh-sach-hoc-vien-{course_id.lower()}.xlsx"
        file_id = self.ledger("rosters", name, received, len(trainees), course_id=course_id)
        self.conn.execute(
            "insert into published.training_courses values (%s, 1, %s, %s, %s, %s, %s, %s, 'in-person')",
            (file_id, course_id, f"Tập huấn truyền thông về quyền con người {course_id}", trainees[0][2],
             province, start, end),
        )
        for number, (label, category, agency, completed) in enumerate(trainees, start=4):
            self.conn.execute(
                "insert into published.training_attendance values (%s, %s, %s, %s, null, %s, null, %s, true, %s)",
                (file_id, number, course_id, person(label), agency, category, completed),
            )

    def portal_day(self, name: str, day: str, received: str, rows: list[tuple[str, str, int]]) -> None:
        file_id = self.ledger("portal", name, received, len(rows), portal="quangnam.gov.vn", stat_date=day)
        for number, (article, topic, views) in enumerate(rows, start=2):
            self.conn.execute(
                "insert into published.portal_statistics values "
                "(%s, %s, %s, '49', 'quangnam.gov.vn', %s, null, %s, %s, 'vi', null, %s, %s)",
                (file_id, number, day, article, f"Bài {article}", topic, views, views // 2),
            )


def load_dataset(conn: psycopg.Connection) -> Loader:
    load = Loader(conn)

    # -- agency registers -------------------------------------------------------------------------
    load.register("danh-muc-don-vi-quang-nam.xlsx", "49", "2024-01-05 09:00", ["QN-STTTT", "QN-HDX", "QN-BAO"])
    # the 2024 register of Đà Nẵng is replaced by the 2025 one: DN-NGV is in no current register
    load.register("danh-muc-don-vi-da-nang-2024.xlsx", "48", "2024-01-06 09:00", ["DN-STTTT", "DN-NGV"],
                  current=False)
    load.register("danh-muc-don-vi-da-nang-2025.xlsx", "48", "2025-07-10 09:00", ["DN-STTTT", "DN-MTTQ", "DN-PHC"])
    load.register("danh-muc-don-vi-ha-noi.csv", "01", "2024-01-07 09:00", ["HN-STTTT", "HN-CA", "HN-BAO"])

    # -- submissions 2023 (legacy codes) ----------------------------------------------------------
    load.submit("QN-STTTT", "49", "2023", "2023-11-20 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 6),
        ("products_total", 100), ("products_ethnic_language", 5), ("products_foreign_language", 5),
        ("products_digital_platform", 10), ("exhibitions_held", 1), ("books_published", 3),
        ("hr_items_monitored", 200), ("misinformation_items", 30),
        ("fake_news_detected", 10), ("fake_news_handled", 8),
    ])
    load.submit("QN-HDX", "49", "2023", "2023-11-21 08:00", [
        ("spokesperson_mechanism", 0), ("staff_hr_officials", 4),
    ])
    load.submit("DN-STTTT", "48", "2023", "2023-11-22 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 10),
        ("products_total", 50), ("products_foreign_language", 4), ("products_digital_platform", 6),
        ("books_published", 2), ("hr_items_monitored", 100), ("misinformation_items", 20),
        ("fake_news_detected", 10), ("fake_news_handled", 10),
    ])
    load.submit("HN-STTTT", "01", "2023", "2023-11-23 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 20),
        ("products_total", 200), ("products_digital_platform", 40), ("exhibitions_held", 0),
        ("books_published", 5), ("data_sources_total", 10), ("data_sources_digitised_shared", 9),
        ("task_status", 1, "UPR-63"), ("task_status", 0, "UPR-67"),
    ])
    load.submit("HN-CA", "01", "2023", "2023-11-24 08:00", [("spokesperson_mechanism", 1)])

    # -- submissions 2024 -------------------------------------------------------------------------
    load.submit("QN-STTTT", "49", "2024", "2024-11-20 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 6),
        ("hr_items_monitored", 200), ("misinformation_items", 26),
        ("fake_news_detected", 10), ("fake_news_handled", 8),
    ])
    load.submit("QN-STTTT", "49", "2024-Q1", "2024-04-05 08:00", [
        ("products_total", 30), ("products_ethnic_language", 3),
    ])
    load.submit("QN-STTTT", "49", "2024-Q2", "2024-07-05 08:00", [
        ("products_total", 30), ("products_ethnic_language", 3),
    ])
    # The correction of QN-HDX's 2024 report arrived on 2 December but was loaded first (a backlog
    # loaded out of order), so it has the lower file_id: arrival time decides, not the load order.
    # It re-sends two measures; books_published of the first version still stands.
    load.submit("QN-HDX", "49", "2024", "2024-12-02 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 5),
    ], name="bao-cao-qn-hdx-2024-dieu-chinh.xlsx")
    load.submit("QN-HDX", "49", "2024", "2024-11-20 09:00", [
        ("spokesperson_mechanism", 0), ("staff_hr_officials", 4), ("books_published", 2),
    ])
    load.submit("DN-STTTT", "48", "2024", "2024-11-22 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 10),
        ("products_total", 60), ("products_foreign_language", 3), ("products_digital_platform", 3),
        ("exhibitions_held", 0), ("hr_items_monitored", 100), ("misinformation_items", 16),
    ])
    # a quarter of a year the agency also reported as a whole: the annual figures stand alone
    load.submit("DN-STTTT", "48", "2024-Q4", "2024-12-30 08:00", [
        ("products_total", 20), ("products_digital_platform", 20),
    ])
    load.submit("DN-MTTQ", "48", "2024", "2024-11-25 08:00", [("staff_key_sociopolitical", 2)])
    load.submit("HN-STTTT", "01", "2024", "2024-11-23 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 20), ("exhibitions_held", 0),
        ("books_published", 4), ("data_sources_total", 10), ("data_sources_digitised_shared", 10),
        ("task_status", 2, "UPR-63"), ("task_status", 1, "UPR-67"), ("task_status", 1, "UPR-86"),
        ("task_status", 1, "2.1"),
    ])

    # -- submissions 2025: Q1 still under the legacy code, the year under current codes -------------
    load.submit("QN-STTTT", "49", "2025-Q1", "2025-04-05 08:00", [
        ("products_total", 25), ("products_ethnic_language", 5),
    ])
    load.submit("DN-STTTT", "48", "2025", "2025-11-25 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 18),
        ("hr_items_monitored", 300), ("misinformation_items", 40),
    ])
    load.submit("DN-PHC", "48", "2025", "2025-11-26 08:00", [("spokesperson_mechanism", 0)])
    load.submit("HN-STTTT", "01", "2025", "2025-11-23 08:00", [
        ("spokesperson_mechanism", 1), ("staff_hr_officials", 20), ("exhibitions_held", 1),
        ("task_status", 2, "UPR-86"),
    ])
    load.submit("HN-CA", "01", "2025", "2025-11-24 08:00", [("spokesperson_mechanism", 1)])

    # -- rosters: (person, category, agency, completed) --------------------------------------------
    load.roster("QN-2023-01", "49", "2023-06-12", "2023-06-14", "2023-06-20 08:00", [
        ("P1", "hr_official", "QN-STTTT", True),
        ("P2", "hr_official", "QN-HDX", True),
        ("P3", "hr_official", "QN-STTTT", False),
    ])
    load.roster("DN-2024-01", "48", "2024-04-10", "2024-04-11", "2024-04-15 08:00", [
        ("P1", "hr_official", "QN-STTTT", True),
        ("P4", "hr_official", "DN-STTTT", True),
        ("P5", "key_sociopolitical", "DN-MTTQ", True),
    ])
    load.roster("HN-2024-01", "01", "2024-09-05", "2024-09-06", "2024-09-10 08:00", [
        ("P6", "hr_official", "HN-STTTT", True),
        ("P3", "hr_official", "QN-STTTT", True),
    ])

    # -- portal: a day exported, then re-exported with corrected counters --------------------------
    load.portal_day("cong-quangnam-2024-05-02.csv", "2024-05-02", "2024-05-03 01:00", [
        ("A1", "human_rights; law", 100), ("A2", "sports", 50),
    ])
    load.portal_day("cong-quangnam-2024-05-02-lan-2.csv", "2024-05-02", "2024-05-04 01:00", [
        ("A1", "human_rights; law", 120), ("A2", "sports", 60),
    ])
    return load


@pytest.fixture(scope="module")
def built(warehouse_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Loader, float]]:
    """A warehouse with the dataset, after one ``dbt build``; yields the settings, the loader, seconds."""
    with warehouse_database(tmp_path_factory.mktemp("indicator-progress")) as settings:
        with psycopg.connect(settings.warehouse_url) as conn:
            loader = load_dataset(conn)
            conn.commit()
        started = time.monotonic()
        outcome: DbtOutcome = transform(settings)
        elapsed = time.monotonic() - started
        assert outcome.success
        yield settings, loader, elapsed


@pytest.fixture(scope="module")
def db(built: tuple[Settings, Loader, float]) -> Iterator[psycopg.Connection]:
    with psycopg.connect(built[0].warehouse_url, autocommit=True) as conn:
        yield conn


def progress(conn: psycopg.Connection, indicator: str, province: str, year: int, legacy: bool = False) -> dict:
    table = "marts.fct_indicator_progress_legacy" if legacy else "marts.fct_indicator_progress"
    cur = conn.execute(
        f"select * from {table} where indicator_code = %s and province_code = %s and year = %s",
        (indicator, province, year),
    )
    rows = cur.fetchall()
    assert len(rows) == 1, (indicator, province, year, rows)
    # numerics arrive as Decimal; the hand arithmetic below is in floats
    return {
        column.name: float(value) if isinstance(value, Decimal) else value
        for column, value in zip(cur.description, rows[0], strict=True)
    }


def values(conn: psycopg.Connection, indicator: str, province: str, years: range, legacy: bool = False) -> list:
    return [progress(conn, indicator, province, year, legacy)["value"] for year in years]


def approx(numbers: list) -> list:
    return [None if n is None else pytest.approx(n, rel=1e-9) for n in numbers]


# -------------------------------------------------------------------------------------------------


def test_build_is_quick_and_every_indicator_has_every_province_and_year(db, built) -> None:
    assert built[2] < 120, f"dbt build took {built[2]:.0f} s"
    # 12 indicators x (34 current provinces + the nation) x 2023..2028
    assert db.execute("select count(*) from marts.fct_indicator_progress").fetchone()[0] == 12 * 35 * 6
    # 12 indicators x 63 legacy provinces x 2023..2025
    assert db.execute("select count(*) from marts.fct_indicator_progress_legacy").fetchone()[0] == 12 * 63 * 3
    indicators = {r[0] for r in db.execute("select distinct indicator_code from marts.fct_indicator_progress")}
    assert indicators == {r[0] for r in db.execute("select indicator_code from marts.dim_indicator")}
    assert len(indicators) == 12
    # years after the data stop never carry a value over: "no data" where a register says who
    # owes a report, "no register" elsewhere, "not applicable" for the national-only indicators
    assert db.execute(
        "select count(*) from marts.fct_indicator_progress where year >= 2026 and (value is not null "
        "or status not in ('no data', 'no register', 'not applicable'))"
    ).fetchone()[0] == 0
    # the national-only indicators (books, UPR) are "not applicable" in every province and year
    # alike, with a contribution or without: 2 indicators x 34 provinces x 6 years
    assert db.execute(
        "select array_agg(distinct indicator_code order by indicator_code), count(*) "
        "from marts.fct_indicator_progress where status = 'not applicable'"
    ).fetchone() == (["books_published", "upr_recommendations"], 2 * 34 * 6)
    # the 32 provinces that sent no register are "no register", with no agency counts (unknown,
    # not zero), for every indicator a province is held to: 10 x 32 x 6
    no_register = db.execute(
        "select count(distinct province_code), count(*), count(agencies_expected) from marts.fct_indicator_progress "
        "where status = 'no register'"
    ).fetchone()
    assert no_register == (32, 10 * 32 * 6, 0)
    assert db.execute(
        "select array_agg(distinct province_code order by province_code) from marts.fct_indicator_progress "
        "where scope = 'province' and has_register"
    ).fetchone()[0] == ["01", "48"]


def test_merged_province_rolls_up_both_legacy_provinces(db) -> None:
    # minority_foreign_digital_share for current Đà Nẵng (48) = legacy Quảng Nam (49) + legacy Đà Nẵng (48)
    # 2023: QN 5+5+10 = 20 of 100, DN 4+6 = 10 of 50 -> 30 / 150 = 20 %
    # 2024: QN quarters Q1+Q2: 3+3 = 6 of 30+30 = 60; DN annual 3+3 = 6 of 60 (its Q4 report, 20 of
    #       20, is not added to the annual figures it is part of) -> 12 / 120 = 10 %
    # 2025: QN's Q1 report under the legacy code 49 still counts for current 48: 5 / 25 = 20 %
    row = progress(db, "minority_foreign_digital_share", "48", 2024)
    assert (row["numerator"], row["denominator"]) == (12, 120)
    assert values(db, "minority_foreign_digital_share", "48", range(2023, 2026)) == approx([20, 10, 20])
    assert row["province_name"] == "Đà Nẵng" and row["scope"] == "province"
    # books (cumulative): 48 = QN 3 + DN 2 = 5 in 2023; + QN-HDX 2 in 2024 = 7
    assert values(db, "books_published", "48", range(2023, 2025)) == [5, 7]
    # Hà Nội, not merged, keeps its own series: 2023 5, 2024 5+4 = 9
    assert values(db, "books_published", "01", range(2023, 2025)) == [5, 9]
    # national rows sum every province: books 2023 = 3+2+5 = 10, 2024 = 10+2+4 = 16, 2025 nothing sent
    national = [progress(db, "books_published", "00", y) for y in (2023, 2024, 2025)]
    assert [r["value"] for r in national] == [10, 16, None]
    assert {r["scope"] for r in national} == {"national"}
    assert national[2]["status"] == "no data"


def test_latest_submission_wins_by_arrival_time_per_measure(db) -> None:
    # QN-HDX 2024: the correction (received 2 Dec, lower file_id) says spokesperson 1 and headcount 5;
    # the first version (received 20 Nov) said 0 and 4; its books_published (2) was not re-sent.
    row = progress(db, "spokesperson_mechanism", "48", 2024)
    # in scope for 48 in 2024: QN-STTTT, QN-HDX (district committee), DN-STTTT; DN-NGV is only in the
    # superseded register and press / socio-political bodies are not state administrative
    assert (row["numerator"], row["denominator"], row["value"]) == (3, 3, 100)
    assert row["status"] == "achieved"
    headcount = progress(db, "trained_hr_officials", "48", 2024)["denominator"]
    assert headcount == 6 + 5 + 10
    history = db.execute(
        "select measure_value, is_latest, version_number from intermediate.int_submissions_versioned "
        "where agency_code = 'QN-HDX' and period = '2024' and measure_code = 'spokesperson_mechanism' "
        "order by version_number"
    ).fetchall()
    assert history == [(0, False, 1), (1, True, 2)]


def test_a_person_trained_twice_counts_once_and_coverage_cumulates(db) -> None:
    # hr_official completions: P1 (QN-STTTT) and P2 (QN-HDX) in 2023; in 2024 P1 again, P4 (DN-STTTT),
    # P6 (HN-STTTT) and P3 (QN-STTTT, who attended in 2023 without completing).
    # current 48: 2023: P1, P2 = 2 of 6+4+10 = 20 -> 10 %
    #             2024: P1, P2, P4, P3 = 4 (P1 once) of 6+5+10 = 21 -> 19.047... %
    #             2025: still 4, of DN-STTTT's 18 -> 22.2... %
    rows = [progress(db, "trained_hr_officials", "48", y) for y in (2023, 2024, 2025)]
    assert [(r["numerator"], r["denominator"]) for r in rows] == [(2, 20), (4, 21), (4, 18)]
    assert [r["value"] for r in rows] == approx([10, 400 / 21, 400 / 18])
    # Hà Nội reported a headcount of 20 for 2023, but no roster of a course in Hà Nội arrived
    # before 2024: its 2023 coverage is "no data", not 0 of 20 = 0 %
    hanoi = progress(db, "trained_hr_officials", "01", 2023)
    assert (hanoi["numerator"], hanoi["value"], hanoi["status"]) == (None, None, "no data")
    assert values(db, "trained_hr_officials", "01", range(2024, 2026)) == approx([5, 5])
    # national, a ratio of sums over the provinces with data: 2023 48 alone, 2 of 20 -> 10 %;
    # 2024 + P4, P3 (48) and P6 (01) = 5 of 21+20 = 41; 2025 5 of 18+20 = 38
    national = [progress(db, "trained_hr_officials", "00", y) for y in (2023, 2024, 2025)]
    assert [(r["numerator"], r["denominator"]) for r in national] == [(2, 20), (5, 41), (5, 38)]
    assert [r["provinces_reporting"] for r in national] == [1, 2, 2]
    # nobody is counted twice anywhere: the first completion is kept, per person and category
    assert db.execute(
        "select count(*), count(distinct person_key) from intermediate.int_trainees_deduplicated "
        "where category_code = 'hr_official'"
    ).fetchone() == (5, 5)
    # key socio-political: P5 of DN-MTTQ's headcount 2 in 2024 -> 50 %; no headcount in 2023 -> no data
    assert values(db, "trained_key_sociopolitical", "48", range(2023, 2025)) == [None, 50]


def test_status_follows_the_trajectory_from_the_baseline(db) -> None:
    # misinformation_share (target < 10 %, lower is better), current 48:
    #   2023 (30+20)/(200+100) = 16.667 % = baseline; 2024 (26+16)/300 = 14 %; 2025 40/300 = 13.333 %
    #   trajectory 2024 = 16.667 + (10 - 16.667) x 1/5 = 15.333 -> 14 <= 15.333: on track
    #   trajectory 2025 = 16.667 + (10 - 16.667) x 2/5 = 14.0   -> 13.333 <= 14: on track
    row = progress(db, "misinformation_share", "48", 2024)
    assert row["value"] == pytest.approx(14)
    assert row["baseline_value"] == pytest.approx(50 / 3) and row["baseline_year"] == 2023
    assert row["trajectory_value"] == pytest.approx(50 / 3 + (10 - 50 / 3) / 5)
    assert (row["target_operator"], row["target_value"]) == ("<", 10)
    assert [progress(db, "misinformation_share", "48", y)["status"] for y in (2023, 2024, 2025)] == [
        "on track", "on track", "on track",
    ]
    # spokesperson, national: 2023 (2 of 3 in 48) + (2 of 2 in 01) = 4 / 5 = 80 % (baseline)
    #   2024: 3/3 + 1/2 (HN-CA did not report) = 4 / 5 = 80 %; trajectory 80 + 20/5 = 84
    #   2025: 48 has DN-STTTT 1 and the new ward DN-PHC 0 (district committees are gone): 1 / 2;
    #         01: 2 / 2 -> 3 / 4 = 75 %; trajectory 88
    # Two provinces of 34 have data (5.9 %, below the 80 % the rule needs): the national value and
    # its trajectory are shown, but judging them would judge the country on two provinces
    national = [progress(db, "spokesperson_mechanism", "00", y) for y in (2023, 2024, 2025)]
    assert [r["value"] for r in national] == approx([80, 80, 75])
    assert [r["trajectory_value"] for r in national] == approx([80, 84, 88])
    assert [(r["provinces_reporting"], r["provinces_with_register"], r["provinces_total"]) for r in national] == [
        (2, 2, 34)] * 3
    assert [r["coverage_rate"] for r in national] == approx([200 / 34] * 3)
    assert [r["status"] for r in national] == ["insufficient coverage"] * 3
    # agencies: those of the two registered provinces; the 32 without a register are not covered
    assert (national[1]["agencies_expected"], national[1]["national_rule"]) == (5, "ratio_of_sums")
    # a range target (15-20 %): 20 % is inside it -> achieved; 10 % against a trajectory that stays at
    # the in-range baseline 20 -> 10 < 18 -> off track
    assert progress(db, "minority_foreign_digital_share", "48", 2023)["status"] == "achieved"
    assert progress(db, "minority_foreign_digital_share", "48", 2024)["status"] == "off track"
    # books are a national target: a province's count is a contribution, not compared
    assert progress(db, "books_published", "48", 2024)["status"] == "not applicable"
    # books national: baseline 10, target 1000: trajectory 2024 = 10 + 990/5 = 208, two provinces
    books = progress(db, "books_published", "00", 2024)
    assert (books["value"], books["trajectory_value"], books["status"]) == (16, 208, "insufficient coverage")
    assert books["national_rule"] == "sum_of_provinces"


def test_photo_exhibitions_and_upr_recommendations(db) -> None:
    # exhibitions: QN held 1 in 2023 -> current 48 has held one since 2023 (100 %, also in 2024
    # when DN reported 0); Hà Nội 0, 0, then 1 in 2025.
    assert values(db, "photo_exhibitions", "48", range(2023, 2026)) == [100, 100, None]
    assert values(db, "photo_exhibitions", "01", range(2023, 2026)) == [0, 0, 100]
    # national: provinces with >= 1 of the 34: 1, 1, 2
    national = [progress(db, "photo_exhibitions", "00", y) for y in (2023, 2024, 2025)]
    assert [(r["numerator"], r["denominator"]) for r in national] == [(1, 34), (1, 34), (2, 34)]
    # UPR (status scale 0-2, target: all three at 2): the value is the lowest status
    #   2023: 63 -> 1, 67 -> 0, 86 never reported (0): lowest 0, none completed
    #   2024: 63 -> 2, 67 -> 1, 86 -> 1: lowest 1, one completed; trajectory 0 + 2 x 1/5 = 0.4 -> on track
    #   2025: 86 -> 2, 63 and 67 keep 2 and 1: lowest 1, two completed; trajectory 0.8 -> on track
    #   the task_status of plan task 2.1 is not a recommendation and is ignored
    upr = [progress(db, "upr_recommendations", "00", y) for y in (2023, 2024, 2025)]
    assert [(r["value"], r["numerator"], r["denominator"]) for r in upr] == [(0, 0, 3), (1, 1, 3), (1, 2, 3)]
    assert [r["trajectory_value"] for r in upr] == approx([0, 0.4, 0.8])
    # only Hà Nội reports them: one province of 34
    assert [(r["provinces_reporting"], r["status"]) for r in upr] == [(1, "insufficient coverage")] * 3
    # recommendations are national: a province row has neither a value nor a target, and is
    # "not applicable" like the books rows
    province = progress(db, "upr_recommendations", "48", 2024)
    assert (province["value"], province["target_operator"], province["status"]) == (None, None, "not applicable")


def test_completeness_counts_the_agencies_of_the_register(db) -> None:
    # fake news, current 48, 2023: expected = the 5 agencies of 49 and 48 that report (QN-STTTT,
    # QN-HDX, QN-BAO, DN-STTTT, DN-MTTQ); reported = QN-STTTT and DN-STTTT -> 2 / 5 = 40 %
    row = progress(db, "fake_news_handled", "48", 2023)
    assert (row["agencies_reported"], row["agencies_expected"]) == (2, 5)
    assert row["completeness_rate"] == pytest.approx(40)
    # value (8 + 10) / (10 + 10) = 90 % meets ">= 90"
    assert (row["value"], row["status"]) == (90, "achieved")
    # Hà Nội's press agency reports nothing ("none"): expected are HN-STTTT and HN-CA only
    assert progress(db, "books_published", "01", 2023)["agencies_expected"] == 2


def test_legacy_view_keeps_each_old_province_and_its_own_targets(db) -> None:
    # legacy 49 (Quảng Nam): trained hr 2023: P1, P2 of 6+4 = 10 -> 20 %; 2024: + P3 = 3 of 6+5 = 11
    assert values(db, "trained_hr_officials", "49", range(2023, 2025), legacy=True) == approx([20, 300 / 11])
    # legacy 48 (Đà Nẵng before the merger): no roster placed there in 2023 (no data, not 0 of
    # 10), then P4: 1 of 10
    assert values(db, "trained_hr_officials", "48", range(2023, 2025), legacy=True) == approx([None, 10])
    # the 2025 Q1 report under code 49 stays on legacy Quảng Nam: 5 / 25 = 20 %, for a province
    # that ended on 30 June: a partial year, shown but not judged against the annual trajectory
    half = progress(db, "minority_foreign_digital_share", "49", 2025, legacy=True)
    assert (half["value"], half["status"], half["is_partial_period"]) == (20, "partial year", True)
    assert (str(half["period_start"]), str(half["period_end"])) == ("2025-01-01", "2025-06-30")
    full = progress(db, "minority_foreign_digital_share", "49", 2024, legacy=True)
    assert (full["is_partial_period"], str(full["period_end"])) == (False, "2024-12-31")
    # current provinces roll the legacy first half up with their own year: whole years
    assert db.execute("select count(*) from marts.fct_indicator_progress where is_partial_period").fetchone()[0] == 0
    # Quảng Nam's own plan (9034/KH-UBND) sets its fake-news target; the current province uses the
    # national one
    qn = progress(db, "fake_news_handled", "49", 2024, legacy=True)
    assert qn["target_scope"] == "province" and qn["target_source_document"].startswith("KH 9034/KH-UBND")
    assert progress(db, "fake_news_handled", "48", 2024)["target_scope"] == "national"
    # 2023: 8/10 = 80 % (baseline); 2024: 80 % against 80 + (90 - 80)/5 = 82: 80 >= 73.8 -> at risk
    assert (qn["value"], qn["trajectory_value"], qn["status"]) == (80, 82, "at risk")
    assert qn["province_name"] == "Quảng Nam" and qn["current_province_code"] == "48"
    # spokesperson, legacy 49: 1 of 2 in 2023, 2 of 2 in 2024 (the correction)
    assert values(db, "spokesperson_mechanism", "49", range(2023, 2025), legacy=True) == [50, 100]


def test_drill_through_lists_the_rows_behind_a_value(db, built) -> None:
    files = built[1].file_ids

    def sources(indicator: str, province: str, year: int, series: str = "current") -> list[tuple]:
        return db.execute(
            "select source_kind, measure_role, original_name, agency_code, measure_code, contributed_value, "
            "course_id, persons_counted, file_id, row_number from marts.fct_indicator_sources "
            "where indicator_code = %s and province_code = %s and year = %s and series = %s "
            "order by source_kind, measure_role, original_name, measure_code",
            (indicator, province, year, series),
        ).fetchall()

    # "where does the 10 % of minority_foreign_digital_share, Đà Nẵng 2024, come from?"
    rows = sources("minority_foreign_digital_share", "48", 2024)
    numerator = sum(r[5] for r in rows if r[1] == "numerator")
    denominator = sum(r[5] for r in rows if r[1] == "denominator")
    assert (numerator, denominator) == (12, 120)
    assert {r[2] for r in rows} == {
        "bao-cao-qn-stttt-2024-Q1.xlsx",
        "bao-cao-qn-stttt-2024-Q2.xlsx",
        "bao-cao-dn-stttt-2024.xlsx",
    }
    # the spokesperson value of 48 in 2024: three agencies of the register, and their flags, the
    # corrected file's for QN-HDX
    rows = sources("spokesperson_mechanism", "48", 2024)
    assert sorted((r[0], r[3]) for r in rows if r[0] == "register") == [
        ("register", "DN-STTTT"), ("register", "QN-HDX"), ("register", "QN-STTTT"),
    ]
    flags = {r[3]: (r[2], r[5]) for r in rows if r[0] == "submission"}
    assert flags["QN-HDX"] == ("bao-cao-qn-hdx-2024-dieu-chinh.xlsx", 1)
    # training: courses and how many persons each adds (never who), with the headcount lines
    rows = sources("trained_hr_officials", "48", 2024)
    courses = {r[6]: r[7] for r in rows if r[0] == "course"}
    assert courses == {"QN-2023-01": 2, "DN-2024-01": 1, "HN-2024-01": 1}
    assert sum(r[5] for r in rows if r[1] == "denominator") == 21
    assert all(r[8] in files.values() for r in rows)
    columns = {r[0] for r in db.execute(
        "select column_name from information_schema.columns where table_schema = 'marts'"
    )}
    assert "person_key" not in columns
    # UPR 2025: the statuses come from the 2024 lines of 63 and 67 and the 2025 line of 86
    rows = sources("upr_recommendations", "00", 2025, series="national")
    assert sorted(r[2] for r in rows) == [
        "bao-cao-hn-stttt-2024.xlsx", "bao-cao-hn-stttt-2024.xlsx", "bao-cao-hn-stttt-2025.xlsx",
    ]


def test_a_second_implementation_in_pandas_gives_every_cell(db) -> None:
    # The hand-made dataset has what the demo sample lacks: a province whose rosters had not
    # arrived, a register replaced by a later one, corrections loaded out of order, a quarter
    # beside its year.
    from indicators_in_pandas import mart_differences

    from planwh.settings import PROJECT_ROOT

    mart, differences = mart_differences(db, PROJECT_ROOT / "dbt_project" / "seeds")
    assert not differences, f"{len(differences)} cells differ:\n" + "\n".join(differences[:40])
    assert len(mart) == 12 * 35 * 6


def test_portal_human_rights_articles_keep_the_latest_export_of_a_day(db) -> None:
    rows = db.execute(
        "select article_id, page_views, current_province_code from intermediate.int_portal_articles_human_rights"
    ).fetchall()
    assert rows == [("A1", 120, "48")]


def test_every_model_and_column_is_described(db, built) -> None:
    manifest = json.loads((dbt_paths(built[0])["target"] / "manifest.json").read_text(encoding="utf-8"))
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert models
    for node in models:
        assert node["description"].strip(), f"{node['name']} has no description"
        columns = [r[0] for r in db.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position", (node["schema"], node["alias"]),
        )]
        assert columns, f"{node['schema']}.{node['alias']} was not built"
        described = {name: c.get("description", "").strip() for name, c in node["columns"].items()}
        missing = [c for c in columns if not described.get(c)]
        assert not missing, f"{node['name']}: columns without a description: {missing}"
        assert set(described) <= set(columns), f"{node['name']}: documented columns it does not have"


def test_transform_command_reports_success_and_names_what_failed(
    built, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from planwh.commands import transform as command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    monkeypatch.setenv("PLANWH_STATE_DIR", str(tmp_path / "state"))

    # GIVEN the built warehouse WHEN one mart is rebuilt THEN the command succeeds and says so
    monkeypatch.setenv("PLANWH_WAREHOUSE_URL", built[0].warehouse_url)
    args = parser.parse_args(["transform", "--select", "dim_date"])
    assert args.func(args) == 0
    assert "dbt build succeeded: " in capsys.readouterr().out

    # GIVEN a warehouse where ingestion never ran WHEN staging is built THEN it fails naming the model
    monkeypatch.setenv("PLANWH_WAREHOUSE_URL", fresh_db)
    args = parser.parse_args(["transform", "--select", "stg_landing__files"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "dbt build failed" in err and "model.planwh.stg_landing__files" in err
