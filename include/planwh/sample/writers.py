"""Byte-exact writers: the same rows always give the same bytes.

XLSX goes through xlsxwriter with a fixed creation time (it stamps every zip member 1980-01-01 and
writes no other clock value), CSV through the ``csv`` module with Excel's CRLF line ends, JSON with
keys in insertion order. Cells are written by type, never by guessing: a string that
starts with ``=`` is stored as text, not as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import xlsxwriter


class EncodingProblem(ValueError):
    pass


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text in Windows-1258, the way Windows writes it.

    CP1258 holds the base letters with circumflex, breve and horn (``ê``, ``ă``, ``ơ``, ``ư``) and
    five combining tone marks, but few precomposed toned letters: ``ế`` is written ``ê`` + acute.
    Each character is encoded precomposed when the code page has it, else decomposed into the
    longest encodable base plus combining marks; anything still unencodable is an error.
    """
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        # NFD orders a dot below before the circumflex ("ệ" = e + dot below + circumflex), so the
        # marks kept in the base are any subset, not only a prefix; most marks kept first.
        for keep in sorted(_subsets(len(marks)), key=len, reverse=True):
            head = unicodedata.normalize("NFC", base + "".join(marks[i] for i in keep))
            tail = "".join(m for i, m in enumerate(marks) if i not in keep)
            try:
                out += head.encode("cp1258") + tail.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise EncodingProblem(f"{ch!r} (U+{ord(ch):04X}) cannot be written in CP1258")
    return bytes(out)


def _subsets(n: int) -> list[tuple[int, ...]]:
    return [tuple(i for i in range(n) if mask >> i & 1) for mask in range(1 << n)]


def csv_bytes(rows: Sequence[Sequence[str]], *, delimiter: str, encoding: str) -> bytes:
    """Rows of text as Excel saves CSV: CRLF line ends, minimal quoting; ``utf-8-sig`` adds the BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    text = buf.getvalue()
    if encoding == "cp1258":
        return encode_cp1258(text)
    return text.encode(encoding)


def json_bytes(document: object) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def jsonl_bytes(records: Sequence[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


@dataclass(frozen=True)
class Blank:
    """A formatted empty cell: Excel keeps it, so the sheet has trailing "blank" rows."""


BLANK = Blank()


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]  # cells: str, int, float, date, None (nothing written) or BLANK
    merge_title_cols: int = 0  # >0: the first row is a title merged over this many columns
    header_row: int | None = None  # 0-based index of the row shown bold with borders
    widths: Sequence[float] = ()


def xlsx_bytes(sheets: Sequence[Sheet], created: datetime) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": created, "author": "", "company": ""})
    title_fmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "font_size": 13})
    header_fmt = wb.add_format({"bold": True, "border": 1, "text_wrap": True, "valign": "vcenter", "bg_color": "#DDEBF7"})
    cell_fmt = wb.add_format({"border": 1})
    date_fmt = wb.add_format({"border": 1, "num_format": "dd/mm/yyyy"})
    plain_date_fmt = wb.add_format({"num_format": "dd/mm/yyyy", "align": "left"})
    blank_fmt = wb.add_format({"border": 1})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        for col, width in enumerate(sheet.widths):
            ws.set_column(col, col, width)
        for r, row in enumerate(sheet.rows):
            if r == 0 and sheet.merge_title_cols > 1:
                ws.merge_range(0, 0, 0, sheet.merge_title_cols - 1, str(row[0]), title_fmt)
                continue
            above_table = sheet.header_row is None or r < sheet.header_row
            fmt = header_fmt if r == sheet.header_row else (None if above_table else cell_fmt)
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Blank):
                    ws.write_blank(r, c, None, blank_fmt)
                elif isinstance(value, bool):
                    raise TypeError("booleans are written as text in the sample")
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, fmt)
                elif isinstance(value, datetime):
                    ws.write_datetime(r, c, value, date_fmt if fmt else plain_date_fmt)
                elif isinstance(value, date):
                    day = datetime(value.year, value.month, value.day)
                    ws.write_datetime(r, c, day, date_fmt if fmt else plain_date_fmt)
                else:
                    ws.write_string(r, c, str(value), fmt)
    wb.close()
    return buf.getvalue()
