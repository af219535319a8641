"""Readers: any file a provincial office sends, as rows of raw text keyed by canonical column names.

``read_file`` recognises the format from the bytes (not only the extension), finds the header row
under any title rows, maps the headers to the source's contract (see ``contracts``) and returns a
:class:`ReadResult` whose ``rows`` yields chunks of :class:`RawRow` lazily, so a file of millions
of rows is read in bounded memory. Values stay text, exactly as the sender sees them; typing and
row-level checks are the loader's job (``planwh.ingest.parsing``).

A file that cannot be read at all raises :class:`FileRejected` with one reason code:

=====================  ===========================================================================
reason_code            when
=====================  ===========================================================================
empty_file             no bytes, or only blank lines
unsupported_format     ``.xls`` (Excel 97-2003) or a password-protected workbook, ``.xlsb``, PDF,
                       Word, ODS, HTML, images...
unreadable             a corrupt workbook, undecodable text, invalid JSON, an unclosed quote
zip_bomb               a workbook whose members would expand beyond the limits
sheet_not_found        the requested sheet does not exist (the message lists the sheets)
ambiguous_sheet        several sheets hold a matching header and data; say which with ``sheet=``
no_header              no row in the first 30 looks like the contract's header
missing_columns        a header row is there but lacks required columns (named, with Vietnamese)
duplicate_columns      two headers mean the same column
=====================  ===========================================================================

Every rejection says why in Vietnamese (``message_vi``, one sentence a provincial clerk can act
on) and in English (``message``).

A header-only file is not a rejection: it yields no rows. A JSON Lines line that is not valid JSON
and a CSV line with more fields than the header are not rejections either: their ``RawRow.values``
carry the key ``__error__`` with the explanation (a :class:`RowError`, which also holds it in
Vietnamese), for the loader to reject that row only. ``rows`` itself raises
``FileRejected("unreadable", ...)`` if the file turns out corrupt after the header; treat the whole
file as rejected then.

Report forms: the rows of a spreadsheet or CSV that are not data -- title lines above the header,
the header itself, column numbers, a unit row, section, subtotal and total rows, rows left empty,
hidden rows, notes and the signature block -- are not yielded; ``ReadResult.structure`` lists
them by kind (see ``form_layout``) once ``rows`` has been read through, so that every non-blank
row of the sheet read is either a data row or a skipped row. A workbook's other sheets are listed
in ``ReadResult.other_sheets``; a roster's course details may sit on a sheet of their own. Hidden
columns are read (templates keep the codes there, the names in view); hidden rows are skipped,
except rows an AutoFilter hid, which are data filtered out of view; a hidden sheet holds the table
only when no visible sheet does.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from planwh.ingest.contracts import CONTRACTS, SOURCE_TITLES, Column, Contract
from planwh.ingest.form_layout import CLERK_SOURCES, BodyClassifier, Structure, fold, is_numbering_row
from planwh.ingest.parsing import normalise_text, quoted

__all__ = [
    "ROW_ERROR_KEY",
    "FileRejected",
    "RawRow",
    "ReadResult",
    "RowError",
    "detect_format",
    "match_header",
    "normalise_text",
    "read_file",
]

ROW_ERROR_KEY = "__error__"
HEADER_SCAN_ROWS = 30
# Rows scanned for a header include blank ones; stop looking after this many physical rows.
HEADER_SCAN_LIMIT = 1000
HEAD_BYTES = 8192
DEFAULT_MAX_UNCOMPRESSED = 1 << 30
BOMB_RATIO = 200
BOMB_MEMBER_BYTES = 10 << 20

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# what a file is, in English and in Vietnamese
_BINARY_MAGIC = {
    b"%PDF": ("a PDF document", "tệp PDF"),
    b"\x89PNG": ("a PNG image", "ảnh PNG"),
    b"\xff\xd8\xff": ("a JPEG image", "ảnh JPEG"),
    b"GIF8": ("a GIF image", "ảnh GIF"),
    b"\x1f\x8b": ("a gzip archive", "tệp nén gzip"),
    b"Rar!": ("a RAR archive", "tệp nén RAR"),
    b"7z\xbc\xaf": ("a 7-Zip archive", "tệp nén 7-Zip"),
}
_UNSUPPORTED_EXTENSIONS = {
    ".xls": ("an Excel 97-2003 workbook (.xls)", "bảng tính Excel 97-2003 (.xls)"),
    ".xlsb": ("a binary Excel workbook (.xlsb)", "bảng tính Excel dạng nhị phân (.xlsb)"),
    ".ods": ("an OpenDocument spreadsheet (.ods)", "bảng tính OpenDocument (.ods)"),
    ".doc": ("a Word document", "văn bản Word"),
    ".docx": ("a Word document", "văn bản Word"),
    ".pdf": ("a PDF document", "tệp PDF"),
    ".html": ("a web page", "trang web"),
    ".htm": ("a web page", "trang web"),
    ".xml": ("an XML file", "tệp XML"),
}
_SAVE_AS = "save it as .xlsx (Excel Workbook) or CSV UTF-8 and send it again"
_SAVE_AS_VI = "hãy lưu lại thành tệp .xlsx (Excel Workbook) hoặc CSV UTF-8 rồi gửi lại"


class FileRejected(Exception):
    """The file cannot be read at all; ``reason_code`` is stable, ``message_vi`` and ``message``
    (English) are for the sender. For ``missing_columns``, ``matched`` is how many of the
    contract's columns the header did name (to tell which kind of file it was meant to be)."""

    def __init__(self, reason_code: str, message: str, message_vi: str, *, matched: int = 0):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.message_vi = message_vi
        self.matched = matched

    def __repr__(self) -> str:
        return f"FileRejected({self.reason_code!r}, {self.message!r})"


class RowError(str):
    """Why a row could not be read as a whole (English), with ``vi``: the same in Vietnamese."""

    vi: str

    def __new__(cls, english: str, vietnamese: str) -> RowError:
        error = super().__new__(cls, english)
        error.vi = vietnamese
        return error


def _file_vi(name: str) -> str:
    return f"Tệp {quoted(name)}"


@dataclass(slots=True)
class RawRow:
    """One data row. ``values`` has a key for every contract column found in the header (None
    when the cell is empty), plus ``__error__`` when the row could not be read as a whole.
    ``flags`` names the columns whose cell is a formula Excel never calculated (``formula``) or
    a formula that failed (``formula_error``, the value being Excel's error, e.g. ``#REF!``)."""

    row_number: int
    values: dict[str, str | None]
    sheet: str | None = None
    flags: dict[str, str] | None = None


@dataclass
class ReadResult:
    """What ``read_file`` learnt from the header, and the rows to come.

    ``columns`` maps each canonical column found to the header (or JSON key) as written;
    ``header_row`` is the sheet row or CSV line of the header (the first of a two-row header;
    None for JSON). ``course`` is the roster's course header (every course column, None where
    absent) and None for other sources; ``course_sheet`` the sheet it came from when not the
    table's own. ``rows`` is a one-shot iterator of chunks; it opens the file again when first
    advanced and closes it when exhausted. For JSON Lines, a key first met past the sampled lines
    is added to ``columns`` / ``unknown_columns`` as the rows are read. ``structure`` lists the
    rows that are not data (complete once ``rows`` is exhausted); ``other_sheets`` the workbook's
    sheets that were not read, with whether each is visible.
    """

    source: str
    format: str
    encoding: str | None
    delimiter: str | None
    header_row: int | None
    columns: dict[str, str]
    unknown_columns: list[str]
    course: dict[str, str | None] | None
    rows: Iterator[list[RawRow]] = field(repr=False)
    sheet: str | None = None
    # For a CSV, the header the rows are read under (the portal fast path reads the same records).
    csv_header: _Header | None = field(default=None, repr=False)
    structure: Structure = field(default_factory=Structure, repr=False)
    other_sheets: list[tuple[str, bool]] = field(default_factory=list)
    course_sheet: str | None = None


# ---------------------------------------------------------------- header matching


@lru_cache(maxsize=64)
def _label_index(columns: tuple[Column, ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for col in columns:
        for label in (col.name, col.vi_header, *col.aliases):
            if not label:
                continue
            key = normalise_text(label)
            if index.setdefault(key, col.name) != col.name:
                raise ValueError(f"header {label!r} would match both {index[key]} and {col.name}")
    return index


def _match_label(text: str | None, columns: tuple[Column, ...]) -> str | None:
    if not text:
        return None
    index = _label_index(columns)
    found = index.get(normalise_text(text))
    if found is None:
        # Bilingual templates write "Mã tỉnh (province_code)": the bracket may be the match.
        for inner in re.findall(r"\(([^()]*)\)", text):
            found = index.get(normalise_text(inner))
            if found:
                break
    return found


def match_header(text: str, contract: Contract) -> str | None:
    """The canonical column a header (or JSON key) names, or None.

    Case-, accent-, whitespace-, underscore- and punctuation-insensitive: ``MÃ TỈNH``,
    ``ma_tinh``, ``Mã  tỉnh (*)`` and ``province_code`` all give ``province_code``.
    """
    return _match_label(text, contract.columns)


@dataclass
class _Header:
    first_row: int
    last_row: int
    positions: dict[int, str]  # 0-based column position -> canonical name
    columns: dict[str, str]  # canonical name -> header as written
    unknown: list[str]
    width: int
    duplicates: list[tuple[str, list[str]]]
    texts: list[str | None] = field(default_factory=list)  # the header's cells by position

    @property
    def matched(self) -> set[str]:
        return set(self.positions.values())


def _complete(matched: set[str], contract: Contract) -> bool:
    return all(c.name in matched for c in contract.required_columns) and all(
        any(n in matched for n in group) for group in contract.required_one_of
    )


def _build_header(first: int, last: int, texts: list[str | None], mapping: dict[int, str]) -> _Header:
    columns: dict[str, str] = {}
    seen: dict[str, list[str]] = {}
    for pos in sorted(mapping):
        name = mapping[pos]
        seen.setdefault(name, []).append(texts[pos] or name)
        columns.setdefault(name, texts[pos] or name)
    unknown = [t for pos, t in enumerate(texts) if t and pos not in mapping]
    duplicates = [(n, labels) for n, labels in seen.items() if len(labels) > 1]
    return _Header(first, last, dict(mapping), columns, unknown, len(texts), duplicates, list(texts))


def _match_cells(cells: list[str | None], contract: Contract) -> dict[int, str]:
    found = {
        pos: name
        for pos, text in enumerate(cells)
        if (name := match_header(text, contract) if text else None)
    }
    return _prefer_exact(found, cells, contract)


def _prefer_exact(found: dict[int, str], cells: list[str | None], contract: Contract) -> dict[int, str]:
    """When two headers name one column and exactly one of them is the column's own header
    ("Mã chỉ tiêu", often in a hidden column) and the other an alias ("Chỉ tiêu", the measures'
    names shown to the clerk), the own header is the column; the other is left unmatched."""
    by_name: dict[str, list[int]] = {}
    for pos, name in found.items():
        by_name.setdefault(name, []).append(pos)
    for name, positions in by_name.items():
        if len(positions) < 2:
            continue
        column = contract.column(name)
        own = {normalise_text(column.name), normalise_text(column.vi_header or "")}
        exact = [pos for pos in positions if normalise_text(cells[pos] or "") in own]
        if len(exact) == 1:
            for pos in positions:
                if pos != exact[0]:
                    del found[pos]
    return found


def _scan_header(rows: list[tuple[int, list[str | None]]], contract: Contract) -> tuple[_Header | None, bool]:
    """(header, complete): the first row (or pair of rows) holding every required column, else the
    row that matched most columns (None if none matched any)."""
    best: _Header | None = None
    matches = [_match_cells(cells, contract) for _, cells in rows]
    for i, (number, cells) in enumerate(rows):
        upper = matches[i]
        if not upper:
            continue
        candidate = _build_header(number, number, cells, upper)
        if i + 1 < len(rows) and rows[i + 1][0] == number + 1:
            below_cells = rows[i + 1][1]
            lower = matches[i + 1]
            # A two-row header: headers merged over both rows leave the lower cell empty, group
            # labels ("Kết quả") sit over sub-headers ("Giá trị", "Ghi chú"). A data row below a
            # one-row header fills the cells under the headers instead.
            under_empty = all(
                pos >= len(below_cells) or not below_cells[pos] or pos in lower for pos in upper
            )
            adds = set(lower.values()) - set(upper.values())
            if under_empty and adds:
                width = max(len(cells), len(below_cells))
                texts = [
                    (below_cells[p] if p < len(below_cells) and p in lower else None)
                    or (cells[p] if p < len(cells) else None)
                    or (below_cells[p] if p < len(below_cells) else None)
                    for p in range(width)
                ]
                candidate = _build_header(number, number + 1, texts, {**upper, **lower})
        if _complete(candidate.matched, contract):
            return candidate, True
        if best is None or len(candidate.matched) > len(best.matched):
            best = candidate
    return best, False


@dataclass(frozen=True)
class _Where:
    """Where in the file a problem is, in English and in Vietnamese."""

    en: str
    vi: str

    @classmethod
    def file(cls, name: str, sheet: str | None = None) -> _Where:
        if sheet is None:
            return cls(name, _file_vi(name))
        return cls(f"{name}, sheet {sheet!r}", f"{_file_vi(name)} (trang tính {quoted(sheet)})")


def _vi_label(column: Column) -> str:
    return f"{quoted(column.vi_header)} ({column.name})" if column.vi_header else quoted(column.name)


def _check_header(
    header: _Header | None, complete: bool, contract: Contract, where: _Where, found: list[str]
) -> _Header:
    title_en, title_vi = SOURCE_TITLES[contract.source]
    if header is not None and header.duplicates:
        detail = "; ".join(
            f"{', '.join(repr(x) for x in labels)} all mean {contract.column(n).label}"
            for n, labels in header.duplicates
        )
        detail_vi = "; ".join(
            f"{', '.join(quoted(x) for x in labels)} cùng là cột {_vi_label(contract.column(n))}"
            for n, labels in header.duplicates
        )
        raise FileRejected(
            "duplicate_columns", f"{where.en}: the header row {header.first_row} repeats a column: {detail}",
            f"{where.vi} có một cột bị lặp lại ở dòng tên cột {header.first_row}: {detail_vi}; hãy giữ một cột "
            f"và gửi lại",
        )
    if complete and header is not None:
        return header
    threshold = min(2, len(contract.required_columns))
    if header is not None and len(header.matched) >= threshold:
        lacking = [c for c in contract.required_columns if c.name not in header.matched]
        missing = ", ".join(c.label for c in lacking)
        missing_vi = ", ".join(_vi_label(c) for c in lacking)
        for group in contract.required_one_of:
            if not any(n in header.matched for n in group):
                either = " or ".join(contract.column(n).label for n in group)
                either_vi = " hoặc ".join(_vi_label(contract.column(n)) for n in group)
                missing = f"{missing}, {either}" if missing else either
                missing_vi = f"{missing_vi}, {either_vi}" if missing_vi else either_vi
        row = f" row {header.first_row}" if header.first_row else ""
        row_vi = f" (dòng {header.first_row})" if header.first_row else ""
        raise FileRejected(
            "missing_columns",
            f"{where.en}: the header{row} lacks the column(s) {missing}; "
            f"the {contract.source} contract needs {_needed(contract)}",
            f"{where.vi} thiếu cột {missing_vi} ở dòng tên cột{row_vi}; {title_vi} cần có các cột "
            f"{_needed_vi(contract)}",
            matched=len(header.matched),
        )
    raise _no_header(contract, where, found)


def _needed(contract: Contract) -> str:
    needed = ", ".join(c.label for c in contract.required_columns)
    for group in contract.required_one_of:
        needed += f" and {' or '.join(contract.column(n).label for n in group)}"
    return needed


def _needed_vi(contract: Contract) -> str:
    needed = ", ".join(quoted(c.vi_header or c.name) for c in contract.required_columns)
    for group in contract.required_one_of:
        needed += f" và {' hoặc '.join(quoted(contract.column(n).vi_header or n) for n in group)}"
    return needed


def _no_header(contract: Contract, where: _Where, found: list[str]) -> FileRejected:
    seen = f"; the first rows hold {', '.join(repr(t) for t in found[:12])}" if found else ""
    seen_vi = f" (các dòng đầu có: {', '.join(quoted(t) for t in found[:12])})" if found else ""
    title_vi = SOURCE_TITLES[contract.source][1]
    return FileRejected(
        "no_header",
        f"{where.en}: no header row among the first {HEADER_SCAN_ROWS} rows; the {contract.source} "
        f"contract needs the columns {_needed(contract)}{seen}",
        f"{where.vi} không có dòng tên cột trong {HEADER_SCAN_ROWS} dòng đầu{seen_vi}; {title_vi} cần có "
        f"các cột {_needed_vi(contract)}",
    )


def _found_texts(rows: list[tuple[int, list[str | None]]], contract: Contract) -> list[str]:
    """Cell texts to show in a no_header message; never for a source with personal data, where
    the first rows of a file without a header are people."""
    if contract.personal_columns:
        return []
    texts = [t for _, cells in rows[:3] for t in cells if t]
    return [t if len(t) <= 40 else t[:37] + "..." for t in texts]


# ---------------------------------------------------------------- course header (rosters)

_COURSE_PERIOD_KEYS = {"thoi gian", "thoi gian to chuc", "thoi gian hoc", "thoi gian dao tao"}
_DATE_TOKEN = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2}")
# "Tên khóa học:" is a label; "08:00" is not.
_LABEL_CELL = re.compile(r"^[^\W\d][^:]{0,59}:")


def _course_from_rows(
    rows: Iterable[tuple[int, list[str | None]]], contract: Contract, joiner: str | None
) -> tuple[dict[str, str | None], set[int]]:
    """The course details in ``rows`` (row number, cells), and the numbers of the rows they were in.

    Reads ``Mã khóa học: QN-2024-01`` lines (one cell, or a label cell then a value cell), and a
    small table: a row of course labels with the values in the row under it.

    ``joiner`` glues back the cells that follow a ``label: value`` cell in a CSV, where an unquoted
    delimiter inside the value split it; spreadsheets pass None.
    """
    course: dict[str, str | None] = {c.name: None for c in contract.course_header}
    used: set[int] = set()

    def put(name: str, value: str | None, number: int) -> None:
        if value and course.get(name) is None:
            course[name] = value
            used.add(number)

    rows = list(rows)
    labels_above: dict[int, str] = {}
    for index, (number, cells) in enumerate(rows):
        if labels_above:
            for pos, name in labels_above.items():
                if pos < len(cells) and cells[pos]:
                    put(name, _clean(cells[pos]), number)
            labels_above = {}
            continue
        filled = {pos: t.strip() for pos, t in enumerate(cells) if t and t.strip()}
        as_labels = {pos: _match_label(t, contract.course_header) for pos, t in filled.items() if ":" not in t}
        if len(filled) >= 2 and all(as_labels.get(pos) for pos in filled) and index + 1 < len(rows):
            labels_above = {pos: name for pos, name in as_labels.items() if name}
            used.add(number)
            continue
        raws = [t for t in cells if t and t.strip()]
        texts = [t.strip() for t in raws]
        i = 0
        while i < len(texts):
            label, colon, rest = texts[i].partition(":")
            key = normalise_text(label if colon else texts[i])
            name = _match_label(label if colon else texts[i], contract.course_header)
            if name is None and key not in _COURSE_PERIOD_KEYS:
                i += 1
                continue
            rest = rest.strip()
            i += 1
            if colon and rest:
                value = rest
                while joiner is not None and i < len(texts) and not _LABEL_CELL.match(texts[i]):
                    value += joiner + raws[i]
                    i += 1
                value = _clean(value)
            elif i < len(texts) and not _LABEL_CELL.match(texts[i]):
                value = _clean(texts[i])
                i += 1
            else:
                value = None
            if name is not None:
                put(name, value, number)
            elif value:
                dates = _DATE_TOKEN.findall(value)
                if dates:
                    put("start_date", dates[0], number)
                    put("end_date", dates[-1] if len(dates) > 1 else None, number)
    return course, used


def _course_from_json(obj: object, contract: Contract) -> dict[str, str | None]:
    course: dict[str, str | None] = {c.name: None for c in contract.course_header}
    if isinstance(obj, dict):
        for key, value in obj.items():
            name = _match_label(str(key), contract.course_header)
            if name is not None and course[name] is None:
                course[name] = _typed_text(value, contract.column(name).kind, json_style=True)
    return course


# ---------------------------------------------------------------- values


def _clean(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _float_text(value: float, decimal_comma: bool) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    # 15 significant digits is what Excel shows: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return text.replace(".", ",") if decimal_comma else text


def _clock_text(value: time | datetime) -> str:
    return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")


def _typed_text(value: object, kind: str, *, json_style: bool = False, percent: bool = False) -> str | None:
    """A typed spreadsheet/JSON value as the sender sees it. Numbers in number/int columns get a
    decimal comma, so that 1.125 cannot be read back as 1125 by the Vietnamese number rule."""
    if value is None:
        return None
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool):
        return ("true" if value else "false") if json_style else ("TRUE" if value else "FALSE")
    numeric = kind in ("number", "int")
    if isinstance(value, int):
        return f"{value * 100}%" if percent else str(value)
    if isinstance(value, float):
        if percent:
            return _float_text(value * 100, numeric) + "%"
        return _float_text(value, numeric)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.replace(".", ",") if numeric else text
    if kind == "period" and isinstance(value, date) and value.day == 1:
        # Excel turns "11/2024" typed in a cell into the date 1 Nov 2024.
        return f"{value.month:02d}/{value.year}"
    if isinstance(value, datetime):
        if value.time() == time():
            return value.strftime("%d/%m/%Y")
        return f"{value:%d/%m/%Y} {_clock_text(value)}"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return _clock_text(value)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return _clean(str(value))


# ---------------------------------------------------------------- format detection


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[: len(head) - len(head) % 2][:2048]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _head_text(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    if (enc := _utf16_without_bom(head)) is not None:
        return head.decode(enc, errors="ignore")
    return head.decode("utf-8-sig", errors="ignore")


def detect_format(path: Path, head: bytes) -> str:
    """``xlsx``, ``csv``, ``json`` or ``jsonl`` from the first bytes (magic numbers first, then the
    extension, then the text); anything else raises ``FileRejected("unsupported_format")``."""
    path = Path(path)
    ext = path.suffix.lower()
    name = path.name
    file_vi = _file_vi(name)
    if head.startswith(_OLE_MAGIC):
        raise FileRejected(
            "unsupported_format",
            f"{name} is an Excel 97-2003 (.xls) workbook or a password-protected one: remove the "
            f"password if any and {_SAVE_AS}",
            f"{file_vi} là bảng tính Excel 97-2003 (.xls) hoặc bảng tính có đặt mật khẩu, hệ thống không đọc "
            f"được; hãy bỏ mật khẩu (nếu có), {_SAVE_AS_VI}",
        )
    if head.startswith(_ZIP_MAGIC):
        kind, kind_vi = _zip_kind(path)
        if kind == "xlsx":
            return "xlsx"
        raise FileRejected(
            "unsupported_format", f"{name} is {kind}, not a spreadsheet this warehouse reads: {_SAVE_AS}",
            f"{file_vi} là {kind_vi}, không phải bảng tính mà hệ thống đọc được; {_SAVE_AS_VI}",
        )
    for magic, (what, what_vi) in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise FileRejected("unsupported_format", f"{name} is {what}: {_SAVE_AS}",
                               f"{file_vi} là {what_vi}, không phải bảng tính; {_SAVE_AS_VI}")
    if ext in _UNSUPPORTED_EXTENSIONS:
        what, what_vi = _UNSUPPORTED_EXTENSIONS[ext]
        raise FileRejected("unsupported_format", f"{name} is {what}: {_SAVE_AS}",
                           f"{file_vi} là {what_vi}, hệ thống không đọc được; {_SAVE_AS_VI}")
    bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not bom and _utf16_without_bom(head) is None:
        raise FileRejected(
            "unsupported_format", f"{name} is a binary file, not CSV, JSON or XLSX: {_SAVE_AS}",
            f"{file_vi} không phải là bảng tính (không phải tệp Excel .xlsx, CSV hay JSON); {_SAVE_AS_VI}",
        )
    text = _head_text(head).lstrip()
    if text[:1] == "<":
        raise FileRejected(
            "unsupported_format", f"{name} is a web page or XML, not a spreadsheet: {_SAVE_AS}",
            f"{file_vi} là trang web hoặc tệp XML, không phải bảng tính; {_SAVE_AS_VI}",
        )
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if text[:1] == "[":
        return "json"
    if text[:1] == "{":
        first, _, rest = text.partition("\n")
        try:
            json.loads(first)
        except ValueError:
            return "json"
        return "jsonl" if rest.lstrip()[:1] == "{" else "json"
    if ext == ".json":
        return "json"
    return "csv"


def _zip_kind(path: Path) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(
            "unreadable", f"{path.name} looks like a zip/XLSX file but is corrupt: {exc}",
            f"{_file_vi(path.name)} {_CORRUPT_VI}",
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx", "xlsx"
    if "xl/workbook.bin" in names:
        return "a binary Excel workbook (.xlsb)", "bảng tính Excel dạng nhị phân (.xlsb)"
    if any(n.startswith("word/") for n in names):
        return "a Word document", "văn bản Word"
    if "content.xml" in names:
        return "an OpenDocument file", "tệp OpenDocument"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return ("a zip archive without a workbook in it (a corrupt .xlsx?)",
                "tệp nén không chứa bảng tính (tệp .xlsx bị hỏng?)")
    return "a zip archive", "tệp nén"


# ---------------------------------------------------------------- entry point


def read_file(
    path: Path,
    source: str,
    *,
    chunk_rows: int = 50_000,
    sheet: str | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED,
) -> ReadResult:
    """Read ``path`` as a file of ``source`` (``agencies``, ``submissions``, ``portal``, ``rosters``).

    The header is found and checked now (raising :class:`FileRejected`); the data rows are read
    when ``rows`` is iterated, ``chunk_rows`` at a time. ``sheet`` picks a workbook sheet by name.
    """
    if source not in CONTRACTS:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(CONTRACTS)}")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    contract = CONTRACTS[source]
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise FileRejected("unreadable", f"{path.name} cannot be opened: {exc.strerror}",
                           f"{_file_vi(path.name)} không mở được ({exc.strerror})") from None
    if not head or (len(head) < HEAD_BYTES and not _head_text(head).strip()):
        raise FileRejected("empty_file", f"{path.name} is empty",
                           f"{_file_vi(path.name)} không có dữ liệu: tệp rỗng")
    fmt = detect_format(path, head)
    if fmt == "xlsx":
        return _read_xlsx(path, contract, chunk_rows, sheet, max_uncompressed_bytes)
    if fmt == "csv":
        return _read_csv(path, contract, chunk_rows, head)
    if fmt == "json":
        return _read_json(path, contract, chunk_rows, head)
    return _read_jsonl(path, contract, chunk_rows, head)


def _chunked(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    chunk: list[RawRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------- XLSX

_CORRUPT_VI = "bị hỏng, không đọc được; hãy mở tệp gốc bằng Excel, lưu lại thành .xlsx rồi gửi lại"


def _check_zip(path: Path, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected("unreadable", f"{path.name} is not a valid XLSX file: {exc}",
                           f"{_file_vi(path.name)} {_CORRUPT_VI}") from None
    total = sum(m.file_size for m in members)
    if total > limit:
        raise FileRejected(
            "zip_bomb",
            f"{path.name} would expand to {total:,} bytes (limit {limit:,}); split it or send CSV",
            f"{_file_vi(path.name)} khi giải nén sẽ lớn tới {total:,} byte, vượt giới hạn {limit:,} byte; "
            f"hãy chia nhỏ tệp hoặc gửi dạng CSV",
        )
    for m in members:
        if m.file_size > BOMB_MEMBER_BYTES and m.file_size > BOMB_RATIO * max(m.compress_size, 1):
            raise FileRejected(
                "zip_bomb",
                f"{path.name}: member {m.filename} expands {m.file_size // max(m.compress_size, 1)}-fold "
                f"(limit {BOMB_RATIO}); the file is rejected as a possible zip bomb",
                f"{_file_vi(path.name)} có phần {quoted(m.filename)} giải nén lớn gấp "
                f"{m.file_size // max(m.compress_size, 1)} lần (giới hạn {BOMB_RATIO} lần), bất thường nên bị "
                f"từ chối; hãy lưu lại bằng Excel rồi gửi lại",
            )


@dataclass
class _SheetRow:
    """A sheet row as read: texts by 0-based column, and what the XML says about it."""

    number: int
    texts: dict[int, str | None]
    hidden: bool
    flags: dict[int, str] | None  # column -> "formula" (never calculated) or "formula_error"


class _Workbook:
    """An openpyxl read-only workbook, driven one sheet at a time with its own row parser.

    The parser is openpyxl's ``WorkSheetParser`` (openpyxl 3.1) with three changes: a formula
    whose result Excel never cached is returned as its text (``=SUM(C5:C9)``) and flagged, instead
    of an empty cell, so the sender is told rather than silently getting a blank or a 0; a cell
    holding a formula's error (``#REF!``) is flagged too; and each row says whether it is hidden.
    Formulas are never evaluated.
    """

    def __init__(self, path: Path, limit: int):
        _check_zip(path, limit)
        import openpyxl

        self.path = path
        self._handle = path.open("rb")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A file object, because openpyxl refuses paths whose extension it does not know.
                self.wb = openpyxl.load_workbook(
                    self._handle, read_only=True, data_only=True, keep_links=False, keep_vba=False
                )
        except Exception as exc:
            self._handle.close()
            raise FileRejected("unreadable", f"{path.name} is not a readable XLSX workbook: {exc}",
                               f"{_file_vi(path.name)} {_CORRUPT_VI}") from None
        self.percent_styles = self._percent_styles()

    def _percent_styles(self) -> frozenset[int]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, builtin_format_code

        found = set()
        for idx, style in enumerate(getattr(self.wb, "_cell_styles", [])):
            fmt_id = style.numFmtId
            if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
                fmt = builtin_format_code(fmt_id) or ""
            else:
                custom = self.wb._number_formats
                fmt = (
                    custom[fmt_id - BUILTIN_FORMATS_MAX_SIZE]
                    if fmt_id - BUILTIN_FORMATS_MAX_SIZE < len(custom)
                    else ""
                )
            if "%" in re.sub(r'"[^"]*"|\\.', "", fmt):
                found.add(idx)
        return frozenset(found)

    def close(self) -> None:
        self.wb.close()
        self._handle.close()

    def worksheets(self) -> list:
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet

        return [ws for ws in self.wb.worksheets if isinstance(ws, ReadOnlyWorksheet)]

    def rows(self, ws, kinds: dict[int, str] | None = None) -> Iterator[_SheetRow]:
        """Every row the sheet XML holds, in order."""
        wb = self.wb
        kinds = kinds or {}
        percent = self.percent_styles
        with ws._get_source() as src:
            parser = _sheet_parser_class()(
                src,
                ws._shared_strings,
                data_only=True,
                epoch=wb.epoch,
                date_formats=wb._date_formats,
                timedelta_formats=wb._timedelta_formats,
            )
            for number, cells, hidden in parser.parse():
                texts: dict[int, str | None] = {}
                flags: dict[int, str] | None = None
                for cell in cells:
                    value = cell["value"]
                    if value is None:
                        continue
                    pos = cell["column"] - 1
                    mark = cell.get("uncached")
                    if mark or cell["data_type"] == "e":
                        flags = flags or {}
                        flags[pos] = "formula" if mark else "formula_error"
                    texts[pos] = _typed_text(
                        value,
                        kinds.get(pos, "text"),
                        percent=cell["data_type"] == "n" and cell["style_id"] in percent,
                    )
                yield _SheetRow(number, texts, hidden, flags)

    def sheet_extras(self, ws) -> tuple[list[tuple[int, int, int, int]], tuple[int, int] | None]:
        """The merged cell ranges (min_row, min_col, max_row, max_col; 1-based) of a sheet, and the
        rows its AutoFilter covers (first, last) if it has one.

        Read-only openpyxl only learns these after the last row; they are found here by scanning
        the sheet's XML bytes, decompressed in 1 MiB pieces, so memory stays bounded.
        """
        from openpyxl.utils import column_index_from_string

        refs: set[tuple[bytes, ...]] = set()
        autofilter = None
        tail = b""
        with ws._get_source() as src:
            while chunk := src.read(1 << 20):
                buf = tail + chunk
                if b"mergeCell" in buf:
                    refs.update(m.groups() for m in _MERGE_REF.finditer(buf))
                if autofilter is None and b"autoFilter" in buf:
                    m = _AUTOFILTER_REF.search(buf)
                    if m is not None:
                        autofilter = (int(m.group(2)), int(m.group(4) or m.group(2)))
                tail = buf[-512:]
        ranges = []
        for c1, r1, c2, r2 in refs:
            c2, r2 = c2 or c1, r2 or r1
            ranges.append(
                (
                    int(r1),
                    column_index_from_string(c1.decode()),
                    int(r2),
                    column_index_from_string(c2.decode()),
                )
            )
        return ranges, autofilter


@lru_cache(maxsize=1)
def _sheet_parser_class() -> type:
    from openpyxl.worksheet._reader import CELL_TAG, FORMULA_TAG, ROW_TAG, VALUE_TAG, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    data_tag = f"{{{SHEET_MAIN_NS}}}sheetData"

    class _SheetParser(WorkSheetParser):
        def parse(self):
            # openpyxl clears each row element but leaves it attached to <sheetData>, which then
            # grows with the sheet; rows are detached here, and parsing stops at </sheetData>.
            sheet_data = None
            for event, element in iterparse(self.source, events=("start", "end")):
                if event == "start":
                    if element.tag == data_tag:
                        sheet_data = element
                elif element.tag == ROW_TAG:
                    row = self.parse_row(element)
                    if sheet_data is not None:
                        sheet_data.clear()
                    yield row
                elif element.tag == data_tag:
                    return

        def parse_row(self, row):
            # openpyxl's version also records every row's height and style; only "hidden" matters here.
            number = row.get("r")
            self.row_counter = int(float(number)) if number is not None else self.row_counter + 1
            self.col_counter = 0
            hidden = row.get("hidden") in ("1", "true")
            return self.row_counter, [self.parse_cell(cell) for cell in row.iterfind(CELL_TAG)], hidden

        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:
                formula = self.parse_formula(element)  # also registers shared formulas
                # A cached empty text result is written <c t="str"><v></v>: that cell is empty.
                cached_empty_text = element.get("t") == "str" and element.find(VALUE_TAG) is not None
                if cell["value"] is None and not cached_empty_text:
                    cell["value"] = getattr(formula, "text", formula)
                    cell["uncached"] = True
            return cell

    return _SheetParser


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_AUTOFILTER_REF = re.compile(rb'<(?:\w+:)?autoFilter\s[^>]*?ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


def _dense(texts: dict[int, str | None]) -> list[str | None]:
    if not texts:
        return []
    cells: list[str | None] = [None] * (max(texts) + 1)
    for pos, text in texts.items():
        cells[pos] = text
    return cells


@dataclass
class _SheetScan:
    title: str
    visible: bool
    rows: list[tuple[int, list[str | None]]]
    exhausted: bool
    contract: Contract
    header: _Header | None = None
    complete: bool = False

    @property
    def has_data(self) -> bool:
        """A data row below the header, or a sheet longer than what was scanned. A blank form (its
        header, numbering, a total row and the signature block) has none."""
        if self.header is None:
            return False
        if not self.exhausted:
            return True
        header = self.header
        body = BodyClassifier(self.contract, header.positions, header.texts, Structure(), header.last_row + 1)
        return any(
            body.classify(n, c) is None for n, c in self.rows if n > header.last_row and any(c)
        )


def _scan_sheet(book: _Workbook, ws, contract: Contract) -> _SheetScan:
    rows: list[tuple[int, list[str | None]]] = []
    exhausted = True
    stream = book.rows(ws)
    try:
        for row in stream:
            if row.number > HEADER_SCAN_LIMIT or len(rows) >= HEADER_SCAN_ROWS:
                exhausted = False
                break
            cells = _dense(row.texts)
            if any(cells):
                rows.append((row.number, cells))
    finally:
        stream.close()
    scan = _SheetScan(ws.title, _visible(ws), rows, exhausted, contract)
    scan.header, scan.complete = _scan_header(rows, contract)
    return scan


def _visible(ws) -> bool:
    return getattr(ws, "sheet_state", "visible") == "visible"


def _choose_sheet(
    book: _Workbook, contract: Contract, sheet: str | None
) -> tuple[object, _SheetScan, list[tuple[object, _SheetScan]]]:
    """The sheet holding the table, its scan, and the scans made of every sheet."""
    name = book.path.name
    sheets = book.worksheets()
    if not sheets:
        raise FileRejected("no_header", f"{name} has no worksheet",
                           f"{_file_vi(name)} không có trang tính nào")
    if sheet is not None:
        chosen = [ws for ws in sheets if ws.title == sheet]
        if not chosen:
            names = ", ".join(repr(ws.title) for ws in sheets)
            names_vi = ", ".join(quoted(ws.title) for ws in sheets)
            raise FileRejected("sheet_not_found", f"{name} has no sheet {sheet!r}; its sheets are {names}",
                               f"{_file_vi(name)} không có trang tính {quoted(sheet)}; các trang tính của tệp là "
                               f"{names_vi}")
        scan = _scan_sheet(book, chosen[0], contract)
        _check_header(scan.header, scan.complete, contract, _Where.file(name, sheet), _found_texts(scan.rows, contract))
        return chosen[0], scan, [(chosen[0], scan)]

    scans = [(ws, _scan_sheet(book, ws, contract)) for ws in sheets]
    complete = [(ws, s) for ws, s in scans if s.complete and not s.header.duplicates]
    for pool in (
        [(ws, s) for ws, s in complete if s.visible and s.has_data],
        [(ws, s) for ws, s in complete if s.has_data],
        [(ws, s) for ws, s in complete if s.visible],
        complete,
    ):
        if len(pool) == 1:
            return pool[0][0], pool[0][1], scans
        if len(pool) > 1:
            names = ", ".join(repr(s.title) for _, s in pool)
            names_vi = ", ".join(quoted(s.title) for _, s in pool)
            title_vi = SOURCE_TITLES[contract.source][1]
            raise FileRejected(
                "ambiguous_sheet",
                f"{name}: the sheets {names} all hold a {contract.source} table; keep the data in one "
                f"sheet (or delete the others) and send the file again",
                f"{_file_vi(name)} có nhiều trang tính cùng chứa bảng {title_vi} ({names_vi}); hãy để số liệu "
                f"trong một trang tính (hoặc xóa các trang kia) rồi gửi lại",
            )
    # No sheet is complete: explain with the sheet that came closest.
    candidates = [(ws, s) for ws, s in scans if s.header is not None]
    if candidates:
        ws, scan = max(candidates, key=lambda p: len(p[1].header.matched))
        where = _Where.file(name, scan.title if len(sheets) > 1 else None)
        _check_header(scan.header, scan.complete, contract, where, _found_texts(scan.rows, contract))
    if not any(s.rows for _, s in scans):
        raise FileRejected("empty_file", f"{name} has no filled cell in any sheet",
                           f"{_file_vi(name)} không có dữ liệu: không trang tính nào có ô được điền")
    if len(sheets) > 1:
        listed = ", ".join(repr(ws.title) for ws in sheets)
        where = _Where(f"{name} (sheets {listed})",
                       f"{_file_vi(name)} (các trang tính {', '.join(quoted(ws.title) for ws in sheets)})")
    else:
        where = _Where.file(name)
    found = next((_found_texts(s.rows, contract) for _, s in scans if s.rows), [])
    raise _no_header(contract, where, found)


def _course_sheet(
    book: _Workbook, contract: Contract, table_ws, scans: list[tuple[object, _SheetScan]]
) -> tuple[str, dict[str, str | None]] | None:
    """A roster's course details on a sheet of their own ("Thông tin khóa học"): the sheet and what
    it says. Sheets named like one are tried first, visible sheets before hidden ones."""
    scanned = {id(ws): s for ws, s in scans}
    others = [ws for ws in book.worksheets() if ws is not table_ws and ws.title != table_ws.title]

    def priority(ws) -> tuple[int, int]:
        title = fold(ws.title)
        named = "khoa hoc" in title or "lop hoc" in title or "thong tin" in title
        return (0 if named else 1, 0 if _visible(ws) else 1)

    for ws in sorted(others, key=priority):
        scan = scanned.get(id(ws)) or _scan_sheet(book, ws, contract)
        course, _ = _course_from_rows(scan.rows, contract, joiner=None)
        if any(course.values()):
            return ws.title, course
    return None


def _read_xlsx(path: Path, contract: Contract, chunk_rows: int, sheet: str | None, limit: int) -> ReadResult:
    book = _Workbook(path, limit)
    course = None
    course_sheet = None
    try:
        ws, scan, scans = _choose_sheet(book, contract, sheet)
        header = scan.header
        above = [(number, cells) for number, cells in scan.rows if number < header.first_row]
        used: set[int] = set()
        if contract.course_header:
            course, used = _course_from_rows(above, contract, joiner=None)
            if not all(course.values()):
                found = _course_sheet(book, contract, ws, scans)
                if found is not None:
                    course_sheet = found[0]
                    for key, value in found[1].items():
                        if course.get(key) is None and value:
                            course[key] = value
        other_sheets = [(other.title, _visible(other)) for other in book.worksheets() if other.title != scan.title]
    except FileRejected:
        raise
    except Exception as exc:  # a sheet's XML that does not parse (entity tricks, a damaged member)
        raise FileRejected("unreadable", f"{path.name}: the workbook is corrupt: {exc}",
                           f"{_file_vi(path.name)} {_CORRUPT_VI}") from None
    finally:
        book.close()
    structure = Structure()
    for number, _ in above:
        structure.add(number, "course" if number in used else "title")
    for number, _ in scan.rows:
        if header.first_row <= number <= header.last_row:
            structure.add(number, "header")
    return ReadResult(
        source=contract.source,
        format="xlsx",
        encoding=None,
        delimiter=None,
        header_row=header.first_row,
        columns=header.columns,
        unknown_columns=header.unknown,
        course=course,
        rows=_xlsx_rows(path, contract, header, scan.title, chunk_rows, limit, structure),
        sheet=scan.title,
        structure=structure,
        other_sheets=other_sheets,
        course_sheet=course_sheet,
    )


def _xlsx_rows(
    path: Path, contract: Contract, header: _Header, title: str, chunk_rows: int, limit: int, structure: Structure
) -> Iterator[list[RawRow]]:
    book = _Workbook(path, limit)
    try:
        ws = book.wb[title]
        yield from _chunked(_xlsx_data(book, ws, contract, header, structure), chunk_rows)
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(
            "unreadable", f"{path.name}, sheet {title!r}: the workbook is corrupt: {exc}",
            f"{_file_vi(path.name)} (trang tính {quoted(title)}) {_CORRUPT_VI}",
        ) from None
    finally:
        book.close()


def _xlsx_data(book: _Workbook, ws, contract: Contract, header: _Header, structure: Structure) -> Iterator[RawRow]:
    positions = header.positions
    names = list(header.columns)
    kinds = {pos: contract.column(name).kind for pos, name in positions.items()}
    merges, autofilter = book.sheet_extras(ws)
    # A value merged down over several rows (an agency code spanning its measures) belongs to each.
    starts: dict[int, list[tuple[int, int]]] = {}
    # Rows holding a cell merged across three columns or more (a section's title, a total's label).
    banners: set[int] = set()
    for r1, c1, r2, c2 in merges:
        if r1 <= header.last_row:
            continue
        if r2 > r1 and (c1 - 1) in positions:
            starts.setdefault(r1, []).append((c1 - 1, r2))
        if c2 - c1 >= 2:
            banners.add(r1)
    body = BodyClassifier(contract, positions, header.texts, structure, header.last_row + 1)
    fills: dict[int, tuple[str | None, int]] = {}
    last = header.last_row
    for row in book.rows(ws, kinds):
        number, texts = row.number, row.texts
        if number <= header.last_row:
            continue
        for pos, until in starts.pop(number, ()):
            fills[pos] = (texts.get(pos), until)
        if not any(texts.values()):
            continue
        last = number
        # Rows an AutoFilter hides are data the sender filtered out of view, not rows hidden on purpose.
        hidden = row.hidden and not (autofilter is not None and autofilter[0] <= number <= autofilter[1])
        if body.classify(number, _dense(texts), hidden=hidden, banner=number in banners) is not None:
            continue
        values = {name: None for name in names}
        for pos, text in texts.items():
            name = positions.get(pos)
            if name is not None and text is not None:
                values[name] = text
        for pos, (text, until) in list(fills.items()):
            if number > until:
                del fills[pos]
            elif values[positions[pos]] is None:
                values[positions[pos]] = text
        flags = None
        if row.flags:
            flags = {positions[pos]: flag for pos, flag in row.flags.items() if pos in positions} or None
        yield RawRow(number, values, ws.title, flags)
    body.finish(last)


# ---------------------------------------------------------------- CSV

_DELIMITERS = (",", ";", "\t")


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if (enc := _utf16_without_bom(head)) is not None:
        return enc
    # The whole file is checked: a CP1258 file is often pure ASCII for its first thousand lines.
    for encoding in ("utf-8", "cp1258"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(1 << 18):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileRejected(
        "unreadable",
        f"{path.name} is neither UTF-8, UTF-16 nor Windows-1258 text: save it from Excel as "
        f"'CSV UTF-8 (Comma delimited)' and send it again",
        f"{_file_vi(path.name)} không đọc được: chữ trong tệp không theo bảng mã UTF-8, UTF-16 hay "
        f"Windows-1258; hãy lưu lại từ Excel dạng “CSV UTF-8 (Comma delimited)” rồi gửi lại",
    )


def _csv_records(f: io.TextIOBase, delimiter: str) -> Iterator[list[str]]:
    # strict: a quote opened and never closed must fail loudly, not swallow the rest of the file.
    return csv.reader(f, delimiter=delimiter, strict=True)


def _sample_records(path: Path, encoding: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The first non-blank records (number, fields as read)."""
    rows: list[tuple[int, list[str]]] = []
    with path.open(encoding=encoding, newline="") as f:
        for number, record in enumerate(_csv_records(f, delimiter), start=1):
            if number > HEADER_SCAN_LIMIT or len(rows) >= HEADER_SCAN_ROWS:
                break
            # A line of bare separators is blank whichever separator the file turns out to use.
            if "".join(record).strip(" \t,;"):
                rows.append((number, record))
    return rows


def _read_csv(path: Path, contract: Contract, chunk_rows: int, head: bytes) -> ReadResult:
    encoding = _detect_encoding(path, head)
    candidates = []
    errors = []
    for order, delimiter in enumerate(_DELIMITERS):
        try:
            raw = _sample_records(path, encoding, delimiter)
        except csv.Error as exc:
            # Read with the wrong separator, a well-quoted cell of a `;` file can look like a
            # stray quote: only when every separator fails is the file itself broken.
            errors.append(exc)
            continue
        rows = [(number, [_clean(c) for c in record]) for number, record in raw]
        header, complete = _scan_header(rows, contract)
        matched = len(header.matched) if header else 0
        split = len(rows[0][1]) if rows else 0
        # A complete header wins, then the most columns matched, then the most fields on the
        # first line (only for the no_header message), then the usual order , ; tab.
        candidates.append(((complete, matched, split, -order), delimiter, raw, rows, header, complete))
    if not candidates:
        raise FileRejected(
            "unreadable", f"{path.name}: {errors[0]} (a quote opened and never closed?)",
            f"{_file_vi(path.name)} không đọc được: có dấu ngoặc kép mở mà không đóng; hãy sửa ô đó hoặc lưu "
            f"lại từ Excel rồi gửi lại",
        ) from None
    _, delimiter, raw, rows, header, complete = max(candidates, key=lambda c: c[0])
    if not rows:
        raise FileRejected("empty_file", f"{path.name} holds only blank lines",
                           f"{_file_vi(path.name)} không có dữ liệu: chỉ có các dòng trống")
    header = _check_header(header, complete, contract, _Where.file(path.name), _found_texts(rows, contract))
    course = None
    used: set[int] = set()
    if contract.course_header:
        above = [(number, record) for number, record in raw if number < header.first_row]
        course, used = _course_from_rows(above, contract, joiner=delimiter)
    structure = Structure()
    for number, _ in rows:
        if number < header.first_row:
            structure.add(number, "course" if number in used else "title")
        elif number <= header.last_row:
            structure.add(number, "header")
    return ReadResult(
        source=contract.source,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        header_row=header.first_row,
        columns=header.columns,
        unknown_columns=header.unknown,
        course=course,
        rows=_chunked(_csv_data(path, encoding, delimiter, header, contract, structure), chunk_rows),
        csv_header=header,
        structure=structure,
    )


def _csv_data(
    path: Path, encoding: str, delimiter: str, header: _Header, contract: Contract, structure: Structure
) -> Iterator[RawRow]:
    positions = sorted(header.positions.items())
    names = [name for _, name in positions]
    classifier = None
    if contract.source in CLERK_SOURCES:
        classifier = BodyClassifier(contract, header.positions, header.texts, structure, header.last_row + 1)
    records = csv_value_lists(path, encoding, delimiter, header, [pos for pos, _ in positions], structure,
                              classifier)
    for number, values, error in records:
        row = dict(zip(names, values, strict=True))
        if error is not None:
            row[ROW_ERROR_KEY] = error
        yield RawRow(number, row)


_DELIMITER_NAMES = {"\t": ("tab", "tab"), ",": ("comma", "dấu phẩy"), ";": ("semicolon", "dấu chấm phẩy")}


def csv_value_lists(
    path: Path, encoding: str, delimiter: str, header: _Header, order: list[int],
    structure: Structure | None = None, classifier: BodyClassifier | None = None,
) -> Iterator[tuple[int, list[str | None], RowError | None]]:
    """The data records under ``header``: (record number, the values at the positions ``order``
    (stripped, empty as None, NFC), the row's error or None). A record with values beyond the
    header's width carries an error. Blank records are left out uncounted; the records that are
    not data are recorded in ``structure``: with a ``classifier`` (a report form's body), whatever
    it says is not data; without (a machine export), a numbering row (1, 2, 3...) right under the
    header and records with no value in any column of the table. ``_csv_data`` and the portal fast
    path (``fast_csv``) read through it."""
    needed = max(order) + 1
    width = header.width
    shown, shown_vi = _DELIMITER_NAMES[delimiter]
    normalize = unicodedata.normalize
    first = True
    number = 0
    # a data row after skipped ones ends their run (see Structure.ranges); told once, not per row
    after_skipped = True
    with path.open(encoding=encoding, newline="") as f:
        try:
            for number, record in enumerate(_csv_records(f, delimiter), start=1):
                if number <= header.last_row:
                    continue
                size = len(record)
                if size >= needed:
                    values = [record[pos].strip() or None for pos in order]
                else:
                    values = [(record[pos].strip() or None) if pos < size else None for pos in order]
                extra = size > width and any(c.strip() for c in record[width:])
                if classifier is not None:
                    # the markers are matched on folded text: no need to compose the cells here
                    cells = [c.strip() or None for c in record]
                    if not any(cells):
                        continue
                    if classifier.classify(number, cells) is not None:
                        continue
                elif not extra and not any(values):
                    if structure is not None and any(c.strip() for c in record):
                        structure.add(number, "no_data")
                        after_skipped = True
                    continue
                elif first:
                    first = False
                    if is_numbering_row(c.strip() for c in record):
                        if structure is not None:
                            structure.add(number, "numbering")
                        continue
                if after_skipped and structure is not None:
                    structure.data_row(number)
                    after_skipped = False
                values = [v if v is None or v.isascii() else normalize("NFC", v) for v in values]
                error = None
                if extra:
                    error = RowError(
                        f"line {number} has {size} fields but the header has {width}: a value holding a "
                        f"{shown} must be quoted",
                        f"có {size} ô nhưng dòng tên cột chỉ có {width} cột; giá trị nào có {shown_vi} thì phải "
                        f"đặt trong dấu ngoặc kép",
                    )
                yield number, values, error
        except csv.Error as exc:
            raise FileRejected(
                "unreadable", f"{path.name}, after line {number}: {exc} (a quote opened and never closed?)",
                f"{_file_vi(path.name)} không đọc được từ sau dòng {number}: có dấu ngoặc kép mở mà không đóng; "
                f"hãy sửa ô đó hoặc lưu lại từ Excel rồi gửi lại",
            ) from None
    if classifier is not None:
        classifier.finish(number)


# ---------------------------------------------------------------- JSON

_ROW_LISTS = ("rows", "data", "records", "trainees", "items")


def _json_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return _utf16_without_bom(head) or "utf-8"


class _KeyMap:
    """JSON keys to canonical names, remembering keys that match nothing."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.names: dict[str, str | None] = {}
        self.columns: dict[str, str] = {}
        self.unknown: list[str] = []
        self.duplicates: dict[str, list[str]] = {}

    def name(self, key: str) -> str | None:
        if key not in self.names:
            name = match_header(key, self.contract)
            self.names[key] = name
            if name is None:
                self.unknown.append(key)
            elif name in self.columns:
                self.duplicates.setdefault(name, [self.columns[name]]).append(key)
            else:
                self.columns[name] = key
        return self.names[key]

    def row(self, obj: dict, kinds: dict[str, str], where: _Where) -> dict[str, str | None]:
        values: dict[str, str | None] = dict.fromkeys(self.columns)
        given: dict[str, str] = {}
        for key, value in obj.items():
            name = self.name(str(key))
            if name is None:
                continue
            if name in given:
                values[ROW_ERROR_KEY] = RowError(
                    f"{where.en}: the keys {given[name]!r} and {key!r} both mean {name}",
                    f"{where.vi}: hai trường {quoted(given[name])} và {quoted(key)} cùng là cột {name}",
                )
            given[name] = str(key)
            values[name] = _typed_text(value, kinds[name], json_style=True)
        return values

    def check(self, where: _Where, check_missing: bool) -> None:
        if self.duplicates:
            detail = "; ".join(
                f"{', '.join(repr(k) for k in keys)} all mean {self.contract.column(n).label}"
                for n, keys in self.duplicates.items()
            )
            detail_vi = "; ".join(
                f"{', '.join(quoted(k) for k in keys)} cùng là cột {_vi_label(self.contract.column(n))}"
                for n, keys in self.duplicates.items()
            )
            raise FileRejected("duplicate_columns", f"{where.en}: keys repeat a column: {detail}",
                               f"{where.vi} có trường bị lặp lại: {detail_vi}")
        if not check_missing or _complete(set(self.columns), self.contract):
            return
        if not self.columns:
            keys = ", ".join(repr(k) for k in self.unknown[:12])
            keys_vi = ", ".join(quoted(k) for k in self.unknown[:12])
            title_vi = SOURCE_TITLES[self.contract.source][1]
            raise FileRejected(
                "no_header",
                f"{where.en}: no key of the objects names a column of the {self.contract.source} contract "
                f"({_needed(self.contract)}); the keys are {keys}",
                f"{where.vi} không có trường nào là cột của {title_vi} (cần {_needed_vi(self.contract)}); "
                f"các trường trong tệp là {keys_vi}",
            )
        header = _Header(0, 0, dict(enumerate(self.columns)), dict(self.columns), [], len(self.columns), [])
        _check_header(header, False, self.contract, where, [])


def _read_json(path: Path, contract: Contract, chunk_rows: int, head: bytes) -> ReadResult:
    encoding = _json_encoding(head)
    try:
        with path.open(encoding=encoding) as f:
            doc = json.load(f)
    except UnicodeDecodeError as exc:
        raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON: {exc.reason}",
                           f"{_file_vi(path.name)} không đọc được: tệp JSON không theo bảng mã UTF-8") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(
            "unreadable", f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            f"{_file_vi(path.name)} không đọc được: tệp JSON bị lỗi cú pháp ở dòng {exc.lineno}, cột {exc.colno}",
        ) from None
    course_obj = None
    records = None
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        course_obj = doc.get("course")
        for key in _ROW_LISTS:
            if isinstance(doc.get(key), list):
                records = doc[key]
                break
    if records is None:
        raise FileRejected(
            "unreadable",
            f"{path.name}: expected an array of objects, or an object with its rows under "
            f"{', '.join(repr(k) for k in _ROW_LISTS)}",
            f"{_file_vi(path.name)} không đọc được: tệp JSON phải là một danh sách các bản ghi, hoặc một đối "
            f"tượng có danh sách bản ghi trong trường {', '.join(quoted(k) for k in _ROW_LISTS)}",
        )
    keys = _KeyMap(contract)
    for obj in records:
        if isinstance(obj, dict):
            for key in obj:
                keys.name(str(key))
    keys.check(_Where.file(path.name), check_missing=bool(records))
    course = _course_from_json(course_obj, contract) if contract.course_header else None
    kinds = {c.name: c.kind for c in contract.columns}

    def data() -> Iterator[RawRow]:
        for index, obj in enumerate(records, start=1):
            if isinstance(obj, dict):
                yield RawRow(index, keys.row(obj, kinds, _Where(f"item {index}", f"bản ghi {index}")))
            else:
                values: dict[str, str | None] = dict.fromkeys(keys.columns)
                values[ROW_ERROR_KEY] = RowError(
                    f"item {index} is {type(obj).__name__}, not an object with named fields",
                    f"bản ghi {index} không phải là một đối tượng có các trường được đặt tên",
                )
                yield RawRow(index, values)

    return ReadResult(
        source=contract.source,
        format="json",
        encoding=encoding,
        delimiter=None,
        header_row=None,
        columns=dict(keys.columns),
        unknown_columns=keys.unknown,
        course=course,
        rows=_chunked(data(), chunk_rows),
    )


# Keys are learnt from the first lines; a key first seen later is still mapped when it comes.
_JSONL_KEY_SAMPLE = 1000


def _jsonl_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open(encoding=encoding, newline="") as f:
        for number, line in enumerate(f, start=1):
            if number == 1:
                line = line.lstrip("\ufeff")
            yield number, line


def _read_jsonl(path: Path, contract: Contract, chunk_rows: int, head: bytes) -> ReadResult:
    encoding = _json_encoding(head)
    keys = _KeyMap(contract)
    seen = 0
    try:
        for _, line in _jsonl_lines(path, encoding):
            if seen >= _JSONL_KEY_SAMPLE:
                break
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                seen += 1
                for key in obj:
                    keys.name(str(key))
    except UnicodeDecodeError as exc:
        raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON Lines: {exc.reason}",
                           f"{_file_vi(path.name)} không đọc được: tệp JSON Lines không theo bảng mã UTF-8") from None
    keys.check(_Where.file(path.name), check_missing=seen > 0)
    kinds = {c.name: c.kind for c in contract.columns}
    known = keys.columns

    def data() -> Iterator[RawRow]:
        try:
            for number, line in _jsonl_lines(path, encoding):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    msg = getattr(exc, "msg", str(exc))
                    col = getattr(exc, "colno", None)
                    where = f" at column {col}" if col else ""
                    yield RawRow(
                        number,
                        {
                            **dict.fromkeys(known),
                            ROW_ERROR_KEY: RowError(f"line {number} is not valid JSON: {msg}{where}",
                                                    "nội dung không phải là JSON hợp lệ"),
                        },
                    )
                    continue
                if not isinstance(obj, dict):
                    yield RawRow(
                        number,
                        {
                            **dict.fromkeys(known),
                            ROW_ERROR_KEY: RowError(
                                f"line {number} is a JSON {type(obj).__name__}, not an object",
                                "nội dung không phải là một đối tượng JSON có các trường được đặt tên",
                            ),
                        },
                    )
                    continue
                yield RawRow(number, keys.row(obj, kinds, _Where(f"line {number}", f"dòng {number}")))
        except UnicodeDecodeError as exc:
            raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON Lines: {exc.reason}",
                               f"{_file_vi(path.name)} không đọc được: tệp JSON Lines không theo bảng mã UTF-8") from None

    return ReadResult(
        source=contract.source,
        format="jsonl",
        encoding=encoding,
        delimiter=None,
        header_row=None,
        columns=known,
        unknown_columns=keys.unknown,
        course={c.name: None for c in contract.course_header} if contract.course_header else None,
        rows=_chunked(data(), chunk_rows),
    )
