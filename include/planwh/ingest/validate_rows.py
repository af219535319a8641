"""Row validation: turn a reader's raw text row into a typed record for COPY, or explain why not.

Checks come from three places: the source's contract (which columns must be filled, how each
is typed), the reference seeds in ``dbt_project/seeds`` (measure codes and their value kinds,
trainee categories and their Vietnamese labels, languages, agency kinds, reporting modes,
provinces and the date of the 2025 merger) and the agency register already loaded. No list of
codes is written here: a new measure or language is a seed change, not a code change.

Duplicate natural keys inside a file are found after COPY, set-based in SQL (``load.py``), so a
file of millions of rows needs no in-memory key set.

Every problem names the row, the column (canonical name and Vietnamese header) and the value as
the sender wrote it; the value of a personal column is replaced by ``PERSONAL_PLACEHOLDER`` and
never appears in a message.
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
)
from planwh.ingest.pseudonymise import MissingIdentifier, person_key
from planwh.ingest.readers import ROW_ERROR_KEY, RawRow
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


@dataclass(frozen=True)
class ReferenceData:
    measures: dict[str, Measure]
    categories: dict[str, str]  # folded code, label or alias -> category code
    languages: dict[str, str]  # folded code -> code
    agency_kinds: dict[str, str]  # folded code or label -> agency kind
    reporting_modes: dict[str, str]  # folded mode -> mode
    merger_date: date
    provinces: ProvinceResolver


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
        )
        for row in _read_seed(seeds_dir, "ref_measures.csv")
    }
    categories: dict[str, str] = {}
    for row in _read_seed(seeds_dir, "ref_trainee_categories.csv"):
        code = row["category_code"]
        labels = [code, row.get("label_vi", ""), row.get("label_en", "")]
        labels += (row.get("label_vi_aliases") or "").split(";")
        for label in labels:
            if label.strip():
                categories.setdefault(normalise_text(label), code)
    languages = {normalise_text(r["language_code"]): r["language_code"] for r in _read_seed(seeds_dir, "ref_languages.csv")}
    agency_kinds: dict[str, str] = {}
    for row in _read_seed(seeds_dir, "ref_agency_kinds.csv"):
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

    def describe(self, agency_code: str) -> str:
        entries = self.agencies.get(agency_code.upper())
        if not entries:
            return "it is not in the agency register (danh mục đơn vị)"
        spans = ", ".join(
            f"{e.valid_from:%d/%m/%Y}-{e.valid_to:%d/%m/%Y}" if e.valid_to else f"from {e.valid_from:%d/%m/%Y}"
            for e in sorted(entries, key=lambda e: e.valid_from)
        )
        return f"the agency register lists it only for {spans}"


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    row_number: int | None
    column: str | None
    value: str | None
    reason_code: str
    message: str

    def as_copy_row(self, file_id: int) -> tuple:
        return (file_id, self.row_number, self.column, self.value, self.reason_code, self.message)


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


# ---------------------------------------------------------------------------- the validator


class _Row:
    """Typed values of one row, collecting problems as they are found."""

    def __init__(self, raw: RawRow, columns: tuple[Column, ...], values: dict):
        self.row_number = raw.row_number
        self.raw_values = values
        self.columns = {c.name: c for c in columns}
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

    def where(self, name: str) -> str:
        labels = []
        for part in name.split(", "):
            column = self.columns.get(part)
            labels.append(column.label if column is not None else part)
        label = " / ".join(labels)
        return f"row {self.row_number}, {label}" if self.row_number is not None else label

    def add(self, name: str | None, reason_code: str, detail: str) -> None:
        where = self.where(name) if name else f"row {self.row_number}"
        self.problems.append(Problem(self.row_number, name, self.shown(name) if name else None, reason_code,
                                     f"{where}: {detail}"))

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
    header) for rosters. ``expected_stat_date`` is the day a portal API pull asked for.
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
    ):
        self.source = source
        self.contract: Contract = CONTRACTS[source]
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
        if text is None and column.kind == "bool":
            # Attendance sheets tick "x" for yes and leave the cell empty for no.
            row.typed[column.name] = False
            return
        if text is None:
            if column.nullable:
                row.typed[column.name] = None
            else:
                row.add(column.name, "missing_value", "a value is required")
            return
        if "\x00" in text:
            row.add(column.name, "invalid_character", "the cell contains a NUL character (\\x00), which is not text")
            return
        try:
            value = self._typed(column.kind, text, row)
        except ParseError as exc:
            detail = exc.message
            if column.personal:
                detail = f"the value cannot be read ({exc.reason_code.replace('_', ' ')})"
            row.add(column.name, exc.reason_code, detail)
            return
        if column.kind == "int" and isinstance(value, int) and abs(value) > BIGINT_MAX:
            row.add(column.name, "out_of_range", f"{text!r} is too large to be a count")
            return
        row.typed[column.name] = value

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
                found = (False, (exc.reason_code, exc.message))
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

    def _province_fits(self, row: _Row, start: date, end: date | None, what: str) -> None:
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
        elif provinces.is_current(code):
            why = f"{code} is a province code from {merger:%d/%m/%Y}, but {what} is before it; use the code of that time"
        else:
            why = f"{code} is not a province code for {what}"
        row.add("province_code", "province_not_valid_for_period", why)

    def _not_after_receipt(self, row: _Row, name: str, day: date | None) -> None:
        if day is not None and day > self.received_day:
            row.add(name, "future_date",
                    f"{day:%d/%m/%Y} is after the day the file was received ({self.received_day:%d/%m/%Y})")

    def check(self, raw: RawRow) -> RowResult:
        values = raw.values
        if values.get(ROW_ERROR_KEY):
            problem = Problem(raw.row_number, None, None, "malformed_row",
                              f"row {raw.row_number}: {values[ROW_ERROR_KEY]}")
            return RowResult(raw.row_number, None, [problem])
        row = _Row(raw, self.contract.columns, values)
        for column in self.contract.columns:
            self._parse(row, column)
        record = getattr(self, f"_check_{self.source}")(row)
        return RowResult(raw.row_number, None if row.problems else record, row.problems)

    # -- agencies ----------------------------------------------------------------------
    def _check_agencies(self, row: _Row) -> tuple:
        t = row.typed
        kind = self._lookup(row, "agency_kind", self.reference.agency_kinds, "unknown_agency_kind",
                            "is not an agency kind", sorted(set(self.reference.agency_kinds.values())))
        mode = self._lookup(row, "reporting", self.reference.reporting_modes, "unknown_reporting_mode",
                            "is not a reporting mode", sorted(set(self.reference.reporting_modes.values())))
        if row.ok("valid_from", "valid_to") and t["valid_to"] is not None and t["valid_to"] < t["valid_from"]:
            row.add("valid_to", "valid_to_before_valid_from",
                    f"{t['valid_to']:%d/%m/%Y} is before the start of validity {t['valid_from']:%d/%m/%Y}")
        if row.ok("valid_from", "valid_to"):
            self._province_fits(row, t["valid_from"], t["valid_to"], "the agency's validity")
        return (
            _upper(t.get("agency_code")), t.get("agency_name"), t.get("province_code"), kind, mode,
            t.get("valid_from"), t.get("valid_to"), _upper(t.get("successor_agency_code")),
        )

    def _lookup(self, row: _Row, name: str, table: dict[str, str], reason: str, what: str,
                allowed: list[str]) -> str | None:
        text = row.typed.get(name)
        if not isinstance(text, str):
            return None
        found = table.get(normalise_text(text))
        if found is None:
            row.add(name, reason, f"{text!r} {what} (expected one of {', '.join(allowed)})")
        return found

    # -- submissions -------------------------------------------------------------------
    def _check_submissions(self, row: _Row) -> tuple:
        t = row.typed
        period: Period | None = t.get("period")  # type: ignore[assignment]
        agency = _upper(t.get("agency_code"))
        measure = self._check_measure(row)
        if period is not None:
            self._province_fits(row, period.start, period.end, f"period {period.code}")
            if period.start > self.received_day:
                row.add("period", "future_date",
                        f"period {period.code} starts after the day the file was received ({self.received_day:%d/%m/%Y})")
            if agency and not self.register.covers(agency, period.start, period.end):
                row.add("agency_code", "agency_not_registered",
                        f"agency {agency!r} cannot report for period {period.code}: {self.register.describe(agency)}")
        submitted = t.get("submitted_at")
        if isinstance(submitted, date):
            self._not_after_receipt(row, "submitted_at", submitted)
            if period is not None and submitted < period.start:
                row.add("submitted_at", "submitted_before_period",
                        f"{submitted:%d/%m/%Y} is before period {period.code} started ({period.start:%d/%m/%Y})")
        return (
            t.get("province_code"), agency, t.get("agency_name"),
            period.code if period else None, period.kind if period else None,
            period.start if period else None, period.end if period else None,
            measure, t.get("value"), t.get("task_code"), t.get("note"), submitted,
        )

    def _check_measure(self, row: _Row) -> str | None:
        code = row.typed.get("measure_code")
        if not isinstance(code, str):
            return None
        measure = self.reference.measures.get(code.strip().lower())
        if measure is None:
            row.add("measure_code", "unknown_measure",
                    f"{code!r} is not a measure code (see the measure list, ref_measures)")
            return None
        value = row.typed.get("value")
        if isinstance(value, Decimal):
            shown = row.text("value")
            if measure.value_kind == "flag" and value not in (0, 1):
                row.add("value", "invalid_flag", f"{shown!r}: {measure.code} is yes/no, write 1 (yes) or 0 (no)")
            elif measure.value_kind == "status" and value not in (0, 1, 2):
                row.add("value", "invalid_status",
                        f"{shown!r}: {measure.code} is 0 (not started), 1 (in progress) or 2 (completed)")
            elif measure.min_value is not None and value < measure.min_value:
                reason = "negative_value" if measure.min_value == 0 else "out_of_range"
                row.add("value", reason, f"{shown!r}: {measure.code} cannot be below {measure.min_value}")
            elif measure.max_value is not None and value > measure.max_value:
                row.add("value", "out_of_range", f"{shown!r}: {measure.code} cannot be above {measure.max_value}")
            elif value != value.to_integral_value():
                row.add("value", "not_whole_number", f"{shown!r}: {measure.code} is a count, a whole number")
        if measure.requires_task_code and row.ok("task_code") and not row.typed["task_code"]:
            row.add("task_code", "missing_task_code", f"{measure.code} needs the plan task it belongs to (e.g. 2.1)")
        return measure.code

    # -- portal ------------------------------------------------------------------------
    def _check_portal(self, row: _Row) -> tuple:
        t = row.typed
        stat_date = t.get("stat_date")
        if isinstance(stat_date, date):
            self._not_after_receipt(row, "stat_date", stat_date)
            self._province_fits(row, stat_date, stat_date, f"stat date {stat_date:%d/%m/%Y}")
            if self.expected_stat_date is not None and stat_date != self.expected_stat_date:
                row.add("stat_date", "stat_date_mismatch",
                        f"{stat_date:%d/%m/%Y} is not the day requested ({self.expected_stat_date:%d/%m/%Y})")
        published = t.get("published_at")
        if isinstance(published, datetime):
            if published > self.received_at:
                row.add("published_at", "future_date",
                        f"{published.isoformat()} is after the file was received ({self.received_at.isoformat()})")
            elif isinstance(stat_date, date) and published.astimezone(VIETNAM_TZ).date() > stat_date:
                row.add("published_at", "published_after_stat_date",
                        f"the article was published on {published.astimezone(VIETNAM_TZ):%d/%m/%Y}, after the "
                        f"day counted ({stat_date:%d/%m/%Y})")
        views, visitors = t.get("page_views"), t.get("unique_visitors")
        for name, number in (("page_views", views), ("unique_visitors", visitors)):
            if isinstance(number, int) and number < 0:
                row.add(name, "negative_value", f"{number} is negative; counts must be 0 or more")
        if isinstance(views, int) and isinstance(visitors, int) and 0 <= views < visitors:
            row.add("unique_visitors", "visitors_exceed_views",
                    f"{visitors} unique visitors is more than the {views} page views of the same row")
        language = None
        if isinstance(t.get("language"), str):
            language = self.reference.languages.get(normalise_text(t["language"]))
            if language is None:
                row.add("language", "unknown_language",
                        f"{t['language']!r} is not a language code of the reference list (vi, en, km, ...)")
        return (
            stat_date, t.get("province_code"), t.get("portal"), t.get("article_id"), t.get("url"),
            t.get("title"), t.get("topic"), language, published, views, visitors,
        )

    # -- rosters -----------------------------------------------------------------------
    def _check_course(self, course: dict[str, str | None]) -> tuple:
        header = self.contract.course_header
        raw = RawRow(None, course)  # type: ignore[arg-type]
        row = _Row(raw, header, course)
        if not any((v or "").strip() for v in course.values()):
            raise CourseRejected([Problem(None, None, None, "invalid_course_header",
                                          "the roster has no course header above the trainee table "
                                          "(Mã khóa học, Tên khóa học, Từ ngày, Đến ngày ...)")])
        for column in header:
            self._parse(row, column)
        t = row.typed
        start, end = t.get("start_date"), t.get("end_date")
        if isinstance(start, date):
            self._not_after_receipt(row, "start_date", start)
            self._province_fits(row, start, end if isinstance(end, date) else start, "the course dates")
            if isinstance(end, date) and end < start:
                row.add("end_date", "end_before_start", f"{end:%d/%m/%Y} is before the start {start:%d/%m/%Y}")
        if row.problems:
            raise CourseRejected([
                Problem(None, p.column, p.value, p.reason_code, f"course header: {p.message}") for p in row.problems
            ])
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
            row.add("national_id, staff_id", exc.reason_code, f"{exc} (Số CCCD, or Mã cán bộ with Mã đơn vị)")
        except ParseError as exc:
            row.add("national_id", exc.reason_code, exc.message)
        category = None
        if isinstance(t.get("category"), str):
            category = self.reference.categories.get(normalise_text(t["category"]))
            if category is None:
                allowed = sorted(set(self.reference.categories.values()))
                row.add("category", "unknown_category",
                        f"{t['category']!r} is not a trainee category (expected one of {', '.join(allowed)} "
                        "or their Vietnamese labels)")
        return (
            self.course_id, key, t.get("gender"), _upper(t.get("agency_code")), t.get("position"), category,
            t.get("attended"), t.get("completed"),
        )


def _upper(value: object) -> str | None:
    return value.strip().upper() if isinstance(value, str) else None
