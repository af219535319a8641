"""Readers: every kind of file a provincial office sends, turned into raw rows or one clear rejection."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from planwh.ingest.contracts import CONTRACTS
from planwh.ingest.parsing import parse_date, parse_int, parse_number, parse_period
from planwh.ingest.readers import (
    ROW_ERROR_KEY,
    FileRejected,
    RawRow,
    ReadResult,
    detect_format,
    match_header,
    read_file,
)

SUBMISSION_HEADER = [
    "Mã tỉnh",
    "Mã đơn vị",
    "Tên đơn vị",
    "Kỳ báo cáo",
    "Mã chỉ tiêu",
    "Giá trị",
    "Ghi chú",
    "Ngày báo cáo",
]
SUBMISSION_ROW = [
    "49",
    "STTTT",
    "Sở Thông tin và Truyền thông",
    "2024",
    "products_total",
    "1.234",
    "",
    "30/11/2024",
]
ROSTER_HEADER = [
    "STT",
    "Họ và tên",
    "Số CCCD",
    "Mã cán bộ",
    "Năm sinh",
    "Giới tính",
    "Mã đơn vị",
    "Chức vụ",
    "Đối tượng",
    "Có mặt",
    "Hoàn thành",
]
ROSTER_ROW = [
    "1",
    "Nguyễn Thị Hương",
    "049190001234",
    "",
    "1990",
    "Nữ",
    "STTTT",
    "Chuyên viên",
    "Cán bộ làm công tác quyền con người",
    "x",
    "x",
]


def all_rows(result: ReadResult) -> list[RawRow]:
    return [row for chunk in result.rows for row in chunk]


def rejection(path: Path, source: str = "submissions", **kwargs) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        read_file(path, source, **kwargs)
    return info.value


CP1258_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows does for CP1258: letters with a tone become the base letter (which may
    carry a circumflex, breve or horn) followed by a combining tone mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in CP1258_TONES))
            out.append((base + "".join(c for c in parts if c in CP1258_TONES)).encode("cp1258"))
    return b"".join(out)


def encode(text: str, encoding: str) -> bytes:
    return to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)


def write_csv(path: Path, lines: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = "\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n"
    path.write_bytes(encode(text, encoding))
    return path


# ---------------------------------------------------------------- header matching


def test_headers_match_whatever_the_case_accents_and_punctuation() -> None:
    contract = CONTRACTS["submissions"]
    for text in ("Mã tỉnh", "MÃ TỈNH", "ma_tinh", "Mã  tỉnh (*)", "province_code", "Mã tỉnh:", "Ma tinh"):
        assert match_header(text, contract) == "province_code", text
    assert match_header("Giá trị (province-level count)", contract) == "value"
    assert match_header("Giá trị (value)", contract) == "value"
    assert match_header("STT", contract) is None
    assert match_header("page views", CONTRACTS["portal"]) == "page_views"
    assert match_header("Hiệu lực đến", CONTRACTS["agencies"]) == "valid_to"


def test_no_two_columns_of_a_contract_share_a_header() -> None:
    # match_header raises if a label would name two columns of one contract
    for contract in CONTRACTS.values():
        for col in contract.columns:
            for label in (col.name, col.vi_header, *col.aliases):
                if label:
                    assert match_header(label, contract) == col.name


# ---------------------------------------------------------------- XLSX


def submission_workbook(path: Path) -> Path:
    """The file a province really sends: an instruction sheet, a merged title, a two-row header with
    merged cells, a row of column numbers, an agency code merged down its rows, typed dates,
    numbers and percentages, a formula, and trailing blank rows."""
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Hướng dẫn").write(0, 0, "Điền số liệu vào sheet Báo cáo, không sửa tiêu đề")
    ws = wb.add_worksheet("Báo cáo")
    ws.merge_range("A1:I1", "BÁO CÁO KẾT QUẢ THỰC HIỆN KẾ HOẠCH 9034/KH-UBND NĂM 2024")
    for col, label in zip(
        "ABCDEHI",
        [
            "Mã tỉnh (*)",
            "Mã đơn vị",
            "Tên đơn vị",
            "Kỳ báo cáo",
            "Mã chỉ tiêu",
            "Mã nhiệm vụ",
            "Ngày báo cáo",
        ],
        strict=True,
    ):
        ws.merge_range(f"{col}3:{col}4", label)
    ws.merge_range("F3:G3", "Kết quả thực hiện")
    ws.write("F4", "Giá trị")
    ws.write("G4", "Ghi chú")
    ws.write("J3", "Người nhập")
    for col in range(9):
        ws.write(4, col, f"({col + 1})")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    pct_fmt = wb.add_format({"num_format": "0%"})
    ws.merge_range("B6:B9", "STTTT")
    ws.merge_range("C6:C9", "Sở Thông tin và Truyền thông")
    measures = [
        ("products_total", 1234),
        ("products_ethnic_language", 1.125),
        ("fake_news_handled", 0.7),
        ("books_published", None),
    ]
    for i, (measure, value) in enumerate(measures):
        row = 5 + i
        ws.write_number(row, 0, 49)  # a code typed as a number
        ws.write(row, 3, "2024")
        ws.write(row, 4, measure)
        if measure == "fake_news_handled":
            ws.write_number(row, 5, value, pct_fmt)
        elif value is not None:
            ws.write_number(row, 5, value)
        ws.write_datetime(row, 8, dt.datetime(2024, 11, 30), date_fmt)
    ws.write_formula("F9", "=F6+F7", None, 1235.125)
    ws.write("H6", "2.1")
    # a blank row in the middle, then one more row, then trailing blank (formatted) rows
    ws.write_row("A12", [49, "SNV", "Sở Nội vụ", "2024", "press_briefings_held", 4])
    ws.write_datetime(
        "I12", dt.datetime(2024, 11, 29, 14, 30), wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    )
    ws.write_blank("A20", None, date_fmt)
    ws.write("B21", "   ")
    wb.close()
    return path


def test_xlsx_with_title_merged_two_row_header_and_typed_cells(tmp_path: Path) -> None:
    result = read_file(submission_workbook(tmp_path / "bao-cao.xlsx"), "submissions")

    assert (result.format, result.sheet, result.header_row) == ("xlsx", "Báo cáo", 3)
    assert result.columns["value"] == "Giá trị" and result.columns["note"] == "Ghi chú"
    assert result.columns["province_code"] == "Mã tỉnh (*)"
    assert result.unknown_columns == ["Người nhập"]
    rows = all_rows(result)
    # the column-number row and the blank rows are not data; row numbers are the sheet's
    assert [r.row_number for r in rows] == [6, 7, 8, 9, 12]
    assert all(r.sheet == "Báo cáo" for r in rows)
    first, second, third, fourth, last = rows
    assert first.values["province_code"] == "49"
    assert first.values["agency_code"] == "STTTT" and fourth.values["agency_code"] == "STTTT"  # merged down
    assert first.values["value"] == "1234" and parse_number(first.values["value"]) == 1234
    assert first.values["submitted_at"] == "30/11/2024"
    assert first.values["task_code"] == "2.1" and first.values["note"] is None
    # a typed 1.125 must not come back as 1125
    assert parse_number(second.values["value"]) == parse_number("1,125")
    assert third.values["value"] == "70%"
    assert parse_number(fourth.values["value"]) == parse_number("1235,125")  # cached formula result
    assert last.values["submitted_at"] == "29/11/2024 14:30"
    assert parse_date(last.values["submitted_at"]) == dt.date(2024, 11, 29)
    assert last.values["task_code"] is None


def test_xlsx_formula_without_cached_value_is_read_as_its_text(tmp_path: Path) -> None:
    # openpyxl writes formulas without a cached result, as a generator script would
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(SUBMISSION_HEADER)
    ws.append(["49", "STTTT", "Sở TT&TT", "2024", "products_total", 3, None, "30/11/2024"])
    ws.append(["49", "STTTT", "Sở TT&TT", "2024", "books_published", "=F2*2", None, "30/11/2024"])
    wb.save(tmp_path / "formula.xlsx")

    rows = all_rows(read_file(tmp_path / "formula.xlsx", "submissions"))

    assert rows[1].values["value"] == "=F2*2"


def test_xlsx_picks_the_sheet_with_the_header_or_the_one_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "two-sheets.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Danh mục").write_row(0, 0, ["Mã chỉ tiêu", "Tên chỉ tiêu"])
    data = wb.add_worksheet("Số liệu")
    data.write_row(0, 0, SUBMISSION_HEADER)
    data.write_row(1, 0, SUBMISSION_ROW)
    hidden = wb.add_worksheet("Bản cũ")  # a hidden old copy does not compete with the visible sheet
    hidden.write_row(0, 0, SUBMISSION_HEADER)
    hidden.write_row(1, 0, SUBMISSION_ROW)
    hidden.hide()
    wb.close()

    assert read_file(path, "submissions").sheet == "Số liệu"
    assert read_file(path, "submissions", sheet="Số liệu").sheet == "Số liệu"
    err = rejection(path, sheet="Báo cáo")
    assert err.reason_code == "sheet_not_found"
    assert "'Danh mục'" in err.message and "'Số liệu'" in err.message
    assert rejection(path, sheet="Danh mục").reason_code == "no_header"  # one matching column is no header


def test_xlsx_with_two_filled_sheets_is_ambiguous_but_a_blank_template_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "copies.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Mẫu").write_row(0, 0, SUBMISSION_HEADER)
    for name in ("Quý 1", "Quý 2"):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, SUBMISSION_HEADER)
        ws.write_row(1, 0, SUBMISSION_ROW)
    wb.close()
    err = rejection(path)
    assert err.reason_code == "ambiguous_sheet" and "'Quý 1'" in err.message

    single = tmp_path / "template-and-data.xlsx"
    wb = xlsxwriter.Workbook(single)
    template = wb.add_worksheet("Mẫu")
    template.write_row(0, 0, SUBMISSION_HEADER)
    template.write_row(1, 0, [f"({i})" for i in range(1, 9)])
    ws = wb.add_worksheet("Đã điền")
    ws.write_row(0, 0, SUBMISSION_HEADER)
    ws.write_row(1, 0, SUBMISSION_ROW)
    wb.close()
    assert read_file(single, "submissions").sheet == "Đã điền"


def test_xlsx_month_typed_into_a_period_cell_stays_a_month(tmp_path: Path) -> None:
    # Excel stores "11/2024" typed into a cell as the date 1 Nov 2024
    path = tmp_path / "month.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, SUBMISSION_HEADER)
    ws.write_row(1, 0, SUBMISSION_ROW)
    ws.write_datetime(1, 3, dt.datetime(2024, 11, 1), wb.add_format({"num_format": "mm/yyyy"}))
    wb.close()
    (row,) = all_rows(read_file(path, "submissions"))
    assert parse_period(row.values["period"]).code == "2024-11"


def test_xlsx_header_only_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header-only.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet().write_row(0, 0, SUBMISSION_HEADER)
    wb.close()
    result = read_file(path, "submissions")
    assert result.header_row == 1 and all_rows(result) == []


def test_xlsm_is_read_as_data_only(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(plain)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, SUBMISSION_HEADER)
    ws.write_row(1, 0, SUBMISSION_ROW)
    wb.close()
    macro = tmp_path / "bao-cao.xlsm"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(macro, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", b"\0" * 512)

    result = read_file(macro, "submissions")

    assert result.format == "xlsx" and len(all_rows(result)) == 1


def test_xlsx_with_a_misleading_extension_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.dat"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet().write_row(0, 0, SUBMISSION_HEADER)
    wb.close()
    assert read_file(path, "submissions").format == "xlsx"


def test_roster_xlsx_reads_the_course_block_above_the_table(tmp_path: Path) -> None:
    path = tmp_path / "danh-sach.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("DS học viên")
    ws.merge_range("A1:K1", "DANH SÁCH HỌC VIÊN LỚP BỒI DƯỠNG KIẾN THỨC VỀ QUYỀN CON NGƯỜI")
    ws.write("A2", "Mã khóa học: QN-2024-01")
    ws.write("A3", "Tên khóa học:")
    ws.write("C3", "Bồi dưỡng kiến thức, kỹ năng thông tin về quyền con người")
    ws.write("A4", "Đơn vị tổ chức: STTTT")
    ws.write("A5", "Mã tỉnh")
    ws.write_number("B5", 49)
    ws.write("A6", "Từ ngày")
    ws.write_datetime("B6", dt.datetime(2024, 3, 12), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write("C6", "Đến ngày: 14/03/2024")
    ws.write("A7", "Hình thức: Trực tiếp")
    ws.write_row("A9", ROSTER_HEADER)
    ws.write_row("A10", ROSTER_ROW)
    wb.close()

    result = read_file(path, "rosters")

    assert result.header_row == 9
    assert result.course == {
        "course_id": "QN-2024-01",
        "title": "Bồi dưỡng kiến thức, kỹ năng thông tin về quyền con người",
        "organiser_agency_code": "STTTT",
        "province_code": "49",
        "start_date": "12/03/2024",
        "end_date": "14/03/2024",
        "mode": "Trực tiếp",
    }
    assert "STT" in result.unknown_columns
    (row,) = all_rows(result)
    assert row.values["national_id"] == "049190001234" and row.values["staff_id"] is None


def test_roster_without_any_id_column_is_missing_columns(tmp_path: Path) -> None:
    header = [h for h in ROSTER_HEADER if h not in ("Số CCCD", "Mã cán bộ")]
    path = write_csv(tmp_path / "no-ids.csv", [header])
    err = rejection(path, "rosters")
    assert err.reason_code == "missing_columns"
    assert "lacks the column(s) Số CCCD (national_id) or Mã cán bộ (staff_id);" in err.message


def test_zip_bomb_named_xlsx_is_rejected_before_expanding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\0" * (1 << 20)
            for _ in range(24):
                member.write(block)
    assert path.stat().st_size < 200_000

    err = rejection(path)

    assert err.reason_code == "zip_bomb" and "sheet1.xml" in err.message


def test_workbook_larger_than_the_limit_is_a_zip_bomb(tmp_path: Path) -> None:
    path = submission_workbook(tmp_path / "normal.xlsx")
    assert rejection(path, max_uncompressed_bytes=10_000).reason_code == "zip_bomb"


def test_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    good = submission_workbook(tmp_path / "good.xlsx").read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(good[: len(good) // 2])
    assert rejection(path).reason_code == "unreadable"


# ---------------------------------------------------------------- file-level rejections


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bao-cao.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
        ("bao-cao.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
        (
            "bao-cao.xls",
            b"<html><body><table><tr><td>M\xc3\xa3 t\xe1\xbb\x89nh</td></tr></table></body></html>",
        ),
        ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
    ],
)
def test_unsupported_formats(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    err = rejection(path)
    assert err.reason_code == "unsupported_format"
    assert name in err.message


def test_word_document_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    err = rejection(path)
    assert err.reason_code == "unsupported_format" and "Word" in err.message


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \r\n", b"\xff\xfe"])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert rejection(path).reason_code == "empty_file"


def test_csv_of_empty_cells_is_empty(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "commas.csv", [[""] * 8] * 3)
    assert rejection(path).reason_code == "empty_file"


def test_missing_required_column_names_it_in_vietnamese(tmp_path: Path) -> None:
    header = [h for h in SUBMISSION_HEADER if h != "Kỳ báo cáo"]
    path = write_csv(tmp_path / "no-period.csv", [header])
    err = rejection(path)
    assert err.reason_code == "missing_columns"
    assert "Kỳ báo cáo (period)" in err.message


def test_file_without_a_header_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "data-only.csv", [SUBMISSION_ROW, SUBMISSION_ROW])
    err = rejection(path)
    assert err.reason_code == "no_header"
    assert "Mã tỉnh (province_code)" in err.message and "'STTTT'" in err.message


def test_roster_without_a_header_never_echoes_the_people(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", [ROSTER_ROW, ROSTER_ROW])
    err = rejection(path, "rosters")
    assert err.reason_code == "no_header"
    assert "Nguyễn" not in err.message and "049190001234" not in err.message


def test_duplicate_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", [SUBMISSION_HEADER + ["province_code"], SUBMISSION_ROW + ["49"]])
    err = rejection(path)
    assert err.reason_code == "duplicate_columns"
    assert "'Mã tỉnh'" in err.message and "'province_code'" in err.message


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected_encoding"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("cp1258", ",", "cp1258"),  # Excel's plain "CSV" on a Vietnamese Windows
        ("utf-8", ";", "utf-8"),  # Excel where the list separator is ;
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text"
    ],
)
def test_csv_encodings_and_delimiters(
    tmp_path: Path, encoding: str, delimiter: str, expected_encoding: str
) -> None:
    name_row = list(SUBMISSION_ROW)
    name_row[6] = "Đã tổng hợp, gửi Bộ"
    lines = [["BÁO CÁO KẾT QUẢ NĂM 2024"], [], SUBMISSION_HEADER, name_row]
    if delimiter == ",":
        lines[3] = [f'"{c}"' if "," in c else c for c in name_row]
    path = write_csv(tmp_path / "bao-cao.csv", lines, encoding=encoding, delimiter=delimiter)

    result = read_file(path, "submissions")

    assert (result.format, result.encoding, result.delimiter, result.header_row) == (
        "csv",
        expected_encoding,
        delimiter,
        3,
    )
    (row,) = all_rows(result)
    assert row.row_number == 4
    name = row.values["agency_name"]
    assert name == "Sở Thông tin và Truyền thông" and unicodedata.is_normalized("NFC", name)
    assert row.values["note"] == "Đã tổng hợp, gửi Bộ"
    assert row.values["value"] == "1.234"


def test_cp1258_combining_tone_marks_come_back_composed(tmp_path: Path) -> None:
    # CP1258 stores "Hương" as base letters plus combining tone marks
    raw = "Họ và tên,Số CCCD,Mã cán bộ,Năm sinh,Giới tính,Mã đơn vị,Chức vụ,Đối tượng,Có mặt,Hoàn thành\r\n"
    raw += "Nguyễn Thị Hương,049190001234,,1990,Nữ,STTTT,Chuyên viên,other,x,x\r\n"
    path = tmp_path / "roster.csv"
    data = to_cp1258(raw)
    assert "\u0301".encode("cp1258") in data  # the tone marks really are separate characters
    path.write_bytes(data)

    result = read_file(path, "rosters")

    assert result.encoding == "cp1258"
    assert result.columns["full_name"] == "Họ và tên"
    (row,) = all_rows(result)
    assert row.values["full_name"] == unicodedata.normalize("NFC", "Nguyễn Thị Hương")


def test_cp1258_detected_even_when_the_first_lines_are_ascii(tmp_path: Path) -> None:
    lines = ["province_code,agency_code,agency_name,period,measure_code,value,submitted_at"]
    lines += [f"49,A{i},Agency,2024,products_total,1,30/11/2024" for i in range(20_000)]
    lines.append("49,B,Sở Nội vụ,2024,products_total,1,30/11/2024")
    path = tmp_path / "late-accent.csv"
    path.write_bytes(to_cp1258("\r\n".join(lines)))
    result = read_file(path, "submissions")
    assert result.encoding == "cp1258"
    assert all_rows(result)[-1].values["agency_name"] == "Sở Nội vụ"


def test_csv_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "gaps.csv", [SUBMISSION_HEADER, SUBMISSION_ROW, [], [""] * 8, SUBMISSION_ROW, [], []]
    )
    assert [r.row_number for r in all_rows(read_file(path, "submissions"))] == [2, 5]


def test_csv_row_with_an_unquoted_delimiter_is_flagged_not_shifted_silently(tmp_path: Path) -> None:
    bad = list(SUBMISSION_ROW)
    bad[2] = "Sở Thông tin, Truyền thông"
    path = write_csv(tmp_path / "shifted.csv", [SUBMISSION_HEADER, SUBMISSION_ROW, bad])
    good, shifted = all_rows(read_file(path, "submissions"))
    assert ROW_ERROR_KEY not in good.values
    assert "line 3 has 9 fields but the header has 8" in shifted.values[ROW_ERROR_KEY]


def test_csv_unclosed_quote_rejects_the_file(tmp_path: Path) -> None:
    # a quote opened and never closed would otherwise swallow every later line into one value
    lines = [",".join(SUBMISSION_HEADER)] + [",".join(SUBMISSION_ROW)] * 40
    lines.append('49,STTTT,"Sở TT&TT,2024,x,1,,30/11/2024')
    lines += [",".join(SUBMISSION_ROW)] * 5
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_file(path, "submissions")  # the header is fine...
    with pytest.raises(FileRejected) as info:
        all_rows(result)  # ...the damage shows when the rows are read
    assert info.value.reason_code == "unreadable" and "after line 41" in info.value.message


def test_csv_portal_with_english_headers(tmp_path: Path) -> None:
    header = [
        "stat_date",
        "province_code",
        "portal",
        "article_id",
        "url",
        "title",
        "topic",
        "language",
        "published_at",
        "page views",
        "unique visitors",
    ]
    row = [
        "2024-11-30",
        "49",
        "quangnam.gov.vn",
        "1234",
        "https://quangnam.gov.vn/a/1234",
        "Tin",
        "human_rights",
        "vi",
        "2024-11-29T08:00:00+07:00",
        "1.500",
        "800",
    ]
    result = read_file(write_csv(tmp_path / "portal.csv", [header, row]), "portal")
    (got,) = all_rows(result)
    assert parse_int(got.values["page_views"]) == 1500 and got.values["unique_visitors"] == "800"


def test_roster_csv_course_block_with_a_comma_in_the_title(tmp_path: Path) -> None:
    lines = [
        "DANH SÁCH HỌC VIÊN",
        "Mã khóa học:,QN-2024-01",
        "Tên khóa học: Bồi dưỡng kiến thức, kỹ năng về quyền con người",
        "Thời gian: 12/03/2024 - 14/03/2024",
        "Hình thức:,Trực tuyến",
        "",
        ",".join(ROSTER_HEADER),
        ",".join(ROSTER_ROW),
    ]
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")

    result = read_file(path, "rosters")

    assert result.header_row == 7
    assert result.course["course_id"] == "QN-2024-01"
    assert result.course["title"] == "Bồi dưỡng kiến thức, kỹ năng về quyền con người"
    assert (result.course["start_date"], result.course["end_date"]) == ("12/03/2024", "14/03/2024")
    assert result.course["mode"] == "Trực tuyến"
    assert result.course["organiser_agency_code"] is None
    assert len(all_rows(result)) == 1


def test_csv_header_only_has_no_rows(tmp_path: Path) -> None:
    result = read_file(write_csv(tmp_path / "h.csv", [SUBMISSION_HEADER]), "submissions")
    assert result.header_row == 1 and all_rows(result) == []


def test_big_csv_streams_in_chunks_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "49,STTTT,Sở Thông tin và Truyền thông,2024,products_total,{},ghi chú,30/11/2024\n"
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(SUBMISSION_HEADER) + "\n")
        for i in range(300_000):
            f.write(line.format(i))
    size = path.stat().st_size

    tracemalloc.start()
    try:
        result = read_file(path, "submissions", chunk_rows=1_000)
        count = chunks = 0
        last = None
        for chunk in result.rows:
            assert len(chunk) <= 1_000
            chunks += 1
            count += len(chunk)
            last = chunk[-1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 300_000 and chunks == 300
    assert last.row_number == 300_001 and last.values["value"] == "299999"
    assert peak < size / 10, f"peak {peak:,} bytes for a {size:,}-byte file"


# ---------------------------------------------------------------- JSON


def test_json_array_from_a_web_form(tmp_path: Path) -> None:
    records = [
        {
            "province_code": "49",
            "agency_code": "STTTT",
            "agency_name": "Sở TT&TT",
            "period": "2024-Q3",
            "measure_code": "products_total",
            "value": 1.125,
            "submitted_at": "2024-11-30",
            "extra": "x",
        },
        {"Mã tỉnh": None, "agency_code": "STTTT"},
        "not an object",
    ]
    path = tmp_path / "form.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(FileRejected) as info:
        read_file(path, "submissions")
    assert info.value.reason_code == "duplicate_columns"  # "province_code" and "Mã tỉnh" in one file

    del records[1]["Mã tỉnh"]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    result = read_file(path, "submissions")

    assert result.format == "json" and result.unknown_columns == ["extra"]
    first, second, third = all_rows(result)
    assert first.row_number == 1 and parse_number(first.values["value"]) == parse_number("1,125")
    assert second.values["value"] is None and second.values["agency_code"] == "STTTT"
    assert third.row_number == 3 and "not an object" in third.values[ROW_ERROR_KEY]


def test_json_object_with_rows_list(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    row = dict(zip(SUBMISSION_HEADER, SUBMISSION_ROW, strict=True))
    path.write_text(json.dumps({"meta": {"v": 1}, "data": [row, row]}, ensure_ascii=False), encoding="utf-8")
    assert len(all_rows(read_file(path, "submissions"))) == 2


def test_json_roster_with_course_object(tmp_path: Path) -> None:
    doc = {
        "course": {
            "course_id": "QN-2024-01",
            "Tên khóa học": "Bồi dưỡng",
            "organiser_agency_code": "STTTT",
            "province_code": 49,
            "start_date": "2024-03-12",
            "end_date": "2024-03-14",
            "mode": "online",
        },
        "trainees": [
            {
                "full_name": "Trần Văn B",
                "staff_id": "CB-1",
                "birth_year": 1985,
                "gender": "Nam",
                "agency_code": "STTTT",
                "position": None,
                "category": "info_official",
                "attended": True,
                "completed": False,
            }
        ],
    }
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    result = read_file(path, "rosters")

    assert result.course["title"] == "Bồi dưỡng" and result.course["province_code"] == "49"
    (row,) = all_rows(result)
    assert row.values["birth_year"] == "1985" and row.values["attended"] == "true"
    assert row.values["completed"] == "false" and row.values["position"] is None


def test_json_missing_columns_and_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text(json.dumps([{"province_code": "49", "agency_code": "X"}]), encoding="utf-8")
    assert rejection(path).reason_code == "missing_columns"
    path.write_text('[{"province_code": "49",', encoding="utf-8")
    assert rejection(path).reason_code == "unreadable"
    path.write_text(json.dumps([{"a": 1}]), encoding="utf-8")
    err = rejection(path)
    assert err.reason_code == "no_header" and "'a'" in err.message
    path.write_text("[]", encoding="utf-8")
    assert all_rows(read_file(path, "submissions")) == []


def test_json_lines_stream_and_flag_broken_lines(tmp_path: Path) -> None:
    good = {
        "stat_date": "2024-11-30",
        "province_code": "49",
        "portal": "quangnam.gov.vn",
        "article_id": "1",
        "url": "https://quangnam.gov.vn/1",
        "title": "Tin",
        "topic": "human_rights",
        "language": "vi",
        "published_at": "2024-11-29T08:00:00+07:00",
        "page_views": 120,
        "unique_visitors": 80,
    }
    lines = [
        json.dumps(good),
        "",
        '{"stat_date": "2024-11-30", "page_views": 1',
        "[1, 2]",
        json.dumps({**good, "article_id": "2", "page_views": 1.5}),
    ]
    path = tmp_path / "portal.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read_file(path, "portal")

    assert result.format == "jsonl"
    rows = all_rows(result)
    assert [r.row_number for r in rows] == [1, 3, 4, 5]
    assert rows[0].values["page_views"] == "120" and ROW_ERROR_KEY not in rows[0].values
    assert "line 3 is not valid JSON" in rows[1].values[ROW_ERROR_KEY]
    assert "not an object" in rows[2].values[ROW_ERROR_KEY]
    assert rows[3].values["page_views"] == "1,5"


def test_detect_format_by_content_not_only_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    assert detect_format(path, b'{"a": 1}\n{"a": 2}\n') == "jsonl"
    assert detect_format(path, b'{\n  "rows": []\n}') == "json"
    assert detect_format(path, b"[{}]") == "json"
    assert detect_format(path, "Mã tỉnh;Giá trị\r\n".encode("utf-16")) == "csv"
    assert detect_format(tmp_path / "a.csv", b"a,b\n1,2\n") == "csv"


def test_semicolon_csv_with_quoted_formula_cell_is_read(tmp_path: Path) -> None:
    # A well-formed `;` file whose quoted cell holds doubled quotes trips the `,` reading in
    # strict mode; the file must still be read with `;`, not rejected as unreadable.
    path = tmp_path / "bao-cao.csv"
    path.write_text(
        "Mã tỉnh;Mã đơn vị;Tên đơn vị;Kỳ báo cáo;Mã chỉ tiêu;Giá trị;Ghi chú;Ngày báo cáo\n"
        '48;48-STTTT;Sở TT&TT;2024;products_total;12;"=HYPERLINK(""http://example.invalid"",""bấm"")";'
        "20/11/2024\n",
        encoding="utf-8-sig",
    )
    result = read_file(path, "submissions")
    rows = [row for chunk in result.rows for row in chunk]
    assert result.delimiter == ";"
    assert rows[0].values["note"] == '=HYPERLINK("http://example.invalid","bấm")'
