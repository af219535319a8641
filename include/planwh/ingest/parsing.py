"""Parsers for the values Vietnamese senders write by hand: numbers, dates, periods, yes/no, IDs.

Every parser takes the cell text as the reader produced it and returns a typed value or raises
:class:`ParseError` with a short reason code (stable, for feedback files and counts) and a
message a sender can act on, in Vietnamese (``message_vi``, what the sender reads first) and in
English (``message``). No parser echoes a personal value in its message.

Numbers follow the Vietnamese convention first: ``.`` groups thousands and ``,`` marks the
decimals (``1.234,5`` = 1234.5). Rules for the ambiguous cases:

* a single ``.`` followed by exactly three digits, after one to three digits that do not start
  with 0, is a thousands separator: ``1.234`` = 1234, ``12.345`` = 12345; every other single
  ``.`` is a decimal point: ``12.5``, ``0.125``, ``1234.567``;
* a single ``,`` is always the decimal comma: ``1,5`` = 1.5 and ``1,234`` = 1.234 (so a count
  written the English way fails ``parse_int`` loudly instead of shrinking a thousandfold);
* several ``.`` or several ``,`` are thousands separators (``1.234.567``, ``1,234,567``);
  with both, the last one is the decimal mark (``1.234,5`` and ``1,234.5``);
* spaces, no-break spaces and thin spaces group thousands (``1 234 567``).

A number column holds counts: ``70%`` and ``3/4`` are refused with their own reasons
(``percentage_not_count``, ``fraction_not_count``), never read as 70 or 3. ``parse_percent`` is
the parser that accepts a percent sign.

The readers write number cells of Excel and JSON with a decimal comma, so a typed value never
goes through the ambiguous rule.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

# Viet Nam has kept UTC+7 without daylight saving since 1975; a fixed offset needs no tz database.
VIETNAM_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
EXCEL_EPOCH = date(1899, 12, 30)
# Dates outside this window are typing mistakes (30/11/2204), not history or plans.
MIN_YEAR, MAX_YEAR = 1900, 2100


class ParseError(ValueError):
    """A value that cannot be read; ``reason_code`` is stable, ``message_vi`` and ``message`` (English)
    are for the sender."""

    def __init__(self, reason_code: str, message: str, message_vi: str):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.message_vi = message_vi

    def __repr__(self) -> str:
        return f"ParseError({self.reason_code!r}, {self.message!r})"


_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def normalise_text(text: str) -> str:
    """Fold text for matching: lowercase, no accents (đ→d), brackets dropped, punctuation as spaces.

    ``"Mã  tỉnh (*)"``, ``"MÃ TỈNH:"`` and ``"ma_tinh"`` all become ``"ma tinh"``.
    """
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    folded = _BRACKETED.sub(" ", folded)
    return _NON_ALNUM.sub(" ", folded).strip()


def quoted(text: object) -> str:
    """A value quoted for a Vietnamese message: “70%”."""
    return f"\u201c{text}\u201d"


def _require_text(text: str | None, what: str, what_vi: str) -> str:
    if text is None or not text.strip():
        raise ParseError("empty", f"the {what} is empty", f"{what_vi} bị để trống")
    return text.strip()


# ---------------------------------------------------------------- numbers

_SIGN = re.compile(r"^([+\-\u2212]?)(.*)$", re.S)
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d{1,2}$")
_WHITESPACE = re.compile(r"[\s\u00a0\u202f\u2009]+")
_SINGLE_DOT_THOUSANDS = re.compile(r"^[1-9]\d{0,2}\.\d{3}$")
_FRACTION = re.compile(r"^\d+(?:[.,]\d+)?\s*/\s*\d+(?:[.,]\d+)?$")
_DAY_MONTH_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}$")


def _grouped(integer: str, sep: str) -> str | None:
    """Digits of ``integer`` if it is correctly grouped by threes with ``sep``, else None."""
    groups = integer.split(sep)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        return None
    digits = "".join(groups)
    return digits if digits.isdigit() else None


def parse_number(text: str) -> Decimal:
    """Read a number written the Vietnamese or the English way (see the module doc). A percentage
    (``70%``) or a fraction (``3/4``) is refused: number columns hold counts."""
    raw = _require_text(text, "number", "ô số liệu")
    if raw.endswith("%"):
        raise ParseError(
            "percentage_not_count",
            f"{raw!r} is a percentage, not a count: write the count itself (e.g. 7 out of 10 is 7)",
            f"{quoted(raw)} là tỷ lệ phần trăm, không phải số lượng; hãy ghi số lượng cụ thể "
            f"(ví dụ 7 trên tổng số 10 thì ghi 7)",
        )
    if _FRACTION.match(raw):
        raise ParseError(
            "fraction_not_count",
            f"{raw!r} is a fraction or a ratio, not a count: write the count itself (e.g. 3)",
            f"{quoted(raw)} là phân số hoặc tỷ lệ, không phải số lượng; hãy ghi số lượng cụ thể (ví dụ 3)",
        )
    return _number(raw, raw)


def _number(raw: str, body: str) -> Decimal:
    sign, body = _SIGN.match(body).groups()
    body = body.strip()
    if _DAY_MONTH_YEAR.match(raw):
        bad = ParseError(
            "malformed_number",
            f"{raw!r} is a date, not a number: Excel turns 3/4 typed in a cell into a date; write the count",
            f"{quoted(raw)} là một ngày, không phải số; Excel tự đổi “3/4” gõ vào ô thành ngày, hãy ghi "
            f"số lượng",
        )
    else:
        bad = ParseError(
            "malformed_number",
            f"{raw!r} is not a number (write e.g. 1234, 1.234 or 1.234,5)",
            f"{quoted(raw)} không phải là số; hãy ghi số, ví dụ 1234, 1.234 hoặc 1.234,5",
        )
    if not body:
        raise bad
    if _SCIENTIFIC.match(body):
        digits = body
    else:
        digits = _number_digits(body)
        if digits is None:
            raise bad
    try:
        value = Decimal(digits)
    except InvalidOperation:
        raise bad from None
    return -value if sign in ("-", "\u2212") else value


def _number_digits(body: str) -> str | None:
    """``body`` (no sign) rewritten as ``1234.5``, or None when it is not a well-formed number."""
    if _WHITESPACE.search(body):
        thousands = " "
        body = _WHITESPACE.sub(" ", body)
        marks = {c for c in body if c in ".,"}
        if len(marks) > 1:
            return None
        decimal_mark = marks.pop() if marks else None
    elif "." in body and "," in body:
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
    elif body.count(".") > 1 or body.count(",") > 1:
        thousands, decimal_mark = (".", None) if "." in body else (",", None)
    elif "." in body:
        thousands, decimal_mark = (".", None) if _SINGLE_DOT_THOUSANDS.match(body) else (None, ".")
    elif "," in body:
        thousands, decimal_mark = None, ","
    else:
        return body if body.isdigit() else None

    if decimal_mark is not None:
        if body.count(decimal_mark) != 1:
            return None
        integer, fraction = body.split(decimal_mark)
        if not fraction.isdigit():
            return None
    else:
        integer, fraction = body, ""
    if thousands is not None and thousands in integer:
        integer = _grouped(integer, thousands)
        if integer is None:
            return None
    elif integer and not integer.isdigit():
        return None
    if not integer and not fraction:
        return None
    return f"{integer or '0'}.{fraction}" if fraction else integer


def parse_int(text: str) -> int:
    """A whole number (``12``, ``1.234``, ``12,0``); ``12,5`` raises ``not_integer``."""
    value = parse_number(text)
    if value != value.to_integral_value():
        raise ParseError("not_integer", f"{text.strip()!r} is not a whole number",
                         f"{quoted(text.strip())} không phải là số nguyên; hãy ghi số nguyên")
    return int(value)


def parse_percent(text: str) -> Decimal:
    """A percentage in percent units: ``70%``, ``70`` and ``70,0`` are all 70 (``0,7`` is 0.7 %)."""
    raw = _require_text(text, "percentage", "ô tỷ lệ")
    return _number(raw, raw[:-1].rstrip() if raw.endswith("%") else raw)


# ---------------------------------------------------------------- dates and times

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d+)$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")
_VI_DATE = re.compile(r"^(?:ngay )?(\d{1,2}) (?:thang )?(\d{1,2}) (?:nam )?(\d+)$")
_SERIAL = re.compile(r"^(\d{5})(?:\.(\d+))?$")
_TIME_SUFFIX = re.compile(
    r"^(?P<date>\S+)(?:[ T]+(?P<h>\d{1,2})[:hg](?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)$",
    re.I,
)


def _make_date(year: int, month: int, day: int, raw: str) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError("invalid_date", f"{raw!r}: year {year} is outside {MIN_YEAR}-{MAX_YEAR}",
                         f"{quoted(raw)}: năm {year} nằm ngoài khoảng {MIN_YEAR}-{MAX_YEAR}, có lẽ gõ nhầm")
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError("invalid_date", f"{raw!r} is not a calendar date (day/month/year)",
                         f"{quoted(raw)} không phải là ngày có thật (ghi theo ngày/tháng/năm)") from None


def _excel_serial(serial: str, raw: str) -> date:
    result = EXCEL_EPOCH + timedelta(days=int(serial))
    return _make_date(result.year, result.month, result.day, raw)


def _date_part(text: str, raw: str) -> date | None:
    if m := _DMY.match(text):
        day, month, year = m.groups()
        if len(year) == 2:
            raise ParseError("ambiguous_date", f"{raw!r}: write the year with four digits (dd/mm/yyyy)",
                             f"{quoted(raw)}: hãy ghi năm đủ 4 chữ số (ngày/tháng/năm, ví dụ 30/11/2024)")
        if len(year) != 4:
            raise ParseError("malformed_date", f"{raw!r} is not a date (write dd/mm/yyyy)", _not_a_date_vi(raw))
        return _make_date(int(year), int(month), int(day), raw)
    if m := _YMD.match(text):
        year, month, day = m.groups()
        return _make_date(int(year), int(month), int(day), raw)
    if m := _VI_DATE.match(normalise_text(text)):
        day, month, year = m.groups()
        if len(year) != 4:
            raise ParseError("ambiguous_date", f"{raw!r}: write the year with four digits",
                             f"{quoted(raw)}: hãy ghi năm đủ 4 chữ số")
        return _make_date(int(year), int(month), int(day), raw)
    return None


def _not_a_date_vi(raw: str) -> str:
    return f"{quoted(raw)} không phải là ngày; hãy ghi theo dạng ngày/tháng/năm, ví dụ 30/11/2024"


def parse_date(text: str) -> date:
    """``30/11/2024``, ``30-11-2024``, ``30.11.2024``, ``2024-11-30``, ``ngày 30 tháng 11 năm 2024``,
    or an Excel serial number (``45626``). A time after the date is ignored."""
    raw = _require_text(text, "date", "ô ngày")
    if m := _SERIAL.match(raw):
        return _excel_serial(m.group(1), raw)
    found = _date_part(raw, raw)
    if found is None and (m := _TIME_SUFFIX.match(raw)):
        found = _date_part(m.group("date"), raw)
    if found is None:
        raise ParseError("malformed_date", f"{raw!r} is not a date (write dd/mm/yyyy)", _not_a_date_vi(raw))
    return found


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 (``2024-11-30T14:05:00+07:00``, ``...Z``) or ``30/11/2024 14:05``; always tz-aware,
    a time without an offset being Viet Nam time (UTC+7). A bare date is its midnight."""
    raw = _require_text(text, "timestamp", "ô thời điểm")
    try:
        return _timestamp(raw)
    except ParseError as exc:
        code = {"invalid_date": "invalid_timestamp", "malformed_date": "malformed_timestamp"}.get(
            exc.reason_code
        )
        if code is None:
            raise
        raise ParseError(code, exc.message, exc.message_vi) from None


def _timestamp(raw: str) -> datetime:
    if m := _SERIAL.match(raw):
        day = _excel_serial(m.group(1), raw)
        seconds = round(float(f"0.{m.group(2) or 0}") * 86400)
        return datetime.combine(day, time(), VIETNAM_TZ) + timedelta(seconds=seconds)
    if re.match(r"^\d{4}-\d{2}-\d{2}", raw):
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            stamp = None
        if stamp is not None:
            _make_date(stamp.year, stamp.month, stamp.day, raw)
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=VIETNAM_TZ)
    day = _date_part(raw, raw)
    if day is not None:
        return datetime.combine(day, time(), VIETNAM_TZ)
    m = _TIME_SUFFIX.match(raw)
    if m is None or (day := _date_part(m.group("date"), raw)) is None:
        raise ParseError("malformed_timestamp", f"{raw!r} is not a date and time (write dd/mm/yyyy hh:mm)",
                         f"{quoted(raw)} không phải là ngày giờ; hãy ghi dạng ngày/tháng/năm giờ:phút, "
                         f"ví dụ 30/11/2024 14:05")
    hour, minute, second = int(m.group("h")), int(m.group("m")), int(m.group("s") or 0)
    micro = int((m.group("f") or "0").ljust(6, "0"))
    try:
        clock = time(hour, minute, second, micro)
    except ValueError:
        raise ParseError(
            "invalid_timestamp", f"{raw!r}: {hour:02d}:{minute:02d} is not a time of day",
            f"{quoted(raw)}: {hour:02d}:{minute:02d} không phải là giờ trong ngày",
        ) from None
    tz = VIETNAM_TZ
    if offset := m.group("tz"):
        if offset.upper() == "Z":
            tz = UTC
        else:
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = timezone(-delta if offset[0] == "-" else delta)
    return datetime.combine(day, clock, tz)


# ---------------------------------------------------------------- yes / no

_TICKS = frozenset("✓✔☑✅√")
_TRUE = frozenset(
    {
        "1",
        "x",
        "v",
        "y",
        "yes",
        "t",
        "true",
        "co",
        "dung",
        "dat",
        "hoan thanh",
        "da hoan thanh",
        "co mat",
        "tham du",
        "co tham du",
    }
)
_FALSE = frozenset(
    {
        "",
        "0",
        "n",
        "no",
        "f",
        "false",
        "khong",
        "sai",
        "chua",
        "khong dat",
        "chua dat",
        "chua hoan thanh",
        "khong hoan thanh",
        "vang",
        "vang mat",
        "khong co mat",
        "khong tham du",
    }
)


def parse_bool(text: str | None) -> bool:
    """Yes/no as forms write it: ``x``/``√``/``có``/``có mặt``/``đạt``/``hoàn thành``/``1``/``yes`` are
    true; empty, ``không``, ``vắng``, ``chưa hoàn thành``, ``0``, ``no`` are false."""
    raw = (text or "").strip()
    if raw in _TICKS:
        return True
    key = normalise_text(raw)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ParseError("invalid_bool", f"{raw!r} is not yes/no (write x or leave empty, có/không, 1/0)",
                     f"{quoted(raw)} không phải là có/không; hãy ghi x (hoặc để trống), có/không, hoặc 1/0")


# ---------------------------------------------------------------- reporting periods


@dataclass(frozen=True)
class Period:
    code: str
    kind: str
    start: date
    end: date

    def __str__(self) -> str:
        return self.code


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_Q = r"(?P<q>[1-4]|iv|i{1,3})"
_PERIOD_FORMS = (
    ("year", re.compile(r"^(?:nam )?(?P<y>\d{4})$")),
    ("quarter", re.compile(rf"^(?P<y>\d{{4}}) (?:quy |q ?){_Q}$")),
    ("quarter", re.compile(rf"^(?:quy |q ?){_Q}(?: nam)? (?P<y>\d{{4}})$")),
    ("month", re.compile(r"^(?P<y>\d{4}) (?:thang |t ?)?(?P<m>\d{1,2})$")),
    ("month", re.compile(r"^(?:thang |t ?)?(?P<m>\d{1,2})(?: nam)? (?P<y>\d{4})$")),
)


def parse_period(text: str) -> Period:
    """A reporting period: ``2024``/``Năm 2024``; ``2024-Q3``/``Q3/2024``/``Quý 3/2024``/``Quý III năm
    2024``; ``2024-11``/``11/2024``/``Tháng 11/2024``. Codes are ``2024``, ``2024-Q3``, ``2024-11``."""
    raw = _require_text(text, "period", "kỳ báo cáo")
    key = normalise_text(raw)
    for kind, form in _PERIOD_FORMS:
        m = form.match(key)
        if m is None:
            continue
        year = int(m.group("y"))
        if not MIN_YEAR <= year <= MAX_YEAR:
            break
        if kind == "year":
            return Period(f"{year}", "year", date(year, 1, 1), date(year, 12, 31))
        if kind == "quarter":
            q = m.group("q")
            quarter = int(q) if q.isdigit() else _ROMAN[q]
            start = date(year, 3 * quarter - 2, 1)
            return Period(f"{year}-Q{quarter}", "quarter", start, _month_end(year, 3 * quarter))
        month = int(m.group("m"))
        if not 1 <= month <= 12:
            raise ParseError("invalid_period", f"{raw!r}: there is no month {month}",
                             f"{quoted(raw)}: không có tháng {month}")
        return Period(f"{year}-{month:02d}", "month", date(year, month, 1), _month_end(year, month))
    raise ParseError("malformed_period", f"{raw!r} is not a period (write 2024, 2024-Q3 or 2024-11)",
                     f"{quoted(raw)} không phải là kỳ báo cáo; hãy ghi năm (2024), quý (Quý 3/2024 hoặc "
                     f"2024-Q3) hoặc tháng (Tháng 11/2024 hoặc 2024-11)")


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


# ---------------------------------------------------------------- identity numbers

_ID_SEPARATORS = re.compile(r"[\s.\-\u00a0]+")
_EXCEL_SCIENTIFIC = re.compile(r"^\d[.,]\d+E\+?\d+$", re.I)


def normalise_national_id(text: str) -> str:
    """A CCCD number (12 digits) or an old CMND number (9 digits), spaces, dots and dashes removed.

    Eleven digits are a CCCD whose leading 0 Excel dropped by storing the cell as a number (every
    CCCD starts with a 0xx place-of-birth code), so the 0 is put back. Messages never show the
    number.
    """
    raw = _require_text(text, "national ID number", "số CCCD")
    if _EXCEL_SCIENTIFIC.match(raw):
        raise ParseError(
            "invalid_national_id",
            "the national ID number was saved as a number in scientific notation and its digits are "
            "lost: format the column as Text in Excel and type the numbers again",
            "số CCCD đã bị Excel lưu thành số dạng lũy thừa (E+11) nên mất chữ số; hãy định dạng cột là "
            "Văn bản (Text) rồi nhập lại các số",
        )
    digits = _ID_SEPARATORS.sub("", raw)
    if not digits.isascii() or not digits.isdigit():
        raise ParseError("invalid_national_id", "the national ID number must contain digits only",
                         "số CCCD chỉ được gồm các chữ số")
    if len(digits) == 11:
        digits = "0" + digits
    if len(digits) not in (9, 12):
        raise ParseError(
            "invalid_national_id",
            f"the national ID number has {len(digits)} digits; a CCCD has 12 (an old CMND 9)",
            f"số CCCD có {len(digits)} chữ số; số CCCD phải có 12 chữ số (CMND cũ có 9)",
        )
    return digits


# ---------------------------------------------------------------- provinces

_PROVINCE_PREFIXES = ("thanh pho ", "tinh ", "tp ", "t p ")
_PROVINCE_CODE = re.compile(r"^0*(\d{1,2})(?:\.0*)?$")
# Abbreviations that are household names but appear in no seed column.
_PROVINCE_ABBREVIATIONS = {
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "hcmc": "ho chi minh",
    "sai gon": "ho chi minh",
    "hn": "ha noi",
    "tphn": "ha noi",
    "thua thien hue": "hue",
}


def _province_key(text: str) -> str:
    key = normalise_text(text)
    key = _PROVINCE_ABBREVIATIONS.get(key, key)
    for prefix in _PROVINCE_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return _PROVINCE_ABBREVIATIONS.get(key, key)


@dataclass(frozen=True)
class _ProvinceRow:
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    legacy: bool


class ProvinceResolver:
    """Turns what a sender writes for a province (code or name) into the 2-digit statistics code.

    Built from the seeds ``ref_provinces_legacy.csv`` (the 63 provinces before 1 July 2025) and
    ``ref_provinces_current.csv`` (the 34 after). Codes may be in both lists (a province that
    absorbed others kept its code). A name found in both lists with different codes is resolved
    with ``on`` (the day the value refers to); without it, such a name is ambiguous.
    """

    def __init__(self, legacy: list[dict[str, str]], current: list[dict[str, str]]):
        self._rows: dict[str, list[_ProvinceRow]] = {}
        self._names: dict[str, dict[bool, str]] = {}
        for is_legacy, rows in ((True, legacy), (False, current)):
            for row in rows:
                code = row["province_code"].strip().zfill(2)
                entry = _ProvinceRow(
                    code,
                    row.get("province_name", "").strip(),
                    _seed_date(row.get("valid_from")),
                    _seed_date(row.get("valid_to")),
                    is_legacy,
                )
                self._rows.setdefault(code, []).append(entry)
                for column in ("province_name", "province_name_full", "province_name_ascii"):
                    if row.get(column):
                        self._names.setdefault(_province_key(row[column]), {})[is_legacy] = code
        self._legacy_codes = frozenset(c for c, rows in self._rows.items() if any(r.legacy for r in rows))
        self._current_codes = frozenset(
            c for c, rows in self._rows.items() if any(not r.legacy for r in rows)
        )
        # The day the current list starts, to tell which list a dated value belongs to.
        starts = [r.valid_from for rows in self._rows.values() for r in rows if not r.legacy and r.valid_from]
        self._current_from = min(starts) if starts else None

    @classmethod
    def from_seeds(cls, seeds_dir: Path | None = None) -> ProvinceResolver:
        if seeds_dir is None:
            from planwh.settings import PROJECT_ROOT

            seeds_dir = PROJECT_ROOT / "dbt_project" / "seeds"
        lists = []
        for name in ("ref_provinces_legacy.csv", "ref_provinces_current.csv"):
            path = Path(seeds_dir) / name
            if not path.is_file():
                raise FileNotFoundError(f"province seed {path} is missing")
            with path.open(encoding="utf-8-sig", newline="") as f:
                lists.append(list(csv.DictReader(f)))
        return cls(*lists)

    def resolve(self, text: str, *, on: date | None = None) -> str:
        """The 2-digit code for ``49``, ``4``, ``49.0``, ``Tỉnh Quảng Nam``, ``Quang Nam``, ``TP. HCM``..."""
        raw = _require_text(text, "province", "ô tỉnh")
        unknown = ParseError("unknown_province", f"{raw!r} is not a province code or name",
                             f"{quoted(raw)} không phải là mã hoặc tên tỉnh, thành phố")
        if m := _PROVINCE_CODE.match(raw):
            code = m.group(1).zfill(2)
            if code in self._rows:
                return code
            raise unknown
        codes = self._names.get(_province_key(raw))
        if not codes:
            raise unknown
        if len(set(codes.values())) == 1:
            return next(iter(codes.values()))
        if on is None or self._current_from is None:
            raise ParseError(
                "ambiguous_province",
                f"{raw!r} names a province before and after 1 July 2025 with different codes: write the code",
                f"{quoted(raw)} là tên tỉnh cả trước và sau ngày 01/07/2025 với mã khác nhau; hãy ghi mã tỉnh",
            )
        return codes[on < self._current_from]

    def is_legacy(self, code: str) -> bool:
        """The code is one of the 63 provinces before the 2025 merger."""
        return code in self._legacy_codes

    def is_current(self, code: str) -> bool:
        """The code is one of the 34 provinces from 1 July 2025."""
        return code in self._current_codes

    def valid_on(self, code: str, day: date) -> bool:
        """The code named a province on ``day`` (the seeds' valid_from / valid_to, both inclusive)."""
        return any(
            (r.valid_from is None or r.valid_from <= day) and (r.valid_to is None or day <= r.valid_to)
            for r in self._rows.get(code, ())
        )

    def name(self, code: str) -> str:
        rows = self._rows.get(code)
        if not rows:
            raise KeyError(code)
        current = [r for r in rows if not r.legacy]
        return (current or rows)[0].name


def _seed_date(text: str | None) -> date | None:
    return date.fromisoformat(text.strip()) if text and text.strip() else None
