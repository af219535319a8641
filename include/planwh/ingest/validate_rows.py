"""Row validation: turn a reader's raw text row into a typed record for COPY, or explain why not.

Checks come from three places: the source's contract (which columns must be filled, how each
is typed), the reference seeds in ``dbt_project/seeds`` (measure codes and their value kinds,
trainee categories and their Vietnamese labels, languages, agency kinds, reporting modes,
provinces and the date of the 2025 merger) and the agency register already loaded. No list of
codes is written here: a new measure or language is a seed change, not a code change.

Duplicate natural keys inside a file are found after COPY, set-based in SQL (``load.py``), so a
file of millions of rows needs no in-memory key set.

Every problem names the row, the column (as the sender wrote its header, with the canonical
name) and the value as the sender wrote it, in Vietnamese (``message_vi``: what to fix, for a
provincial clerk) and in English (``message``); the value of a personal column is replaced by
``PERSONAL_PLACEHOLDER`` and never appears in a message. A problem's ``severity`` is ``error``
(the row is rejected) or ``warning`` (the row loads; e.g. a total row that does not add up).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import psycopg

from planwh.ingest.contracts import CONTRACTS, Column, Contract
from planwh.ingest.parsing import (
    VIETNAM_TZ,
    ParseError,
    Period,
    ProvinceResolver,
    normalise_text,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_period,
    parse_timestamp,
    quoted,
)
from planwh.ingest.pseudonymise import MissingIdentifier, person_key
from planwh.ingest.readers import ROW_ERROR_KEY, RawRow, RowError
from planwh.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"
PERSONAL_PLACEHOLDER = "[withheld: personal data]"
# The register's "Chế độ báo cáo" for agencies with no reporting duty; the other modes are the
# frequencies of the reporting calendar seed.
NO_REPORTING = "none"
BIGINT_MAX = 2**63 - 1
PARSE_CACHE_SIZE = 100_000


# ---------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class Measure:
    code: str
    value_kind: str  # count | flag | status
    min_value: Decimal | None
    max_value: Decimal | None
    requires_task_code: bool
    name_vi: str = ""


@dataclass(frozen=True)
class ReferenceData:
    measures: dict[str, Measure]
    categories: dict[str, str]  # folded code, label or alias -> category code
    languages: dict[str, str]  # folded code -> code
    agency_kinds: dict[str, str]  # folded code or label -> agency kind
    reporting_modes: dict[str, str]  # folded mode -> mode
    merger_date: date
    provinces: ProvinceResolver
    # Vietnamese labels to name the allowed values in messages
    category_labels_vi: tuple[str, ...] = ()
    agency_kind_labels_vi: tuple[str, ...] = ()


def _read_seed(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    path = seeds_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"reference seed {path} is missing (generate it: python -m planwh.reference.build_seeds)")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


@lru_cache(maxsize=4)
def reference_data(seeds_dir: Path = SEEDS_DIR) -> ReferenceData:
    """The code lists validation needs, read once per process from the seed CSV files."""
    measures = {
        row["measure_code"]: Measure(
            code=row["measure_code"],
            value_kind=row["value_kind"],
            min_value=_decimal(row.get("min_value")),
            max_value=_decimal(row.get("max_value")),
            requires_task_code=row.get("requires_task_code", "").strip().lower() == "true",
            name_vi=row.get("name_vi", "") or "",
        )
        for row in _read_seed(seeds_dir, "ref_measures.csv")
    }
    categories: dict[str, str] = {}
    category_labels_vi = []
    for row in _read_seed(seeds_dir, "ref_trainee_categories.csv"):
        code = row["category_code"]
        labels = [code, row.get("label_vi", ""), row.get("label_en", "")]
        labels += (row.get("label_vi_aliases") or "").split(";")
        if row.get("label_vi"):
            category_labels_vi.append(row["label_vi"])
        for label in labels:
            if label.strip():
                categories.setdefault(normalise_text(label), code)
    languages = {normalise_text(r["language_code"]): r["language_code"] for r in _read_seed(seeds_dir, "ref_languages.csv")}
    agency_kinds: dict[str, str] = {}
    agency_kind_labels_vi = []
    for row in _read_seed(seeds_dir, "ref_agency_kinds.csv"):
        if row.get("label_vi"):
            agency_kind_labels_vi.append(row["label_vi"])
        for label in (row["agency_kind"], row.get("label_vi", ""), row.get("label_en", "")):
            if label.strip():
                agency_kinds.setdefault(normalise_text(label), row["agency_kind"])
    modes = {r["frequency"] for r in _read_seed(seeds_dir, "ref_reporting_calendar.csv")} | {NO_REPORTING}
    merger_dates = {r["effective_date"] for r in _read_seed(seeds_dir, "ref_province_mapping.csv")}
    if len(merger_dates) != 1:
        raise ValueError(f"ref_province_mapping.csv should have one effective_date, found {sorted(merger_dates)}")
    return ReferenceData(
        measures=measures,
        categories=categories,
        languages=languages,
        agency_kinds=agency_kinds,
        reporting_modes={normalise_text(m): m for m in modes},
        merger_date=date.fromisoformat(merger_dates.pop()),
        provinces=ProvinceResolver.from_seeds(seeds_dir),
        category_labels_vi=tuple(category_labels_vi),
        agency_kind_labels_vi=tuple(agency_kind_labels_vi),
    )


# ---------------------------------------------------------------------------- agency register


@dataclass(frozen=True)
class RegisteredAgency:
    valid_from: date
    valid_to: date | None
    province_code: str


@dataclass
class AgencyRegister:
    """The agencies of the current register of every province, by agency code."""

    agencies: dict[str, list[RegisteredAgency]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: psycopg.Connection) -> AgencyRegister:
        """For each province, the rows of the latest register file (by receipt) that lists it.

        A province's register is sent whole, so its latest file replaces its earlier ones, also
        when one file lists several provinces.
        """
        rows = conn.execute(
            """
            with latest_file_per_province as (
                select distinct on (r.province_code) r.province_code, r.file_id
                from raw.agency_register as r
                inner join landing.files as f on f.file_id = r.file_id
                where f.status = 'loaded'
                order by r.province_code, f.received_at desc, f.file_id desc
            )
            select r.agency_code, r.valid_from, r.valid_to, r.province_code
            from raw.agency_register as r
            inner join latest_file_per_province as l
                on l.province_code = r.province_code and l.file_id = r.file_id
            """
        ).fetchall()
        register = cls()
        for code, valid_from, valid_to, province in rows:
            register.agencies.setdefault(code.upper(), []).append(RegisteredAgency(valid_from, valid_to, province))
        return register

    def covers(self, agency_code: str, start: date, end: date) -> bool:
        """The agency was registered on some day of [start, end]."""
        return any(
            entry.valid_from <= end and (entry.valid_to is None or entry.valid_to >= start)
            for entry in self.agencies.get(agency_code.upper(), ())
        )

    def describe(self, agency_code: str) -> tuple[str, str]:
        """Why the register does not cover the agency: (English, Vietnamese)."""
        entries = self.agencies.get(agency_code.upper())
        if not entries:
            return ("it is not in the agency register (danh mục đơn vị)",
                    "đơn vị này không có trong danh mục đơn vị; hãy kiểm tra mã đơn vị, hoặc đề nghị bổ sung "
                    "đơn vị vào danh mục")
        ordered = sorted(entries, key=lambda e: e.valid_from)
        spans = ", ".join(
            f"{e.valid_from:%d/%m/%Y}-{e.valid_to:%d/%m/%Y}" if e.valid_to else f"from {e.valid_from:%d/%m/%Y}"
            for e in ordered
        )
        spans_vi = ", ".join(
            f"từ {e.valid_from:%d/%m/%Y} đến {e.valid_to:%d/%m/%Y}" if e.valid_to else f"từ {e.valid_from:%d/%m/%Y}"
            for e in ordered
        )
        return (f"the agency register lists it only for {spans}",
                f"theo danh mục đơn vị, đơn vị này chỉ có hiệu lực {spans_vi}")


# ---------------------------------------------------------------------------- results


ERROR = "error"
WARNING = "warning"
# Columns of quarantine.rejected_rows a Problem fills, in as_copy_row order.
PROBLEM_COLUMNS = ("file_id", "row_number", "column_name", "value", "reason_code", "message", "message_vi",
                   "severity")


@dataclass(frozen=True)
class Problem:
    row_number: int | None
    column: str | None
    value: str | None
    reason_code: str
    message: str
    message_vi: str | None = None
    severity: str = ERROR

    def as_copy_row(self, file_id: int) -> tuple:
        return (file_id, self.row_number, self.column, self.value, self.reason_code, self.message,
                self.message_vi, self.severity)


@dataclass
class RowResult:
    row_number: int
    record: tuple | None  # values in schema.RAW_COLUMNS order, None when rejected
    problems: list[Problem]


class CourseRejected(Exception):
    """The roster's course header is unusable, so none of its rows can be loaded."""

    reason_code = "invalid_course_header"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))
        self.message_vi = "; ".join(p.message_vi or p.message for p in problems)


# ---------------------------------------------------------------------------- the validator


class ColumnLabels:
    """How messages name a column: as the sender wrote its header, with the canonical name.

    English: ``Giá trị (value)`` when the header is the contract's own, ``Số lượng (Giá trị,
    value)`` for another spelling; Vietnamese: ``cột “Số lượng”``.
    """

    def __init__(self, columns: tuple[Column, ...], written: dict[str, str] | None = None):
        self.columns = {c.name: c for c in columns}
        self.written = {name: " ".join(text.split()) for name, text in (written or {}).items() if text}

    def en(self, name: str) -> str:
        column = self.columns.get(name)
        if column is None:
            return name
        written = self.written.get(name)
        if written is None or normalise_text(written) in (normalise_text(column.vi_header or ""), normalise_text(name)):
            return column.label
        return f"{written} ({column.vi_header}, {name})" if column.vi_header else f"{written} ({name})"

    def vi(self, name: str) -> str:
        column = self.columns.get(name)
        written = self.written.get(name) or (column.vi_header if column is not None and column.vi_header else name)
        return f"cột {quoted(written)}"


class _Row:
    """Typed values of one row, collecting problems as they are found."""

    def __init__(self, raw: RawRow, columns: tuple[Column, ...], values: dict, labels: ColumnLabels,
                 prefix: tuple[str, str] | None = None):
        self.row_number = raw.row_number
        self.raw_values = values
        self.flags = raw.flags or {}
        self.columns = {c.name: c for c in columns}
        self.labels = labels
        # a course header's problems have no row: "course header" / "Thông tin khóa học" instead
        self.prefix = prefix
        self.typed: dict[str, object] = {}
        self.problems: list[Problem] = []

    def text(self, name: str) -> str | None:
        value = self.raw_values.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def shown(self, name: str) -> str | None:
        column = self.columns.get(name)
        if column is not None and column.personal:
            return PERSONAL_PLACEHOLDER
        text = self.text(name)
        return text.replace("\x00", "\\x00") if text else text

    def where(self, name: str | None) -> tuple[str, str]:
        """Where the problem is: (English, Vietnamese)."""
        row_en, row_vi = self.prefix or (f"row {self.row_number}", f"Dòng {self.row_number}")
        if not name:
            return row_en, row_vi
        parts = name.split(", ")
        label_en = " / ".join(self.labels.en(p) for p in parts)
        label_vi = " hoặc ".join(self.labels.vi(p) for p in parts)
        return f"{row_en}, {label_en}", f"{row_vi}, {label_vi}"

    def add(self, name: str | None, reason_code: str, detail: str, detail_vi: str) -> None:
        where_en, where_vi = self.where(name)
        self.problems.append(Problem(self.row_number, name, self.shown(name) if name else None, reason_code,
                                     f"{where_en}: {detail}", f"{where_vi}: {detail_vi}"))

    def ok(self, *names: str) -> bool:
        """All the named columns parsed (they may be empty when nullable)."""
        return all(n in self.typed for n in names)


_PARSERS: dict[str, Callable[[str], object]] = {
    "text": lambda s: s,
    "code": lambda s: s,
    "int": parse_int,
    "number": parse_number,
    "date": parse_date,
    "timestamp": parse_timestamp,
    "period": parse_period,
    "bool": parse_bool,
}


class RowValidator:
    """Validates the rows of one file of ``source`` received at ``received_at``.

    ``register`` is needed for submissions, ``pseudonym_key`` and ``course`` (the reader's course
    header) for rosters. ``expected_stat_date`` is the day a portal API pull asked for. ``headers``
    (the reader's ``columns``: canonical name -> header as written) names columns in messages the
    way the sender wrote them.
    """

    def __init__(
        self,
        source: str,
        *,
        received_at: datetime,
        reference: ReferenceData | None = None,
        register: AgencyRegister | None = None,
        pseudonym_key: bytes | None = None,
        course: dict[str, str | None] | None = None,
        expected_stat_date: date | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.source = source
        self.contract: Contract = CONTRACTS[source]
        self.labels = ColumnLabels(self.contract.columns, headers)
        self.reference = reference or reference_data()
        self.register = register or AgencyRegister()
        self.received_at = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
        self.received_day = self.received_at.astimezone(VIETNAM_TZ).date()
        self.expected_stat_date = expected_stat_date
        self.pseudonym_key = pseudonym_key
        self._cache: dict[tuple[str, str], tuple[bool, object]] = {}
        self.course_record: tuple | None = None
        self.course_id: str | None = None
        if source == "rosters":
            if not pseudonym_key:
                raise ValueError("validating rosters needs the pseudonym key")
            self.course_record = self._check_course(course or {})
            self.course_id = self.course_record[0]

    # -- shared steps ------------------------------------------------------------------
    def _parse(self, row: _Row, column: Column) -> None:
        text = row.text(column.name)
        flag = row.flags.get(column.name)
        if flag is not None and text is not None:
            self._formula_problem(row, column, flag, text)
            return
        if text is None and column.kind == "bool":
            # Attendance sheets tick "x" for yes and leave the cell empty for no.
            row.typed[column.name] = False
            return
        if text is None:
            if column.nullable:
                row.typed[column.name] = None
            else:
                row.add(column.name, "missing_value", "a value is required",
                        "ô này bắt buộc phải có giá trị nhưng đang để trống")
            return
        if "\x00" in text:
            row.add(column.name, "invalid_character", "the cell contains a NUL character (\\x00), which is not text",
                    "ô có ký tự NUL (\\x00), không phải chữ; hãy gõ lại nội dung ô")
            return
        try:
            value = self._typed(column.kind, text, row)
        except ParseError as exc:
            detail, detail_vi = exc.message, exc.message_vi
            if column.personal:
                detail = f"the value cannot be read ({exc.reason_code.replace('_', ' ')})"
                detail_vi = "giá trị trong ô không đọc được, hãy kiểm tra và ghi lại"
            row.add(column.name, exc.reason_code, detail, detail_vi)
            return
        if column.kind == "int" and isinstance(value, int) and abs(value) > BIGINT_MAX:
            row.add(column.name, "out_of_range", f"{text!r} is too large to be a count",
                    f"{quoted(text)} quá lớn, không thể là một số đếm")
            return
        row.typed[column.name] = value

    @staticmethod
    def _formula_problem(row: _Row, column: Column, flag: str, text: str) -> None:
        """A formula whose value the file does not hold is never read as a value (nor as 0)."""
        shown = "" if column.personal else f" {text}"
        shown_vi = "" if column.personal else f" {quoted(text)}"
        if flag == "formula":
            row.add(column.name, "formula_without_value",
                    f"the cell holds the formula{shown} but the file keeps no calculated result for it (it was "
                    "saved by a program that does not calculate formulas): open it in Excel or LibreOffice, save "
                    "it and send it again",
                    f"ô chứa công thức{shown_vi} nhưng tệp không lưu kết quả tính của công thức (tệp được lưu "
                    "bằng phần mềm không tính công thức); hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi "
                    "gửi lại")
        else:
            row.add(column.name, "formula_error",
                    f"the formula in this cell gives the error{shown}: correct the formula or type the value",
                    f"công thức trong ô cho kết quả lỗi{shown_vi}; hãy sửa công thức hoặc gõ trực tiếp giá trị")

    def _typed(self, kind: str, text: str, row: _Row) -> object:
        """The parsed value, remembered: a day's portal file repeats its date, province and
        language in every row, and parsing them once per file is most of the speed-up."""
        if kind in ("text", "code"):
            return text
        key = (kind, text)
        found = self._cache.get(key)
        if found is None:
            parse = self.reference.provinces.resolve if kind == "province" else _PARSERS[kind]
            try:
                found = (True, parse(text))
            except ParseError as exc:
                found = (False, (exc.reason_code, exc.message, exc.message_vi))
            if len(self._cache) >= PARSE_CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = found
        ok, value = found
        if ok:
            return value
        if value[0] == "ambiguous_province":  # type: ignore[index]
            # A name used before and after the merger: the row's own date decides.
            return self.reference.provinces.resolve(text, on=self._province_day(row))
        raise ParseError(*value)  # type: ignore[misc]

    def _province_day(self, row: _Row) -> date | None:
        """The day a row refers to, to resolve a province name used both before and after 2025."""
        for name, parser in (("stat_date", parse_date), ("valid_from", parse_date), ("start_date", parse_date)):
            text = row.text(name)
            if text:
                try:
                    return parser(text)
                except ParseError:
                    return None
        text = row.text("period")
        if text:
            try:
                return parse_period(text).start
            except ParseError:
                return None
        return None

    def _province_fits(self, row: _Row, start: date, end: date | None, what: str, what_vi: str) -> None:
        """A legacy province code only before the merger, a current one only from it."""
        code = row.typed.get("province_code")
        if not isinstance(code, str):
            return
        provinces = self.reference.provinces
        last = end or date.max
        if provinces.valid_on(code, start) or provinces.valid_on(code, min(last, date(2100, 12, 31))):
            return
        merger = self.reference.merger_date
        if provinces.is_legacy(code) and not provinces.is_current(code):
            why = f"{code} is a province code from before {merger:%d/%m/%Y}, but {what} is after it; use the current code"
            why_vi = (f"{code} là mã tỉnh trước ngày {merger:%d/%m/%Y}, nhưng {what_vi} là sau ngày đó; hãy dùng mã "
                      "tỉnh hiện hành")
        elif provinces.is_current(code):
            why = f"{code} is a province code from {merger:%d/%m/%Y}, but {what} is before it; use the code of that time"
            why_vi = (f"{code} là mã tỉnh áp dụng từ ngày {merger:%d/%m/%Y}, nhưng {what_vi} là trước ngày đó; hãy "
                      "dùng mã tỉnh của thời kỳ đó")
        else:
            why = f"{code} is not a province code for {what}"
            why_vi = f"{code} không phải là mã tỉnh của {what_vi}"
        row.add("province_code", "province_not_valid_for_period", why, why_vi)

    def _not_after_receipt(self, row: _Row, name: str, day: date | None) -> None:
        if day is not None and day > self.received_day:
            row.add(name, "future_date",
                    f"{day:%d/%m/%Y} is after the day the file was received ({self.received_day:%d/%m/%Y})",
                    f"ngày {day:%d/%m/%Y} muộn hơn ngày nhận tệp ({self.received_day:%d/%m/%Y}); không thể ghi một "
                    "ngày trong tương lai")

    def check(self, raw: RawRow) -> RowResult:
        values = raw.values
        if values.get(ROW_ERROR_KEY):
            error = values[ROW_ERROR_KEY]
            vi = error.vi if isinstance(error, RowError) else error
            problem = Problem(raw.row_number, None, None, "malformed_row",
                              f"row {raw.row_number}: {error}", f"Dòng {raw.row_number}: {vi}")
            return RowResult(raw.row_number, None, [problem])
        row = _Row(raw, self.contract.columns, values, self.labels)
        for column in self.contract.columns:
            self._parse(row, column)
        if self.source == "submissions":
            self._yes_no_value(row)
        record = getattr(self, f"_check_{self.source}")(row)
        return RowResult(raw.row_number, None if row.problems else record, row.problems)

    # -- agencies ----------------------------------------------------------------------
    def _check_agencies(self, row: _Row) -> tuple:
        t = row.typed
        kinds = sorted(set(self.reference.agency_kinds.values()))
        kind = self._lookup(row, "agency_kind", self.reference.agency_kinds, "unknown_agency_kind",
                            ("is not an agency kind", "không phải là loại đơn vị hợp lệ"),
                            (kinds, list(self.reference.agency_kind_labels_vi) or kinds))
        modes = sorted(set(self.reference.reporting_modes.values()))
        mode = self._lookup(row, "reporting", self.reference.reporting_modes, "unknown_reporting_mode",
                            ("is not a reporting mode", "không phải là chế độ báo cáo hợp lệ"), (modes, modes))
        if row.ok("valid_from", "valid_to") and t["valid_to"] is not None and t["valid_to"] < t["valid_from"]:
            row.add("valid_to", "valid_to_before_valid_from",
                    f"{t['valid_to']:%d/%m/%Y} is before the start of validity {t['valid_from']:%d/%m/%Y}",
                    f"ngày hết hiệu lực {t['valid_to']:%d/%m/%Y} trước ngày bắt đầu hiệu lực "
                    f"{t['valid_from']:%d/%m/%Y}")
        if row.ok("valid_from", "valid_to"):
            self._province_fits(row, t["valid_from"], t["valid_to"], "the agency's validity",
                                "thời gian hiệu lực của đơn vị")
        return (
            _upper(t.get("agency_code")), t.get("agency_name"), t.get("province_code"), kind, mode,
            t.get("valid_from"), t.get("valid_to"),
        )

    def _lookup(self, row: _Row, name: str, table: dict[str, str], reason: str, what: tuple[str, str],
                allowed: tuple[list[str], list[str]]) -> str | None:
        text = row.typed.get(name)
        if not isinstance(text, str):
            return None
        found = table.get(normalise_text(text))
        if found is None:
            row.add(name, reason, f"{text!r} {what[0]} (expected one of {', '.join(allowed[0])})",
                    f"{quoted(text)} {what[1]}; hãy ghi một trong: {'; '.join(allowed[1])}")
        return found

    # -- submissions -------------------------------------------------------------------
    def _check_submissions(self, row: _Row) -> tuple:
        t = row.typed
        period: Period | None = t.get("period")  # type: ignore[assignment]
        agency = _upper(t.get("agency_code"))
        measure = self._check_measure(row)
        if period is not None:
            self._province_fits(row, period.start, period.end, f"period {period.code}",
                                f"kỳ báo cáo {period.code}")
            if period.start > self.received_day:
                row.add("period", "future_date",
                        f"period {period.code} starts after the day the file was received ({self.received_day:%d/%m/%Y})",
                        f"kỳ báo cáo {period.code} bắt đầu sau ngày nhận tệp ({self.received_day:%d/%m/%Y})")
            if agency and not self.register.covers(agency, period.start, period.end):
                why, why_vi = self.register.describe(agency)
                row.add("agency_code", "agency_not_registered",
                        f"agency {agency!r} cannot report for period {period.code}: {why}",
                        f"đơn vị {quoted(agency)} không thể báo cáo cho kỳ {period.code}: {why_vi}")
        submitted = t.get("submitted_at")
        if isinstance(submitted, date):
            self._not_after_receipt(row, "submitted_at", submitted)
            if period is not None and submitted < period.start:
                row.add("submitted_at", "submitted_before_period",
                        f"{submitted:%d/%m/%Y} is before period {period.code} started ({period.start:%d/%m/%Y})",
                        f"ngày báo cáo {submitted:%d/%m/%Y} trước khi kỳ báo cáo {period.code} bắt đầu "
                        f"({period.start:%d/%m/%Y})")
        return (
            t.get("province_code"), agency, t.get("agency_name"),
            period.code if period else None, period.kind if period else None,
            period.start if period else None, period.end if period else None,
            measure, t.get("value"), t.get("task_code"), t.get("note"), submitted,
        )

    def _measure(self, row: _Row) -> Measure | None:
        code = row.typed.get("measure_code")
        return self.reference.measures.get(code.strip().lower()) if isinstance(code, str) else None

    def _yes_no_value(self, row: _Row) -> None:
        """A yes/no measure may be answered as forms do: x, có, không, đạt... (1 or 0)."""
        measure = self._measure(row)
        text = row.text("value")
        if "value" in row.typed or measure is None or measure.value_kind != "flag" or text is None:
            return
        if "value" in row.flags:
            return
        try:
            yes = parse_bool(text)
        except ParseError:
            return
        row.problems = [p for p in row.problems if p.column != "value"]
        row.typed["value"] = Decimal(1 if yes else 0)

    def _check_measure(self, row: _Row) -> str | None:
        code = row.typed.get("measure_code")
        if not isinstance(code, str):
            return None
        measure = self._measure(row)
        if measure is None:
            row.add("measure_code", "unknown_measure",
                    f"{code!r} is not a measure code (see the measure list, ref_measures)",
                    f"{quoted(code)} không phải là mã chỉ tiêu (xem danh mục mã chỉ tiêu)")
            return None
        value = row.typed.get("value")
        named = f"{quoted(measure.name_vi)} ({measure.code})" if measure.name_vi else measure.code
        if isinstance(value, Decimal):
            shown = row.text("value")
            if measure.value_kind == "flag" and value not in (0, 1):
                row.add("value", "invalid_flag", f"{shown!r}: {measure.code} is yes/no, write 1 (yes) or 0 (no)",
                        f"{quoted(shown)}: chỉ tiêu {named} là có/không, hãy ghi 1 (có) hoặc 0 (không)")
            elif measure.value_kind == "status" and value not in (0, 1, 2):
                row.add("value", "invalid_status",
                        f"{shown!r}: {measure.code} is 0 (not started), 1 (in progress) or 2 (completed)",
                        f"{quoted(shown)}: chỉ tiêu {named} chỉ nhận 0 (chưa thực hiện), 1 (đang thực hiện) hoặc 2 "
                        "(đã hoàn thành)")
            elif measure.min_value is not None and value < measure.min_value:
                reason = "negative_value" if measure.min_value == 0 else "out_of_range"
                row.add("value", reason, f"{shown!r}: {measure.code} cannot be below {measure.min_value}",
                        f"{quoted(shown)}: chỉ tiêu {named} không được nhỏ hơn {measure.min_value}")
            elif measure.max_value is not None and value > measure.max_value:
                row.add("value", "out_of_range", f"{shown!r}: {measure.code} cannot be above {measure.max_value}",
                        f"{quoted(shown)}: chỉ tiêu {named} không được lớn hơn {measure.max_value}")
            elif value != value.to_integral_value():
                row.add("value", "not_whole_number", f"{shown!r}: {measure.code} is a count, a whole number",
                        f"{quoted(shown)}: chỉ tiêu {named} là số đếm, phải là số nguyên")
        if measure.requires_task_code and row.ok("task_code") and not row.typed["task_code"]:
            row.add("task_code", "missing_task_code", f"{measure.code} needs the plan task it belongs to (e.g. 2.1)",
                    f"chỉ tiêu {named} cần ghi mã nhiệm vụ của kế hoạch mà nó thuộc về (ví dụ 2.1)")
        return measure.code

    # -- portal ------------------------------------------------------------------------
    def _check_portal(self, row: _Row) -> tuple:
        t = row.typed
        stat_date = t.get("stat_date")
        if isinstance(stat_date, date):
            self._not_after_receipt(row, "stat_date", stat_date)
            self._province_fits(row, stat_date, stat_date, f"stat date {stat_date:%d/%m/%Y}",
                                f"ngày thống kê {stat_date:%d/%m/%Y}")
            if self.expected_stat_date is not None and stat_date != self.expected_stat_date:
                row.add("stat_date", "stat_date_mismatch",
                        f"{stat_date:%d/%m/%Y} is not the day requested ({self.expected_stat_date:%d/%m/%Y})",
                        f"ngày {stat_date:%d/%m/%Y} không phải là ngày được yêu cầu ({self.expected_stat_date:%d/%m/%Y})")
        published = t.get("published_at")
        if isinstance(published, datetime):
            if published > self.received_at:
                row.add("published_at", "future_date",
                        f"{published.isoformat()} is after the file was received ({self.received_at.isoformat()})",
                        f"thời điểm đăng {published.astimezone(VIETNAM_TZ):%d/%m/%Y %H:%M} là sau khi nhận tệp "
                        f"({self.received_at.astimezone(VIETNAM_TZ):%d/%m/%Y %H:%M})")
            elif isinstance(stat_date, date) and published.astimezone(VIETNAM_TZ).date() > stat_date:
                row.add("published_at", "published_after_stat_date",
                        f"the article was published on {published.astimezone(VIETNAM_TZ):%d/%m/%Y}, after the "
                        f"day counted ({stat_date:%d/%m/%Y})",
                        f"bài viết đăng ngày {published.astimezone(VIETNAM_TZ):%d/%m/%Y}, sau ngày thống kê "
                        f"({stat_date:%d/%m/%Y})")
        views, visitors = t.get("page_views"), t.get("unique_visitors")
        for name, number in (("page_views", views), ("unique_visitors", visitors)):
            if isinstance(number, int) and number < 0:
                row.add(name, "negative_value", f"{number} is negative; counts must be 0 or more",
                        f"{number} là số âm; số đếm phải từ 0 trở lên")
        if isinstance(views, int) and isinstance(visitors, int) and 0 <= views < visitors:
            row.add("unique_visitors", "visitors_exceed_views",
                    f"{visitors} unique visitors is more than the {views} page views of the same row",
                    f"{visitors} lượt truy cập nhiều hơn {views} lượt xem của cùng dòng")
        language = None
        if isinstance(t.get("language"), str):
            language = self.reference.languages.get(normalise_text(t["language"]))
            if language is None:
                row.add("language", "unknown_language",
                        f"{t['language']!r} is not a language code of the reference list (vi, en, km, ...)",
                        f"{quoted(t['language'])} không phải là mã ngôn ngữ trong danh mục (vi, en, km, ...)")
        return (
            stat_date, t.get("province_code"), t.get("portal"), t.get("article_id"), t.get("url"),
            t.get("title"), t.get("topic"), language, published, views, visitors,
        )

    # -- rosters -----------------------------------------------------------------------
    def _check_course(self, course: dict[str, str | None]) -> tuple:
        header = self.contract.course_header
        raw = RawRow(None, course)  # type: ignore[arg-type]
        row = _Row(raw, header, course, ColumnLabels(header), prefix=("course header", "Thông tin khóa học"))
        if not any((v or "").strip() for v in course.values()):
            raise CourseRejected([Problem(None, None, None, "invalid_course_header",
                                          "the roster has no course header above the trainee table "
                                          "(Mã khóa học, Tên khóa học, Từ ngày, Đến ngày ...) nor on a sheet of "
                                          "its own",
                                          "danh sách học viên không có thông tin khóa học (Mã khóa học, Tên khóa "
                                          "học, Từ ngày, Đến ngày...) ở phía trên bảng học viên hay trên một trang "
                                          "tính riêng “Thông tin khóa học”; hãy bổ sung rồi gửi lại")])
        for column in header:
            self._parse(row, column)
        t = row.typed
        start, end = t.get("start_date"), t.get("end_date")
        if isinstance(start, date):
            self._not_after_receipt(row, "start_date", start)
            self._province_fits(row, start, end if isinstance(end, date) else start, "the course dates",
                                "thời gian khóa học")
            if isinstance(end, date) and end < start:
                row.add("end_date", "end_before_start", f"{end:%d/%m/%Y} is before the start {start:%d/%m/%Y}",
                        f"ngày kết thúc {end:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}")
        if row.problems:
            raise CourseRejected(row.problems)
        return (
            t["course_id"], t.get("title"), _upper(t.get("organiser_agency_code")), t.get("province_code"),
            start, end, t.get("mode"),
        )

    def _check_rosters(self, row: _Row) -> tuple:
        t = row.typed
        key = None
        try:
            key = person_key(self.pseudonym_key or b"", row.text("national_id"), row.text("staff_id"),
                             row.text("agency_code"))
        except MissingIdentifier as exc:
            row.add("national_id, staff_id", exc.reason_code, f"{exc} (Số CCCD, or Mã cán bộ with Mã đơn vị)",
                    f"{exc.message_vi}; hãy ghi số CCCD, hoặc mã cán bộ kèm mã đơn vị")
        except ParseError as exc:
            row.add("national_id", exc.reason_code, exc.message, exc.message_vi)
        category = None
        if isinstance(t.get("category"), str):
            category = self.reference.categories.get(normalise_text(t["category"]))
            if category is None:
                allowed = sorted(set(self.reference.categories.values()))
                allowed_vi = "; ".join(self.reference.category_labels_vi) or ", ".join(allowed)
                row.add("category", "unknown_category",
                        f"{t['category']!r} is not a trainee category (expected one of {', '.join(allowed)} "
                        "or their Vietnamese labels)",
                        f"{quoted(t['category'])} không phải là đối tượng học viên hợp lệ; hãy ghi một trong: "
                        f"{allowed_vi}")
        return (
            self.course_id, key, t.get("gender"), _upper(t.get("agency_code")), t.get("position"), category,
            t.get("attended"), t.get("completed"),
        )


def _upper(value: object) -> str | None:
    return value.strip().upper() if isinstance(value, str) else None
