"""A corpus of report forms as provincial offices fill them, written here with openpyxl (and the
csv module), each knowing exactly which of its rows are data that loads, which are rejected and
why, which are skipped as not data, and which total rows do not add up.

Thirteen layouts over the three kinds of file a clerk sends (the agency register, the report of
results, the training roster), from a plain table to the full official form: issuing body and
national motto, form number, title, a two-row header with group labels, a unit row, column
numbers, an STT column, sections, subtotals and totals (their figures cached formula results, as
Excel saves them), notes, the signature block, hidden rows, columns and sheets, the table on a
sheet that is not the first, a roster's course details on a sheet of their own.

openpyxl writes formulas without a calculated result; Excel would store one. ``_cache_results``
writes the results into the sheet XML afterwards, as Excel does (``<v>1880</v>``), so that the
readers see what they see in a file saved by Excel; a formula left without a result stays as
openpyxl wrote it, as a file saved by another program would be.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl

RECEIVED = datetime(2024, 12, 15, 2, 0, tzinfo=UTC)
SUBMITTED = date(2024, 11, 30)

# The register the report forms' agencies belong to (Quảng Nam, 49), loaded before the corpus.
BASE_REGISTER_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã tỉnh", "Loại đơn vị", "Chế độ báo cáo", "Hiệu lực từ",
                        "Hiệu lực đến"]
BASE_REGISTER = [
    ["STTTT", "Sở Thông tin và Truyền thông", "49", "department", "annual", "01/01/2023", ""],
    ["CAT", "Công an tỉnh Quảng Nam", "49", "police", "quarterly", "01/01/2023", ""],
    ["SNV", "Sở Nội vụ", "49", "department", "quarterly", "01/01/2023", ""],
    ["SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "49", "department", "annual", "01/01/2023", ""],
    ["BQN", "Báo Quảng Nam", "49", "press_agency", "annual", "01/01/2023", ""],
]

SUBMISSION_HEADER = ["Mã tỉnh", "Mã đơn vị", "Tên đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Mã nhiệm vụ",
                     "Ghi chú", "Ngày báo cáo"]
ROSTER_HEADER = ["STT", "Họ và tên", "Số CCCD", "Mã cán bộ", "Năm sinh", "Giới tính", "Mã đơn vị", "Chức vụ",
                 "Đối tượng", "Có mặt", "Hoàn thành"]
HR = "Cán bộ làm công tác quyền con người"
INFO = "Cán bộ làm công tác quản lý thông tin, truyền thông"


@dataclass
class Expected:
    """What a layout must give, row by row (sheet or CSV line numbers).

    ``skipped`` are the runs of skipped rows exactly as the ledger lists them: (kind, first,
    last, rows). ``warnings`` maps a total row to the columns its mismatch names (None: the count
    of data rows). ``values`` are loaded values to check, by row and raw column.
    """

    loaded: list[int]
    skipped: list[tuple[str, int, int, int]]
    rejected: dict[int, set[str]] = field(default_factory=dict)
    warnings: dict[int, set[str | None]] = field(default_factory=dict)
    totals_checked: int = 0
    values: dict[int, dict[str, object]] = field(default_factory=dict)
    sheet: str | None = None
    other_sheets: list[tuple[str, bool]] = field(default_factory=list)
    course: dict[str, object] | None = None
    course_sheet: str | None = None

    @property
    def rows_in(self) -> int:
        return len(self.loaded) + len(self.rejected) + sum(run[3] for run in self.skipped)


@dataclass
class Layout:
    id: str
    source: str
    what: str
    build: Callable[[Path], Path]
    expected: Expected


# ---------------------------------------------------------------- writing


class FormSheet:
    """An openpyxl sheet written row by row at the row numbers the expectations name."""

    def __init__(self, ws):
        self.ws = ws
        self.cached: dict[str, tuple[str, str | None]] = {}

    def row(self, number: int, *cells: object, start: int = 1) -> None:
        for offset, value in enumerate(cells):
            if value is not None:
                self.ws.cell(number, start + offset, value)

    def at(self, coordinate: str, value: object) -> None:
        self.ws[coordinate] = value

    def merge(self, cells: str) -> None:
        self.ws.merge_cells(cells)

    def formula(self, coordinate: str, formula: str, result: str | None, kind: str | None = None) -> None:
        """A formula cell; ``result`` is what Excel would have cached (None: no result, as openpyxl
        saves it), ``kind`` its cell type when not a number (``e`` for an error)."""
        self.ws[coordinate] = formula
        if result is not None:
            self.cached[coordinate] = (result, kind)

    def hide_rows(self, *numbers: int) -> None:
        for number in numbers:
            self.ws.row_dimensions[number].hidden = True

    def hide_column(self, letter: str) -> None:
        self.ws.column_dimensions[letter].hidden = True


class FormBook:
    def __init__(self) -> None:
        self.wb = openpyxl.Workbook()
        self.sheets: list[FormSheet] = []
        self._first = True

    def sheet(self, title: str, *, hidden: bool = False) -> FormSheet:
        ws = self.wb.active if self._first else self.wb.create_sheet()
        self._first = False
        ws.title = title
        if hidden:
            ws.sheet_state = "hidden"
        sheet = FormSheet(ws)
        self.sheets.append(sheet)
        return sheet

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.wb.save(path)
        cached = {index: s.cached for index, s in enumerate(self.sheets) if s.cached}
        if cached:
            _cache_results(path, cached)
        return path


def _cache_results(path: Path, cached: dict[int, dict[str, tuple[str, str | None]]]) -> None:
    """Write formula results into the sheets' XML, as Excel saves them."""
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as zin:
        for info in zin.infolist():
            members[info.filename] = zin.read(info.filename)
    for index, cells in cached.items():
        name = f"xl/worksheets/sheet{index + 1}.xml"
        xml = members[name].decode("utf-8")
        for coordinate, (result, kind) in cells.items():
            # openpyxl writes an empty value as <v/> with the standard library's XML writer and as
            # <v></v> with lxml's (installed with the SDMX test libraries)
            pattern = re.compile(rf'<c r="{coordinate}"([^>]*)><f>(.*?)</f>(?:<v\s*/>|<v></v>)', re.S)
            typed = f' t="{kind}"' if kind else ""
            xml, found = pattern.subn(
                lambda m, c=coordinate, r=result, t=typed: f'<c r="{c}"{m.group(1)}{t}><f>{m.group(2)}</f><v>{r}</v>',
                xml)
            assert found == 1, (name, coordinate)
        members[name] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, delimiter: str = ",") -> Path:
    """CSV as Excel saves "CSV UTF-8": a BOM and CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


def base_register(folder: Path) -> Path:
    return write_csv(folder / "danh-muc-49.csv", [BASE_REGISTER_HEADER, *BASE_REGISTER])


def _motto(sheet: FormSheet, body: str, agency: str, right: int) -> None:
    """The two lines every official document opens with: issuing body left, national motto right."""
    sheet.row(1, body)
    sheet.row(1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", start=right)
    sheet.row(2, agency)
    sheet.row(2, "Độc lập - Tự do - Hạnh phúc", start=right)


def _instructions(book: FormBook) -> None:
    sheet = book.sheet("Hướng dẫn")
    sheet.row(1, "HƯỚNG DẪN GHI BIỂU")
    sheet.row(2, "1. Cột Mã chỉ tiêu ghi theo danh mục chỉ tiêu tại trang tính DM chỉ tiêu.")
    sheet.row(3, "2. Số liệu ghi bằng số, không ghi tỷ lệ phần trăm.")


# ---------------------------------------------------------------- agency reports (submissions)


def plain_table(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("Sheet1")
    s.row(1, *SUBMISSION_HEADER)
    name = "Sở Thông tin và Truyền thông"
    s.row(2, "49", "STTTT", name, "2024", "products_total", 120, None, None, SUBMITTED)
    s.row(3, "49", "STTTT", name, "2024", "products_digital_platform", 35, None, None, SUBMITTED)
    s.row(4, "49", "STTTT", name, "2024", "press_briefings_held", 4, None, None, SUBMITTED)
    s.row(5, "49", "STTTT", name, "2024", "task_status", 2, "2.1", "Đã hoàn thành", SUBMITTED)
    return book.save(folder / "bao-cao-don-gian.xlsx")


def titled_csv_with_column_numbers(folder: Path) -> Path:
    name = "Công an tỉnh Quảng Nam"
    return write_csv(folder / "bao-cao-cong-an.csv", [
        ["BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 1079 NĂM 2024"],
        ["Đơn vị báo cáo: Công an tỉnh Quảng Nam"],
        [],
        SUBMISSION_HEADER,
        [f"({i})" for i in range(1, 10)],
        ["49", "CAT", name, "Năm 2024", "products_total", "40", "", "", "30/11/2024"],
        ["49", "CAT", name, "Năm 2024", "misinformation_items", "1.234", "", "", "30/11/2024"],
        ["49", "CAT", name, "Năm 2024", "so_tin_bai", "12", "", "", "30/11/2024"],
        ["49", "CAT", name, "Năm 2024", "fake_news_detected", "12", "", "", "30/11/2024"],
    ], delimiter=";")


def full_official_form(folder: Path, *, ethnic_products: object = 120, with_value_column: bool = True,
                       name: str = "bieu-01-bao-cao-ket-qua-2024.xlsx") -> Path:
    """The official form with every feature: see the module doc. ``ethnic_products`` is row 13's
    value; without ``with_value_column`` the "Số lượng" column is missing."""
    book = FormBook()
    _instructions(book)
    s = book.sheet("Biểu 01")
    _motto(s, "UBND TỈNH QUẢNG NAM", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", right=8)
    s.merge("A1:D1")
    s.merge("H1:L1")
    s.row(3, "Biểu số 01/BC-1079")
    s.row(4, "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN TRUYỀN THÔNG VỀ QUYỀN CON NGƯỜI NĂM 2024")
    s.merge("A4:L4")
    s.row(5, "(Kèm theo Kế hoạch số 9034/KH-UBND ngày 26/12/2023 của Ủy ban nhân dân tỉnh Quảng Nam)")
    s.merge("A5:L5")
    s.at("J6", "Đơn vị tính: theo từng chỉ tiêu")
    # a two-row header: group labels over their sub-headers, the others merged over both rows
    s.row(7, "STT", "Thông tin đơn vị", None, None, "Kỳ báo cáo", "Chỉ tiêu", None, "Đơn vị tính",
          "Kết quả thực hiện", None, "Mã nhiệm vụ", "Ngày báo cáo")
    s.row(8, None, "Mã tỉnh", "Mã đơn vị", "Tên đơn vị", None, "Mã chỉ tiêu", "Tên chỉ tiêu", None,
          "Số lượng" if with_value_column else "Tỷ lệ", "Ghi chú")
    for cells in ("A7:A8", "B7:D7", "E7:E8", "F7:G7", "H7:H8", "I7:J7", "K7:K8", "L7:L8"):
        s.merge(cells)
    s.row(9, "A", "B", "C", "D", "1", "2", "3", "4", "5", "6", "7", "8")
    # an example row the template hides: valid-looking, it must not load
    s.row(10, "VD", "49", "STTTT", "Sở Thông tin và Truyền thông", "Năm 2024", "products_total", "Ví dụ", "sản phẩm",
          999, None, None, SUBMITTED)
    s.hide_rows(10)
    s.row(11, "I", "SẢN PHẨM TRUYỀN THÔNG VỀ QUYỀN CON NGƯỜI")
    s.merge("B11:L11")
    agency = ("49", "STTTT", "Sở Thông tin và Truyền thông", "Năm 2024")
    s.row(12, "1", *agency, "products_total", "Tổng số sản phẩm truyền thông", "sản phẩm", "1.450", None, None,
          SUBMITTED)
    s.row(13, "2", None, None, None, None, "products_ethnic_language", "Sản phẩm bằng tiếng dân tộc", "sản phẩm",
          ethnic_products)
    s.row(14, "3", None, None, None, None, "products_digital_platform", "Sản phẩm trên nền tảng số", "sản phẩm",
          310, "Cổng thông tin điện tử tỉnh")
    for column in "BCDEL":
        s.merge(f"{column}12:{column}14")
    s.row(15, "Cộng (I)")
    s.merge("A15:H15")
    s.formula("I15", "=SUM(I12:I14)", "1880")
    s.row(16, "II", "BỒI DƯỠNG, TẬP HUẤN CÁN BỘ")
    s.merge("B16:L16")
    s.row(17, "4", *agency, "staff_hr_officials", "Số cán bộ làm công tác quyền con người", "người", 12, None,
          None, SUBMITTED)
    s.row(18, "5", None, None, None, None, "staff_info_officials", "Số cán bộ quản lý thông tin, truyền thông",
          "người", 25)
    for column in "BCDEL":
        s.merge(f"{column}17:{column}18")
    s.row(19, "Cộng (II)")
    s.merge("A19:H19")
    s.formula("I19", "=SUM(I17:I18)", "37")
    s.row(20, "TỔNG CỘNG (I+II)")
    s.merge("A20:H20")
    s.formula("I20", "=I15+I19", "1917")
    s.row(21, "Ghi chú: Số liệu tính đến ngày 30/11/2024; cột 2 ghi theo danh mục mã chỉ tiêu.")
    s.merge("A21:L21")
    s.at("J23", "Quảng Nam, ngày 30 tháng 11 năm 2024")
    s.row(24, None, "NGƯỜI LẬP BIỂU")
    s.at("J24", "THỦ TRƯỞNG ĐƠN VỊ")
    s.row(25, None, "(Ký, ghi rõ họ tên)")
    s.at("J25", "(Ký, ghi rõ họ tên, đóng dấu)")
    s.row(28, None, "Nguyễn Văn An")
    s.at("J28", "Trần Thị Bình")
    # the codes sit in a hidden column; the clerk sees the measures' names
    s.hide_column("F")
    lists = book.sheet("DM chỉ tiêu", hidden=True)
    lists.row(1, "Mã chỉ tiêu", "Tên chỉ tiêu")
    lists.row(2, "products_total", "Tổng số sản phẩm truyền thông")
    lists.row(3, "staff_hr_officials", "Số cán bộ làm công tác quyền con người")
    return book.save(folder / name)


FULL_FORM_EXPECTED = Expected(
    loaded=[12, 13, 14, 17, 18],
    skipped=[("title", 1, 6, 6), ("header", 7, 8, 2), ("numbering", 9, 9, 1), ("hidden", 10, 10, 1),
             ("section", 11, 11, 1), ("subtotal", 15, 15, 1), ("section", 16, 16, 1), ("subtotal", 19, 19, 1),
             ("total", 20, 20, 1), ("note", 21, 21, 1), ("signature", 23, 28, 4)],
    totals_checked=3,
    values={12: {"value": 1450, "agency_code": "STTTT"}, 13: {"value": 120, "agency_code": "STTTT"},
            14: {"note": "Cổng thông tin điện tử tỉnh", "submitted_at": SUBMITTED}, 18: {"value": 25}},
    sheet="Biểu 01",
    other_sheets=[("Hướng dẫn", True), ("DM chỉ tiêu", False)],
)


def csv_form_with_total_and_signatures(folder: Path) -> Path:
    header = ["STT", *SUBMISSION_HEADER]
    agency = ["49", "SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "2024"]
    return write_csv(folder / "bao-cao-so-vhttdl.csv", [
        ["SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH"],
        ["BÁO CÁO SỐ LIỆU NĂM 2024"],
        header,
        ["A", "B", "C", "D", "1", "2", "3", "4", "5", "6"],
        ["1", *agency, "exhibitions_held", "3", "", "", "30/11/2024"],
        ["2", *agency, "books_published", "1.234,5", "", "", "30/11/2024"],
        ["3", *agency, "products_total", "70%", "", "", "30/11/2024"],
        ["4", *agency, "products_ethnic_language", "3/4", "", "", "30/11/2024"],
        ["5", *agency, "products_foreign_language", "2.500", "", "", "30/11/2024"],
        ["", "Tổng cộng", "", "", "", "", "2.510", "", "", ""],
        [],
        ["Người lập biểu", "", "", "", "", "", "Thủ trưởng đơn vị"],
        ["(Ký, ghi rõ họ tên)", "", "", "", "", "", "(Ký, ghi rõ họ tên, đóng dấu)"],
        ["Lê Văn Cường", "", "", "", "", "", "Phạm Thị Dung"],
    ], delimiter=";")


def table_on_a_later_sheet_with_hidden_rows(folder: Path) -> Path:
    book = FormBook()
    _instructions(book)
    s = book.sheet("Biểu 02")
    s.row(1, "BÁO CÁO QUÝ 3 NĂM 2024 - SỞ NỘI VỤ")
    # the clerk sees the measures' names under "Chỉ tiêu"; their codes sit in a hidden column
    s.row(2, "Mã tỉnh", "Mã đơn vị", "Tên đơn vị", "Kỳ báo cáo", "Chỉ tiêu", "Mã chỉ tiêu", "Giá trị", "Mã nhiệm vụ",
          "Ghi chú", "Ngày báo cáo")
    s.hide_column("F")
    agency = ("49", "SNV", "Sở Nội vụ", "Quý 3/2024")
    s.row(3, *agency, "Số hội nghị cung cấp thông tin cho báo chí", "press_briefings_held", 2, None, None,
          date(2024, 10, 5))
    s.row(4, *agency, "Số thông tin về quyền con người được theo dõi", "hr_items_monitored", 15, None, None,
          date(2024, 10, 5))
    s.row(5, "49", "VD", "Đơn vị ví dụ", "Quý 3/2024", "Ví dụ", "products_total", 100, None, "Dòng mẫu",
          date(2024, 10, 5))
    s.hide_rows(5)
    s.row(6, *agency, "Số nguồn dữ liệu", "data_sources_total", 8, None, None, date(2024, 10, 5))
    template = book.sheet("Mẫu", hidden=True)
    template.row(1, *SUBMISSION_HEADER)
    template.row(2, "49", "STTTT", "Sở Thông tin và Truyền thông", "2024", "products_total", 1, None, None, SUBMITTED)
    return book.save(folder / "bao-cao-quy-3-snv.xlsx")


def values_as_clerks_write_them(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("BC")
    s.row(1, *SUBMISSION_HEADER)
    s.row(2, "49", "STTTT", "Sở Thông tin và Truyền thông", "2024", "spokesperson_mechanism", "x", None, None, SUBMITTED)
    s.row(3, "49", "CAT", "Công an tỉnh", "2024", "spokesperson_mechanism", "có", None, None, SUBMITTED)
    s.row(4, "49", "SNV", "Sở Nội vụ", "2024", "spokesperson_mechanism", "không", None, None, SUBMITTED)
    sttt = ("49", "STTTT", "Sở Thông tin và Truyền thông", "2024")
    s.row(5, *sttt, "products_total", "12", None, "số ghi dạng chữ", SUBMITTED)
    s.row(6, *sttt, "products_digital_platform", None, None, None, SUBMITTED)
    s.formula("F6", "=F5-2", "10")
    s.row(7, *sttt, "books_published", None, None, None, SUBMITTED)
    s.formula("F7", "=F5*2", None)
    s.row(8, *sttt, "exhibitions_held", None, None, None, SUBMITTED)
    s.formula("F8", "=F5/0", "#DIV/0!", "e")
    s.row(9, *sttt, "products_ethnic_language", 0.25, None, None, SUBMITTED)
    s.ws["F9"].number_format = "0%"
    s.row(10, *sttt, "data_sources_total", "1.234", None, None, SUBMITTED)
    s.row(11, *sttt, "fake_news_detected", 7, None, None, "30/11/2024")
    return book.save(folder / "bao-cao-gia-tri.xlsx")


def sections_subtotals_and_empty_numbered_rows(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("Tổng hợp")
    s.row(1, "TỔNG HỢP KẾT QUẢ CÁC ĐƠN VỊ NĂM 2024")
    s.merge("A1:J1")
    s.row(2, "STT", *SUBMISSION_HEADER)
    s.row(3, "I", "KHỐI SỞ, BAN, NGÀNH")
    s.merge("B3:J3")
    s.row(4, 1, "49", "STTTT", "Sở Thông tin và Truyền thông", "2024", "products_total", 50, None, None, SUBMITTED)
    s.row(5, 2, "49", "SNV", "Sở Nội vụ", "2024", "products_total", 30, None, None, SUBMITTED)
    s.row(6, None, "Cộng I", None, None, None, None, 80)
    s.row(7, "II", "CƠ QUAN BÁO CHÍ")
    s.merge("B7:J7")
    s.row(8, 3, "49", "BQN", "Báo Quảng Nam", "2024", "products_total", 200, None, None, SUBMITTED)
    s.row(9, 4, "49", "BQN", "Báo Quảng Nam", "2024", "products_digital_platform", 60, None, None, SUBMITTED)
    s.row(10, 5)
    s.row(11, 6)
    s.row(12, None, "Cộng II", None, None, None, None, 250)
    s.row(13, None, "TỔNG CỘNG (I+II)", None, None, None, None, 340)
    return book.save(folder / "tong-hop-2024.xlsx")


def merged_agency_cells_and_a_unit_row(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("Báo cáo")
    s.row(1, "BÁO CÁO KẾT QUẢ NĂM 2024 - CÔNG AN TỈNH QUẢNG NAM")
    s.row(2, *SUBMISSION_HEADER)
    s.at("F3", "Đơn vị tính: tin, bài, vụ việc")
    s.row(4, "49", "CAT", "Công an tỉnh Quảng Nam", "2024", "misinformation_items", 30, None, None, SUBMITTED)
    s.row(5, None, None, None, None, "fake_news_detected", 25)
    s.row(6, None, None, None, None, "fake_news_handled", 20)
    s.row(7, None, None, None, None, "hr_items_monitored", 45)
    for column in "ABCDI":
        s.merge(f"{column}4:{column}7")
    s.row(8, "Tổng cộng")
    s.merge("A8:E8")
    s.formula("F8", "=SUM(F4:F7)", "120")
    return book.save(folder / "bao-cao-cong-an-2024.xlsx")


# ---------------------------------------------------------------- agency registers


def register_csv_with_count_and_signature(folder: Path) -> Path:
    return write_csv(folder / "danh-muc-quang-ngai.csv", [
        ["DANH MỤC ĐƠN VỊ BÁO CÁO TỈNH QUẢNG NGÃI"],
        ["(Cập nhật ngày 05/01/2024)"],
        BASE_REGISTER_HEADER,
        ["QNG-STTTT", "Sở Thông tin và Truyền thông tỉnh Quảng Ngãi", "51", "department", "annual", "01/01/2023", ""],
        ["QNG-CA", "Công an tỉnh Quảng Ngãi", "51", "police", "quarterly", "01/01/2023", ""],
        ["QNG-BAO", "Báo Quảng Ngãi", "51", "press_agency", "annual", "01/01/2023", ""],
        ["QNG-HPN", "Hội Liên hiệp Phụ nữ tỉnh", "51", "sociopolitical_org", "annual", "01/01/2023", ""],
        ["Tổng số: 4 đơn vị"],
        [],
        ["Người lập biểu", "", "", "", "Thủ trưởng đơn vị"],
    ], delimiter=";")


def register_official_form(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("Danh mục")
    _motto(s, "UBND TỈNH BÌNH ĐỊNH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", right=5)
    s.row(3, "DANH MỤC CÁC ĐƠN VỊ THỰC HIỆN CHẾ ĐỘ BÁO CÁO ĐỀ ÁN 1079")
    s.merge("A3:H3")
    s.row(4, "STT", "Mã đơn vị", "Tên đơn vị", "Mã tỉnh", "Loại đơn vị", "Chế độ báo cáo", "Hiệu lực")
    s.row(5, None, None, None, None, None, None, "Từ ngày", "Đến ngày")
    for cells in ("A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:E5", "F4:F5", "G4:H4"):
        s.merge(cells)
    s.row(6, *[f"({i})" for i in range(1, 9)])
    s.row(7, "I", "CÁC SỞ, BAN, NGÀNH")
    s.merge("B7:H7")
    s.row(8, 1, "BDI-STTTT", "Sở Thông tin và Truyền thông tỉnh Bình Định", "52", "Sở, ban, ngành cấp tỉnh",
          "annual", date(2023, 1, 1))
    s.row(9, 2, "BDI-SNV", "Sở Nội vụ tỉnh Bình Định", "52", "department", "annual", date(2023, 1, 1))
    s.row(10, "II", "CÁC CƠ QUAN KHÁC")
    s.merge("B10:H10")
    s.row(11, 3, "BDI-CA", "Công an tỉnh Bình Định", "52", "police", "quarterly", date(2023, 1, 1))
    s.row(12, 4, "BDI-BDT", "Ban Dân tộc tỉnh", "52", "Bộ", "annual", date(2023, 1, 1))
    s.row(13, "Tổng số: 5 đơn vị")
    s.merge("A13:H13")
    s.row(14, "Ghi chú: Chế độ báo cáo ghi annual (hằng năm) hoặc quarterly (hằng quý).")
    s.merge("A14:H14")
    s.at("F16", "Bình Định, ngày 05 tháng 01 năm 2024")
    s.row(17, None, "NGƯỜI LẬP BIỂU")
    s.at("F17", "GIÁM ĐỐC")
    s.row(18, None, "(Ký, ghi rõ họ tên)")
    s.at("F18", "(Ký tên, đóng dấu)")
    s.row(21, None, "Võ Văn Tám")
    s.at("F21", "Đặng Thị Chín")
    return book.save(folder / "danh-muc-binh-dinh.xlsx")


# ---------------------------------------------------------------- training rosters


def _trainee(number: object, name: str, cccd: str, *, staff: str = "", year: object = 1985, agency: str = "STTTT",
             category: str = HR, attended: str = "x", completed: str = "x") -> list[object]:
    return [number, name, cccd, staff, year, "Nữ", agency, "Chuyên viên", category, attended, completed]


def roster_csv_with_course_block(folder: Path) -> Path:
    return write_csv(folder / "danh-sach-QN-2024-11.csv", [
        ["DANH SÁCH HỌC VIÊN"],
        ["Mã khóa học:", "QN-2024-11"],
        ["Tên khóa học: Bồi dưỡng kiến thức về quyền con người cho cán bộ cấp tỉnh"],
        ["Đơn vị tổ chức:", "STTTT"],
        ["Mã tỉnh:", "49"],
        ["Từ ngày:", "12/11/2024"],
        ["Đến ngày:", "14/11/2024"],
        ["Hình thức:", "Trực tiếp"],
        [],
        ROSTER_HEADER,
        _trainee(1, "Trần Thị Mai", "049190000011"),
        _trainee(2, "Lê Văn Nam", "049190000012", completed=""),
        _trainee(3, "Phạm Thị Hoa", "049190000013", category=INFO),
        _trainee(4, "Võ Văn Hải", "049190000014", agency="CAT"),
        ["", "Cộng", "", "", "", "", "", "", "", "4", "3"],
        ["", "", "", "", "", "", "", "..., ngày ... tháng ... năm ..."],
        ["", "Người lập danh sách"],
        ["", "(Ký, ghi rõ họ tên)"],
    ])


def roster_with_course_sheet(folder: Path) -> Path:
    book = FormBook()
    course = book.sheet("Thông tin khóa học")
    course.row(1, "THÔNG TIN KHÓA HỌC")
    course.row(2, "Mã khóa học", "QN-2024-07")
    course.row(3, "Tên khóa học", "Tập huấn kỹ năng truyền thông về quyền con người")
    course.row(4, "Đơn vị tổ chức", "STTTT")
    course.row(5, "Mã tỉnh", "49")
    course.row(6, "Từ ngày", date(2024, 10, 8))
    course.row(7, "Đến ngày", date(2024, 10, 10))
    course.row(8, "Hình thức", "Trực tiếp")
    s = book.sheet("Danh sách học viên")
    _motto(s, "UBND TỈNH QUẢNG NAM", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", right=7)
    s.row(3, "DANH SÁCH HỌC VIÊN THAM GIA LỚP TẬP HUẤN")
    s.merge("A3:K3")
    s.row(4, *ROSTER_HEADER)
    s.row(5, *[f"({i})" for i in range(1, 12)])
    s.row(6, *_trainee(1, "Nguyễn Thị Lan", "049190000021"))
    s.row(7, *_trainee(2, "Hồ Văn Bảy", "049190000022", category=INFO))
    s.row(8, *_trainee(3, "Đỗ Thị Tám", "049190000023"))
    s.row(9, *_trainee(4, "Lý Văn Chín", ""))
    s.row(10, *_trainee(5, "Châu Thị Mười", "049190000025", completed="không"))
    s.row(11, *_trainee(6, "Mai Văn Một", "049190000026", attended="", completed=""))
    s.row(12, "Tổng cộng", None, None, None, None, None, None, None, None, "5", "4")
    s.merge("A12:B12")
    s.at("I14", "Quảng Nam, ngày 12 tháng 10 năm 2024")
    s.row(15, None, "Người lập biểu")
    s.at("I15", "Thủ trưởng đơn vị")
    s.row(16, None, "(Ký, ghi rõ họ tên)")
    s.at("I16", "(Ký, ghi rõ họ tên, đóng dấu)")
    return book.save(folder / "danh-sach-hoc-vien-QN-2024-07.xlsx")


def roster_filtered_with_course_table(folder: Path) -> Path:
    book = FormBook()
    s = book.sheet("DS học viên")
    s.row(1, "DANH SÁCH HỌC VIÊN LỚP BỒI DƯỠNG KIẾN THỨC VỀ QUYỀN CON NGƯỜI")
    s.row(2, *ROSTER_HEADER)
    s.row(3, *_trainee(1, "Phan Văn Đức", "049190000031", completed="Đạt"))
    s.row(4, *_trainee(2, "Tôn Thị Nga", "", staff="CB-0042", completed="Chưa đạt"))
    s.row(5, *_trainee(3, "Kiều Văn Sơn", "049190000033", completed="Đạt"))
    s.row(6, *_trainee(4, "Lâm Thị Yến", "049190000034", category=INFO, completed="Đạt"))
    s.row(7, *_trainee(5, "Quách Văn Lộc", "049190000035", agency="CAT", completed="Đạt"))
    s.row(8, *_trainee(6, "Đào Thị Hạnh", "049190000036", category="Sinh viên", completed="Đạt"))
    s.row(9, 7)
    s.row(10, 8)
    s.row(11, "x", "Ghi chú nội bộ: kiểm tra lại danh sách", "049190000099")
    # the sender filtered the table (rows 5 and 7 out of view) and hid a note below it
    s.ws.auto_filter.ref = "A2:K8"
    s.hide_rows(5, 7, 11)
    s.hide_column("D")
    course = book.sheet("Khóa học")
    course.row(1, "Mã lớp", "Tên lớp", "Đơn vị tổ chức", "Mã tỉnh", "Ngày bắt đầu", "Ngày kết thúc", "Hình thức")
    course.row(2, "QN-2024-09", "Bồi dưỡng kiến thức về quyền con người", "STTTT", "49", date(2024, 9, 16),
               date(2024, 9, 18), "Trực tuyến")
    return book.save(folder / "ds-hoc-vien-QN-2024-09.xlsx")


# ---------------------------------------------------------------- the corpus

LAYOUTS = [
    Layout("plain table", "submissions", "header on the first row, nothing else", plain_table, Expected(
        loaded=[2, 3, 4, 5], skipped=[("header", 1, 1, 1)], values={5: {"task_code": "2.1"}})),
    Layout("title lines and column numbers (CSV)", "submissions",
           "two title lines, a blank line, the header, a (1) (2) (3) row; one unknown measure",
           titled_csv_with_column_numbers, Expected(
               loaded=[6, 7, 9], rejected={8: {"unknown_measure"}},
               skipped=[("title", 1, 2, 2), ("header", 4, 4, 1), ("numbering", 5, 5, 1)],
               values={7: {"value": 1234}})),
    Layout("full official form", "submissions", "every feature of an official report form", full_official_form,
           FULL_FORM_EXPECTED),
    Layout("CSV of a form with a total and signatures", "submissions",
           "STT column, A B 1 2 numbering, 1.234,5 / 70% / 3/4 in a count column, a total that does not add up",
           csv_form_with_total_and_signatures, Expected(
               loaded=[5, 9],
               rejected={6: {"not_whole_number"}, 7: {"percentage_not_count"}, 8: {"fraction_not_count"}},
               skipped=[("title", 1, 2, 2), ("header", 3, 3, 1), ("numbering", 4, 4, 1), ("total", 10, 10, 1),
                        ("signature", 12, 14, 3)],
               warnings={10: {"value"}}, totals_checked=1, values={9: {"value": 2500}})),
    Layout("table on a later sheet, hidden rows and sheets", "submissions",
           "an instructions sheet first, measure names shown and their codes in a hidden column, a hidden example "
           "row, a hidden template sheet with data",
           table_on_a_later_sheet_with_hidden_rows, Expected(
               loaded=[3, 4, 6], skipped=[("title", 1, 1, 1), ("header", 2, 2, 1), ("hidden", 5, 5, 1)],
               sheet="Biểu 02", other_sheets=[("Hướng dẫn", True), ("Mẫu", False)],
               values={3: {"period": "2024-Q3", "measure_code": "press_briefings_held"}})),
    Layout("values as clerks write them", "submissions",
           "x / có / không for a yes/no measure, numbers as text, cached formula results, a formula never "
           "calculated, a formula error, a cell formatted as a percentage",
           values_as_clerks_write_them, Expected(
               loaded=[2, 3, 4, 5, 6, 10, 11],
               rejected={7: {"formula_without_value"}, 8: {"formula_error"}, 9: {"percentage_not_count"}},
               skipped=[("header", 1, 1, 1)],
               values={2: {"value": 1}, 3: {"value": 1}, 4: {"value": 0}, 5: {"value": 12}, 6: {"value": 10},
                       10: {"value": 1234}})),
    Layout("sections, subtotals and empty numbered rows", "submissions",
           "I / II sections, a subtotal that adds up and one that does not, rows numbered but left empty",
           sections_subtotals_and_empty_numbered_rows, Expected(
               loaded=[4, 5, 8, 9],
               skipped=[("title", 1, 1, 1), ("header", 2, 2, 1), ("section", 3, 3, 1), ("subtotal", 6, 6, 1),
                        ("section", 7, 7, 1), ("no_data", 10, 11, 2), ("subtotal", 12, 12, 1),
                        ("total", 13, 13, 1)],
               warnings={12: {"value"}}, totals_checked=3)),
    Layout("merged agency cells and a unit row", "submissions",
           "agency, period and date merged down over the measures; Đơn vị tính under the header; a cached total",
           merged_agency_cells_and_a_unit_row, Expected(
               loaded=[4, 5, 6, 7],
               skipped=[("title", 1, 1, 1), ("header", 2, 2, 1), ("unit", 3, 3, 1), ("total", 8, 8, 1)],
               totals_checked=1, values={7: {"agency_code": "CAT", "value": 45, "submitted_at": SUBMITTED}})),
    Layout("register CSV with a count and a signature", "agencies",
           "two title lines, a 'Tổng số: 4 đơn vị' row, a signature line",
           register_csv_with_count_and_signature, Expected(
               loaded=[4, 5, 6, 7],
               skipped=[("title", 1, 2, 2), ("header", 3, 3, 1), ("total", 8, 8, 1), ("signature", 10, 10, 1)],
               totals_checked=1, values={7: {"agency_kind": "sociopolitical_org"}})),
    Layout("register as an official form", "agencies",
           "motto, a two-row header (Hiệu lực over Từ ngày / Đến ngày), sections, a wrong count, note, signatures",
           register_official_form, Expected(
               loaded=[8, 9, 11], rejected={12: {"unknown_agency_kind"}},
               skipped=[("title", 1, 3, 3), ("header", 4, 5, 2), ("numbering", 6, 6, 1), ("section", 7, 7, 1),
                        ("section", 10, 10, 1), ("total", 13, 13, 1), ("note", 14, 14, 1),
                        ("signature", 16, 21, 4)],
               warnings={13: {None}}, totals_checked=1,
               values={8: {"agency_kind": "department", "valid_from": date(2023, 1, 1)}})),
    Layout("roster CSV with its course block and ticks totalled", "rosters",
           "course details above the table, a Cộng row counting the ticks, the template's unfilled date line and a "
           "signature",
           roster_csv_with_course_block, Expected(
               loaded=[11, 12, 13, 14],
               skipped=[("title", 1, 1, 1), ("course", 2, 8, 7), ("header", 10, 10, 1), ("total", 15, 15, 1),
                        ("signature", 16, 18, 3)],
               totals_checked=1, values={12: {"attended": True, "completed": False}},
               course={"course_id": "QN-2024-11", "start_date": date(2024, 11, 12)})),
    Layout("roster with the course on its own sheet", "rosters",
           "'Thông tin khóa học' key/value sheet, 'Danh sách học viên' with motto, numbering, a total that counts "
           "a rejected trainee, date line and signatures",
           roster_with_course_sheet, Expected(
               loaded=[6, 7, 8, 10, 11], rejected={9: {"missing_identifier"}},
               skipped=[("title", 1, 3, 3), ("header", 4, 4, 1), ("numbering", 5, 5, 1), ("total", 12, 12, 1),
                        ("signature", 14, 16, 3)],
               warnings={12: {"attended", "completed"}}, totals_checked=1,
               values={10: {"completed": False}, 11: {"attended": False}},
               sheet="Danh sách học viên", other_sheets=[("Thông tin khóa học", True)],
               course={"course_id": "QN-2024-07", "title": "Tập huấn kỹ năng truyền thông về quyền con người",
                       "start_date": date(2024, 10, 8), "end_date": date(2024, 10, 10), "mode": "Trực tiếp"},
               course_sheet="Thông tin khóa học")),
    Layout("filtered roster with the course as a table on another sheet", "rosters",
           "rows hidden by an AutoFilter (data), a hidden staff-id column, a hidden note row, rows numbered but "
           "empty, Đạt / Chưa đạt, the course as a one-row table on the next sheet",
           roster_filtered_with_course_table, Expected(
               loaded=[3, 4, 5, 6, 7], rejected={8: {"unknown_category"}},
               skipped=[("title", 1, 1, 1), ("header", 2, 2, 1), ("no_data", 9, 10, 2), ("hidden", 11, 11, 1)],
               values={3: {"completed": True}, 4: {"completed": False}, 7: {"agency_code": "CAT"}},
               sheet="DS học viên", other_sheets=[("Khóa học", True)],
               course={"course_id": "QN-2024-09", "end_date": date(2024, 9, 18), "mode": "Trực tuyến"},
               course_sheet="Khóa học")),
]


def non_blank_rows(path: Path, sheet: str | None) -> int:
    """The rows of the sheet read (or of the CSV) that hold anything: what "rows in" must count,
    found here independently of the readers."""
    if path.suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        return sum(1 for record in csv.reader(io.StringIO(text), delimiter=";" if ";" in text else ",")
                   if any(c.strip() for c in record))
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return sum(1 for row in ws.iter_rows() if any(c.value not in (None, "") for c in row))
