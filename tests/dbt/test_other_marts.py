"""The compliance, training, communication, portal and task marts, from a small hand-made dataset.

The dataset is loaded straight into ``landing.files`` and ``published.*``, as ingestion and the Great
Expectations gate would leave them. Times are UTC; Viet Nam is UTC+7, and deadlines are Viet Nam dates.

* provinces: legacy Quảng Nam (49) and legacy Đà Nẵng (48) became the current Đà Nẵng (48) on
  2025-07-01; Hà Nội (01) was not merged;
* register: seven agencies, annual and quarterly reporters, one that reports nothing (``none``), one
  that joined in March 2024, two that end on 2025-06-30 and a ward committee from 2025-07-01;
* submissions 2023-2025: on time, late, late only on the Viet Nam clock, a correction that arrived
  later but was loaded first, quarterly reports, a monthly report and a report nobody owed;
* rosters: four courses, one person trained twice, one corrected roster;
* portals: three portals, one day exported twice (the later export loaded first).

The data's clock (as_of_date) is the latest arrival, 2025-12-01: reporting periods run 2023 to 2025.
One ``dbt build`` of these marts and their parents runs for the module; the portal test then adds a
corrected day and runs the incremental model again.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest

from planwh.dbt import run_dbt
from planwh.settings import Settings

MARTS = (
    "fct_submission_compliance",
    "fct_submission_compliance_by_province",
    "fct_training_coverage",
    "fct_communication_products",
    "fct_portal_articles_daily",
    "fct_task_status",
)
# The relationships tests of the marts point at these dimensions, so they are built too; tests of
# other marts that share a parent with these are left out (cautious indirect selection).
SELECT = [f"+{name}" for name in MARTS] + ["+dim_province", "+dim_agency", "+dim_indicator", "--indirect-selection", "cautious"]

AGENCIES = {
    # code: (name, province code as registered, kind, reporting, valid_from, valid_to, successor)
    "QN-STTTT": ("Sở Thông tin và Truyền thông Quảng Nam", "49", "department", "annual", "2023-01-01", "2025-06-30",
                 None),
    # open-ended, but district committees were abolished on 2025-06-30; the ward takes over
    "QN-HDX": ("UBND huyện Duy Xuyên", "49", "district_committee", "annual", "2023-01-01", None, "DN-PHC"),
    "DN-STTTT": ("Sở Thông tin và Truyền thông Đà Nẵng", "48", "department", "annual", "2023-01-01", None, None),
    "DN-MTTQ": ("Ủy ban MTTQ Việt Nam thành phố Đà Nẵng", "48", "sociopolitical_org", "annual", "2024-03-01", None,
                None),
    "DN-PHC": ("UBND phường Hải Châu", "48", "commune_committee", "annual", "2025-07-01", None, None),
    "HN-STTTT": ("Sở Thông tin và Truyền thông Hà Nội", "01", "department", "quarterly", "2023-01-01", None, None),
    "HN-BAO": ("Báo Hà Nội mới", "01", "press_agency", "none", "2023-01-01", None, None),
}


def person(label: str) -> str:
    """A stand-in for the keyed hash ingestion computes (64 hex characters)."""
    return hashlib.sha256(f"person {label}".encode()).hexdigest()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period_bounds(period: str) -> tuple[str, date, date]:
    """``2024``, ``2024-Q3`` or ``2024-11`` as ingestion normalises them: kind, first and last day."""
    year = int(period[:4])
    if len(period) == 4:
        return "year", date(year, 1, 1), date(year, 12, 31)
    if period[5] == "Q":
        first, last = 3 * int(period[-1]) - 2, 3 * int(period[-1])
        kind = "quarter"
    else:
        first = last = int(period[5:])
        kind = "month"
    return kind, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


class Loader:
    """Writes ledger rows and their published rows, the way ingestion and the gate would."""

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

    def register(self, name: str, province: str, received: str, codes: list[str]) -> None:
        file_id = self.ledger("agencies", name, received, len(codes), province_code=province)
        for number, code in enumerate(codes, start=2):
            self.conn.execute(
                "insert into published.agency_register values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (file_id, number, code, *AGENCIES[code]),
            )

    def submit(self, agency: str, period: str, received: str, measures: list[tuple], name: str | None = None,
               current: bool = True) -> None:
        name = name or f"bao-cao-{agency.lower()}-{period}.xlsx"
        province = AGENCIES[agency][1]
        file_id = self.ledger("submissions", name, received, len(measures), current,
                              agency_code=agency, province_code=province, period=period)
        kind, start, end = period_bounds(period)
        for number, (measure, value, *task) in enumerate(measures, start=2):
            self.conn.execute(
                "insert into published.agency_submissions values "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, null, %s)",
                (file_id, number, province, agency, AGENCIES[agency][0], period, kind, start, end, measure,
                 value, task[0] if task else None, at(received).date()),
            )

    def roster(self, name: str, course_id: str, province: str, start: str, end: str, received: str,
               trainees: list[tuple[str, str, str, bool]], current: bool = True) -> None:
        file_id = self.ledger("rosters", name, received, len(trainees), current, course_id=course_id)
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

    def portal_day(self, name: str, portal: str, province: str, day: str, received: str,
                   rows: list[tuple], current: bool = True) -> int:
        """rows: (article, topic, language, page views, unique visitors[, published_at])."""
        file_id = self.ledger("portal", name, received, len(rows), current, portal=portal, stat_date=day)
        for number, (article, topic, language, views, visitors, *published) in enumerate(rows, start=2):
            self.conn.execute(
                "insert into published.portal_statistics values "
                "(%s, %s, %s, %s, %s, %s, null, %s, %s, %s, %s, %s, %s)",
                (file_id, number, day, province, portal, article, f"Bài {article}", topic, language,
                 at(published[0]) if published else None, views, visitors),
            )
        return file_id


QUANG_NAM_DAY_CORRECTED = [
    # the re-sent 2 May 2024: new counters, and the English article A3 is gone
    ("A1", "human_rights; law", "vi", 120, 70, "2023-12-31 18:00"),
    ("A2", "sports", "vi", 60, 35),
    ("A4", "human_rights", "km", 12, 6),
]


def load_dataset(conn: psycopg.Connection) -> Loader:
    load = Loader(conn)

    # -- agency registers (one per province; Đà Nẵng's sent after the merger) -----------------------
    load.register("danh-muc-don-vi-quang-nam.xlsx", "49", "2023-01-05 09:00", ["QN-STTTT", "QN-HDX"])
    load.register("danh-muc-don-vi-ha-noi.csv", "01", "2023-01-06 09:00", ["HN-STTTT", "HN-BAO"])
    load.register("danh-muc-don-vi-da-nang.xlsx", "48", "2025-07-02 09:00", ["DN-STTTT", "DN-MTTQ", "DN-PHC"])

    # -- 2023 -----------------------------------------------------------------------------------------
    load.submit("QN-STTTT", "2023", "2023-11-20 08:00", [
        ("products_total", 100), ("products_ethnic_language", 10), ("products_foreign_language", 5),
        ("products_digital_platform", 20), ("staff_hr_officials", 6),
    ])
    # five days late; its ethnic-language count exceeds its total (Vietnamese floors at 0)
    load.submit("QN-HDX", "2023", "2023-12-05 08:00", [
        ("products_total", 10), ("products_ethnic_language", 12), ("staff_hr_officials", 4),
        ("task_status", 0, "3.3"),
    ])
    # 30 Nov 18:00 UTC is 1 Dec 01:00 in Viet Nam: one day late
    load.submit("HN-STTTT", "2023", "2023-11-30 18:00", [
        ("products_total", 50), ("products_foreign_language", 10), ("products_digital_platform", 25),
        ("staff_hr_officials", 20),
    ])
    load.submit("HN-STTTT", "2023-Q1", "2023-03-25 08:00", [("press_briefings_held", 1)])
    load.submit("HN-STTTT", "2023-Q2", "2023-07-03 08:00", [("press_briefings_held", 1)])
    load.submit("HN-STTTT", "2023-Q4", "2023-12-20 08:00", [("press_briefings_held", 0)])

    # -- 2024 -----------------------------------------------------------------------------------------
    # QN-STTTT's correction arrived on 10 Dec but was loaded first (lower file_id); its first version,
    # on 25 Nov, decides timeliness. The correction re-sends three lines; ethnic 8 still stands.
    load.submit("QN-STTTT", "2024", "2024-12-10 08:00", [
        ("products_total", 90), ("staff_hr_officials", 7), ("task_status", 2, "1.2"),
    ], name="bao-cao-qn-stttt-2024-dieu-chinh.xlsx")
    load.submit("QN-STTTT", "2024", "2024-11-25 08:00", [
        ("products_total", 80), ("products_ethnic_language", 8), ("staff_hr_officials", 6),
        ("task_status", 1, "1.2"),
    ], current=False)
    load.submit("DN-STTTT", "2024", "2024-11-28 08:00", [("staff_hr_officials", 10)])
    load.submit("DN-MTTQ", "2024", "2024-12-02 08:00", [("staff_key_sociopolitical", 4)])
    load.submit("HN-STTTT", "2024", "2024-11-10 08:00", [
        ("staff_hr_officials", 20), ("task_status", 2, "1.2"), ("task_status", 1, "3.1"),
        ("task_status", 1, "UPR-63"),
    ])
    load.submit("HN-STTTT", "2024-Q1", "2024-03-28 08:00", [
        ("products_total", 20), ("products_foreign_language", 2), ("task_status", 0, "2.1"),
    ])
    load.submit("HN-STTTT", "2024-Q2", "2024-06-25 08:00", [
        ("products_total", 30), ("products_ethnic_language", 3), ("task_status", 1, "2.1"),
    ])
    # 17:00 in Viet Nam on the quarter's last day: on time
    load.submit("HN-STTTT", "2024-Q3", "2024-09-30 10:00", [("press_briefings_held", 2)])
    # the newspaper reports nothing by the register, but sent a report anyway
    load.submit("HN-BAO", "2024", "2024-11-15 08:00", [("books_published", 1)])

    # -- 2025 -----------------------------------------------------------------------------------------
    load.submit("DN-STTTT", "2025", "2025-11-20 08:00", [
        ("staff_hr_officials", 18), ("products_total", 40), ("products_digital_platform", 10),
    ])
    # 23:00 on 30 Nov in Viet Nam: on time
    load.submit("DN-PHC", "2025", "2025-11-30 16:00", [
        ("products_total", 6), ("products_ethnic_language", 2), ("task_status", 1, "3.3"),
    ])
    load.submit("HN-STTTT", "2025", "2025-11-26 08:00", [("staff_hr_officials", 25)])
    load.submit("HN-STTTT", "2025-Q1", "2025-03-30 08:00", [("task_status", 1, "2.1")])
    load.submit("HN-STTTT", "2025-Q2", "2025-06-30 09:00", [("press_briefings_held", 1)])
    load.submit("HN-STTTT", "2025-Q3", "2025-10-02 08:00", [("task_status", 2, "2.1")])
    # a monthly report: nobody owes one; the latest arrival of the dataset (as_of_date 2025-12-01)
    load.submit("HN-STTTT", "2025-11", "2025-12-01 08:00", [("press_briefings_held", 1)])

    # -- rosters: (person, category, agency, completed) -------------------------------------------------
    load.roster("danh-sach-qn-2023-01.xlsx", "QN-2023-01", "49", "2023-06-12", "2023-06-14", "2023-06-20 08:00", [
        ("P1", "hr_official", "QN-STTTT", True),
        ("P2", "hr_official", "QN-HDX", True),
        ("P3", "hr_official", "QN-STTTT", False),
    ])
    load.roster("danh-sach-dn-2024-01.xlsx", "DN-2024-01", "48", "2024-04-10", "2024-04-11", "2024-04-15 08:00", [
        ("P1", "hr_official", "QN-STTTT", True),
        ("P4", "hr_official", "DN-STTTT", True),
        ("P5", "key_sociopolitical", "DN-MTTQ", True),
        ("P2", "info_official", "QN-HDX", True),
    ])
    load.roster("danh-sach-hn-2024-01.xlsx", "HN-2024-01", "01", "2024-09-05", "2024-09-06", "2024-09-10 08:00", [
        ("P6", "hr_official", "HN-STTTT", True),
        ("P3", "hr_official", "QN-STTTT", True),
    ])
    # the corrected roster says P7 did not complete after all, and adds P8
    load.roster("danh-sach-hn-2025-01.xlsx", "HN-2025-01", "01", "2025-03-01", "2025-03-02", "2025-03-05 08:00", [
        ("P7", "hr_official", "HN-STTTT", True),
    ], current=False)
    load.roster("danh-sach-hn-2025-01-lan-2.xlsx", "HN-2025-01", "01", "2025-03-01", "2025-03-02",
                "2025-03-08 08:00", [
                    ("P7", "hr_official", "HN-STTTT", False),
                    ("P8", "hr_official", "HN-STTTT", True),
                ])

    # -- portals: (article, topic, language, views, visitors[, published_at]) ------------------------------
    # A1 was published at 01:00 on 1 January 2024 in Viet Nam (still 2023 in UTC)
    load.portal_day("quangnam-2024-05-02.csv", "quangnam.gov.vn", "49", "2024-05-02", "2024-05-03 01:00", [
        ("A1", "human_rights; law", "vi", 100, 60, "2023-12-31 18:00"),
        ("A2", "sports", "vi", 50, 30),
        ("A3", "Human_Rights", "en", 40, 20),
        ("A4", "human_rights", "km", 10, 5),
    ])
    load.portal_day("quangnam-2024-05-03.csv", "quangnam.gov.vn", "49", "2024-05-03", "2024-05-04 01:00", [
        ("A1", "human_rights", "vi", 80, 50, "2023-12-31 18:00"),
        ("A5", "news", "vi", 30, 10),
    ])
    # Hà Nội's 5 July was exported twice; the later export (7 July) was loaded first
    load.portal_day("hanoi-2025-07-05-lan-2.csv", "hanoi.gov.vn", "01", "2025-07-05", "2025-07-07 01:00", [
        ("B1", "human_rights", "vi", 200, 150),
        ("B2", "human_rights", "fr", 20, 10),
    ])
    load.portal_day("hanoi-2025-07-05.csv", "hanoi.gov.vn", "01", "2025-07-05", "2025-07-06 01:00", [
        ("B1", "human_rights", "vi", 190, 140),
    ], current=False)
    load.portal_day("danang-2025-08-01.csv", "danang.gov.vn", "48", "2025-08-01", "2025-08-02 01:00", [
        ("D1", "human_rights", "vi", 70, 40),
        ("D2", "culture", None, 5, 3),
    ])
    return load


@pytest.fixture(scope="module")
def built(warehouse_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Loader, float]]:
    """A warehouse with the dataset after ``dbt seed`` and one ``dbt build`` of the marts and their parents."""
    with warehouse_database(tmp_path_factory.mktemp("other-marts")) as settings:
        with psycopg.connect(settings.warehouse_url) as conn:
            loader = load_dataset(conn)
            conn.commit()
        started = time.monotonic()
        run_dbt(["seed"], settings)
        run_dbt(["build", "--select", *SELECT], settings)
        yield settings, loader, time.monotonic() - started


@pytest.fixture(scope="module")
def db(built: tuple[Settings, Loader, float]) -> Iterator[psycopg.Connection]:
    with psycopg.connect(built[0].warehouse_url, autocommit=True) as conn:
        yield conn


def plain(value: object) -> object:
    """Numerics arrive as Decimal; the hand arithmetic below is in floats."""
    return float(value) if isinstance(value, Decimal) else value


def rows(conn: psycopg.Connection, sql: str, *params: object) -> list[tuple]:
    return [tuple(plain(v) for v in row) for row in conn.execute(sql, params).fetchall()]


def one(conn: psycopg.Connection, sql: str, *params: object) -> dict:
    cur = conn.execute(sql, params)
    found = cur.fetchall()
    assert len(found) == 1, (sql, params, found)
    return {column.name: plain(value) for column, value in zip(cur.description, found[0], strict=True)}


# -------------------------------------------------------------------------------------------------


def test_build_is_quick_and_no_mart_holds_a_person(db, built) -> None:
    assert built[2] < 60, f"dbt seed + build took {built[2]:.0f} s"
    columns = {r[0] for r in db.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = any(%s)",
        (list(MARTS),),
    )}
    assert columns and not columns & {"person_key", "full_name", "national_id", "staff_id", "birth_year"}


def test_each_expected_report_is_received_on_time_or_late(db) -> None:
    def flags(agency: str, period: str) -> tuple:
        return tuple(one(
            db, "select is_expected, is_received, received_on, is_on_time, days_late, submission_versions "
                "from marts.fct_submission_compliance where agency_code = %s and period = %s", agency, period,
        ).values())

    # deadlines: 30 Nov for the year, the quarter's last day for a quarter (ref_reporting_calendar)
    assert flags("QN-STTTT", "2023") == (True, True, date(2023, 11, 20), True, 0, 1)
    assert flags("QN-HDX", "2023") == (True, True, date(2023, 12, 5), False, 5, 1)
    assert flags("DN-STTTT", "2023") == (True, False, None, False, None, 0)
    # late on the Viet Nam clock only (30 Nov 18:00 UTC)
    assert flags("HN-STTTT", "2023") == (True, True, date(2023, 12, 1), False, 1, 1)
    assert flags("HN-STTTT", "2023-Q2") == (True, True, date(2023, 7, 3), False, 3, 1)
    assert flags("HN-STTTT", "2023-Q3") == (True, False, None, False, None, 0)
    # the first version (25 Nov) decides; the correction is the latest file although loaded first
    assert flags("QN-STTTT", "2024") == (True, True, date(2024, 11, 25), True, 0, 2)
    latest = one(db, "select latest_file_id from marts.fct_submission_compliance "
                     "where agency_code = 'QN-STTTT' and period = '2024'")["latest_file_id"]
    assert latest == db.execute(
        "select file_id from landing.files where original_name = 'bao-cao-qn-stttt-2024-dieu-chinh.xlsx'"
    ).fetchone()[0]
    # 23:00 on 30 Nov in Viet Nam is on time
    assert flags("DN-PHC", "2025") == (True, True, date(2025, 11, 30), True, 0, 1)
    # DN-MTTQ joined on 2024-03-01: owes 2024 and 2025, not 2023
    assert [r[0] for r in db.execute(
        "select period from marts.fct_submission_compliance where agency_code = 'DN-MTTQ' order by period"
    )] == ["2024", "2025"]
    # QN-STTTT and QN-HDX end on 2025-06-30: no 2025 annual report is owed (nor shown)
    assert db.execute(
        "select count(*) from marts.fct_submission_compliance where agency_code like 'QN-%%' and year = 2025"
    ).fetchone()[0] == 0
    # reports nobody owed: the newspaper marked `none`, and a monthly report (no deadline)
    assert flags("HN-BAO", "2024") == (False, True, date(2024, 11, 15), True, 0, 1)
    assert flags("HN-STTTT", "2025-11") == (False, True, date(2025, 12, 1), None, None, 1)
    # periods stop at the data's clock (2025-12-01): 2025-Q4 is owed and not received yet, 2026 not listed
    assert flags("HN-STTTT", "2025-Q4") == (True, False, None, False, None, 0)
    assert rows(db, "select period, is_past_deadline from marts.fct_submission_compliance "
                    "where agency_code = 'HN-STTTT' and period in ('2025-Q3', '2025-Q4', '2025-11') "
                    "order by period") == [("2025-11", None), ("2025-Q3", True), ("2025-Q4", False)]
    assert db.execute("select max(year) from marts.fct_submission_compliance").fetchone()[0] == 2025
    # agencies are placed in their current province through the merger
    row = one(db, "select agency_name, agency_kind, province_code, legacy_province_code "
                  "from marts.fct_submission_compliance where agency_code = 'QN-HDX' and period = '2023'")
    assert row == {"agency_name": "UBND huyện Duy Xuyên", "agency_kind": "district_committee",
                   "province_code": "48", "legacy_province_code": "49"}


def test_reporting_rates_by_province_and_nationally(db) -> None:
    def rates(province: str, year: int, kind: str) -> tuple:
        row = one(db, "select expected, received, on_time, received_late, not_received, overdue, "
                      "received_not_expected, completeness_rate, timeliness_rate "
                      "from marts.fct_submission_compliance_by_province "
                      "where province_code = %s and year = %s and period_kind = %s", province, year, kind)
        return tuple(row.values())

    # 48, 2023 annual: owed by QN-STTTT (on time), QN-HDX (late), DN-STTTT (missing)
    #   completeness 2/3, timeliness 1/3
    assert rates("48", 2023, "year") == (3, 2, 1, 1, 1, 1, 0, pytest.approx(200 / 3), pytest.approx(100 / 3))
    # 48, 2024: + DN-MTTQ (late); QN-HDX missing -> 3 of 4 received, QN-STTTT and DN-STTTT on time
    assert rates("48", 2024, "year") == (4, 3, 2, 1, 1, 1, 0, 75, 50)
    # 48, 2025: DN-STTTT, DN-PHC on time; DN-MTTQ missing
    assert rates("48", 2025, "year") == (3, 2, 2, 0, 1, 1, 0, pytest.approx(200 / 3), pytest.approx(200 / 3))
    # 01, 2024: HN-STTTT on time; the newspaper's report is counted apart, not in the rates
    assert rates("01", 2024, "year") == (1, 1, 1, 0, 0, 0, 1, 100, 100)
    # 01 quarters: 2023 Q1 on time, Q2 late, Q3 missing, Q4 on time; 2025 Q1, Q2 on time, Q3 late, Q4 not
    # received yet but not overdue either: due 31 Dec, after the data's clock (1 Dec)
    assert rates("01", 2023, "quarter") == (4, 3, 2, 1, 1, 1, 0, 75, 50)
    assert rates("01", 2025, "quarter") == (4, 3, 2, 1, 1, 0, 0, 75, 50)
    # nation = 48 + 01: 2023 annual 4 owed, 3 received, 1 on time; 2024 5 / 4 / 3
    assert rates("00", 2023, "year") == (4, 3, 1, 2, 1, 1, 0, 75, 25)
    assert rates("00", 2024, "year") == (5, 4, 3, 1, 1, 1, 1, 80, 60)
    # every current province has a row per year and kind, without reports a zero and no rate
    assert rates("31", 2024, "year") == (0, 0, 0, 0, 0, 0, 0, None, None)
    assert db.execute("select count(*) from marts.fct_submission_compliance_by_province").fetchone()[0] == 35 * 3 * 2


def test_training_coverage_counts_each_person_once_cumulatively(db) -> None:
    def coverage(category: str, province: str) -> list[tuple]:
        return rows(db, "select year, trainees_new_in_year, trainees_cumulative, headcount, coverage_rate "
                        "from marts.fct_training_coverage where category_code = %s and province_code = %s "
                        "order by year", category, province)

    # hr_official, 48: 2023 P1, P2 (Quảng Nam agencies) of 6 + 4; 2024 P4 and P3 (P3 completed only now;
    # P1's second course does not count) of QN-STTTT's corrected 7 + DN-STTTT's 10; 2025 nobody new, of 18
    assert coverage("hr_official", "48") == [
        (2023, 2, 2, 10, 20),
        (2024, 2, 4, 17, pytest.approx(400 / 17)),
        (2025, 0, 4, 18, pytest.approx(400 / 18)),
    ]
    # Hà Nội: P6 in 2024, P8 in 2025 (the corrected roster: P7 did not complete)
    assert coverage("hr_official", "01") == [(2023, 0, 0, 20, 0), (2024, 1, 1, 20, 5), (2025, 1, 2, 25, 8)]
    # nation: 2 of 30, 5 of 37, 6 of 43
    assert [r[1:] for r in coverage("hr_official", "00")] == [
        (2, 2, 30, pytest.approx(200 / 30)), (3, 5, 37, pytest.approx(500 / 37)), (1, 6, 43, pytest.approx(600 / 43)),
    ]
    # a person counts in each category: P2 is also an info official (no headcount reported: no rate)
    assert coverage("info_official", "48") == [(2023, 0, 0, None, None), (2024, 1, 1, None, None),
                                               (2025, 0, 1, None, None)]
    # key socio-political: P5 of DN-MTTQ's 4; no headcount in 2025
    assert coverage("key_sociopolitical", "48")[1:] == [(2024, 1, 1, 4, 25), (2025, 0, 1, None, None)]
    row = one(db, "select indicator_code, target_operator, target_value, scope, province_name "
                  "from marts.fct_training_coverage where category_code = 'key_sociopolitical' "
                  "and province_code = '48' and year = 2024")
    assert row == {"indicator_code": "trained_key_sociopolitical", "target_operator": ">=", "target_value": 70,
                   "scope": "province", "province_name": "Đà Nẵng"}
    # 5 categories x (34 provinces + the nation) x 2023..2025
    assert db.execute("select count(*) from marts.fct_training_coverage").fetchone()[0] == 5 * 35 * 3


def test_communication_products_by_language_and_channel(db) -> None:
    def products(source: str, province: str, year: int) -> dict:
        found = rows(db, "select channel, language_group, products, share_of_products from "
                         "marts.fct_communication_products where data_source = %s and province_code = %s "
                         "and year = %s", source, province, year)
        return {(channel, group): (count, share) for channel, group, count, share in found}

    # agency reports, 48, 2023: QN-STTTT 100 (ethnic 10, foreign 5, digital 20) + QN-HDX 10 (ethnic 12,
    # more than its total: its Vietnamese count floors at 0) -> Vietnamese 85 + 0
    assert products("agency_reports", "48", 2023) == {
        ("all", "all"): (110, 100),
        ("all", "ethnic_minority"): (22, pytest.approx(2200 / 110)),
        ("all", "foreign"): (5, pytest.approx(500 / 110)),
        ("all", "vietnamese"): (85, pytest.approx(8500 / 110)),
        ("digital_platform", "all"): (20, pytest.approx(2000 / 110)),
    }
    # 2024: QN-STTTT's correction (total 90) with the first version's ethnic 8 -> Vietnamese 82
    assert products("agency_reports", "48", 2024)[("all", "vietnamese")][0] == 82
    # Hà Nội 2024 from two quarterly reports: total 20 + 30, foreign 2, ethnic 3 -> Vietnamese 45
    hanoi = products("agency_reports", "01", 2024)
    assert [hanoi[("all", g)][0] for g in ("all", "ethnic_minority", "foreign", "vietnamese")] == [50, 3, 2, 45]
    # nation 2023: 110 + 50; Vietnamese 85 + 40; digital 20 + 25
    nation = products("agency_reports", "00", 2023)
    assert (nation[("all", "all")][0], nation[("all", "vietnamese")][0], nation[("digital_platform", "all")][0]) == (
        160, 125, 45,
    )
    # portals, 48, 2024: A1 (vi), A3 (en), A4 (km) tagged human_rights, each counted once although A1 has
    # two days; A1's publication (1 Jan 2024 in Viet Nam) puts it in 2024, so 48 has no 2023 portal row
    assert products("portal_statistics", "48", 2024) == {
        ("provincial_portal", "all"): (3, 100),
        ("provincial_portal", "vietnamese"): (1, pytest.approx(100 / 3)),
        ("provincial_portal", "foreign"): (1, pytest.approx(100 / 3)),
        ("provincial_portal", "ethnic_minority"): (1, pytest.approx(100 / 3)),
    }
    assert products("portal_statistics", "48", 2023) == {}
    # views of those articles in 2024: A1 100 + 80, A3 40, A4 10
    assert rows(db, "select language_group, page_views from marts.fct_communication_products "
                    "where data_source = 'portal_statistics' and province_code = '48' and year = 2024 "
                    "order by language_group") == [("all", 230), ("ethnic_minority", 10), ("foreign", 40),
                                                   ("vietnamese", 180)]
    # Hà Nội 2025: the later export of 5 July (B1 vi 200, B2 fr 20)
    hanoi_portal = rows(db, "select language_group, products, page_views, portals_reporting "
                            "from marts.fct_communication_products where data_source = 'portal_statistics' "
                            "and province_code = '01' and year = 2025 order by language_group")
    assert hanoi_portal == [("all", 2, 220, 1), ("ethnic_minority", 0, 0, 0), ("foreign", 1, 20, 1),
                            ("vietnamese", 1, 200, 1)]


def test_task_status_per_lead_agency_and_year(db) -> None:
    def status(task: str, agency: str, year: int) -> tuple:
        row = one(db, "select status_value, status_label, reported_period, duty_role "
                      "from marts.fct_task_status where task_code = %s and agency_code = %s and year = %s",
                  task, agency, year)
        return tuple(row.values())

    # the correction (completed) replaces the first version (in progress)
    assert status("1.2", "QN-STTTT", 2024) == (2, "completed", "2024", "lead")
    # a quarterly reporter's latest quarter of the year carrying the task: 2024-Q2, then 2025-Q3
    assert status("2.1", "HN-STTTT", 2024) == (1, "in progress", "2024-Q2", "lead")
    assert status("2.1", "HN-STTTT", 2025) == (2, "completed", "2025-Q3", "lead")
    assert status("3.3", "QN-HDX", 2023) == (0, "not started", "2023", "lead")
    # the ward leads 3.3 ("UBND các huyện, thị xã, thành phố") as the district committee's successor
    assert status("3.3", "DN-PHC", 2025) == (1, "in progress", "2025", "lead")
    assert one(db, "select inherited_from_agency_codes, duty_units from marts.fct_task_status "
                   "where task_code = '3.3' and agency_code = 'DN-PHC' and year = 2025") == {
        "inherited_from_agency_codes": "QN-HDX", "duty_units": "UBND các huyện, thị xã, thành phố",
    }
    # a department reporting a task of the press agencies holds no duty in it
    assert status("3.1", "HN-STTTT", 2024) == (1, "in progress", "2024", "none")
    # a lead that sent nothing owes it; a partner that sent nothing does not
    assert status("2.1", "DN-STTTT", 2024) == (None, "not reported", None, "lead")
    assert status("1.2", "QN-HDX", 2024) == (None, "not owed", None, "partner")
    # the newspaper leads 3.1 but the register says it reports nothing
    assert status("3.1", "HN-BAO", 2024) == (None, "not owed", None, "lead")
    # 1.2 is owed by the Sở Thông tin và Truyền thông of each province, nobody else
    assert [r[0] for r in rows(db, "select agency_code from marts.fct_task_status "
                                   "where task_code = '1.2' and year = 2024 and is_status_owed order by 1")] == [
        "DN-STTTT", "HN-STTTT", "QN-STTTT",
    ]
    # UPR recommendations are not plan tasks
    assert db.execute("select count(*) from marts.fct_task_status where task_code like 'UPR%%'").fetchone()[0] == 0
    # rows: each agency in the register on 31 December x the tasks it leads or partners, as the annex
    # names them (a Sở TT&TT 12 + 6, a district committee 3 + 11, the newspaper 4 + 5, the Front
    # 2): 2023 QN-STTTT, DN-STTTT, HN-STTTT 3 x 18, QN-HDX 14, HN-BAO 9 = 77; 2024 + DN-MTTQ 2 and
    # HN-STTTT's 3.1 = 80; 2025 QN-STTTT ended without a successor, the ward holds the district
    # committee's duties: DN-STTTT, HN-STTTT 2 x 18, DN-PHC 14, HN-BAO 9, DN-MTTQ 2 = 61.
    counts = rows(db, "select year, count(*), count(*) filter (where status_value is not null) "
                      "from marts.fct_task_status group by year order by year")
    assert counts == [(2023, 77, 1), (2024, 80, 4), (2025, 61, 2)]
    assert one(db, "select province_code, legacy_province_code, agency_kind from marts.fct_task_status "
                   "where task_code = '3.3' and agency_code = 'QN-HDX' and year = 2023") == {
        "province_code": "48", "legacy_province_code": "49", "agency_kind": "district_committee",
    }


def test_portal_days_are_replaced_by_a_resent_day_incrementally(db, built) -> None:
    settings, load = built[0], built[1]
    query = (
        "select stat_date, portal, language_code, language_kind, province_code, articles, human_rights_articles, "
        "page_views, unique_visitors, human_rights_page_views, day_versions from marts.fct_portal_articles_daily "
        "order by portal, stat_date, language_code"
    )
    may2, may3, jul5, aug1 = date(2024, 5, 2), date(2024, 5, 3), date(2025, 7, 5), date(2025, 8, 1)
    # GIVEN the first build: Quảng Nam (49) days count for the current Đà Nẵng (48); Hà Nội's 5 July from
    # its later export (7 July) although loaded first; an article without a language is `und`
    first = rows(db, query)
    assert first == [
        (aug1, "danang.gov.vn", "und", "unknown", "48", 1, 0, 5, 3, 0, 1),
        (aug1, "danang.gov.vn", "vi", "national", "48", 1, 1, 70, 40, 70, 1),
        (jul5, "hanoi.gov.vn", "fr", "foreign", "01", 1, 1, 20, 10, 20, 2),
        (jul5, "hanoi.gov.vn", "vi", "national", "01", 1, 1, 200, 150, 200, 2),
        (may2, "quangnam.gov.vn", "en", "foreign", "48", 1, 1, 40, 20, 40, 1),
        (may2, "quangnam.gov.vn", "km", "ethnic_minority", "48", 1, 1, 10, 5, 10, 1),
        (may2, "quangnam.gov.vn", "vi", "national", "48", 2, 1, 150, 90, 100, 1),
        (may3, "quangnam.gov.vn", "vi", "national", "48", 2, 1, 110, 60, 80, 1),
    ]
    assert one(db, "select source_file_id, legacy_province_code from marts.fct_portal_articles_daily "
                   "where portal = 'hanoi.gov.vn' and language_code = 'vi'") == {
        "source_file_id": load.file_ids["hanoi-2025-07-05-lan-2.csv"], "legacy_province_code": None,
    }
    before = {(r[0], r[1], r[2]): r[3] for r in db.execute(
        "select stat_date, portal, language_code, xmin::text from marts.fct_portal_articles_daily"
    )}

    # WHEN Quảng Nam re-sends 2 May (without the English article) and the mart is built incrementally
    with psycopg.connect(settings.warehouse_url) as conn:
        conn.execute("update landing.files set is_current_version = false where original_name = %s",
                     ("quangnam-2024-05-02.csv",))
        resent = Loader(conn).portal_day("quangnam-2024-05-02-lan-2.csv", "quangnam.gov.vn", "49", "2024-05-02",
                                         "2024-05-05 01:00", QUANG_NAM_DAY_CORRECTED)
        conn.commit()
    run_dbt(["build", "--select", "fct_portal_articles_daily"], settings)

    # THEN 2 May is the re-sent day: its English row is gone, the others carry the new counters
    after = rows(db, query)
    assert [r for r in after if r[0] == may2] == [
        (may2, "quangnam.gov.vn", "km", "ethnic_minority", "48", 1, 1, 12, 6, 12, 2),
        (may2, "quangnam.gov.vn", "vi", "national", "48", 2, 1, 180, 105, 120, 2),
    ]
    assert {r[0] for r in db.execute(
        "select distinct source_file_id from marts.fct_portal_articles_daily where stat_date = %s", (may2,)
    )} == {resent}
    # and the other days are the same. Only 2 May and the days received within the lookback (3 days
    # before the latest arrival the mart held, 2 Aug 2025: Đà Nẵng's 1 August) were rewritten.
    assert [r for r in after if r[0] != may2] == [r for r in first if r[0] != may2]
    assert len(after) == 7
    xmins = {(r[0], r[1], r[2]): r[3] for r in db.execute(
        "select stat_date, portal, language_code, xmin::text from marts.fct_portal_articles_daily"
    )}
    rewritten = {key for key, xmin in xmins.items() if before.get(key) != xmin}
    assert rewritten == {
        (may2, "quangnam.gov.vn", "vi"), (may2, "quangnam.gov.vn", "km"),
        (aug1, "danang.gov.vn", "vi"), (aug1, "danang.gov.vn", "und"),
    }

    # AND a full rebuild gives the same table
    run_dbt(["run", "--select", "fct_portal_articles_daily", "--full-refresh"], settings)
    assert rows(db, query) == after


def test_human_rights_articles_follow_a_resent_day_incrementally(db, built) -> None:
    settings = built[0]
    articles = (
        "select portal, article_id, stat_date, page_views, current_province_code "
        "from intermediate.int_portal_articles_human_rights order by portal, article_id, stat_date"
    )
    products = (
        "select channel, language_group, province_code, year, products, page_views from marts.fct_communication_products "
        "where data_source = 'portal_statistics' order by channel, language_group, province_code, year"
    )
    may3 = date(2024, 5, 3)
    run_dbt(["build", "--select", "int_portal_articles_human_rights+"], settings)
    before, products_before = rows(db, articles), rows(db, products)
    assert ("quangnam.gov.vn", "A1", may3, 80, "48") in before

    # WHEN Quảng Nam re-sends 3 May without A1, its only human-rights article that day, and the
    # models are built incrementally (delete+insert alone would keep the day's old rows)
    with psycopg.connect(settings.warehouse_url) as conn:
        conn.execute("update landing.files set is_current_version = false where original_name = %s",
                     ("quangnam-2024-05-03.csv",))
        Loader(conn).portal_day("quangnam-2024-05-03-lan-2.csv", "quangnam.gov.vn", "49", "2024-05-03",
                                "2024-05-06 01:00", [("A5", "news", "vi", 35, 12)])
        conn.commit()
    run_dbt(["build", "--select", "int_portal_articles_human_rights+"], settings)

    # THEN 3 May has no human-rights article left and nothing else changed
    after = rows(db, articles)
    assert after == [r for r in before if r[2] != may3]
    # AND A1 is still one product of 2024 (it was read on 2 May), with 80 page views fewer
    products_after = rows(db, products)
    changed = [(b, a) for b, a in zip(products_before, products_after, strict=True) if b != a]
    assert [(b[:5], b[5] - a[5]) for b, a in changed] == [
        (("provincial_portal", "all", "00", 2024, 2), 80),
        (("provincial_portal", "all", "48", 2024, 2), 80),
        (("provincial_portal", "vietnamese", "00", 2024, 1), 80),
        (("provincial_portal", "vietnamese", "48", 2024, 1), 80),
    ]
    # AND a full rebuild gives the same tables
    run_dbt(["build", "--select", "int_portal_articles_human_rights+", "--full-refresh"], settings)
    assert rows(db, articles) == after
    assert rows(db, products) == products_after


def test_portal_data_tests_read_recent_files_unless_the_whole_history_is_asked_for(db, built) -> None:
    settings = built[0]
    # GIVEN a published portal row of a file older than every file in the ledger (file_id 0, which
    # the ledger does not hold): outside the window of the last 35 days' files
    db.execute(
        "insert into published.portal_statistics (file_id, row_number, stat_date, province_code, portal, "
        "article_id, page_views) values (0, 2, '2023-01-02', '49', 'quangnam.gov.vn', 'Z9', 1)"
    )
    db.commit()
    try:
        # WHEN the daily build tests the portal staging model THEN it reads only recent files and passes
        daily = run_dbt(["test", "--select", "stg_portal_statistics__article_days"], settings, raise_on_failure=False)
        assert daily.success, daily.failures()
        # AND asked to test the whole history, the relationships test finds the row without a file
        whole = run_dbt(["test", "--select", "stg_portal_statistics__article_days", "--vars",
                         "{test_full_history: true}"], settings, raise_on_failure=False)
        assert [f.split(":")[0].rsplit(".", 1)[0] for f in whole.failures()] == [
            "test.planwh.relationships_stg_portal_statistics__article_days_file_id__file_id__ref_stg_landing__files_"
        ], whole.failures()
    finally:
        db.execute("delete from published.portal_statistics where file_id = 0")
        db.commit()
