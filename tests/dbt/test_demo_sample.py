"""The demo's sample (``planwh demo``: six legacy provinces, 2023-2025, planted faults) through the
task code of the ingest DAGs (ingestion and the Great Expectations gate) and the transform DAG's
``dbt build``, then read as an analyst would: who owes which task, and every indicator cell checked
against a second implementation in pandas (``indicators_in_pandas``).

The expected duties are derived by hand from the annex of Quảng Nam plan 9034/KH-UBND
(``/work/shared/domain/seeds/quang-nam-plan-9034-full.txt``) and the sample's register of Quảng Nam
(``agencies/danh-muc-don-vi_49_*.xlsx``), and written out literally:

* 1.2 "Tổ chức theo dõi, tổng hợp thông tin, dư luận báo chí ..." -- chủ trì: Sở Thông tin và
  Truyền thông; phối hợp: Công an tỉnh, các Sở, Ban, ngành, UBND các huyện, thị xã, thành phố, các
  cơ quan báo chí của tỉnh và các cơ quan, đơn vị liên quan;
* 2.1 "Triển khai cung cấp thông tin cho báo chí ..." -- chủ trì: Sở Thông tin và Truyền thông, Công
  an tỉnh;
* 4 "Hợp tác quốc tế, thông tin đối ngoại về quyền con người" (task 4.1) -- chủ trì: Sở Ngoại vụ.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import psycopg
import pytest
from indicators_in_pandas import mart_differences

from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.reception import sweep
from planwh.ingest.schema import SOURCES
from planwh.orchestration.tasks import DAG_SOURCES, Interval, build_warehouse, run_ingest_dag_code
from planwh.sample import SampleSpec, generate_sample
from planwh.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"

# The sample register of Quảng Nam (legacy code 49) in 2024, as the generator writes it.
QUANG_NAM_DEPARTMENTS = {
    "49-STTTT": "Sở Thông tin và Truyền thông tỉnh Quảng Nam",
    "49-SNGV": "Sở Ngoại vụ tỉnh Quảng Nam",
    "49-SVHTTDL": "Sở Văn hóa, Thể thao và Du lịch tỉnh Quảng Nam",
    "49-SGDDT": "Sở Giáo dục và Đào tạo tỉnh Quảng Nam",
    "49-SKHCN": "Sở Khoa học và Công nghệ tỉnh Quảng Nam",
    "49-STP": "Sở Tư pháp tỉnh Quảng Nam",
}
QUANG_NAM_POLICE = {"49-CA": "Công an tỉnh Quảng Nam"}
QUANG_NAM_PRESS = {"49-BAO": "Báo Quảng Nam", "49-PTTH": "Đài Phát thanh và Truyền hình Quảng Nam"}


@pytest.fixture(scope="module")
def demo_warehouse(warehouse_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The demo sample's landing history registered at the files' own times (``planwh landing sweep
    --history``, as a deployment takes a folder over), taken by one run of each ingest DAG's task
    code over 2023 to the last file, then the transform DAG's build."""
    with warehouse_database(tmp_path_factory.mktemp("demo-sample")) as settings:
        manifest = generate_sample(settings.landing_dir, SampleSpec(), clean=True)
        for source in SOURCES:
            sweep(settings, source, history=True)
        last = max(datetime.fromisoformat(f.sent_at).astimezone(VIETNAM_TZ).date() for f in manifest.files)
        interval = Interval(datetime.combine(date(2023, 1, 1), time(), VIETNAM_TZ),
                            datetime.combine(last + timedelta(days=1), time(), VIETNAM_TZ))
        for dag_id in DAG_SOURCES:
            run_ingest_dag_code(settings, dag_id, interval)
        build_warehouse(settings)
        yield settings


@pytest.fixture(scope="module")
def db(demo_warehouse: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_warehouse.warehouse_url, autocommit=True) as conn:
        yield conn


def duties(db: psycopg.Connection, task: str, year: int, province: str, *, legacy: bool) -> dict[str, set[str]]:
    column = "legacy_province_code" if legacy else "province_code"
    found: dict[str, set[str]] = {}
    for role, code, name in db.execute(
        f"select duty_role, agency_code, agency_name from marts.fct_task_status "
        f"where task_code = %s and year = %s and {column} = %s",
        (task, year, province),
    ):
        found.setdefault(role, set()).add(f"{code} {name}")
    return found


def named(*registers: dict[str, str]) -> set[str]:
    return {f"{code} {name}" for register in registers for code, name in register.items()}


def test_quang_nam_2024_owes_its_tasks_by_the_units_the_annex_names(db) -> None:
    # 1.2: the Sở TT&TT leads, alone; the police, every other department, the district committees
    # and the press agencies partner; "các cơ quan, đơn vị liên quan" names nobody
    task = duties(db, "1.2", 2024, "49", legacy=True)
    assert task["lead"] == named({"49-STTTT": QUANG_NAM_DEPARTMENTS["49-STTTT"]})
    districts = {a for a in task["partner"] if a.startswith("49-H")}
    assert task["partner"] - districts == named(
        QUANG_NAM_POLICE, QUANG_NAM_PRESS, {c: n for c, n in QUANG_NAM_DEPARTMENTS.items() if c != "49-STTTT"},
    )
    assert districts and all(a.split(" ", 1)[1].startswith("UBND ") for a in districts)
    # 2.1: the Sở TT&TT and the police
    assert duties(db, "2.1", 2024, "49", legacy=True)["lead"] == named(
        {"49-STTTT": QUANG_NAM_DEPARTMENTS["49-STTTT"]}, QUANG_NAM_POLICE,
    )
    # 4 (4.1): the Sở Ngoại vụ; its partners are "các tổ chức, cơ quan, đơn vị, địa phương liên
    # quan", whom nobody can be held to
    assert duties(db, "4.1", 2024, "49", legacy=True) == {
        "lead": named({"49-SNGV": QUANG_NAM_DEPARTMENTS["49-SNGV"]}),
    }
    # only the leads owe a status: the overdue list of these tasks has no partner in it
    owed = {r[0] for r in db.execute(
        "select agency_code from marts.fct_task_status where task_code in ('1.2', '2.1', '4.1') and year = 2024 "
        "and legacy_province_code = '49' and is_status_owed"
    )}
    assert owed == {"49-STTTT", "49-CA", "49-SNGV"}


def test_duties_pass_to_the_successors_the_register_names(db) -> None:
    # In 2025 the Sở TT&TT of Quảng Nam and of Đà Nẵng merged into their Sở KH&CN (1 March) and
    # Quảng Nam into Đà Nẵng (1 July). 1.2 is press work: it went to the Sở VH-TT-DL, and with
    # Quảng Nam's to Đà Nẵng's; 5.1 (the national shared database) went with the department to the
    # Sở KH&CN; 3.3 (district radio) from the district committees to the commune committees
    lead_12 = db.execute(
        "select agency_code, agency_name, inherited_from_agency_codes from marts.fct_task_status "
        "where task_code = '1.2' and year = 2025 and province_code = '48' and duty_role = 'lead'"
    ).fetchall()
    assert lead_12 == [("48-SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch thành phố Đà Nẵng", "48-STTTT; 49-STTTT")]
    lead_51 = db.execute(
        "select agency_code, inherited_from_agency_codes from marts.fct_task_status "
        "where task_code = '5.1' and year = 2025 and province_code = '48' and duty_role = 'lead'"
    ).fetchall()
    assert lead_51 == [("48-SKHCN", "48-STTTT; 49-STTTT")]
    communes = db.execute(
        "select count(*), bool_and(agency_kind = 'commune_committee'), bool_and(inherited_from_agency_codes like '%%-H%%') "
        "from marts.fct_task_status where task_code = '3.3' and year = 2025 and duty_role = 'lead'"
    ).fetchone()
    assert communes[0] > 0 and communes[1] and communes[2]
    # every agency that reports a status owes it, but for the first half of 2025 in the provinces
    # that were absorbed (Quảng Nam, An Giang 89, Gia Lai 64): their Sở VH-TT-DL and police led the
    # quarterly press briefings (2.1) until 30 June; the year's report is owed by their successors
    unowed = db.execute(
        "select distinct agency_code, year, task_code from marts.fct_task_status where duty_role = 'none'"
    ).fetchall()
    assert set(unowed) == {(f"{p}-{r}", 2025, "2.1") for p in ("49", "89", "64") for r in ("SVHTTDL", "CA")}


def test_national_values_carry_their_coverage_and_are_not_judged_on_five_provinces(db) -> None:
    rows = db.execute(
        "select indicator_code, provinces_reporting, provinces_total, status from marts.fct_indicator_progress "
        "where province_code = '00' and year = 2025 and value is not null"
    ).fetchall()
    # six legacy provinces make five current ones: 5 of 34 is below the 80 % the rules require
    assert {(r[1], r[2]) for r in rows if r[0] != "upr_recommendations"} == {(5, 34)}
    assert {r[3] for r in rows} == {"insufficient coverage"}
    # the 29 provinces without a register show it, and owe nothing they could be counted as missing
    assert db.execute(
        "select count(distinct province_code), count(agencies_expected) from marts.fct_indicator_progress "
        "where status = 'no register' and year = 2025"
    ).fetchone() == (29, 0)


def test_every_indicator_cell_matches_a_second_implementation(db) -> None:
    # GIVEN the same published rows and seeds, read by an independent pandas implementation
    # WHEN it recomputes every value, coverage and status THEN the mart holds the same cells,
    # 12 indicators x 35 areas x 6 years, cell by cell
    mart, differences = mart_differences(db, SEEDS)
    assert not differences, f"{len(differences)} cells differ:\n" + "\n".join(differences[:40])
    assert len(mart) == 12 * 35 * 6
    # and the comparison is not empty: the sample gives values and every kind of status
    statuses = {row["status"] for row in mart.values()}
    assert {"no register", "not applicable", "insufficient coverage", "achieved", "on track", "off track"} <= statuses
    assert sum(row["value"] is not None for row in mart.values()) > 150


def test_sample_register_of_quang_nam_is_what_the_expected_duties_name(demo_warehouse: Settings) -> None:
    # the literal agencies above are the sample's, not recomputed by the code under test
    register = {}
    for path in sorted(Path(demo_warehouse.landing_dir, "agencies").glob("danh-muc-don-vi_49_2023-*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        for row in sheet.iter_rows(min_row=5, values_only=True):
            if row[0]:
                register[row[0]] = row[1]
    assert named(QUANG_NAM_DEPARTMENTS, QUANG_NAM_POLICE, QUANG_NAM_PRESS) <= {f"{c} {n}" for c, n in register.items()}
