"""The report form an agency downloads for one period: an official-looking XLSX, pre-filled.

Layout (sheet "Biểu 01", then "Hướng dẫn", the instructions):

* the issuing body and the national motto, the form number, the title with the period, the
  deadline, the unit line (rows 1-6);
* a two-row header (rows 7-8: group labels over "Mã tỉnh", "Mã đơn vị", ..., "Giá trị", "Ghi chú")
  and a row of column numbers (row 9);
* one row per measure the agency reports, then one row per plan task it leads (annual form only:
  measure ``task_status`` with the task's code), numbered in the STT column; the agency's province
  code, code, name and the period are written once in cells merged down the rows, as offices do;
* a note and the signature block.

The sender fills the yellow cells only: the values (data validation: whole numbers from the
measure's minimum, 0/1 for yes-no measures, 0/1/2 for task statuses, each with its Vietnamese input
message and error), an optional note, and the report's date once. The other cells are locked
(the sheet is protected without a password; rows may still be deleted). Everything the readers
need is in it: ``planwh check`` and the loader read it back as a report form (title, header,
numbering, note and signature rows skipped), and a filled form loads with no problem line.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from planwh.web.obligations import FormFacts

HEADER_TOP = ("STT", "Thông tin đơn vị", None, None, "Kỳ báo cáo", "Chỉ tiêu, nhiệm vụ", None, None,
              "Kết quả thực hiện", None, "Ngày báo cáo")
HEADER_BOTTOM = (None, "Mã tỉnh", "Mã đơn vị", "Tên đơn vị", None, "Mã chỉ tiêu", "Tên chỉ tiêu, nhiệm vụ",
                 "Mã nhiệm vụ", "Giá trị", "Ghi chú", None)
NUMBERING = ("A", "B", "C", "D", "E", "1", "2", "3", "4", "5", "6")
WIDTHS = (5, 8, 14, 30, 12, 24, 60, 10, 12, 30, 14)
FIRST_DATA_ROW = 9  # 0-based: the sheet's row 10
VALUE_COL, NOTE_COL, DATE_COL = 8, 9, 10


def period_title(period_kind: str, start: date) -> tuple[str, str]:
    """("NĂM 2025", "Năm 2025") or ("QUÝ 1 NĂM 2025", "Quý 1/2025")."""
    if period_kind == "year":
        return f"NĂM {start.year}", f"Năm {start.year}"
    quarter = (start.month - 1) // 3 + 1
    return f"QUÝ {quarter} NĂM {start.year}", f"Quý {quarter}/{start.year}"


def form_file_name(facts: FormFacts) -> str:
    """An ASCII name for the download (the agency code comes from the register)."""
    from planwh.ingest.feedback import safe_stem

    return f"bieu-bao-cao_{safe_stem(facts.agency_code)}_{facts.period}.xlsx"


def build_form(facts: FormFacts, *, created: datetime) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    book.set_properties({"title": f"Biểu báo cáo Đề án 1079 - {facts.agency_code} - {facts.period}",
                         "author": "planwh", "created": created})
    f = _Formats(book)
    sheet = book.add_worksheet("Biểu 01")
    _form_sheet(sheet, f, facts)
    _instructions(book.add_worksheet("Hướng dẫn"), f, facts)
    sheet.activate()
    book.close()
    return buf.getvalue()


class _Formats:
    def __init__(self, book):
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"}
        cell = {**base, "border": 1, "text_wrap": True}
        self.body = book.add_format({**base, "bold": True, "align": "center"})
        self.motto = book.add_format({**base, "bold": True, "align": "center"})
        self.motto_sub = book.add_format({**base, "bold": True, "italic": True, "align": "center"})
        self.plain = book.add_format(base)
        self.italic = book.add_format({**base, "italic": True})
        self.italic_center = book.add_format({**base, "italic": True, "align": "center"})
        self.title = book.add_format({**base, "bold": True, "font_size": 14, "align": "center", "text_wrap": True})
        self.header = book.add_format({**cell, "bold": True, "align": "center", "bg_color": "#DDEBF7"})
        self.numbering = book.add_format({**cell, "italic": True, "align": "center", "font_size": 10})
        self.locked = book.add_format({**cell, "bg_color": "#F2F2F2"})
        self.locked_center = book.add_format({**cell, "align": "center", "bg_color": "#F2F2F2"})
        self.code = book.add_format({**cell, "bg_color": "#F2F2F2", "font_name": "Consolas", "font_size": 10})
        self.value = book.add_format({**cell, "locked": False, "bg_color": "#FFF2CC", "num_format": "#,##0"})
        self.note = book.add_format({**cell, "locked": False, "bg_color": "#FFF2CC"})
        self.date = book.add_format({**cell, "locked": False, "bg_color": "#FFF2CC", "num_format": "dd/mm/yyyy",
                                     "align": "center"})
        self.section = book.add_format({**base, "bold": True, "font_size": 13})


def _form_sheet(sheet, f: _Formats, facts: FormFacts) -> None:
    title, period_text = period_title(facts.period_kind, facts.period_start)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.set_column(5, 5, WIDTHS[5], f.code)
    last = len(WIDTHS) - 1
    # the issuing body and the national motto
    sheet.merge_range(0, 0, 0, 3, f"UBND {facts.province_name.upper()}", f.body)
    sheet.merge_range(0, 6, 0, last, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", f.motto)
    sheet.merge_range(1, 0, 1, 3, facts.agency_name.upper(), f.body)
    sheet.merge_range(1, 6, 1, last, "Độc lập - Tự do - Hạnh phúc", f.motto_sub)
    sheet.write_string(2, 0, "Biểu số 01/BC-1079", f.italic)
    sheet.set_row(3, 36)
    sheet.merge_range(3, 0, 3, last, f"BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN TRUYỀN THÔNG VỀ QUYỀN CON NGƯỜI {title}",
                      f.title)
    deadline = f"; hạn gửi: {facts.deadline:%d/%m/%Y}" if facts.deadline else ""
    sheet.merge_range(4, 0, 4, last, f"(Kèm theo Quyết định số 1079/QĐ-TTg ngày 14/9/2022; kỳ báo cáo: "
                                     f"{period_text}{deadline})", f.italic_center)
    sheet.write_string(5, 8, "Đơn vị tính: theo từng chỉ tiêu", f.italic)
    # the two-row header and the column numbers
    for col, text in enumerate(HEADER_TOP):
        if text is not None and HEADER_BOTTOM[col] is None:
            sheet.merge_range(6, col, 7, col, text, f.header)
    for first, last_col in ((1, 3), (5, 7), (8, 9)):
        sheet.merge_range(6, first, 6, last_col, HEADER_TOP[first], f.header)
    for col, text in enumerate(HEADER_BOTTOM):
        if text is not None:
            sheet.write_string(7, col, text, f.header)
    for col, text in enumerate(NUMBERING):
        sheet.write_string(8, col, f"({text})" if text.isdigit() else text, f.numbering)
    sheet.set_row(6, 22)
    sheet.set_row(7, 34)
    # one row per measure, then per task
    rows: list[tuple[str, str, str | None, dict]] = []
    for code, name, kind, minimum, maximum in facts.measures:
        rows.append((code, name, None, _value_validation(kind, minimum, maximum)))
    for task_code, task_title in facts.tasks:
        rows.append(("task_status", f"Tình trạng nhiệm vụ {task_code}: {task_title}", task_code,
                     _value_validation("status", 0, 2)))
    first = FIRST_DATA_ROW
    end = first + len(rows) - 1
    for offset, (code, name, task_code, validation) in enumerate(rows):
        row = first + offset
        sheet.write_number(row, 0, offset + 1, f.locked_center)
        sheet.write_string(row, 5, code, f.code)
        sheet.write_string(row, 6, name, f.locked)
        if task_code is not None:
            sheet.write_string(row, 7, task_code, f.locked_center)
        else:
            sheet.write_blank(row, 7, None, f.locked)
        sheet.write_blank(row, VALUE_COL, None, f.value)
        sheet.write_blank(row, NOTE_COL, None, f.note)
        sheet.data_validation(row, VALUE_COL, row, VALUE_COL, validation)
        sheet.set_row(row, 32 if len(name) > 60 else 20)
    identity = (facts.province_code, facts.agency_code, facts.agency_name, period_text)
    for col, text in zip((1, 2, 3, 4), identity, strict=True):
        if end > first:
            sheet.merge_range(first, col, end, col, text, f.locked_center if col != 3 else f.locked)
        else:
            sheet.write_string(first, col, text, f.locked_center if col != 3 else f.locked)
    if end > first:
        sheet.merge_range(first, DATE_COL, end, DATE_COL, None, f.date)
    else:
        sheet.write_blank(first, DATE_COL, None, f.date)
    sheet.data_validation(first, DATE_COL, first, DATE_COL, {
        "validate": "date", "criteria": ">=", "value": datetime.combine(facts.period_start, datetime.min.time()),
        "input_title": "Ngày báo cáo", "input_message": "Ngày thủ trưởng ký báo cáo, dạng dd/mm/yyyy",
        "error_title": "Ngày không hợp lệ",
        "error_message": f"Ghi ngày dạng dd/mm/yyyy, không trước ngày {facts.period_start:%d/%m/%Y}",
    })
    # the note and the signature block
    below = end + 2
    sheet.merge_range(below, 0, below, len(WIDTHS) - 1,
                      "Ghi chú: Ghi số liệu vào các ô màu vàng; chỉ tiêu không phát sinh ghi 0; chỉ tiêu đơn vị không "
                      "theo dõi thì xóa cả dòng. Không sửa các ô màu xám.", f.italic)
    sheet.merge_range(below + 2, 7, below + 2, len(WIDTHS) - 1, "......, ngày ..... tháng ..... năm .......",
                      f.italic_center)
    sheet.merge_range(below + 3, 1, below + 3, 3, "NGƯỜI LẬP BIỂU", f.body)
    sheet.merge_range(below + 3, 7, below + 3, len(WIDTHS) - 1, "THỦ TRƯỞNG ĐƠN VỊ", f.body)
    sheet.merge_range(below + 4, 1, below + 4, 3, "(Ký, ghi rõ họ tên)", f.italic_center)
    sheet.merge_range(below + 4, 7, below + 4, len(WIDTHS) - 1, "(Ký, ghi rõ họ tên, đóng dấu)", f.italic_center)
    sheet.freeze_panes(FIRST_DATA_ROW, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(6, 8)
    sheet.protect("", {"delete_rows": True, "format_columns": True, "format_rows": True, "select_locked_cells": True,
                       "select_unlocked_cells": True})


def _value_validation(kind: str, minimum: int | None, maximum: int | None) -> dict:
    if kind == "flag":
        return {"validate": "list", "source": ["0", "1"], "input_title": "Có / không",
                "input_message": "Ghi 1 nếu có, 0 nếu không",
                "error_title": "Giá trị không hợp lệ", "error_message": "Chỉ ghi 1 (có) hoặc 0 (không)"}
    if kind == "status":
        return {"validate": "list", "source": ["0", "1", "2"], "input_title": "Tình trạng nhiệm vụ",
                "input_message": "0 = chưa triển khai, 1 = đang thực hiện, 2 = hoàn thành",
                "error_title": "Giá trị không hợp lệ", "error_message": "Chỉ ghi 0, 1 hoặc 2"}
    low = int(minimum or 0)
    rule = {"validate": "integer", "criteria": ">=", "value": low} if maximum is None else {
        "validate": "integer", "criteria": "between", "minimum": low, "maximum": int(maximum)}
    return {**rule, "input_title": "Số lượng", "input_message": f"Ghi số nguyên, không nhỏ hơn {low}; "
            "không ghi chữ, dấu % hay phân số",
            "error_title": "Giá trị không hợp lệ", "error_message": f"Phải là số nguyên không nhỏ hơn {low}"}


def _instructions(sheet, f: _Formats, facts: FormFacts) -> None:
    sheet.set_column(0, 0, 110)
    _, period_text = period_title(facts.period_kind, facts.period_start)
    lines = [
        ("HƯỚNG DẪN GHI BIỂU BÁO CÁO", f.section),
        (f"Biểu này do hệ thống tiếp nhận tạo riêng cho {facts.agency_name} (mã {facts.agency_code}), "
         f"kỳ báo cáo {period_text}.", f.plain),
        ("1. Chỉ ghi vào các ô màu vàng ở trang tính “Biểu 01”: cột Giá trị (số nguyên), cột Ghi chú (nếu cần) "
         "và ô Ngày báo cáo (một lần, dạng dd/mm/yyyy).", f.plain),
        ("2. Chỉ tiêu không phát sinh trong kỳ thì ghi 0; chỉ tiêu đơn vị không theo dõi thì xóa cả dòng. "
         "Dòng để trống cột Giá trị sẽ bị từ chối.", f.plain),
        ("3. Chỉ tiêu có/không: ghi 1 (có) hoặc 0 (không). Tình trạng nhiệm vụ: 0 chưa triển khai, "
         "1 đang thực hiện, 2 hoàn thành.", f.plain),
        ("4. Không sửa các ô màu xám (mã tỉnh, mã đơn vị, kỳ báo cáo, mã chỉ tiêu, mã nhiệm vụ).", f.plain),
        ("5. Lưu tệp dạng Excel Workbook (.xlsx) rồi tải lên trang tiếp nhận; kết quả kiểm tra hiện ngay.", f.plain),
        ("", f.plain),
        ("Instructions (English): fill in the yellow cells only (values as whole numbers, an optional note, the "
         "report's date once); write 0 for a measure with nothing to report, delete the row of a measure your "
         "agency does not track; save as .xlsx and upload it on the sender page.", f.italic),
    ]
    for row, (text, fmt) in enumerate(lines):
        sheet.write_string(row, 0, text, fmt)
