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

A header-only file is not a rejection: it yields no rows. A JSON Lines line that is not valid JSON
and a CSV line with more fields than the header are not rejections either: their ``RawRow.values``
carry the key ``__error__`` with the explanation, for the loader to reject that row only.
``rows`` itself raises ``FileRejected("unreadable", ...)`` if the file turns out corrupt after the
header; treat the whole file as rejected then.
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

from planwh.ingest.contracts import CONTRACTS, Column, Contract
from planwh.ingest.parsing import normalise_text

__all__ = [
    "ROW_ERROR_KEY",
    "FileRejected",
    "RawRow",
    "ReadResult",
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
_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_UNSUPPORTED_EXTENSIONS = {
    ".xls": "an Excel 97-2003 workbook (.xls)",
    ".xlsb": "a binary Excel workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".pdf": "a PDF document",
    ".html": "a web page",
    ".htm": "a web page",
    ".xml": "an XML file",
}
_SAVE_AS = "save it as .xlsx (Excel Workbook) or CSV UTF-8 and send it again"


class FileRejected(Exception):
    """The file cannot be read at all; ``reason_code`` is stable, ``message`` is for the sender."""

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message

    def __repr__(self) -> str:
        return f"FileRejected({self.reason_code!r}, {self.message!r})"


@dataclass(slots=True)
class RawRow:
    """One data row. ``values`` has a key for every contract column found in the header (None
    when the cell is empty), plus ``__error__`` when the row could not be read as a whole."""

    row_number: int
    values: dict[str, str | None]
    sheet: str | None = None


@dataclass
class ReadResult:
    """What ``read_file`` learnt from the header, and the rows to come.

    ``columns`` maps each canonical column found to the header (or JSON key) as written;
    ``header_row`` is the sheet row or CSV line of the header (the first of a two-row header;
    None for JSON). ``course`` is the roster's course header (every course column, None where
    absent) and None for other sources. ``rows`` is a one-shot iterator of chunks; it opens the
    file again when first advanced and closes it when exhausted. For JSON Lines, a key first met
    past the sampled lines is added to ``columns`` / ``unknown_columns`` as the rows are read.
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
    return _Header(first, last, dict(mapping), columns, unknown, len(texts), duplicates)


def _match_cells(cells: list[str | None], contract: Contract) -> dict[int, str]:
    return {
        pos: name
        for pos, text in enumerate(cells)
        if (name := match_header(text, contract) if text else None)
    }


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


def _check_header(
    header: _Header | None, complete: bool, contract: Contract, where: str, found: list[str]
) -> _Header:
    if header is not None and header.duplicates:
        detail = "; ".join(
            f"{', '.join(repr(x) for x in labels)} all mean {contract.column(n).label}"
            for n, labels in header.duplicates
        )
        raise FileRejected(
            "duplicate_columns", f"{where}: the header row {header.first_row} repeats a column: {detail}"
        )
    if complete and header is not None:
        return header
    threshold = min(2, len(contract.required_columns))
    if header is not None and len(header.matched) >= threshold:
        missing = ", ".join(c.label for c in contract.required_columns if c.name not in header.matched)
        for group in contract.required_one_of:
            if not any(n in header.matched for n in group):
                either = " or ".join(contract.column(n).label for n in group)
                missing = f"{missing}, {either}" if missing else either
        row = f" row {header.first_row}" if header.first_row else ""
        raise FileRejected(
            "missing_columns",
            f"{where}: the header{row} lacks the column(s) {missing}; "
            f"the {contract.source} contract needs {_needed(contract)}",
        )
    raise _no_header(contract, where, found)


def _needed(contract: Contract) -> str:
    needed = ", ".join(c.label for c in contract.required_columns)
    for group in contract.required_one_of:
        needed += f" and {' or '.join(contract.column(n).label for n in group)}"
    return needed


def _no_header(contract: Contract, where: str, found: list[str]) -> FileRejected:
    seen = f"; the first rows hold {', '.join(repr(t) for t in found[:12])}" if found else ""
    return FileRejected(
        "no_header",
        f"{where}: no header row among the first {HEADER_SCAN_ROWS} rows; the {contract.source} "
        f"contract needs the columns {_needed(contract)}{seen}",
    )


def _found_texts(rows: list[tuple[int, list[str | None]]], contract: Contract) -> list[str]:
    """Cell texts to show in a no_header message; never for a source with personal data, where
    the first rows of a file without a header are people."""
    if contract.personal_columns:
        return []
    texts = [t for _, cells in rows[:3] for t in cells if t]
    return [t if len(t) <= 40 else t[:37] + "..." for t in texts]


_NUMBERING_CELL = re.compile(r"^[(\[]?(\d{1,3}|[A-Z])[)\]]?$")


def _is_numbering_row(texts: Iterable[str | None]) -> bool:
    """Government forms put a row of column numbers ``(1) (2) (3)`` or ``A B 1 2 3`` under the header."""
    tokens = [t for t in texts if t]
    if len(tokens) < 3:
        return False
    numbers = []
    for t in tokens:
        m = _NUMBERING_CELL.match(t)
        if m is None:
            return False
        if m.group(1).isdigit():
            numbers.append(int(m.group(1)))
        elif numbers:
            return False
    return len(numbers) >= 2 and all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))


# ---------------------------------------------------------------- course header (rosters)

_COURSE_PERIOD_KEYS = {"thoi gian", "thoi gian to chuc", "thoi gian hoc", "thoi gian dao tao"}
_DATE_TOKEN = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2}")
# "Tên khóa học:" is a label; "08:00" is not.
_LABEL_CELL = re.compile(r"^[^\W\d][^:]{0,59}:")


def _course_from_rows(
    rows: Iterable[list[str | None]], contract: Contract, joiner: str | None
) -> dict[str, str | None]:
    """Read ``Mã khóa học: QN-2024-01`` lines (one cell, or a label cell then a value cell).

    ``joiner`` glues back the cells that follow a ``label: value`` cell in a CSV, where an unquoted
    delimiter inside the value split it; spreadsheets pass None.
    """
    course: dict[str, str | None] = {c.name: None for c in contract.course_header}

    def put(name: str, value: str | None) -> None:
        if value and course.get(name) is None:
            course[name] = value

    for cells in rows:
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
                put(name, value)
            elif value:
                dates = _DATE_TOKEN.findall(value)
                if dates:
                    put("start_date", dates[0])
                    put("end_date", dates[-1] if len(dates) > 1 else None)
    return course


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
    if head.startswith(_OLE_MAGIC):
        raise FileRejected(
            "unsupported_format",
            f"{name} is an Excel 97-2003 (.xls) workbook or a password-protected one: remove the "
            f"password if any and {_SAVE_AS}",
        )
    if head.startswith(_ZIP_MAGIC):
        kind = _zip_kind(path)
        if kind == "xlsx":
            return "xlsx"
        raise FileRejected(
            "unsupported_format", f"{name} is {kind}, not a spreadsheet this warehouse reads: {_SAVE_AS}"
        )
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise FileRejected("unsupported_format", f"{name} is {what}: {_SAVE_AS}")
    if ext in _UNSUPPORTED_EXTENSIONS:
        raise FileRejected("unsupported_format", f"{name} is {_UNSUPPORTED_EXTENSIONS[ext]}: {_SAVE_AS}")
    bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not bom and _utf16_without_bom(head) is None:
        raise FileRejected(
            "unsupported_format", f"{name} is a binary file, not CSV, JSON or XLSX: {_SAVE_AS}"
        )
    text = _head_text(head).lstrip()
    if text[:1] == "<":
        raise FileRejected(
            "unsupported_format", f"{name} is a web page or XML, not a spreadsheet: {_SAVE_AS}"
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


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(
            "unreadable", f"{path.name} looks like a zip/XLSX file but is corrupt: {exc}"
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "a binary Excel workbook (.xlsb)"
    if any(n.startswith("word/") for n in names):
        return "a Word document"
    if "content.xml" in names:
        return "an OpenDocument file"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "a zip archive without a workbook in it (a corrupt .xlsx?)"
    return "a zip archive"


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
        raise FileRejected("unreadable", f"{path.name} cannot be opened: {exc.strerror}") from None
    if not head or (len(head) < HEAD_BYTES and not _head_text(head).strip()):
        raise FileRejected("empty_file", f"{path.name} is empty")
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


def _check_zip(path: Path, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected("unreadable", f"{path.name} is not a valid XLSX file: {exc}") from None
    total = sum(m.file_size for m in members)
    if total > limit:
        raise FileRejected(
            "zip_bomb",
            f"{path.name} would expand to {total:,} bytes (limit {limit:,}); split it or send CSV",
        )
    for m in members:
        if m.file_size > BOMB_MEMBER_BYTES and m.file_size > BOMB_RATIO * max(m.compress_size, 1):
            raise FileRejected(
                "zip_bomb",
                f"{path.name}: member {m.filename} expands {m.file_size // max(m.compress_size, 1)}-fold "
                f"(limit {BOMB_RATIO}); the file is rejected as a possible zip bomb",
            )


class _Workbook:
    """An openpyxl read-only workbook, driven one sheet at a time with its own row parser.

    The parser is openpyxl's ``WorkSheetParser`` (openpyxl 3.1) with one change: a formula whose
    result Excel never cached is returned as its text (``=SUM(C5:C9)``) instead of an empty cell,
    so the sender is told rather than silently getting a blank. Formulas are never evaluated.
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
            raise FileRejected("unreadable", f"{path.name} is not a readable XLSX workbook: {exc}") from None
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

    def rows(self, ws, kinds: dict[int, str] | None = None) -> Iterator[tuple[int, dict[int, str | None]]]:
        """(row number, {0-based column: text}) for every row the sheet XML holds."""
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
            for number, cells in parser.parse():
                texts: dict[int, str | None] = {}
                for cell in cells:
                    value = cell["value"]
                    if value is None:
                        continue
                    pos = cell["column"] - 1
                    texts[pos] = _typed_text(
                        value,
                        kinds.get(pos, "text"),
                        percent=cell["data_type"] == "n" and cell["style_id"] in percent,
                    )
                yield number, texts

    def merged_ranges(self, ws) -> list[tuple[int, int, int, int]]:
        """Merged cell ranges (min_row, min_col, max_row, max_col; 1-based) of a sheet.

        Read-only openpyxl only learns the merges after the last row; they are found here by
        scanning the sheet's XML bytes, decompressed in 1 MiB pieces, so memory stays bounded.
        """
        from openpyxl.utils import column_index_from_string

        refs: set[tuple[bytes, ...]] = set()
        tail = b""
        with ws._get_source() as src:
            while chunk := src.read(1 << 20):
                buf = tail + chunk
                if b"mergeCell" in buf:
                    refs.update(m.groups() for m in _MERGE_REF.finditer(buf))
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
        return ranges


@lru_cache(maxsize=1)
def _sheet_parser_class() -> type:
    from openpyxl.worksheet._reader import CELL_TAG, FORMULA_TAG, ROW_TAG, WorkSheetParser
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
            # openpyxl's version also records every row's height and style; nothing here needs them.
            number = row.get("r")
            self.row_counter = int(float(number)) if number is not None else self.row_counter + 1
            self.col_counter = 0
            return self.row_counter, [self.parse_cell(cell) for cell in row.iterfind(CELL_TAG)]

        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:
                formula = self.parse_formula(element)  # also registers shared formulas
                if cell["value"] is None:
                    cell["value"] = getattr(formula, "text", formula)
            return cell

    return _SheetParser


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


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
    header: _Header | None = None
    complete: bool = False

    @property
    def has_data(self) -> bool:
        """Rows below the header, or a sheet longer than what was scanned."""
        if self.header is None:
            return False
        return not self.exhausted or any(
            n > self.header.last_row and any(c) and not _is_numbering_row(c) for n, c in self.rows
        )


def _scan_sheet(book: _Workbook, ws, contract: Contract) -> _SheetScan:
    rows: list[tuple[int, list[str | None]]] = []
    exhausted = True
    stream = book.rows(ws)
    try:
        for number, texts in stream:
            if number > HEADER_SCAN_LIMIT or len(rows) >= HEADER_SCAN_ROWS:
                exhausted = False
                break
            cells = _dense(texts)
            if any(cells):
                rows.append((number, cells))
    finally:
        stream.close()
    scan = _SheetScan(ws.title, getattr(ws, "sheet_state", "visible") == "visible", rows, exhausted)
    scan.header, scan.complete = _scan_header(rows, contract)
    return scan


def _choose_sheet(book: _Workbook, contract: Contract, sheet: str | None) -> tuple[object, _SheetScan]:
    name = book.path.name
    sheets = book.worksheets()
    if not sheets:
        raise FileRejected("no_header", f"{name} has no worksheet")
    if sheet is not None:
        chosen = [ws for ws in sheets if ws.title == sheet]
        if not chosen:
            names = ", ".join(repr(ws.title) for ws in sheets)
            raise FileRejected("sheet_not_found", f"{name} has no sheet {sheet!r}; its sheets are {names}")
        scan = _scan_sheet(book, chosen[0], contract)
        _check_header(
            scan.header,
            scan.complete,
            contract,
            f"{name}, sheet {sheet!r}",
            _found_texts(scan.rows, contract),
        )
        return chosen[0], scan

    scans = [(ws, _scan_sheet(book, ws, contract)) for ws in sheets]
    complete = [(ws, s) for ws, s in scans if s.complete and not s.header.duplicates]
    for pool in (
        [(ws, s) for ws, s in complete if s.visible and s.has_data],
        [(ws, s) for ws, s in complete if s.has_data],
        [(ws, s) for ws, s in complete if s.visible],
        complete,
    ):
        if len(pool) == 1:
            return pool[0]
        if len(pool) > 1:
            names = ", ".join(repr(s.title) for _, s in pool)
            raise FileRejected(
                "ambiguous_sheet",
                f"{name}: the sheets {names} all hold a {contract.source} table; keep the data in one "
                f"sheet (or delete the others) and send the file again",
            )
    # No sheet is complete: explain with the sheet that came closest.
    candidates = [(ws, s) for ws, s in scans if s.header is not None]
    if candidates:
        ws, scan = max(candidates, key=lambda p: len(p[1].header.matched))
        where = f"{name}, sheet {scan.title!r}" if len(sheets) > 1 else name
        _check_header(scan.header, scan.complete, contract, where, _found_texts(scan.rows, contract))
    if not any(s.rows for _, s in scans):
        raise FileRejected("empty_file", f"{name} has no filled cell in any sheet")
    where = f"{name} (sheets {', '.join(repr(ws.title) for ws in sheets)})" if len(sheets) > 1 else name
    found = next((_found_texts(s.rows, contract) for _, s in scans if s.rows), [])
    raise _no_header(contract, where, found)


def _read_xlsx(path: Path, contract: Contract, chunk_rows: int, sheet: str | None, limit: int) -> ReadResult:
    book = _Workbook(path, limit)
    try:
        ws, scan = _choose_sheet(book, contract, sheet)
    except FileRejected:
        raise
    except Exception as exc:  # a sheet's XML that does not parse (entity tricks, a damaged member)
        raise FileRejected("unreadable", f"{path.name}: the workbook is corrupt: {exc}") from None
    finally:
        book.close()
    header = scan.header
    course = None
    if contract.course_header:
        above = (cells for number, cells in scan.rows if number < header.first_row)
        course = _course_from_rows(above, contract, joiner=None)
    return ReadResult(
        source=contract.source,
        format="xlsx",
        encoding=None,
        delimiter=None,
        header_row=header.first_row,
        columns=header.columns,
        unknown_columns=header.unknown,
        course=course,
        rows=_xlsx_rows(path, contract, header, scan.title, chunk_rows, limit),
        sheet=scan.title,
    )


def _xlsx_rows(
    path: Path, contract: Contract, header: _Header, title: str, chunk_rows: int, limit: int
) -> Iterator[list[RawRow]]:
    book = _Workbook(path, limit)
    try:
        ws = book.wb[title]
        yield from _chunked(_xlsx_data(book, ws, contract, header), chunk_rows)
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(
            "unreadable", f"{path.name}, sheet {title!r}: the workbook is corrupt: {exc}"
        ) from None
    finally:
        book.close()


def _xlsx_data(book: _Workbook, ws, contract: Contract, header: _Header) -> Iterator[RawRow]:
    positions = header.positions
    names = list(header.columns)
    kinds = {pos: contract.column(name).kind for pos, name in positions.items()}
    # A value merged down over several rows (an agency code spanning its measures) belongs to each.
    starts: dict[int, list[tuple[int, int]]] = {}
    for r1, c1, r2, _c2 in book.merged_ranges(ws):
        if r2 > r1 and r1 > header.last_row and (c1 - 1) in positions:
            starts.setdefault(r1, []).append((c1 - 1, r2))
    fills: dict[int, tuple[str | None, int]] = {}
    first = True
    for number, texts in book.rows(ws, kinds):
        if number <= header.last_row:
            continue
        for pos, until in starts.pop(number, ()):
            fills[pos] = (texts.get(pos), until)
        values = {name: None for name in names}
        own = False
        for pos, text in texts.items():
            name = positions.get(pos)
            if name is not None and text is not None:
                values[name] = text
                own = True
        if not own:
            continue
        if first:
            first = False
            if _is_numbering_row(texts.values()):
                continue
        for pos, (text, until) in list(fills.items()):
            if number > until:
                del fills[pos]
            elif values[positions[pos]] is None:
                values[positions[pos]] = text
        yield RawRow(number, values, ws.title)


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
            "unreadable", f"{path.name}: {errors[0]} (a quote opened and never closed?)"
        ) from None
    _, delimiter, raw, rows, header, complete = max(candidates, key=lambda c: c[0])
    if not rows:
        raise FileRejected("empty_file", f"{path.name} holds only blank lines")
    header = _check_header(header, complete, contract, path.name, _found_texts(rows, contract))
    course = None
    if contract.course_header:
        above = (record for number, record in raw if number < header.first_row)
        course = _course_from_rows(above, contract, joiner=delimiter)
    return ReadResult(
        source=contract.source,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        header_row=header.first_row,
        columns=header.columns,
        unknown_columns=header.unknown,
        course=course,
        rows=_chunked(_csv_data(path, encoding, delimiter, header), chunk_rows),
        csv_header=header,
    )


def _csv_data(path: Path, encoding: str, delimiter: str, header: _Header) -> Iterator[RawRow]:
    positions = sorted(header.positions.items())
    names = [name for _, name in positions]
    for number, values, error in csv_value_lists(path, encoding, delimiter, header, [pos for pos, _ in positions]):
        row = dict(zip(names, values, strict=True))
        if error is not None:
            row[ROW_ERROR_KEY] = error
        yield RawRow(number, row)


def csv_value_lists(
    path: Path, encoding: str, delimiter: str, header: _Header, order: list[int]
) -> Iterator[tuple[int, list[str | None], str | None]]:
    """The data records under ``header``: (record number, the values at the positions ``order``
    (stripped, empty as None, NFC), the row's error or None). Blank records and a numbering row
    (1, 2, 3...) right under the header are skipped; a record with values beyond the header's
    width carries an error. ``_csv_data`` and the portal fast path (``fast_csv``) read through it."""
    needed = max(order) + 1
    width = header.width
    shown = {"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter]
    normalize = unicodedata.normalize
    first = True
    number = 0
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
                if not extra and not any(values):
                    continue
                if first:
                    first = False
                    if _is_numbering_row(c.strip() for c in record):
                        continue
                values = [v if v is None or v.isascii() else normalize("NFC", v) for v in values]
                error = None
                if extra:
                    error = (f"line {number} has {size} fields but the header has {width}: a value holding a "
                             f"{shown} must be quoted")
                yield number, values, error
        except csv.Error as exc:
            raise FileRejected(
                "unreadable", f"{path.name}, after line {number}: {exc} (a quote opened and never closed?)"
            ) from None


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

    def row(self, obj: dict, kinds: dict[str, str], where: str) -> dict[str, str | None]:
        values: dict[str, str | None] = dict.fromkeys(self.columns)
        given: dict[str, str] = {}
        for key, value in obj.items():
            name = self.name(str(key))
            if name is None:
                continue
            if name in given:
                values[ROW_ERROR_KEY] = f"{where}: the keys {given[name]!r} and {key!r} both mean {name}"
            given[name] = str(key)
            values[name] = _typed_text(value, kinds[name], json_style=True)
        return values

    def check(self, where: str, check_missing: bool) -> None:
        if self.duplicates:
            detail = "; ".join(
                f"{', '.join(repr(k) for k in keys)} all mean {self.contract.column(n).label}"
                for n, keys in self.duplicates.items()
            )
            raise FileRejected("duplicate_columns", f"{where}: keys repeat a column: {detail}")
        if not check_missing or _complete(set(self.columns), self.contract):
            return
        if not self.columns:
            keys = ", ".join(repr(k) for k in self.unknown[:12])
            raise FileRejected(
                "no_header",
                f"{where}: no key of the objects names a column of the {self.contract.source} contract "
                f"({_needed(self.contract)}); the keys are {keys}",
            )
        header = _Header(0, 0, dict(enumerate(self.columns)), dict(self.columns), [], len(self.columns), [])
        _check_header(header, False, self.contract, where, [])


def _read_json(path: Path, contract: Contract, chunk_rows: int, head: bytes) -> ReadResult:
    encoding = _json_encoding(head)
    try:
        with path.open(encoding=encoding) as f:
            doc = json.load(f)
    except UnicodeDecodeError as exc:
        raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(
            "unreadable", f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
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
        )
    keys = _KeyMap(contract)
    for obj in records:
        if isinstance(obj, dict):
            for key in obj:
                keys.name(str(key))
    keys.check(path.name, check_missing=bool(records))
    course = _course_from_json(course_obj, contract) if contract.course_header else None
    kinds = {c.name: c.kind for c in contract.columns}

    def data() -> Iterator[RawRow]:
        for index, obj in enumerate(records, start=1):
            if isinstance(obj, dict):
                yield RawRow(index, keys.row(obj, kinds, f"item {index}"))
            else:
                values: dict[str, str | None] = dict.fromkeys(keys.columns)
                values[ROW_ERROR_KEY] = (
                    f"item {index} is {type(obj).__name__}, not an object with named fields"
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
        raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON Lines: {exc.reason}") from None
    keys.check(path.name, check_missing=seen > 0)
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
                            ROW_ERROR_KEY: f"line {number} is not valid JSON: {msg}{where}",
                        },
                    )
                    continue
                if not isinstance(obj, dict):
                    yield RawRow(
                        number,
                        {
                            **dict.fromkeys(known),
                            ROW_ERROR_KEY: f"line {number} is a JSON {type(obj).__name__}, not an object",
                        },
                    )
                    continue
                yield RawRow(number, keys.row(obj, kinds, f"line {number}"))
        except UnicodeDecodeError as exc:
            raise FileRejected("unreadable", f"{path.name} is not UTF-8 JSON Lines: {exc.reason}") from None

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
