"""Small landing files for the ingestion tests, written the way provincial offices write them.

Shared by the ledger, load, bad-file, feedback and DAG tests (imported by module name: pytest puts
this folder on ``sys.path``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from planwh.settings import Settings

RECEIVED = datetime(2024, 12, 15, 2, 0, tzinfo=UTC)
RECEIVED_AFTER_MERGER = datetime(2025, 12, 15, 2, 0, tzinfo=UTC)

REGISTER_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã tỉnh", "Loại đơn vị", "Chế độ báo cáo", "Hiệu lực từ", "Hiệu lực đến"]
REGISTER_ROWS = [
    ["STTTT", "Sở Thông tin và Truyền thông", "49", "department", "annual", "01/01/2023", ""],
    ["CAT", "Công an tỉnh Quảng Nam", "49", "police", "quarterly", "01/01/2023", ""],
    ["UBND-TK", "UBND thành phố Tam Kỳ", "49", "district_committee", "annual", "01/01/2023", "30/06/2025"],
    ["UBND-XA1", "UBND phường Tam Kỳ", "48", "commune_committee", "annual", "01/07/2025", ""],
]

SUBMISSION_HEADER = ["Mã tỉnh", "Mã đơn vị", "Tên đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Mã nhiệm vụ",
                     "Ghi chú", "Ngày báo cáo"]

PORTAL_HEADER = ["stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
                 "published_at", "page_views", "unique_visitors"]

ROSTER_HEADER = ["STT", "Họ và tên", "Số CCCD", "Mã cán bộ", "Năm sinh", "Giới tính", "Mã đơn vị", "Chức vụ",
                 "Đối tượng", "Có mặt", "Hoàn thành"]


def submission_row(
    measure: str = "products_total",
    value: str = "12",
    *,
    agency: str = "STTTT",
    period: str = "2024",
    province: str = "49",
    task: str = "",
    note: str = "",
    submitted: str = "30/11/2024",
) -> list[str]:
    return [province, agency, "Sở Thông tin và Truyền thông", period, measure, value, task, note, submitted]


def portal_row(
    article: str = "a1",
    views: str = "100",
    visitors: str = "40",
    *,
    stat_date: str = "2024-11-30",
    portal: str = "quangnam.gov.vn",
    language: str = "vi",
    published: str = "2024-11-29T08:00:00+07:00",
    title: str = "Tuyên truyền về quyền con người",
) -> list[str]:
    return [stat_date, "49", portal, article, f"https://{portal}/{article}", title, "human_rights", language,
            published, views, visitors]


def trainee(name: str, national_id: str = "", staff_id: str = "", *, agency: str = "STTTT",
            category: str = "Cán bộ làm công tác quyền con người", attended: str = "x", completed: str = "x",
            birth_year: str = "1988") -> list[str]:
    return ["1", name, national_id, staff_id, birth_year, "Nữ", agency, "Chuyên viên", category, attended, completed]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None) -> Path:
    """CSV as Excel saves "CSV UTF-8": BOM, CRLF, an optional title line above the header."""
    lines: list[Sequence[str]] = ([[title]] if title else []) + [header, *rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(lines).encode("utf-8-sig"))
    return path


def write_roster(path: Path, course_id: str, trainees: Sequence[Sequence[str]], *,
                 start: str = "12/03/2024", end: str = "14/03/2024") -> Path:
    lines: list[Sequence[str]] = [
        ["DANH SÁCH HỌC VIÊN"],
        ["Mã khóa học:", course_id],
        ["Tên khóa học: Bồi dưỡng kiến thức, kỹ năng về quyền con người"],
        ["Đơn vị tổ chức:", "STTTT"],
        ["Mã tỉnh:", "49"],
        ["Từ ngày:", start],
        ["Đến ngày:", end],
        ["Hình thức:", "Trực tiếp"],
        [],
        ROSTER_HEADER,
        *trainees,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(lines).encode("utf-8-sig"))
    return path


def write_register(folder: Path, rows: Sequence[Sequence[str]] = REGISTER_ROWS, name: str = "danh-muc-49.csv") -> Path:
    return write_csv(folder / name, REGISTER_HEADER, rows)


def query(settings: Settings, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(settings: Settings, sql: str, params: Sequence[object] = ()) -> object:
    rows = query(settings, sql, params)
    return rows[0][0] if rows else None


def raw_counts(settings: Settings) -> dict[str, int]:
    tables = ("raw.agency_register", "raw.agency_submissions", "raw.portal_statistics", "raw.training_courses",
              "raw.training_attendance", "quarantine.rejected_rows")
    return {t: int(scalar(settings, f"select count(*) from {t}")) for t in tables}
