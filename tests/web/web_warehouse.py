"""A small warehouse for the sender page's tests: a register of two provinces, one report of 2025,
through the real ingestion, the Great Expectations gate and ``dbt build`` (models and seeds, no
tests: the dbt suite checks the models), so that the marts the page reads are the real ones.

Province 48 (Đà Nẵng, a current code before and after the 2025 merger) has the Sở TT&TT, whose
2025 report has arrived, the Sở VH-TT-DL, which owes its 2025 report and leads task 3.4, and the
provincial police, a quarterly reporter. Province 01 (Hà Nội) has one agency: someone else's.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from planwh.ingest.load import ingest_file
from planwh.settings import Settings

REGISTER_RECEIVED = datetime(2025, 1, 5, 2, 0, tzinfo=UTC)
REPORT_RECEIVED = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
YEAR = 2025

REGISTER_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã tỉnh", "Loại đơn vị", "Chế độ báo cáo", "Hiệu lực từ", "Hiệu lực đến"]
OWN = "48-SVHTTDL"
OWN_NAME = "Sở Văn hóa, Thể thao và Du lịch thành phố Đà Nẵng"
REPORTED = "48-STTTT"
POLICE = "48-CA"
OTHER = "01-STTTT"
REGISTER = [
    [REPORTED, "Sở Thông tin và Truyền thông thành phố Đà Nẵng", "48", "department", "annual", "01/01/2023", ""],
    [OWN, OWN_NAME, "48", "department", "annual", "01/01/2023", ""],
    [POLICE, "Công an thành phố Đà Nẵng", "48", "police", "quarterly", "01/01/2023", ""],
    [OTHER, "Sở Thông tin và Truyền thông thành phố Hà Nội", "01", "department", "annual", "01/01/2023", ""],
]
SUBMISSION_HEADER = ["Mã tỉnh", "Mã đơn vị", "Tên đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Mã nhiệm vụ",
                     "Ghi chú", "Ngày báo cáo"]
REPORT = [
    ["48", REPORTED, "Sở Thông tin và Truyền thông thành phố Đà Nẵng", "2025", measure, value, task, "", "28/11/2025"]
    for measure, value, task in (
        ("spokesperson_mechanism", "1", ""), ("staff_hr_officials", "4", ""), ("staff_info_officials", "6", ""),
        ("products_total", "120", ""), ("products_digital_platform", "40", ""), ("task_status", "1", "1.2"),
    )
]


# the marts the page reads, with what they are built from
MARTS_READ = ("+dim_agency", "+dim_province", "+fct_submission_compliance", "+fct_task_status")


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def build(settings: Settings, folder: Path) -> None:
    """Register, report, gate, dbt: the marts the page reads."""
    from planwh.dbt import run_dbt
    from planwh.validate import validate_pending

    folder.mkdir(parents=True, exist_ok=True)
    register = folder / "danh-muc-don-vi.csv"
    register.write_bytes(csv_bytes([REGISTER_HEADER, *REGISTER]))
    report = folder / "bao-cao-48-STTTT-2025.csv"
    report.write_bytes(csv_bytes([SUBMISSION_HEADER, *REPORT]))
    outcomes = [ingest_file(settings, "agencies", register, received_at=REGISTER_RECEIVED),
                ingest_file(settings, "submissions", report, received_at=REPORT_RECEIVED)]
    assert [(o.status, o.rows_rejected) for o in outcomes] == [("loaded", 0), ("loaded", 0)], outcomes
    validate_pending(settings, file_ids=[o.file_id for o in outcomes])
    run_dbt(["build", "--select", *MARTS_READ, "--exclude", "resource_type:test", "resource_type:unit_test"], settings)
