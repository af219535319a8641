"""Feedback files for senders: every problem in a file, as XLSX and CSV they can open.

The values in a feedback file come from the sender's own spreadsheet, which may hold text such
as ``=HYPERLINK(...)``: opened in Excel or LibreOffice it would run as a formula. Every cell is
neutralised (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return, ASCII or fullwidth,
gets an apostrophe in front) and the XLSX is written with every cell as a string. Personal
data never reaches a feedback file: quarantine already holds a placeholder instead.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL = 32_767

# A short Vietnamese phrase per reason code, for senders who do not read the English message.
REASON_VI: dict[str, str] = {
    # the whole file
    "ambiguous_sheet": "Nhiều trang tính có bảng số liệu, cần chỉ rõ trang",
    "duplicate_columns": "Một cột bị lặp lại ở dòng tiêu đề",
    "empty_file": "Tệp rỗng",
    "file_too_large": "Tệp quá lớn",
    "invalid_course_header": "Thông tin khóa học không hợp lệ",
    "missing_columns": "Thiếu cột bắt buộc",
    "no_data_rows": "Tệp không có dòng số liệu",
    "no_header": "Không tìm thấy dòng tiêu đề",
    "sheet_not_found": "Không có trang tính này",
    "unloadable_value": "Có giá trị không lưu được",
    "unreadable": "Không đọc được tệp",
    "unsafe_file_name": "Tên tệp không an toàn",
    "unsupported_format": "Định dạng tệp không được hỗ trợ",
    "zip_bomb": "Tệp nén bất thường",
    # one row
    "agency_not_registered": "Đơn vị không có trong danh mục đơn vị của kỳ báo cáo",
    "ambiguous_date": "Ngày không rõ ràng, ghi năm đủ 4 chữ số",
    "ambiguous_province": "Tên tỉnh không rõ ràng, ghi mã tỉnh",
    "duplicate_row": "Dòng bị trùng với một dòng trước đó",
    "empty": "Thiếu giá trị",
    "end_before_start": "Ngày kết thúc trước ngày bắt đầu",
    "future_date": "Ngày ở tương lai",
    "invalid_bool": "Giá trị phải là có/không",
    "invalid_character": "Ô có ký tự không hợp lệ",
    "invalid_date": "Ngày không tồn tại",
    "invalid_flag": "Giá trị phải là 0 hoặc 1",
    "invalid_national_id": "Số CCCD không hợp lệ",
    "invalid_period": "Kỳ báo cáo không hợp lệ",
    "invalid_status": "Trạng thái phải là 0, 1 hoặc 2",
    "invalid_timestamp": "Thời điểm không hợp lệ",
    "malformed_date": "Ngày sai định dạng (dd/mm/yyyy)",
    "malformed_number": "Số sai định dạng",
    "malformed_period": "Kỳ báo cáo sai định dạng",
    "malformed_row": "Dòng không đọc được",
    "malformed_timestamp": "Thời điểm sai định dạng",
    "missing_identifier": "Thiếu số CCCD và mã cán bộ",
    "missing_task_code": "Thiếu mã nhiệm vụ",
    "missing_value": "Thiếu giá trị bắt buộc",
    "negative_value": "Giá trị không được âm",
    "not_integer": "Giá trị phải là số nguyên",
    "not_whole_number": "Giá trị phải là số nguyên",
    "out_of_range": "Giá trị nằm ngoài khoảng cho phép",
    "province_not_valid_for_period": "Mã tỉnh không đúng với thời kỳ (trước/từ 01/07/2025)",
    "published_after_stat_date": "Ngày đăng sau ngày thống kê",
    "stat_date_mismatch": "Ngày thống kê không đúng ngày yêu cầu",
    "submitted_before_period": "Ngày báo cáo trước kỳ báo cáo",
    "unknown_agency_kind": "Loại đơn vị không hợp lệ",
    "unknown_category": "Đối tượng không hợp lệ",
    "unknown_language": "Mã ngôn ngữ không hợp lệ",
    "unknown_measure": "Mã chỉ tiêu không hợp lệ",
    "unknown_province": "Mã tỉnh không hợp lệ",
    "unknown_reporting_mode": "Chế độ báo cáo không hợp lệ",
    "valid_to_before_valid_from": "Ngày hết hiệu lực trước ngày bắt đầu hiệu lực",
    "visitors_exceed_views": "Số người truy cập lớn hơn số lượt xem",
}
DEFAULT_VI = "Dữ liệu không hợp lệ"

HEADER = ("row", "column", "column_vi", "value", "reason_code", "reason_vi", "message")
HEADER_VI = ("Dòng", "Cột", "Tên cột", "Giá trị", "Mã lỗi", "Lý do", "Chi tiết (tiếng Anh)")


@dataclass(frozen=True)
class FeedbackRow:
    row: int | None
    column: str | None
    column_vi: str | None
    value: str | None
    reason_code: str
    message: str

    @property
    def reason_vi(self) -> str:
        return REASON_VI.get(self.reason_code, DEFAULT_VI)

    def cells(self) -> tuple[str, ...]:
        return tuple(
            neutralise(c)
            for c in (
                "" if self.row is None else str(self.row),
                self.column or "",
                self.column_vi or "",
                self.value or "",
                self.reason_code,
                self.reason_vi,
                self.message,
            )
        )


@dataclass(frozen=True)
class FeedbackFiles:
    xlsx: Path
    csv: Path


def neutralise(text: str) -> str:
    """The cell text made inert for spreadsheets (OWASP CSV injection rule)."""
    if text and text.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_stem(original_name: str, limit: int = 60) -> str:
    """An ASCII file-name stem derived from an untrusted original name."""
    stem = original_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem.strip(".") else stem
    folded = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_only).strip("_-")
    return cleaned[:limit] or "file"


def column_headers(source: str) -> dict[str, str]:
    """Canonical column name -> Vietnamese header for a source (course header fields too)."""
    from planwh.ingest.contracts import CONTRACTS

    contract = CONTRACTS[source]
    columns = list(contract.columns) + list(getattr(contract, "course_header", None) or ())
    return {c.name: c.vi_header for c in columns if getattr(c, "vi_header", None)}


def vietnamese_header(source: str, column: str | None) -> str | None:
    if not column:
        return None
    headers = column_headers(source)
    parts = [p.strip() for p in column.split(",")]
    named = [headers.get(p, "") for p in parts]
    return ", ".join(named) if any(named) else None


def rows_from_quarantine(conn: psycopg.Connection, source: str, file_id: int) -> Iterator[FeedbackRow]:
    """The file's whole-file reason if it was rejected, then its problems from quarantine.

    Call inside a transaction (the rows are fetched through a server-side cursor)."""
    status = conn.execute(
        "select status, reason_code, reason from landing.files where file_id = %s", (file_id,)
    ).fetchone()
    if status and status[0] == "rejected":
        yield FeedbackRow(None, None, None, None, status[1], status[2] or "")
    # A server-side cursor keeps a file with a million problems out of memory; it needs the
    # caller to be inside a transaction.
    with conn.cursor(name=f"feedback_{file_id}") as cur:
        cur.execute(
            """
            select row_number, column_name, value, reason_code, message
            from quarantine.rejected_rows where file_id = %s
            order by row_number nulls first, column_name
            """,
            (file_id,),
        )
        for row_number, column, value, code, message in cur:
            yield FeedbackRow(row_number, column, vietnamese_header(source, column), value, code, message)


def write_feedback(
    feedback_dir: Path, file_id: int | str, original_name: str, rows: Iterable[FeedbackRow]
) -> FeedbackFiles | None:
    """Write ``<file_id>-<stem>.feedback.xlsx`` and ``.csv``; None when there is nothing to say."""
    import xlsxwriter

    feedback_dir.mkdir(parents=True, exist_ok=True)
    base = f"{file_id}-{safe_stem(original_name)}.feedback"
    xlsx_path = feedback_dir / f"{base}.xlsx"
    csv_path = feedback_dir / f"{base}.csv"
    count = 0
    workbook = xlsxwriter.Workbook(
        str(xlsx_path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
         "strings_to_urls": False},
    )
    try:
        sheet = workbook.add_worksheet("feedback")
        bold = workbook.add_format({"bold": True})
        for col, (english, vietnamese) in enumerate(zip(HEADER, HEADER_VI, strict=True)):
            sheet.write_string(0, col, f"{vietnamese} / {english}", bold)
        for col, width in enumerate((8, 18, 18, 24, 24, 40, 90)):
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        # Excel reads CSV with a BOM as UTF-8; without it, Vietnamese text comes out garbled.
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([f"{v} / {e}" for e, v in zip(HEADER, HEADER_VI, strict=True)])
            for item in rows:
                cells = item.cells()
                writer.writerow(cells)
                count += 1
                if count < XLSX_MAX_ROWS - 1:
                    for col, cell in enumerate(cells):
                        sheet.write_string(count, col, cell[:XLSX_MAX_CELL])
                elif count == XLSX_MAX_ROWS - 1:
                    sheet.write_string(count, 0, "more problems than a worksheet holds: see the CSV file")
    finally:
        workbook.close()
    if count == 0:
        xlsx_path.unlink(missing_ok=True)
        csv_path.unlink(missing_ok=True)
        return None
    return FeedbackFiles(xlsx=xlsx_path, csv=csv_path)


def format_table(rows: Iterable[FeedbackRow], limit: int = 500) -> Iterator[str]:
    """Lines of a plain-text table of problems for a terminal (at most ``limit`` rows)."""
    shown = 0
    hidden = 0
    for item in rows:
        if shown >= limit:
            hidden += 1
            continue
        # The message already names the row, the column and the value; repr() in it keeps
        # control characters from reaching the terminal.
        message = item.message if item.row is not None else f"whole file: {item.message}"
        yield f"  {item.reason_code}: {message!s} [{item.reason_vi}]".replace("\x1b", "\\x1b")
        shown += 1
    if hidden:
        yield f"  ... and {hidden} more problems"
