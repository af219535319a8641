"""``generate_sample``: realistic, deterministic landing files for every source, with planted faults.

Layout under the landing folder::

    agencies/danh-muc-don-vi_<province>_<version date>.xlsx|csv   agency registers, up to three versions
    submissions/bao-cao_<agency>_<period>.xlsx|csv|json          one per agency and period
    portal/<host>_<day>.csv|jsonl                                  one per portal and day
    rosters/danh-sach-hoc-vien_<course>.xlsx|json                  one per course
    sample-manifest.json                                           what was written and planted

What is in them, and why:

* Registers: the first version (sent in January 2023, on the template without "Đơn vị kế thừa")
  lists every agency open-ended; the second (1 March 2025) closes the Sở TT&TT on 28 February,
  naming the Sở KH&CN as its successor, and makes the Sở VH-TT-DL, which took its press duties, a
  quarterly reporter; the third (sent on the merger day, 1 July 2025) closes the district
  committees and the agencies of absorbed provinces on 30 June 2025, each naming its successor,
  and adds the current province's agencies and a few commune committees. Load the registers
  before the submissions.
* Submissions: an agency reports a period when it is in the register on the period's last day
  (so agencies that ended on 30 June 2025 send no 2025 annual report: their successors do, the
  new communes for the district committees' officials), with the status of the tasks it leads
  then (the annex's lead units resolved as the warehouse resolves them). Sở Ngoại vụ reports the status of the
  UPR recommendations (task codes ``UPR-63``, ``UPR-67``, ``UPR-86``) in its annual report.
  Annual reports are signed before 30 November, about one in ten in December; a few agencies skip
  a year. The Sở TT&TT (from March 2025 the Sở VH-TT-DL) and the police also send quarterly
  reports with ``press_briefings_held`` (the plan's quarterly briefings) and the status of task
  2.1; those two never appear in their annual reports, so summing a year's periods counts each
  briefing once. One report is corrected
  and sent again (``..._dieu-chinh``), one is sent twice with the same bytes (``..._gui-lai``).
* Portal statistics: the ``portal_days`` days from 1 December of the last sample year.
* Rosters: the courses of the sample years; the same person keeps the same identity across
  courses (a refresher course, a second try after not completing).

Faults are planted in a ``fault_rate`` share of the data rows of each source (at least one of
every reason that source can have), each listed in the manifest with its row as the sender sees
it (Excel row, CSV/JSON Lines line, 1-based item of a JSON array) and the reason code the
warehouse should give. On top come a report from an agency missing from the register (every row
``agency_not_registered``) and whole-file faults (``empty_file``, ``missing_columns``,
``unsupported_format``), listed as the file's ``reason``. ``fault_rate=0`` gives a clean sample.

No missing report, rejected file or planted fault is allowed to distort the indicators: a row
fault that rejects a submission row never hits a measure that is half of a share (products,
data sources, items monitored, fake news, headcounts), and ``_Coverage`` keeps every province's
headcounts at least the persons it has trained and every measure present in every year.

Gate faults (``gate_faults`` of a file, ``GATE_RULES``) are rows valid one by one, so ingestion
loads them, that break a Great Expectations rule across rows or columns: fake news handled above
detected, a product sub-count above ``products_total``, misinformation above the items
monitored, digitised sources above all sources, a trainee completing without attending. Every
row the rule flags is listed; the gate holds them back as ``gx_<rule>``. They go in a year
between the first and the last, so neither baseline nor latest values lose a report.
A note holding ``=HYPERLINK(...)`` is not a fault: it is valid text, listed under ``specials``
as ``formula_text``, to be stored verbatim and neutralised in feedback files.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path

from planwh.console import format_table
from planwh.sample.portal import CSV_COLUMNS, CSV_VI_HEADERS, portal_days
from planwh.sample.reference import Reference, ReferenceDataError, load_reference
from planwh.sample.world import (
    BASELINE_YEAR,
    TARGET_YEAR,
    UNREGISTERED,
    UPR_REPORTER,
    VIETNAM_TZ,
    Agency,
    Course,
    Share,
    Unit,
    World,
)
from planwh.sample.writers import BLANK, Sheet, csv_bytes, json_bytes, jsonl_bytes, xlsx_bytes

MANIFEST_NAME = "sample-manifest.json"
SOURCES = ("agencies", "submissions", "portal", "rosters")
FAULT_REASONS = (
    "negative_value", "unknown_measure", "unknown_province", "agency_not_registered", "invalid_date",
    "future_date", "visitors_exceed_views", "duplicate_row", "missing_identifier", "empty_file",
    "missing_columns", "unsupported_format",
)
ROW_REASONS = {
    "submissions": ("negative_value", "unknown_measure", "unknown_province", "invalid_date", "future_date",
                    "duplicate_row"),
    "portal": ("visitors_exceed_views", "negative_value", "duplicate_row"),
    "rosters": ("missing_identifier", "duplicate_row"),
}
# Faults that pass ingestion's row checks (each row is valid on its own) and that only the Great
# Expectations gate catches, across rows of one submission or within a roster row: rule name (as in
# the suite's meta, the quarantine reason being gx_<rule>) -> suite.
GATE_RULES = {
    "handled_exceeds_detected": "agency_submissions",
    "products_exceed_total": "agency_submissions",
    "misinformation_exceeds_monitored": "agency_submissions",
    "digitised_exceeds_total": "agency_submissions",
    "completed_without_attending": "training_attendance",
}
# A submission row rejected on its own would leave its partner alone in the province totals
# (fake news handled without the count detected, a sub-count without products_total, trainees
# without the headcount) and push a share past 100 %. Row faults that reject a row go on the
# other measures; a duplicated row, quarantined while its original loads, may go anywhere.
PAIRED_MEASURES = frozenset({
    "products_total", "products_ethnic_language", "products_foreign_language", "products_digital_platform",
    "data_sources_total", "data_sources_digitised_shared", "hr_items_monitored", "misinformation_items",
    "fake_news_detected", "fake_news_handled", "staff_hr_officials", "staff_info_officials",
    "staff_press_foreign_info", "staff_key_sociopolitical",
})
FORMULA_TEXT = '=HYPERLINK("http://example.invalid","bấm vào đây")'
MAX_FAULT_RATE = 0.25


class SampleError(ValueError):
    """The sample cannot be generated as asked; the message says what to change."""


# ---------------------------------------------------------------------------- spec and manifest


@dataclass(frozen=True)
class SampleSpec:
    provinces: int = 6
    years: tuple[int, ...] = (2023, 2024, 2025)
    seed: int = 1079
    portal_days: int = 14
    fault_rate: float = 0.03

    @property
    def portal_first_day(self) -> date:
        """Portal statistics start on 1 December of the last sample year."""
        return date(max(self.years), 12, 1)

    @property
    def last_day(self) -> date:
        """The latest date any generated file carries (planted future dates aside)."""
        portal_end = self.portal_first_day + timedelta(days=max(self.portal_days, 1) - 1)
        return max(date(max(self.years), 12, 31), portal_end)

    def validate(self, ref: Reference) -> None:
        if not 1 <= self.provinces <= len(ref.legacy):
            raise SampleError(f"provinces must be between 1 and {len(ref.legacy)}, got {self.provinces}")
        if not self.years:
            raise SampleError("years is empty: give at least one reporting year")
        if list(self.years) != sorted(set(self.years)):
            raise SampleError(f"years must be increasing and distinct, got {list(self.years)}")
        if not all(BASELINE_YEAR <= y <= TARGET_YEAR for y in self.years):
            raise SampleError(f"years must lie in the plan period {BASELINE_YEAR}-{TARGET_YEAR}, got {list(self.years)}")
        if not 0 <= self.portal_days <= 31:
            raise SampleError(f"portal_days must be between 0 and 31 (one December), got {self.portal_days}")
        if not 0 <= self.fault_rate <= MAX_FAULT_RATE:
            raise SampleError(f"fault_rate must be between 0 and {MAX_FAULT_RATE}, got {self.fault_rate}")


@dataclass(frozen=True)
class Issue:
    """A planted fault (or a special value) at a row; ``row`` None means the whole file."""

    reason: str
    row: int | None = None  # as the sender sees it: Excel row, CSV/JSONL line, JSON array item
    record: int | None = None  # 1-based position among the file's data rows
    column: str | None = None
    value: str | None = None  # what was written; never personal data


@dataclass
class SampleFile:
    path: str  # relative to the landing folder, with forward slashes
    source: str
    format: str
    encoding: str | None
    rows: int
    sha256: str
    size_bytes: int
    sent_at: str
    expected: str  # loaded | rejected | duplicate
    reason: str | None = None  # the whole-file reason when expected is rejected
    faults: list[Issue] = field(default_factory=list)
    specials: list[Issue] = field(default_factory=list)
    gate_faults: list[Issue] = field(default_factory=list)  # reason: the GATE_RULES rule; every row it holds back
    province_code: str | None = None
    agency_code: str | None = None
    period: str | None = None
    portal: str | None = None
    stat_date: str | None = None
    course_id: str | None = None
    duplicate_of: str | None = None
    supersedes: str | None = None
    corrections: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("faults", "specials", "gate_faults"):
                value = [{k: v for k, v in asdict(i).items() if v is not None} for i in value]
            if value is None or value == []:
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SampleFile:
        data = dict(data)
        data.setdefault("encoding", None)  # to_dict leaves out empty values
        data["faults"] = [Issue(**i) for i in data.get("faults", [])]
        data["specials"] = [Issue(**i) for i in data.get("specials", [])]
        data["gate_faults"] = [Issue(**i) for i in data.get("gate_faults", [])]
        return cls(**data)


@dataclass
class SampleManifest:
    spec: SampleSpec
    files: list[SampleFile]
    provinces: list[dict] = field(default_factory=list)
    portal_window: list[str] | None = None
    missing_submissions: list[dict] = field(default_factory=list)
    paces: dict[str, dict[str, str]] = field(default_factory=dict)

    def faults(self, source: str | None = None) -> list[tuple[SampleFile, Issue]]:
        """Every planted fault: row faults, and whole-file ones as an Issue with row None."""
        found = []
        for f in self.files:
            if source is not None and f.source != source:
                continue
            if f.expected == "rejected" and f.reason:
                found.append((f, Issue(f.reason)))
            found.extend((f, issue) for issue in f.faults)
        return found

    def gate_faults(self, source: str | None = None) -> list[tuple[SampleFile, Issue]]:
        """Every row the Great Expectations gate should hold back (ingestion loads them)."""
        return [(f, issue) for f in self.files if source in (None, f.source) for issue in f.gate_faults]

    def summary(self) -> list[dict]:
        """Per source: files, data rows, faulty rows (ingestion), faulty and duplicate files, and
        rows the gate holds back."""
        rows = []
        for source in SOURCES:
            files = [f for f in self.files if f.source == source]
            rows.append({
                "source": source,
                "files": len(files),
                "rows": sum(f.rows for f in files),
                "row_faults": sum(len(f.faults) for f in files),
                "rejected_files": sum(1 for f in files if f.expected == "rejected"),
                "duplicate_files": sum(1 for f in files if f.expected == "duplicate"),
                "gate_faults": sum(len(f.gate_faults) for f in files),
            })
        return rows

    def summary_table(self) -> str:
        """:meth:`summary` as a text table with a total line, for the terminal."""
        keys = ("files", "rows", "row_faults", "rejected_files", "duplicate_files", "gate_faults")
        body: list[list[object]] = [[s["source"], *(s[k] for k in keys)] for s in self.summary()]
        body.append(["total", *(sum(int(r[i]) for r in body) for i in range(1, len(keys) + 1))])
        headers = ("source", "files", "rows", "faulty rows", "faulty files", "duplicate files", "gate faults")
        return format_table(headers, body)

    def to_dict(self) -> dict:
        return {
            "generator": "planwh sample",
            "spec": {**asdict(self.spec), "years": list(self.spec.years)},
            "row_numbers": "Excel row, CSV or JSON Lines line, or 1-based item of a JSON array, as the sender sees it",
            "provinces": self.provinces,
            "portal_window": self.portal_window,
            "paces": self.paces,
            "missing_submissions": self.missing_submissions,
            "summary": self.summary(),
            "gate_faults": [
                {"path": f.path, "suite": GATE_RULES[rule], "rule": rule, "reason_code": f"gx_{rule}",
                 "rows": [i.row for i in f.gate_faults if i.reason == rule]}
                for f in self.files for rule in dict.fromkeys(i.reason for i in f.gate_faults)
            ],
            "files": [f.to_dict() for f in self.files],
        }

    def save(self, path: Path) -> None:
        path.write_bytes(json_bytes(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> SampleManifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        spec = data["spec"]
        return cls(
            spec=SampleSpec(**{**spec, "years": tuple(spec["years"])}),
            files=[SampleFile.from_dict(f) for f in data["files"]],
            provinces=data.get("provinces", []),
            portal_window=data.get("portal_window"),
            missing_submissions=data.get("missing_submissions", []),
            paces=data.get("paces", {}),
        )


# ---------------------------------------------------------------------------- documents


@dataclass
class Row:
    values: dict[str, object]
    fault: Issue | None = None
    special: Issue | None = None
    gate: Issue | None = None


@dataclass
class Doc:
    source: str
    path: str
    fmt: str
    rows: list[Row]
    sent_at: datetime
    render: Callable[[Doc], tuple[bytes, list[int]]]
    style: dict = field(default_factory=dict)
    key: dict[str, str | None] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    expected: str = "loaded"
    reason: str | None = None
    fault_eligible: bool = True
    duplicate_of: str | None = None
    supersedes: str | None = None
    corrections: list[dict] = field(default_factory=list)

    @property
    def encoding(self) -> str | None:
        return self.style.get("encoding")


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _strip_accents(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _headers(vi: dict[str, str], columns: tuple[str, ...], variant: str, required: set[str]) -> list[str]:
    out = []
    for col in columns:
        text = vi[col]
        if variant == "upper":
            text = text.upper()
        elif variant == "plain":
            text = _strip_accents(text)
        elif variant == "star" and col in required:
            text = f"{text} (*)"
        elif variant == "canonical":
            text = col
        out.append(text)
    return out


def _sent(day: date, rng) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 16), rng.randrange(60)), VIETNAM_TZ)


# ---------------------------------------------------------------------------- agency registers

REG_COLUMNS = (
    "agency_code", "agency_name", "province_code", "agency_kind", "reporting", "valid_from", "valid_to",
    "successor_agency_code",
)
REG_VI = {
    "agency_code": "Mã đơn vị", "agency_name": "Tên đơn vị", "province_code": "Mã tỉnh", "agency_kind": "Loại đơn vị",
    "reporting": "Chế độ báo cáo", "valid_from": "Hiệu lực từ", "valid_to": "Hiệu lực đến",
    "successor_agency_code": "Đơn vị kế thừa",
}


def _register_cell(column: str, value: object) -> str:
    if value is None:
        return ""
    return _dmy(value) if isinstance(value, date) else str(value)


def _render_register(doc: Doc) -> tuple[bytes, list[int]]:
    # The first registers (January 2023) were sent on the template before it had "Đơn vị kế thừa".
    columns = REG_COLUMNS if doc.meta.get("with_successor", True) else REG_COLUMNS[:-1]
    headers = [REG_VI[c] for c in columns]
    if doc.fmt == "csv":
        lines = [headers] + [[_register_cell(c, row.values[c]) for c in columns] for row in doc.rows]
        return csv_bytes(lines, delimiter=";", encoding="utf-8-sig"), [2 + i for i in range(len(doc.rows))]
    rows: list[list[object]] = [
        [doc.meta["title"]],
        [f"(Cập nhật ngày {_dmy(doc.sent_at.date())})"],
        [],
        headers,
    ]
    rows += [[row.values[c] for c in columns] for row in doc.rows]
    rows += [[BLANK] * len(columns) for _ in range(doc.style.get("trailing", 2))]
    sheet = Sheet("Danh mục", rows, merge_title_cols=len(columns), header_row=3,
                  widths=(14, 48, 9, 20, 16, 13, 13, 14)[: len(columns)])
    return xlsx_bytes([sheet], doc.sent_at.replace(tzinfo=None)), [5 + i for i in range(len(doc.rows))]


def _register_docs(world: World) -> list[Doc]:
    docs = []
    first_day = date(BASELINE_YEAR, 1, 5)
    for code in sorted(world.registers):
        rng = world.rng("register", code)
        versions = []
        if code in world.register_first:
            versions.append((first_day, world.register_first[code], world.ref.legacy[code]))
        if code in world.register_ict:
            versions.append((world.ict_merger, world.register_ict[code], world.ref.legacy[code]))
        province_now = world.ref.current.get(code) if code in world.current_codes else world.ref.legacy[code]
        versions.append((world.merger, world.registers[code], province_now))
        for day, rows, province in versions:
            new_only = code not in world.register_first
            fmt = "csv" if new_only else "xlsx"
            docs.append(Doc(
                source="agencies",
                path=f"agencies/danh-muc-don-vi_{code}_{day.isoformat()}.{fmt}",
                fmt=fmt,
                rows=[Row(asdict(r)) for r in rows],
                sent_at=_sent(day, rng),
                render=_render_register,
                style={"encoding": "utf-8-sig" if fmt == "csv" else None, "trailing": rng.randint(1, 4)},
                key={"province_code": code},
                meta={"title": f"DANH MỤC ĐƠN VỊ BÁO CÁO – {province.name_full.upper()}",
                      "with_successor": day != first_day},
                fault_eligible=False,
            ))
    return docs


# ---------------------------------------------------------------------------- what the warehouse will count


class _Coverage:
    """The province totals the warehouse will compute from the submissions, kept up to date as
    reports go missing and rows are held back, so that none of that can

    * leave a province's headcount of a trainee category below the persons of that category
      trained there since 2023 (each counted once, from their first completed course): coverage
      over 100 %, which the real agencies' figures would not show; or
    * leave a current province without a single row of a measure in a year, so that an
      indicator had no data there.
    """

    def __init__(self, world: World, docs: list[Doc], courses: list[Course]):
        self.mapping = world.ref.mapping
        self.last_year = max(world.years)
        self.headcounts = {c.headcount_measure for c in world.ref.categories.values() if c.headcount_measure}
        self.rows: Counter[tuple[str, int, str]] = Counter()
        self.staff: Counter[tuple[str, int, str]] = Counter()
        for doc in docs:
            self._count(doc.rows, 1)
        measure_of = {c.code: c.headcount_measure for c in world.ref.categories.values()}
        first: dict[tuple[int, str], tuple[int, str]] = {}
        for course in sorted(courses, key=lambda c: (c.end, c.course_id)):
            for enrolment in course.enrolments:
                measure = measure_of.get(enrolment.person.category)
                if enrolment.completed and measure:
                    first.setdefault((enrolment.person.person_id, measure),
                                     (course.end.year, self._current(enrolment.agency_code)))
        self.trained: Counter[tuple[str, int, str]] = Counter()
        for (_, measure), (year, current) in first.items():
            for later in world.years:
                if later >= year:
                    self.trained[(current, later, measure)] += 1

    def _current(self, code: str) -> str:
        province = code.split("-", 1)[0]
        return self.mapping.get(province, province)

    def _key(self, row: Row) -> tuple[str, int, str]:
        v = row.values
        return self._current(str(v["province_code"])), int(str(v["period"])[:4]), str(v["measure_code"])

    def _count(self, rows: list[Row], sign: int) -> None:
        for row in rows:
            key = self._key(row)
            self.rows[key] += sign
            if key[2] in self.headcounts:
                self.staff[key] += sign * int(row.values["value"])

    def allows(self, rows: list[Row], *, every_year: bool = True) -> bool:
        """Whether the warehouse may lose ``rows`` (a report, or rows held back) and still
        count every trained person within a headcount and have data for every year (for the
        last year only, without ``every_year``)."""
        lost: Counter[tuple[str, int, str]] = Counter()
        staff: Counter[tuple[str, int, str]] = Counter()
        for row in rows:
            key = self._key(row)
            lost[key] += 1
            if key[2] in self.headcounts:
                staff[key] += int(row.values["value"])
        for key, n in lost.items():
            if (every_year or key[1] == self.last_year) and self.rows[key] - n < 1:
                return False
            if key[2] in self.headcounts and self.staff[key] - staff[key] < max(self.trained[key], 1):
                return False
        return True

    def remove(self, rows: list[Row]) -> None:
        self._count(rows, -1)


# ---------------------------------------------------------------------------- submissions

SUB_COLUMNS = (
    "province_code", "agency_code", "agency_name", "period", "measure_code", "value", "task_code", "note",
    "submitted_at",
)
SUB_VI = {
    "province_code": "Mã tỉnh", "agency_code": "Mã đơn vị", "agency_name": "Tên đơn vị", "period": "Kỳ báo cáo",
    "measure_code": "Mã chỉ tiêu", "value": "Giá trị", "task_code": "Mã nhiệm vụ", "note": "Ghi chú",
    "submitted_at": "Ngày báo cáo",
}
SUB_REQUIRED = {"province_code", "agency_code", "agency_name", "period", "measure_code", "value", "submitted_at"}

_NOTES: dict[str, tuple[str, ...] | dict[int, tuple[str, ...]]] = {
    "products_total": ("Bao gồm tin, bài, phóng sự, video clip đăng tải trên Cổng TTĐT và trang mạng xã hội",
                       "Số liệu tính đến ngày 15/11"),
    "products_digital_platform": ("Đăng tải trên fanpage, kênh YouTube, Zalo OA của đơn vị",),
    "products_ethnic_language": ("Chương trình phát thanh, truyền hình tiếng dân tộc",),
    "products_foreign_language": ("Tin, bài tiếng Anh trên Cổng TTĐT",),
    "spokesperson_mechanism": {1: ("Đã ban hành Quy chế phát ngôn và cung cấp thông tin cho báo chí",),
                               0: ("Chưa ban hành quy chế, đang dự thảo",)},
    "hr_items_monitored": ("Theo dõi qua hệ thống giám sát thông tin trên không gian mạng",),
    "fake_news_handled": ("Phối hợp Công an tỉnh xử lý, yêu cầu gỡ bỏ",),
    "exhibitions_held": ("Triển lãm ảnh lưu động tại các huyện", "Phối hợp Bộ TT&TT tổ chức"),
    "press_briefings_held": ("Hội nghị cung cấp thông tin cho báo chí định kỳ", "Lồng ghép hội nghị giao ban báo chí"),
    "task_status": {0: ("Chưa bố trí được kinh phí", "Chờ hướng dẫn của Bộ TT&TT"),
                    1: ("Đã ban hành kế hoạch thực hiện", "Đang triển khai theo kế hoạch",
                        "Lồng ghép trong hoạt động thường xuyên của đơn vị"),
                    2: ("Đã hoàn thành, tiếp tục duy trì",)},
    "data_sources_digitised_shared": ("Đã tích hợp lên Kho dữ liệu dùng chung của tỉnh",),
}
_UNKNOWN_MEASURES = ("products_totl", "so_san_pham", "fake_news_found", "press_briefing", "staff_hr", "tin_gia_xu_ly")


def _period_title(period: str) -> str:
    if "-Q" in period:
        year, quarter = period.split("-Q")
        return f"QUÝ {quarter} NĂM {year}"
    return f"NĂM {period}"


def _sub_text(col: str, value: object, style: dict) -> str:
    if value is None:
        return ""
    if col == "value" and isinstance(value, int):
        return _vn_int(value) if style.get("thousands_text") else str(value)
    if col == "submitted_at" and isinstance(value, date):
        return _dmy(value)
    if col == "period" and style.get("period_vi") and "-Q" in str(value):
        year, quarter = str(value).split("-Q")
        return f"Quý {quarter}/{year}"
    return str(value)


def _render_submission(doc: Doc) -> tuple[bytes, list[int]]:
    style = doc.style
    columns = tuple(c for c in SUB_COLUMNS if c not in style.get("drop", ()))
    headers = _headers(SUB_VI, columns, style.get("headers", "vi"), SUB_REQUIRED)
    title = f"BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 1079 {_period_title(doc.key['period'])}"
    if doc.fmt == "json":
        records = []
        for row in doc.rows:
            rec = {}
            for col in columns:
                value = row.values[col]
                rec[col] = value.isoformat() if isinstance(value, date) else value
            records.append(rec)
        document = {
            "form": "bao-cao-de-an-1079",
            "form_version": "2.1",
            "exported_at": doc.sent_at.isoformat(),
            "agency_code": doc.key["agency_code"],
            "period": doc.key["period"],
            "rows": records,
        }
        return json_bytes(document), [i + 1 for i in range(len(doc.rows))]
    if doc.fmt == "csv":
        lines: list[list[str]] = []
        if style.get("title"):
            lines.append([title] + [""] * (len(columns) - 1))
        lines.append(headers)
        first = len(lines) + 1
        lines += [[_sub_text(c, row.values[c], style) for c in columns] for row in doc.rows]
        data = csv_bytes(lines, delimiter=style["delimiter"], encoding=style["encoding"])
        return data, [first + i for i in range(len(doc.rows))]
    rows: list[list[object]] = [[title], [f"Đơn vị báo cáo: {doc.meta['agency_name']}"], [], headers]
    if style.get("numbering"):
        rows.append([f"({i + 1})" for i in range(len(columns))])
    first = len(rows) + 1
    for row in doc.rows:
        cells: list[object] = []
        for col in columns:
            value = row.values[col]
            if col == "value" and isinstance(value, int) and not (style.get("thousands_text") and abs(value) >= 1000):
                cells.append(value)
            elif col == "submitted_at" and isinstance(value, date) and not style.get("date_text"):
                cells.append(value)
            else:
                text = _sub_text(col, value, style)
                cells.append(text if text else None)
        rows.append(cells)
    rows += [[BLANK] * len(columns) for _ in range(style.get("trailing", 0))]
    sheet = Sheet(style.get("sheet", "Báo cáo"), rows, merge_title_cols=len(columns), header_row=3,
                  widths=(8, 12, 40, 10, 28, 10, 10, 40, 13)[: len(columns)])
    return xlsx_bytes([sheet], doc.sent_at.replace(tzinfo=None)), [first + i for i in range(len(doc.rows))]


def _choose_format(rng, quarterly: bool) -> str:
    roll = rng.random()
    if quarterly:
        return "xlsx" if roll < 0.45 else "csv_bom" if roll < 0.8 else "json"
    return "xlsx" if roll < 0.68 else "csv_bom" if roll < 0.78 else "csv_cp1258" if roll < 0.88 else "json"


def _apply_format(doc: Doc, fmt: str, rng) -> None:
    style = {
        "headers": rng.choice(("vi", "vi", "vi", "upper", "star", "plain")),
        "thousands_text": rng.random() < 0.5,
        "date_text": rng.random() < 0.5,
        "period_vi": rng.random() < 0.5,
    }
    stem = doc.path.rsplit(".", 1)[0]
    if fmt == "xlsx":
        style.update(numbering=rng.random() < 0.3, trailing=rng.randint(0, 4),
                     sheet=rng.choice(("Báo cáo", f"BC {doc.key['period']}", "Sheet1")), encoding=None)
        doc.fmt, doc.path = "xlsx", f"{stem}.xlsx"
    elif fmt == "csv_bom":
        style.update(delimiter=";", encoding="utf-8-sig", title=rng.random() < 0.5)
        doc.fmt, doc.path = "csv", f"{stem}.csv"
    elif fmt == "csv_cp1258":
        style.update(delimiter=",", encoding="cp1258", title=False, headers="vi")
        doc.fmt, doc.path = "csv", f"{stem}.csv"
    else:
        style.update(headers="canonical", encoding="utf-8")
        doc.fmt, doc.path = "json", f"{stem}.json"
    doc.style = style


class _SubmissionBuilder:
    def __init__(self, world: World):
        self.world = world

    def _aggregate(self, units: tuple[tuple[Unit, Share], ...], year: int) -> dict[str, int]:
        total: dict[str, int] = {}
        for unit, share in units:
            for measure, value in self.world.unit_values(unit, year, share.measures(unit.role)).items():
                kind = self.world.ref.measures[measure].value_kind
                total[measure] = max(total.get(measure, 0), value) if kind != "count" else total.get(measure, 0) + value
        return total

    def _rows(self, agency: Agency, period: str, submitted: date, values: dict[str, int],
              tasks: list[tuple[str, int]], rng) -> list[Row]:
        ref = self.world.ref
        province = agency.province_code
        name = agency.name_on(submitted)
        rows = []
        for measure, value in [*values.items(), *(("task_status", s) for _, s in tasks)]:
            spec = ref.measures[measure]
            if value < (spec.min_value or 0) or (spec.max_value is not None and value > spec.max_value):
                raise AssertionError(f"{agency.code} {period} {measure}={value} outside the seed's range")
            rows.append(Row({
                "province_code": province, "agency_code": agency.code, "agency_name": name, "period": period,
                "measure_code": measure, "value": value, "task_code": None, "note": None, "submitted_at": submitted,
            }))
        for row, (task_code, _) in zip(rows[len(values):], tasks, strict=True):
            row.values["task_code"] = task_code
        for row in rows:
            notes = _NOTES.get(str(row.values["measure_code"]))
            if isinstance(notes, dict):  # the note has to agree with the flag or status
                notes = notes.get(int(row.values["value"]))
            if notes and rng.random() < 0.22:
                row.values["note"] = rng.choice(notes)
        return rows

    def annual(self, agency: Agency, year: int) -> Doc | None:
        world = self.world
        period_end = date(year, 12, 31)
        reporting = agency.reporting_on(period_end)
        if reporting == "none" or not agency.valid_on(period_end):
            return None
        units = world.report_units(agency, period_end)
        if not units:
            return None
        rng = world.rng("annual", agency.code, year)
        submitted = date(year, 12, rng.randint(1, 20)) if rng.random() < 0.1 else date(year, 11, rng.randint(1, 29))
        values = self._aggregate(units, year)
        tasks = []
        for task in world.lead_tasks(agency, period_end):
            if reporting == "quarterly" and task.reporting_frequency == "quarterly":
                continue
            tasks.append((task.code, max(world.task_status(u, task.code, year) for u, _ in units)))
        if agency.role.key == UPR_REPORTER:
            tasks += [(code, max(world.upr_status(u, code, year) for u, _ in units))
                      for code in world.ref.upr_recommendations]
        doc = Doc(
            source="submissions",
            path=f"submissions/bao-cao_{agency.code}_{year}.xlsx",
            fmt="xlsx",
            rows=self._rows(agency, str(year), submitted, values, tasks, rng),
            sent_at=_sent(submitted, rng),
            render=_render_submission,
            key={"province_code": agency.province_code, "agency_code": agency.code, "period": str(year)},
            meta={"agency_name": agency.name_on(submitted), "role": agency.role.key, "year": year},
        )
        _apply_format(doc, _choose_format(world.rng("format", agency.code, year), False), rng)
        return doc

    def quarterly(self, agency: Agency, year: int, quarter: int) -> Doc | None:
        world = self.world
        quarter_end = date(year, 3 * quarter, 31 if quarter in (1, 4) else 30)
        if agency.reporting_on(quarter_end) != "quarterly" or not agency.valid_on(quarter_end):
            return None
        # the units whose press briefings it reports: the Sở TT&TT's, then its press successor's
        units = [u for u, share in world.report_units(agency, quarter_end)
                 if "press_briefings_held" in share.measures(u.role, quarterly=True)]
        rng = world.rng("quarterly", agency.code, year, quarter)
        submitted = quarter_end - timedelta(days=rng.randint(2, 10))
        held = sum(world.briefings(u, year, quarter) for u in units)
        so_far = held + sum(world.briefings(u, year, q) for u in units for q in range(1, quarter))
        tasks = [(t.code, 1 if so_far else 0) for t in world.lead_tasks(agency, quarter_end)
                 if t.reporting_frequency == "quarterly"]
        period = f"{year}-Q{quarter}"
        doc = Doc(
            source="submissions",
            path=f"submissions/bao-cao_{agency.code}_{period}.xlsx",
            fmt="xlsx",
            rows=self._rows(agency, period, submitted, {"press_briefings_held": held}, tasks, rng),
            sent_at=_sent(submitted, rng),
            render=_render_submission,
            key={"province_code": agency.province_code, "agency_code": agency.code, "period": period},
            meta={"agency_name": agency.name_on(submitted), "role": agency.role.key, "year": year},
        )
        _apply_format(doc, _choose_format(world.rng("format", agency.code, period), True), rng)
        return doc

    def unregistered(self, year: int) -> Doc:
        """A report from a board the province forgot to register (agency_not_registered)."""
        world = self.world
        legacy = world.legacy_codes[0]
        code = world.ref.mapping[legacy] if date(year, 12, 31) >= world.merger else legacy
        province = world.province(code, date(year, 12, 31))
        rng = world.rng("unregistered", year)
        submitted = date(year, 11, rng.randint(5, 25))
        agency = Agency(code=f"{code}-{UNREGISTERED.suffix}", name=UNREGISTERED.agency_name(province),
                        province_code=code, role=UNREGISTERED, valid_from=date(year, 1, 1), valid_to=None,
                        lineage=[])
        values = {"spokesperson_mechanism": 1, "staff_hr_officials": rng.randint(1, 3)}
        doc = Doc(
            source="submissions",
            path=f"submissions/bao-cao_{agency.code}_{year}.xlsx",
            fmt="xlsx",
            rows=self._rows(agency, str(year), submitted, values, [], rng),
            sent_at=_sent(submitted, rng),
            render=_render_submission,
            key={"province_code": code, "agency_code": agency.code, "period": str(year)},
            meta={"agency_name": agency.name, "role": UNREGISTERED.key, "year": year},
            fault_eligible=False,
        )
        for row in doc.rows:
            row.fault = Issue("agency_not_registered", column="agency_code", value=agency.code)
        _apply_format(doc, "xlsx", rng)
        return doc


def _submission_docs(world: World, spec: SampleSpec,
                     courses: list[Course]) -> tuple[list[Doc], list[dict], _Coverage]:
    builder = _SubmissionBuilder(world)
    annual: list[Doc] = []
    quarterly: list[Doc] = []
    for agency in sorted(world.agencies, key=lambda a: a.code):
        for year in spec.years:
            if (doc := builder.annual(agency, year)) is not None:
                annual.append(doc)
            for quarter in range(1, 5):
                if (doc := builder.quarterly(agency, year, quarter)) is not None:
                    quarterly.append(doc)

    # Every format at least once among the annual reports, whatever the seed.
    rng = world.rng("formats")
    for fmt in ("xlsx", "csv_bom", "csv_cp1258", "json"):
        present = {("csv_cp1258" if d.encoding == "cp1258" else "csv_bom" if d.fmt == "csv" else d.fmt)
                   for d in annual}
        if fmt not in present and len(annual) > 4:
            _apply_format(rng.choice([d for d in annual if d.fmt == "xlsx"]), fmt, rng)

    # A few agencies skip a year (never the focal point, the Sở TT&TT, and never one whose
    # headcount the province's training coverage needs).
    coverage = _Coverage(world, annual + quarterly, courses)
    rng = world.rng("missing")
    skippable = [d for d in annual if d.meta["role"] != "ict"]
    wanted = max(2, round(0.04 * len(annual)))
    missing = []
    for doc in rng.sample(skippable, len(skippable)):
        if len(missing) == wanted:
            break
        if coverage.allows(doc.rows):
            coverage.remove(doc.rows)
            missing.append(doc)
    missing.sort(key=lambda d: d.path)
    skipped = {id(d) for d in missing}
    annual = [d for d in annual if id(d) not in skipped]
    missing_list = [{"agency_code": d.key["agency_code"], "period": d.key["period"]} for d in missing]
    return annual + quarterly, missing_list, coverage


def _resubmit(doc: Doc, world: World) -> Doc:
    """Plant a typo in ``doc`` and return the corrected report sent a few weeks later."""
    rng = world.rng("resubmission")
    target = next(r for r in doc.rows if r.values["measure_code"] == "products_total")
    right = int(target.values["value"])
    wrong = right * 10 + rng.randint(1, 9)
    target.values["value"] = wrong
    corrected = copy.deepcopy(doc)
    year = doc.meta["year"]
    day = min(max(doc.sent_at.date() + timedelta(days=14), date(year, 12, 1)), date(year, 12, 22))
    corrected.path = doc.path.rsplit(".", 1)[0] + "_dieu-chinh.xlsx"
    corrected.sent_at = _sent(day, rng)
    for row in corrected.rows:
        row.values["submitted_at"] = day
    fixed = next(r for r in corrected.rows if r.values["measure_code"] == "products_total")
    fixed.values["value"] = right
    fixed.values["note"] = f"Điều chỉnh số liệu: báo cáo ngày {_dmy(doc.rows[0].values['submitted_at'])} ghi nhầm {_vn_int(wrong)}"
    corrected.supersedes = doc.path
    corrected.corrections = [{"measure_code": "products_total", "sent": wrong, "corrected": right}]
    corrected.fault_eligible = doc.fault_eligible = False
    return corrected


def _future_year(year: int) -> int:
    """A digit-swap typo that lands in the future (2024 -> 2042), else fifty years on."""
    text = str(year)
    swapped = int(text[:2] + text[3] + text[2])
    return swapped if swapped > year + 5 else year + 50


def _gate_fault_years(spec: SampleSpec) -> tuple[int, ...]:
    """Where gate faults go: the rows they hold back would leave a gap in the baseline (first) or
    the latest year's indicators, so a year in between where there is one."""
    return spec.years[1:-1] or spec.years[:-1] or spec.years


_PRODUCT_PARTS = ("products_ethnic_language", "products_foreign_language", "products_digital_platform")


def _measure_rows(doc: Doc) -> dict[str, Row]:
    return {str(r.values["measure_code"]): r for r in doc.rows if r.values["task_code"] is None}


def _gate_fault_rows(rule: str, doc: Doc) -> list[Row] | None:
    """The rows of ``doc`` the gate's ``rule`` would flag once the fault is planted (None: the
    report has nothing to plant it in)."""
    rows = _measure_rows(doc)
    pairs = {"handled_exceeds_detected": ("fake_news_detected", "fake_news_handled"),
             "misinformation_exceeds_monitored": ("hr_items_monitored", "misinformation_items"),
             "digitised_exceeds_total": ("data_sources_total", "data_sources_digitised_shared")}
    if rule in pairs:
        whole, part = (rows.get(m) for m in pairs[rule])
        if whole is None or part is None or any(r.special for r in (whole, part)):
            return None
        if rule == "misinformation_exceeds_monitored" and int(part.values["value"]) < 1:
            return None
        return [whole, part]
    total = rows.get("products_total")
    parts = [rows[m] for m in _PRODUCT_PARTS if m in rows and int(rows[m].values["value"]) > 0]
    if total is None or not parts or any(r.special for r in (total, *parts)):
        return None
    return [total, *parts]


def _plant_gate_fault(rule: str, flagged: list[Row], rng) -> None:
    """Write a fault each row passes on its own but the rows together break: what only the
    gate's rules across a submission's rows can see."""
    whole, *parts = flagged
    if rule == "handled_exceeds_detected":  # items carried over from last year counted as handled
        parts[0].values["value"] = int(whole.values["value"]) + rng.randint(2, 9)
    elif rule == "misinformation_exceeds_monitored":  # a digit dropped from the items monitored
        whole.values["value"] = min(int(whole.values["value"]) // 10, int(parts[0].values["value"]) - 1)
    elif rule == "digitised_exceeds_total":  # the products counted with the data sources shared
        parts[0].values["value"] = int(whole.values["value"]) + rng.randint(2, 8)
    else:  # products_exceed_total: a sub-count typed into the total's cell
        whole.values["value"] = min(int(p.values["value"]) for p in parts) - 1
    for row in flagged:
        row.gate = Issue(rule, column="value", value=str(row.values["value"]))


def _plant_submission_specials(docs: list[Doc], world: World, spec: SampleSpec, coverage: _Coverage) -> list[Doc]:
    """Re-submission, duplicate file, formula text, whole-file faults and faults only the gate
    catches; returns extra docs."""
    rng = world.rng("specials")
    annual = [d for d in docs if "-Q" not in d.key["period"]]
    used: set[str] = set()

    def pick(candidates: list[Doc], accept: Callable[[Doc], bool] | None = None) -> Doc | None:
        free = [d for d in candidates if d.path not in used]
        if accept is None:
            chosen = rng.choice(free) if free else None
        else:
            chosen = next((d for d in rng.sample(free, len(free)) if accept(d)), None)
        if chosen is not None:
            used.add(chosen.path)
        return chosen

    def droppable(doc: Doc) -> bool:
        return coverage.allows(doc.rows)

    extra: list[Doc] = []
    xlsx = [d for d in annual if d.fmt == "xlsx"]
    original = pick([d for d in xlsx if any(r.values["measure_code"] == "products_total" for r in d.rows)])
    if original is not None:
        extra.append(_resubmit(original, world))
    duplicated = pick(xlsx)
    if duplicated is not None:
        duplicated.fault_eligible = False
        duplicated.meta["duplicate_path"] = duplicated.path.rsplit(".", 1)[0] + "_gui-lai.xlsx"
    for candidates in (xlsx, [d for d in annual if d.fmt == "csv" and d.encoding == "utf-8-sig"]):
        doc = pick(candidates)
        if doc is None:
            continue
        row = next((r for r in doc.rows if r.values["note"] is None), doc.rows[0])
        row.values["note"] = FORMULA_TEXT
        row.special = Issue("formula_text", column="note", value=FORMULA_TEXT)

    if spec.fault_rate <= 0:
        return extra
    extra.append(_SubmissionBuilder(world).unregistered(spec.years[0]))
    others = [d for d in annual if d.meta["role"] not in ("ict", "police")]
    for reason in ("empty_file", "missing_columns", "unsupported_format"):
        doc = pick(others, droppable)
        if doc is None:
            continue
        coverage.remove(doc.rows)
        doc.expected, doc.reason, doc.fault_eligible = "rejected", reason, False
        stem = doc.path.rsplit(".", 1)[0]
        if reason == "empty_file":
            doc.path, doc.fmt, doc.style = f"{stem}.csv", "csv", {"encoding": "utf-8-sig"}
            doc.rows = []
            doc.render = lambda d: (b"", [])
        elif reason == "missing_columns":
            _apply_format(doc, "csv_bom", rng)
            doc.style["drop"] = ("measure_code",)
        else:
            noise = world.rng("docx")
            payload = bytes(noise.randrange(256) for _ in range(noise.randint(2048, 6144)))
            doc.path, doc.fmt, doc.style = f"{stem}.docx", "docx", {}
            doc.rows = []
            doc.render = lambda d, payload=payload: (payload, [])

    earlier = [d for d in annual if d.meta["year"] in _gate_fault_years(spec)]
    for rule, suite in GATE_RULES.items():
        if suite != "agency_submissions":
            continue

        def fits(doc: Doc, rule: str = rule, every_year: bool = True) -> bool:
            flagged = _gate_fault_rows(rule, doc)
            return flagged is not None and coverage.allows(flagged, every_year=every_year)

        # Rather a gap in a year between than no example of the rule (in a small sample, where
        # the Sở TT&TT is the only agency reporting some measures).
        doc = (pick(earlier, fits) or pick(annual, fits)
               or pick(earlier, functools.partial(fits, every_year=False)))
        if doc is None:
            continue
        flagged = _gate_fault_rows(rule, doc) or []
        coverage.remove(flagged)
        _plant_gate_fault(rule, flagged, world.rng("gate", rule))
    return extra


# ---------------------------------------------------------------------------- portal


def _portal_text(col: str, value: object, vi: bool) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if vi else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return _dmy(value) if vi else value.isoformat()
    return str(value)


def _render_portal(doc: Doc) -> tuple[bytes, list[int]]:
    if doc.fmt == "jsonl":
        records = [
            {c: (v.isoformat() if isinstance(v, date) else v) for c, v in row.values.items()} for row in doc.rows
        ]
        return jsonl_bytes(records), [i + 1 for i in range(len(doc.rows))]
    vi = doc.style.get("vi_headers", False)
    lines = [list(CSV_VI_HEADERS if vi else CSV_COLUMNS)]
    lines += [[_portal_text(c, row.values[c], vi) for c in CSV_COLUMNS] for row in doc.rows]
    return csv_bytes(lines, delimiter=",", encoding="utf-8"), [2 + i for i in range(len(doc.rows))]


def _portal_docs(world: World, spec: SampleSpec) -> list[Doc]:
    docs = []
    for day in portal_days(world, spec.portal_first_day, spec.portal_days):
        offset = (day.day - spec.portal_first_day).days
        rng = world.rng("portal-file", day.portal, day.day.isoformat())
        fmt = "csv" if (offset + len(day.portal)) % 2 == 0 else "jsonl"
        docs.append(Doc(
            source="portal",
            path=f"portal/{day.portal}_{day.day.isoformat()}.{fmt}",
            fmt=fmt,
            rows=[Row(r) for r in day.rows],
            sent_at=datetime.combine(day.day + timedelta(days=1), time(1, rng.randrange(60)), VIETNAM_TZ),
            render=_render_portal,
            style={"encoding": "utf-8", "vi_headers": world.rng("portal-headers", day.portal).random() < 0.35},
            key={"province_code": day.province_code, "portal": day.portal, "stat_date": day.day.isoformat()},
        ))
    if spec.fault_rate > 0 and len(docs) > 1:
        doc = world.rng("portal-empty").choice(docs[1:])
        doc.expected, doc.reason, doc.fault_eligible = "rejected", "empty_file", False
        doc.rows = []
        doc.render = lambda d: (b"", [])
    return docs


# ---------------------------------------------------------------------------- rosters

ROSTER_COLUMNS = (
    "full_name", "national_id", "staff_id", "birth_year", "gender", "agency_code", "position", "category",
    "attended", "completed",
)
ROSTER_VI = {
    "full_name": "Họ và tên", "national_id": "Số CCCD", "staff_id": "Mã cán bộ", "birth_year": "Năm sinh",
    "gender": "Giới tính", "agency_code": "Mã đơn vị", "position": "Chức vụ", "category": "Đối tượng",
    "attended": "Có mặt", "completed": "Hoàn thành",
}
COURSE_VI = (
    ("course_id", "Mã khóa học"), ("title", "Tên khóa học"), ("organiser_agency_code", "Đơn vị tổ chức"),
    ("province_code", "Mã tỉnh"), ("start_date", "Từ ngày"), ("end_date", "Đến ngày"), ("mode", "Hình thức"),
)
MODE_VI = {"in-person": "Trực tiếp", "online": "Trực tuyến"}


def _render_roster(doc: Doc) -> tuple[bytes, list[int]]:
    course: Course = doc.meta["course"]
    if doc.fmt == "json":
        document = {
            "course": {
                "course_id": course.course_id, "title": course.title, "organiser_agency_code": course.organiser,
                "province_code": course.province_code, "start_date": course.start.isoformat(),
                "end_date": course.end.isoformat(), "mode": course.mode,
            },
            "trainees": [
                {**row.values, "attended": row.values["attended"] == "yes", "completed": row.values["completed"] == "yes"}
                for row in doc.rows
            ],
        }
        return json_bytes(document), [i + 1 for i in range(len(doc.rows))]
    style = doc.style
    yes, no = style["yes_no"]
    values = {
        "course_id": course.course_id, "title": course.title, "organiser_agency_code": course.organiser,
        "province_code": course.province_code,
        "start_date": _dmy(course.start) if style["date_text"] else course.start,
        "end_date": _dmy(course.end) if style["date_text"] else course.end,
        "mode": MODE_VI[course.mode],
    }
    rows: list[list[object]] = [["DANH SÁCH HỌC VIÊN THAM GIA LỚP TẬP HUẤN"], []]
    rows += [[f"{label}:", values[key]] for key, label in COURSE_VI]
    rows += [[], [ROSTER_VI[c] for c in ROSTER_COLUMNS]]
    first = len(rows) + 1
    for row in doc.rows:
        cells: list[object] = []
        for col in ROSTER_COLUMNS:
            value = row.values[col]
            if col in ("attended", "completed"):
                value = yes if value == "yes" else no
            cells.append(value if value not in ("", None) else None)
        rows.append(cells)
    rows += [[BLANK] * len(ROSTER_COLUMNS) for _ in range(style["trailing"])]
    sheet = Sheet("Danh sách", rows, merge_title_cols=len(ROSTER_COLUMNS), header_row=first - 2,
                  widths=(26, 15, 11, 9, 9, 12, 20, 34, 9, 11))
    return xlsx_bytes([sheet], doc.sent_at.replace(tzinfo=None)), [first + i for i in range(len(doc.rows))]


def _roster_docs(world: World, spec: SampleSpec, courses: list[Course]) -> list[Doc]:
    docs = []
    online = [c for c in courses if c.mode == "online"]
    as_json = (online or courses[-1:] or [None])[0]
    for course in courses:
        rng = world.rng("roster", course.course_id)
        category_style = rng.choice(("label", "alias", "code"))
        rows = []
        for enrolment in course.enrolments:
            person = enrolment.person
            category = world.ref.categories.get(person.category)
            if category is None:
                raise ReferenceDataError(f"trainee category {person.category!r} is not in ref_trainee_categories.csv")
            label = {"label": category.label_vi, "code": category.code,
                     "alias": category.aliases[0] if category.aliases else category.label_vi}[category_style]
            rows.append(Row({
                "full_name": person.full_name, "national_id": person.national_id, "staff_id": person.staff_id,
                "birth_year": person.birth_year, "gender": person.gender, "agency_code": enrolment.agency_code,
                "position": person.position, "category": label,
                "attended": "yes" if enrolment.attended else "no",
                "completed": "yes" if enrolment.completed else "no",
            }))
        fmt = "json" if course is as_json else "xlsx"
        docs.append(Doc(
            source="rosters",
            path=f"rosters/danh-sach-hoc-vien_{course.course_id}.{fmt}",
            fmt=fmt,
            rows=rows,
            sent_at=_sent(course.end + timedelta(days=rng.randint(1, 6)), rng),
            render=_render_roster,
            style={
                "encoding": "utf-8" if fmt == "json" else None,
                "yes_no": rng.choice((("Có", "Không"), ("x", ""), ("x", ""))),
                "date_text": rng.random() < 0.5,
                "trailing": rng.randint(0, 3),
            },
            key={"province_code": course.province_code, "course_id": course.course_id},
            meta={"course": course},
        ))
    if spec.fault_rate > 0 and courses:
        noise = world.rng("xls")
        payload = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(noise.randrange(256) for _ in range(8184))
        first = courses[0]
        docs.append(Doc(
            source="rosters",
            path=f"rosters/danh-sach-hoc-vien_{first.province_code}-{first.start.year}-bao-cao-vien.xls",
            fmt="xls",
            rows=[],
            sent_at=_sent(first.end + timedelta(days=9), noise),
            render=lambda d, payload=payload: (payload, []),
            expected="rejected",
            reason="unsupported_format",
            fault_eligible=False,
        ))
        _plant_roster_gate_fault(docs, world, spec)
    return docs


def _plant_roster_gate_fault(docs: list[Doc], world: World, spec: SampleSpec) -> None:
    """A trainee marked as completing a course they are not ticked as attending: a valid row for
    ingestion, held back by the gate (``completed_without_attending``)."""
    rng = world.rng("gate", "completed_without_attending")
    years = _gate_fault_years(spec)
    earlier = [d for d in docs if d.expected == "loaded" and d.meta["course"].start.year in years]
    candidates = [(d, r) for d in earlier or docs if d.expected == "loaded" for r in d.rows
                  if r.values["attended"] == "yes" and r.values["completed"] == "yes"]
    if not candidates:
        return
    doc, row = rng.choice(candidates)
    row.values["attended"] = "no"
    if doc.fmt == "json":
        written = "false"
    else:
        written = doc.style["yes_no"][1] or None  # "x" sheets leave "no" blank
    row.gate = Issue("completed_without_attending", column="attended", value=written)


# ---------------------------------------------------------------------------- row faults


def _plant_row_faults(docs: list[Doc], source: str, world: World, spec: SampleSpec,
                      coverage: _Coverage | None = None) -> None:
    reasons = ROW_REASONS[source]
    eligible = [(d, i) for d in docs if d.fault_eligible for i, r in enumerate(d.rows)
                if r.special is None and r.gate is None]
    if spec.fault_rate <= 0 or not eligible:
        return
    total = sum(len(d.rows) for d in docs)
    count = min(len(eligible), max(len(reasons), round(spec.fault_rate * total)))
    rng = world.rng("faults", source)
    order = rng.sample(eligible, len(eligible))
    measures = world.ref.measures

    def fits(reason: str, doc: Doc, index: int) -> bool:
        if source != "submissions" or reason == "duplicate_row":
            return True
        row = doc.rows[index]
        code = str(row.values["measure_code"])
        if code in PAIRED_MEASURES or row.values["task_code"] in world.ref.upr_recommendations:
            return False
        # A negative flag or status is reported as invalid_flag/invalid_status, not negative_value.
        if reason == "negative_value" and measures[code].value_kind != "count":
            return False
        return coverage is None or coverage.allows([row])

    cursors = dict.fromkeys(reasons, 0)
    taken: set[tuple[int, int]] = set()
    picks: list[tuple[Doc, int, str]] = []
    for k in range(count):
        reason = reasons[k % len(reasons)]
        position = cursors[reason]
        while position < len(order):
            doc, index = order[position]
            position += 1
            if (id(doc), index) not in taken and fits(reason, doc, index):
                taken.add((id(doc), index))
                picks.append((doc, index, reason))
                if coverage is not None and source == "submissions" and reason != "duplicate_row":
                    coverage.remove([doc.rows[index]])
                break
        cursors[reason] = position
    duplicates: dict[int, tuple[Doc, list[int]]] = {}
    unknown_province = next(f"{n:02d}" for n in range(99, 0, -1)
                            if f"{n:02d}" not in world.ref.legacy and f"{n:02d}" not in world.ref.current)
    for doc, index, reason in picks:
        row = doc.rows[index]
        v = row.values
        if reason == "duplicate_row":
            duplicates.setdefault(id(doc), (doc, []))[1].append(index)
            continue
        if source == "submissions":
            if reason == "negative_value":
                v["value"] = -max(1, int(v["value"]))
                row.fault = Issue(reason, column="value", value=str(v["value"]))
            elif reason == "unknown_measure":
                v["measure_code"] = next(m for m in rng.sample(_UNKNOWN_MEASURES, len(_UNKNOWN_MEASURES))
                                         if m not in world.ref.measures)
                row.fault = Issue(reason, column="measure_code", value=v["measure_code"])
            elif reason == "unknown_province":
                v["province_code"] = unknown_province
                row.fault = Issue(reason, column="province_code", value=unknown_province)
            elif reason == "invalid_date":
                v["submitted_at"] = f"31/02/{doc.meta['year']}"
                row.fault = Issue(reason, column="submitted_at", value=v["submitted_at"])
            elif reason == "future_date":
                day = v["submitted_at"]
                v["submitted_at"] = f"{day.day:02d}/{day.month:02d}/{_future_year(day.year)}"
                row.fault = Issue(reason, column="submitted_at", value=v["submitted_at"])
        elif source == "portal":
            if reason == "visitors_exceed_views":
                v["unique_visitors"] = int(v["page_views"]) + rng.randint(1, 40)
                row.fault = Issue(reason, column="unique_visitors", value=str(v["unique_visitors"]))
            elif reason == "negative_value":
                v["unique_visitors"] = -int(v["unique_visitors"])
                row.fault = Issue(reason, column="unique_visitors", value=str(v["unique_visitors"]))
        elif source == "rosters" and reason == "missing_identifier":
            v["national_id"] = None
            v["staff_id"] = None
            row.fault = Issue(reason, column="national_id")
    for doc, indexes in duplicates.values():
        for index in sorted(indexes, reverse=True):
            copy_row = Row(dict(doc.rows[index].values), fault=Issue("duplicate_row"))
            doc.rows.insert(index + 1, copy_row)


# ---------------------------------------------------------------------------- writing


def _landing_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clear_previous_sample(landing_dir: Path) -> list[Path]:
    """Remove the files a previous ``generate_sample`` wrote there, if nothing else is there.

    Only files listed in the old manifest whose bytes are unchanged are removed, then the manifest
    and the source folders left empty. If any other file is in the folder (a real delivery, a file
    edited since), nothing is removed and :class:`SampleError` names them.
    """
    manifest_path = landing_dir / MANIFEST_NAME
    present = _landing_files(landing_dir)
    if not present:
        return []
    if not manifest_path.is_file():
        raise SampleError(
            f"{landing_dir} holds {len(present)} file(s) but no {MANIFEST_NAME}: they were not generated "
            "by `planwh sample`, so --clean leaves them alone; choose another folder with --out"
        )
    try:
        manifest = SampleManifest.load(manifest_path)
    except (ValueError, KeyError, TypeError) as exc:
        raise SampleError(f"{manifest_path} is not a sample manifest ({exc}); remove the folder by hand") from None
    root = landing_dir.resolve()
    ours: dict[Path, str] = {}
    for f in manifest.files:
        path = (landing_dir / f.path).resolve()
        if not path.is_relative_to(root):
            raise SampleError(f"{manifest_path} lists {f.path!r}, outside {landing_dir}; not touching anything")
        ours[path] = f.sha256
    foreign = [p for p in present if p.resolve() != manifest_path.resolve()
               and (p.resolve() not in ours or p.is_symlink() or _sha256(p) != ours[p.resolve()])]
    if foreign:
        listed = ", ".join(str(p.relative_to(landing_dir)) for p in foreign[:5])
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise SampleError(
            f"{landing_dir} holds {len(foreign)} file(s) that the previous sample did not write or that "
            f"changed since: {listed}{more}; nothing was removed. Move them away or choose another --out"
        )
    removed = []
    for path in present:
        path.unlink()
        removed.append(path)
    for folder in sorted((p for p in landing_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def generate_sample(
    landing_dir: Path, spec: SampleSpec | None = None, *, clean: bool = False, seeds_dir: Path | None = None
) -> SampleManifest:
    """Write the sample into ``landing_dir`` and return (and save) its manifest.

    The folder must be empty or missing; with ``clean=True`` a previous sample there is removed
    first (see :func:`clear_previous_sample`). Files are written to a staging folder next to it and
    moved in when complete, the manifest last, so a watcher never sees a half-written file.
    """
    spec = spec or SampleSpec()
    landing_dir = Path(landing_dir)
    ref = load_reference(seeds_dir)
    spec.validate(ref)
    if landing_dir.exists() and not landing_dir.is_dir():
        raise SampleError(f"{landing_dir} is a file, not a folder")
    if landing_dir.is_dir() and _landing_files(landing_dir):
        if not clean:
            raise SampleError(
                f"{landing_dir} is not empty; pass --clean to replace a previous sample there, "
                "or --out to write somewhere else"
            )
        clear_previous_sample(landing_dir)

    world = World(ref, provinces=spec.provinces, years=spec.years, seed=spec.seed)
    courses = world.courses()
    registers = _register_docs(world)
    submissions, missing, coverage = _submission_docs(world, spec, courses)
    submissions += _plant_submission_specials(submissions, world, spec, coverage)
    portal = _portal_docs(world, spec)
    rosters = _roster_docs(world, spec, courses)
    _plant_row_faults(submissions, "submissions", world, spec, coverage)
    _plant_row_faults(portal, "portal", world, spec)
    _plant_row_faults(rosters, "rosters", world, spec)
    docs = sorted(registers + submissions + portal + rosters, key=lambda d: d.path)

    landing_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{landing_dir.name}.sample-", dir=landing_dir.parent))
    files: list[SampleFile] = []
    try:
        for doc in docs:
            data, positions = doc.render(doc)
            target = staging / doc.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            stamp = doc.sent_at.timestamp()
            os.utime(target, (stamp, stamp))
            faults, specials, gate_faults = [], [], []
            for record, (row, position) in enumerate(zip(doc.rows, positions, strict=True), start=1):
                for issue, found in ((row.fault, faults), (row.special, specials), (row.gate, gate_faults)):
                    if issue:
                        found.append(Issue(issue.reason, position, record, issue.column, issue.value))
            entry = SampleFile(
                path=doc.path, source=doc.source, format=doc.fmt, encoding=doc.encoding if data else None,
                rows=len(doc.rows), sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
                sent_at=doc.sent_at.isoformat(), expected=doc.expected, reason=doc.reason,
                faults=faults, specials=specials, gate_faults=gate_faults, duplicate_of=doc.duplicate_of, supersedes=doc.supersedes,
                corrections=doc.corrections, **{k: v for k, v in doc.key.items() if v is not None},
            )
            files.append(entry)
            if dup_path := doc.meta.get("duplicate_path"):
                target = staging / dup_path
                target.write_bytes(data)
                sent = doc.sent_at + timedelta(days=2, hours=1)
                os.utime(target, (sent.timestamp(), sent.timestamp()))
                files.append(SampleFile(
                    path=dup_path, source=doc.source, format=doc.fmt, encoding=entry.encoding, rows=entry.rows,
                    sha256=entry.sha256, size_bytes=entry.size_bytes, sent_at=sent.isoformat(),
                    expected="duplicate", duplicate_of=doc.path,
                    **{k: v for k, v in doc.key.items() if v is not None},
                ))
        files.sort(key=lambda f: f.path)
        manifest = SampleManifest(
            spec=spec,
            files=files,
            provinces=[
                {"code": c, "name": ref.legacy[c].name, "current_code": ref.mapping[c],
                 "current_name": ref.current[ref.mapping[c]].name, "profile": world.profile[c]}
                for c in world.legacy_codes
            ],
            portal_window=[spec.portal_first_day.isoformat(),
                           (spec.portal_first_day + timedelta(days=spec.portal_days - 1)).isoformat()]
            if spec.portal_days else None,
            missing_submissions=missing,
            paces={c: {ind: world.pace(c, ind) for ind in ("spokes", "mfd_share", "digitised", "misinfo",
                                                          "fake_news", "trained", "trained_key", "tasks",
                                                          "exhibitions")}
                   for c in world.legacy_codes},
        )
        landing_dir.mkdir(parents=True, exist_ok=True)
        for entry in files:
            destination = landing_dir / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / entry.path, destination)
        manifest.save(landing_dir / MANIFEST_NAME)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
