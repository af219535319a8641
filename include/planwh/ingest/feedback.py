"""Feedback files for senders: every problem in a file, as XLSX and CSV they can open.

A provincial clerk reads them, so Vietnamese comes first: each problem's message says, in
Vietnamese, where it is (row, column as the sender wrote its header), what is wrong and how to fix
it; the English follows in its own column. The XLSX opens with a summary (rows in = loaded +
rejected + skipped, which rows were skipped as not data, total rows compared, sheets not read);
both files list, in one line, the rows skipped, then every problem: errors (the row was not
loaded) and warnings (the row was loaded; e.g. a total row that does not add up).

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
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from planwh.ingest.contracts import SOURCE_TITLES
from planwh.ingest.form_layout import describe_ranges

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
    "formula_error": "Công thức trong ô bị lỗi",
    "formula_without_value": "Công thức chưa được tính, tệp không lưu kết quả",
    "fraction_not_count": "Ghi phân số thay cho số lượng",
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
    "percentage_not_count": "Ghi tỷ lệ phần trăm thay cho số lượng",
    "province_not_valid_for_period": "Mã tỉnh không đúng với thời kỳ (trước/từ 01/07/2025)",
    "published_after_stat_date": "Ngày đăng sau ngày thống kê",
    "stat_date_mismatch": "Ngày thống kê không đúng ngày yêu cầu",
    "submitted_before_period": "Ngày báo cáo trước kỳ báo cáo",
    "total_mismatch": "Dòng tổng không khớp với tổng các dòng số liệu",
    "unknown_agency_kind": "Loại đơn vị không hợp lệ",
    "unknown_category": "Đối tượng không hợp lệ",
    "unknown_language": "Mã ngôn ngữ không hợp lệ",
    "unknown_measure": "Mã chỉ tiêu không hợp lệ",
    "unknown_province": "Mã tỉnh không hợp lệ",
    "unknown_reporting_mode": "Chế độ báo cáo không hợp lệ",
    "valid_to_before_valid_from": "Ngày hết hiệu lực trước ngày bắt đầu hiệu lực",
    "visitors_exceed_views": "Số người truy cập lớn hơn số lượt xem",
    # not a problem: the line that lists the rows skipped as not data
    "skipped_rows": "Các dòng không phải số liệu, đã bỏ qua",
}
DEFAULT_VI = "Dữ liệu không hợp lệ"

HEADER = ("row", "column", "header in the file", "value", "reason code", "problem and how to fix it",
          "details (English)", "severity")
HEADER_VI = ("Dòng", "Cột (mã)", "Tên cột trong tệp", "Giá trị", "Mã lỗi", "Lỗi và cách sửa",
             "Chi tiết (tiếng Anh)", "Mức độ")
SEVERITY_TEXT = {
    "error": "lỗi: dòng không được nạp / error: row not loaded",
    "warning": "cảnh báo: dòng vẫn được nạp / warning: row loaded",
    "file": "cả tệp bị từ chối / whole file rejected",
    "skipped": "bỏ qua / skipped",
}


@dataclass(frozen=True)
class FeedbackRow:
    row: int | None
    column: str | None
    column_vi: str | None  # the column's header as the sender wrote it (else the contract's Vietnamese one)
    value: str | None
    reason_code: str
    message: str
    message_vi: str | None = None
    severity: str = "error"  # error | warning | file (the whole file rejected) | skipped

    @property
    def reason_vi(self) -> str:
        return REASON_VI.get(self.reason_code, DEFAULT_VI)

    @property
    def text_vi(self) -> str:
        """The Vietnamese message, or the short phrase for the reason when there is none."""
        return self.message_vi or self.reason_vi

    def cells(self) -> tuple[str, ...]:
        return tuple(
            neutralise(c)
            for c in (
                "" if self.row is None else str(self.row),
                self.column or "",
                self.column_vi or "",
                self.value or "",
                self.reason_code,
                self.text_vi,
                self.message,
                SEVERITY_TEXT.get(self.severity, self.severity),
            )
        )


@dataclass
class FeedbackSummary:
    """What happened to a file as a whole, for the top of the feedback and ``planwh check``."""

    file_name: str
    source: str | None
    status: str  # loaded | checked | rejected
    sheet: str | None = None
    rows_in: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    rows_skipped: int | None = None
    skipped: list = field(default_factory=list)  # (kind, first, last, rows)
    warnings: int = 0
    totals_checked: int = 0
    reason_code: str | None = None
    reason: str | None = None
    reason_vi: str | None = None
    other_sheets: list[tuple[str, bool]] = field(default_factory=list)
    course_sheet: str | None = None

    def skipped_row(self) -> FeedbackRow | None:
        if not self.skipped:
            return None
        return FeedbackRow(
            None, None, None, None, "skipped_rows",
            f"skipped, not data: {describe_ranges(self.skipped, 'en')}",
            f"Bỏ qua, không phải số liệu: {describe_ranges(self.skipped)}",
            "skipped",
        )

    def lines(self) -> list[tuple[str, str]]:
        """(Vietnamese, English) lines, most important first."""
        dry = self.status == "checked"
        where = f"Tệp {_quoted(self.file_name)}"
        where_en = self.file_name
        if self.sheet:
            where += f", trang tính {_quoted(self.sheet)}"
            where_en += f", sheet {self.sheet!r}"
        lines = [(where, f"File: {where_en}")]
        if self.source is not None:
            title_en, title_vi = SOURCE_TITLES.get(self.source, (self.source, self.source))
            lines.append((f"Loại số liệu: {title_vi}", f"Kind of data: {title_en} ({self.source})"))
        if self.status == "rejected":
            lines.append((f"CẢ TỆP BỊ TỪ CHỐI: {self.reason_vi or REASON_VI.get(self.reason_code or '', '')}",
                          f"THE WHOLE FILE IS REJECTED: {self.reason} [{self.reason_code}]"))
            lines.append(("Cách xử lý: sửa tệp theo hướng dẫn trên rồi gửi lại.",
                          "What to do: fix the file as said above and send it again."))
            return lines
        load_vi, load_en = ("sẽ được nạp", "would load") if dry else ("đã được nạp", "loaded")
        rej_vi, rej_en = ("sẽ bị từ chối", "would be rejected") if dry else ("bị từ chối", "rejected")
        lines.append((
            f"Kết quả: {self.rows_in} dòng có nội dung = {self.rows_loaded} dòng số liệu {load_vi} + "
            f"{self.rows_rejected} dòng {rej_vi} + {self.rows_skipped} dòng bỏ qua (không phải số liệu).",
            f"Result: {self.rows_in} rows = {self.rows_loaded} {load_en} + {self.rows_rejected} {rej_en} + "
            f"{self.rows_skipped} skipped (not data).",
        ))
        if self.skipped:
            lines.append((f"Bỏ qua: {describe_ranges(self.skipped)}.",
                          f"Skipped: {describe_ranges(self.skipped, 'en')}."))
        if self.totals_checked:
            matched = self.totals_checked - min(self.warnings, self.totals_checked)
            lines.append((
                f"Đối chiếu dòng tổng: {self.totals_checked} dòng tổng đã đối chiếu, {matched} dòng khớp"
                + (f", {self.warnings} cảnh báo không khớp (xem bên dưới)." if self.warnings else "."),
                f"Total rows: {self.totals_checked} compared with the data rows, {matched} match"
                + (f", {self.warnings} warning(s) below." if self.warnings else "."),
            ))
        if self.course_sheet:
            lines.append((f"Thông tin khóa học lấy từ trang tính {_quoted(self.course_sheet)}.",
                          f"Course details read from the sheet {self.course_sheet!r}."))
        others = [name for name, _ in self.other_sheets if name != self.course_sheet]
        if others:
            shown = ", ".join(_quoted(n) + ("" if visible else " (ẩn)") for n, visible in self.other_sheets
                              if n != self.course_sheet)
            shown_en = ", ".join(repr(n) + ("" if visible else " (hidden)") for n, visible in self.other_sheets
                                 if n != self.course_sheet)
            lines.append((f"Không đọc các trang tính khác: {shown}.", f"Other sheets not read: {shown_en}."))
        if self.rows_rejected:
            lines.append((
                "Cách xử lý: sửa các dòng bị từ chối trong tệp gốc theo cột “Lỗi và cách sửa”, rồi gửi lại cả tệp.",
                "What to do: fix the rejected rows in your file as the column 'problem and how to fix it' says, "
                "and send the whole file again.",
            ))
        elif self.warnings:
            lines.append(("Số liệu đã được tiếp nhận; hãy xem lại các cảnh báo và gửi lại tệp nếu cần sửa.",
                          "The data is taken; review the warnings and send the file again if something needs fixing."))
        return lines


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


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


def column_headers(source: str | None) -> dict[str, str]:
    """Canonical column name -> Vietnamese header for a source (course header fields too)."""
    from planwh.ingest.contracts import CONTRACTS

    if source is None:
        return {}
    contract = CONTRACTS[source]
    columns = list(contract.columns) + list(getattr(contract, "course_header", None) or ())
    return {c.name: c.vi_header for c in columns if getattr(c, "vi_header", None)}


def vietnamese_header(source: str | None, column: str | None, written: dict[str, str] | None = None) -> str | None:
    """The header(s) of ``column`` (``a, b`` for a problem on two columns) as the sender wrote them,
    else as the contract names them in Vietnamese."""
    if not column:
        return None
    headers = {**column_headers(source), **(written or {})}
    parts = [p.strip() for p in column.split(",")]
    named = [" ".join(headers.get(p, "").split()) for p in parts]
    return ", ".join(named) if any(named) else None


def rows_from_quarantine(conn: psycopg.Connection, source: str | None, file_id: int,
                         headers: dict[str, str] | None = None) -> Iterator[FeedbackRow]:
    """The file's whole-file reason if it was rejected, then its problems from quarantine (errors
    and warnings, by row). ``headers`` are the file's headers as written, by canonical column.

    Call inside a transaction (the rows are fetched through a server-side cursor)."""
    status = conn.execute(
        "select status, reason_code, reason, reason_vi from landing.files where file_id = %s", (file_id,)
    ).fetchone()
    if status and status[0] == "rejected":
        yield FeedbackRow(None, None, None, None, status[1], status[2] or "", status[3], "file")
    # A server-side cursor keeps a file with a million problems out of memory; it needs the
    # caller to be inside a transaction.
    with conn.cursor(name=f"feedback_{file_id}") as cur:
        cur.execute(
            """
            select row_number, column_name, value, reason_code, message, message_vi, severity
            from quarantine.rejected_rows where file_id = %s
            order by row_number nulls first, column_name
            """,
            (file_id,),
        )
        for row_number, column, value, code, message, message_vi, severity in cur:
            yield FeedbackRow(row_number, column, vietnamese_header(source, column, headers), value, code, message,
                              message_vi, severity)


TITLE = ("PHẢN HỒI KẾT QUẢ KIỂM TRA TỆP SỐ LIỆU", "Feedback on the data file")
WIDTHS = (8, 16, 22, 22, 22, 70, 60, 22)


class _XlsxFeedback:
    """The feedback workbook, written row by row (constant memory): the summary, then the table."""

    def __init__(self, path: Path, summary: FeedbackSummary | None):
        import xlsxwriter

        self.path = path
        self.book = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
             "strings_to_urls": False},
        )
        self.sheet = self.book.add_worksheet("Phản hồi")
        bold = self.book.add_format({"bold": True})
        wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.wrap = wrap
        for col, width in enumerate(WIDTHS):
            self.sheet.set_column(col, col, width)
        row = 0
        if summary is not None:
            self.sheet.write_string(row, 0, f"{TITLE[0]} / {TITLE[1]}", bold)
            row += 1
            for vietnamese, english in summary.lines():
                self.sheet.write_string(row, 0, neutralise(vietnamese)[:XLSX_MAX_CELL])
                self.sheet.write_string(row + 1, 0, neutralise(english)[:XLSX_MAX_CELL])
                row += 2
            row += 1
        for col, (english, vietnamese) in enumerate(zip(HEADER, HEADER_VI, strict=True)):
            self.sheet.write_string(row, col, f"{vietnamese} / {english}", bold)
        self.sheet.freeze_panes(row + 1, 0)
        self.next_row = row + 1
        self.count = 0

    def add(self, cells: tuple[str, ...]) -> None:
        self.count += 1
        if self.next_row < XLSX_MAX_ROWS - 1:
            for col, cell in enumerate(cells):
                self.sheet.write_string(self.next_row, col, cell[:XLSX_MAX_CELL], self.wrap if col in (5, 6) else None)
        elif self.next_row == XLSX_MAX_ROWS - 1:
            self.sheet.write_string(self.next_row, 0, "còn nữa, xem tệp CSV / more problems than a worksheet holds: "
                                                      "see the CSV file")
        self.next_row += 1

    def close(self) -> None:
        self.book.close()


def _with_skipped(rows: Iterable[FeedbackRow], summary: FeedbackSummary | None) -> Iterator[FeedbackRow]:
    """The whole-file reason (if any), the line of skipped rows, then the problems."""
    skipped = summary.skipped_row() if summary is not None else None
    for item in rows:
        if skipped is not None and item.severity != "file":
            yield skipped
            skipped = None
        yield item
    if skipped is not None:
        yield skipped


def write_feedback(
    feedback_dir: Path, file_id: int | str, original_name: str, rows: Iterable[FeedbackRow],
    summary: FeedbackSummary | None = None,
) -> FeedbackFiles | None:
    """Write ``<file_id>-<stem>.feedback.xlsx`` and ``.csv``; None when there is nothing to say."""
    feedback_dir.mkdir(parents=True, exist_ok=True)
    base = f"{file_id}-{safe_stem(original_name)}.feedback"
    xlsx_path = feedback_dir / f"{base}.xlsx"
    csv_path = feedback_dir / f"{base}.csv"
    problems = 0
    workbook = _XlsxFeedback(xlsx_path, summary)
    try:
        # Excel reads CSV with a BOM as UTF-8; without it, Vietnamese text comes out garbled.
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([f"{v} / {e}" for e, v in zip(HEADER, HEADER_VI, strict=True)])
            for item in _with_skipped(rows, summary):
                cells = item.cells()
                writer.writerow(cells)
                workbook.add(cells)
                problems += item.severity != "skipped"
    finally:
        workbook.close()
    if problems == 0:
        xlsx_path.unlink(missing_ok=True)
        csv_path.unlink(missing_ok=True)
        return None
    return FeedbackFiles(xlsx=xlsx_path, csv=csv_path)


def write_feedback_xlsx(path: Path, rows: Iterable[FeedbackRow], summary: FeedbackSummary) -> Path:
    """The feedback XLSX alone, at ``path`` (``planwh check``), written even for a clean file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = _XlsxFeedback(path, summary)
    try:
        for item in _with_skipped(rows, summary):
            workbook.add(item.cells())
    finally:
        workbook.close()
    return path


def _printable(text: str) -> str:
    # Messages quote the sender's values with repr() or “”; a terminal escape must not get through.
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def format_table(rows: Iterable[FeedbackRow], limit: int = 500) -> Iterator[str]:
    """Lines for a terminal: each problem in Vietnamese, then in English with its reason code,
    errors before warnings (at most ``limit`` problems)."""
    groups: dict[str, list[FeedbackRow]] = {"file": [], "error": [], "warning": []}
    for item in rows:
        groups.setdefault(item.severity, []).append(item)
    titles = {
        "file": ("Cả tệp bị từ chối", "The whole file is rejected"),
        "error": ("Lỗi, dòng không được nạp", "Errors, rows not loaded"),
        "warning": ("Cảnh báo, dòng vẫn được nạp", "Warnings, rows still loaded"),
    }
    shown = hidden = 0
    for severity, items in groups.items():
        if not items or severity == "skipped":
            continue
        vi, en = titles.get(severity, (severity, severity))
        yield f"{vi} / {en}:"
        for item in items:
            if shown >= limit:
                hidden += 1
                continue
            yield f"  {_printable(item.text_vi)}"
            yield f"      {_printable(item.message)} [{item.reason_code}]"
            shown += 1
    if hidden:
        yield f"  ... và {hidden} lỗi khác / and {hidden} more problems"
