"""The simulated world behind the sample files: provinces, agencies, their yearly results and staff.

Everything is drawn from seeded random streams named after what they decide (``rng("unit", code,
year)``), so changing one part of the generator does not reshuffle the others, and the same seed
always gives the same world.

Provinces
    ``SampleSpec.provinces`` legacy provinces (the 63 before 1 July 2025): Quảng Nam 49, An Giang
    89 and Gia Lai 64 first; from six on also the province Quảng Nam merged into (Đà Nẵng 48),
    so one merger has both sides in the sample; the rest are drawn with the seed.
Agencies
    Each legacy province has departments (Sở TT&TT, Ngoại vụ, VH-TT-DL, GD-ĐT, KH&CN, Tư pháp),
    the police, two press agencies, six socio-political organisations, two associations that do
    not report, and four to eight district committees (valid until the day before the merger).
    The 2025 changes are in the registers, with the successor of every agency that ends ("Đơn vị
    kế thừa"): from 1 March 2025 (the day ref_duty_transfers.csv gives) the Sở TT&TT is merged
    into the Sở KH&CN, its successor, and its press and publishing duties go to the Sở VH-TT-DL,
    which reports quarterly from then on (the quarterly press briefings); from the merger day of
    the provinces each current province's register holds the continuing or newly formed
    agencies, named after the current province, and a few commune committees; the agencies of a
    province that was absorbed end the day before and name the current province's agency of the
    same role; district committees end then too and name a commune committee.
Units and lineage
    A *unit* is the work of one legacy agency (or commune) on its territory; it goes on after the
    mergers. A register agency reports the units (or parts of units: ``Share``) of its lineage:
    before the mergers its own unit; after the department merger the Sở KH&CN also reports the
    Sở TT&TT's unit but for its press and publishing measures (``PRESS_MEASURES``), which the Sở
    VH-TT-DL reports; after the provinces merged, the units of every sampled legacy province its
    current province absorbed; a commune committee also reports the district committees whose
    officials moved to it. Counts add up, flags and statuses take the highest value. So every
    person trained since 2023 stays in some agency's headcount, and coverage cannot pass 100 %
    through the mergers.
Tasks
    An agency reports the status of the tasks it leads on the period's last day: the lead units
    the annex names (ref_plan_units.csv) resolved to the agencies they name and handed down to
    successors, as the warehouse resolves them.
Progress
    Each legacy province gets a profile (strong, average, weak) and, per indicator, a pace
    (ahead, on track, behind) drawn with profile weights. An indicator moves from a 2023 baseline
    drawn per province towards its 2028 target at pace x the straight line, so the progress
    statuses the warehouse computes differ between provinces and indicators. The UPR
    recommendations follow a fixed schedule (``UPR_SCHEDULE``) with a lag by the province's pace.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from functools import cached_property

from planwh.sample.people import MINORITY_NAME_STYLE, Person, PersonFactory
from planwh.sample.reference import (
    ProvinceRef,
    Reference,
    ReferenceDataError,
    TaskRef,
    current_wards,
    legacy_districts,
)

# Viet Nam keeps UTC+7 all year.
VIETNAM_TZ = timezone(timedelta(hours=7))
BASELINE_YEAR = 2023
TARGET_YEAR = 2028
PLAN_START = date(BASELINE_YEAR, 1, 1)

ANCHOR_PROVINCES = ("49", "89", "64")  # the three provinces whose plans are in the seed documents
MERGER_PAIR_FROM = "49"  # with six provinces or more, the province it merged into is sampled too

# Ethnic-minority languages a province's media publish in (ISO 639-3), keyed by legacy province
# (ASCII name, as in the seeds). Codes missing from ref_languages.csv are dropped.
MINORITY_LANGUAGES = {
    "An Giang": ("km", "cja"), "Kien Giang": ("km",), "Soc Trang": ("km",), "Tra Vinh": ("km",),
    "Bac Lieu": ("km",), "Ca Mau": ("km",), "Gia Lai": ("jra", "bdq"), "Kon Tum": ("sed", "bdq"),
    "Dak Lak": ("rad", "jra"), "Dak Nong": ("cmo",), "Lam Dong": ("kpm",), "Quang Nam": ("ktv",),
    "Hue": ("ktv",), "Quang Ngai": ("hre",), "Ninh Thuan": ("cjm",), "Binh Thuan": ("cjm",),
    "Binh Dinh": ("bdq",), "Ha Giang": ("hmn",), "Lao Cai": ("hmn", "ium"), "Yen Bai": ("hmn",),
    "Son La": ("blt", "hmn"), "Dien Bien": ("blt", "hmn"), "Lai Chau": ("hmn", "blt"),
    "Cao Bang": ("tyz", "nut"), "Lang Son": ("tyz", "nut"), "Bac Kan": ("tyz",), "Tuyen Quang": ("tyz",),
    "Hoa Binh": ("mtq",), "Thanh Hoa": ("mtq", "blt"), "Nghe An": ("blt", "hmn"),
}


def fold(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


@dataclass(frozen=True)
class Role:
    key: str
    suffix: str  # agency code suffix: 49-STTTT
    kind: str  # ref_agency_kinds
    reporting: str  # annual | quarterly | none
    name: str  # template: {of} "tỉnh Quảng Nam", {name} "Quảng Nam", {youth} "Tỉnh đoàn"/"Thành đoàn"
    lead_name: str | None = None  # how the plan's lead units name this department
    headcounts: tuple[tuple[str, int, int], ...] = ()  # (trainee category, min, max)
    measures: tuple[str, ...] = ()  # annual measures besides task_status
    quarterly_measures: tuple[str, ...] = ()

    def agency_name(self, province: ProvinceRef) -> str:
        youth = "Thành đoàn" if province.kind == "municipality" else "Tỉnh đoàn"
        return self.name.format(of=province.of_name, name=province.name, youth=youth)


_STATE = ("spokesperson_mechanism",)
_PRODUCTS = ("products_total", "products_ethnic_language", "products_foreign_language", "products_digital_platform")

ROLES: tuple[Role, ...] = (
    Role(
        "ict", "STTTT", "department", "quarterly", "Sở Thông tin và Truyền thông {of}",
        lead_name="Sở Thông tin và Truyền thông",
        headcounts=(("hr_official", 1, 3), ("info_official", 8, 14)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials", *_PRODUCTS, "exhibitions_held",
                  "books_published", "data_sources_total", "data_sources_digitised_shared", "hr_items_monitored",
                  "misinformation_items", "fake_news_detected", "fake_news_handled"),
        quarterly_measures=("press_briefings_held",),
    ),
    Role(
        "foreign", "SNGV", "department", "annual", "Sở Ngoại vụ {of}", lead_name="Sở Ngoại vụ",
        headcounts=(("hr_official", 1, 3), ("info_official", 1, 2)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
    ),
    Role(
        "culture", "SVHTTDL", "department", "annual", "Sở Văn hóa, Thể thao và Du lịch {of}",
        lead_name="Sở Văn hóa, Thể thao và Du lịch",
        headcounts=(("hr_official", 1, 2), ("info_official", 1, 3)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials", "exhibitions_held"),
    ),
    Role(
        "education", "SGDDT", "department", "annual", "Sở Giáo dục và Đào tạo {of}",
        lead_name="Sở Giáo dục và Đào tạo",
        headcounts=(("hr_official", 1, 3), ("info_official", 1, 2)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
    ),
    # The Sở TT&TT was merged into it on 1 March 2025 (ref_duty_transfers): its register row names
    # it as the successor, and from then on it reports the Sở TT&TT's work but for press and
    # publishing, which the Sở VH-TT-DL reports.
    Role(
        "science", "SKHCN", "department", "annual", "Sở Khoa học và Công nghệ {of}",
        lead_name="Sở Khoa học và Công nghệ",
        headcounts=(("hr_official", 1, 2), ("info_official", 1, 2)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
    ),
    Role(
        "justice", "STP", "department", "annual", "Sở Tư pháp {of}", lead_name="Sở Tư pháp",
        headcounts=(("hr_official", 2, 4), ("info_official", 1, 2)),
        measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
    ),
    Role(
        "police", "CA", "police", "quarterly", "Công an {of}", lead_name="Công an tỉnh",
        headcounts=(("hr_official", 3, 8),),
        measures=(*_STATE, "staff_hr_officials", "fake_news_detected", "fake_news_handled"),
        quarterly_measures=("press_briefings_held",),
    ),
    Role(
        "newspaper", "BAO", "press_agency", "annual", "Báo {name}",
        headcounts=(("press_foreign_info", 5, 14),),
        measures=("staff_press_foreign_info", *_PRODUCTS, "books_published"),
    ),
    Role(
        "broadcaster", "PTTH", "press_agency", "annual", "Đài Phát thanh và Truyền hình {name}",
        headcounts=(("press_foreign_info", 4, 12),),
        measures=("staff_press_foreign_info", *_PRODUCTS),
    ),
    Role("front", "MTTQ", "sociopolitical_org", "annual", "Ủy ban Mặt trận Tổ quốc Việt Nam {of}",
         headcounts=(("key_sociopolitical", 4, 8),), measures=("staff_key_sociopolitical",)),
    Role("women", "HLHPN", "sociopolitical_org", "annual", "Hội Liên hiệp Phụ nữ {of}",
         headcounts=(("key_sociopolitical", 3, 6),), measures=("staff_key_sociopolitical",)),
    Role("youth", "DTN", "sociopolitical_org", "annual", "{youth} {name}",
         headcounts=(("key_sociopolitical", 3, 6),), measures=("staff_key_sociopolitical",)),
    Role("farmers", "HND", "sociopolitical_org", "annual", "Hội Nông dân {of}",
         headcounts=(("key_sociopolitical", 3, 5),), measures=("staff_key_sociopolitical",)),
    Role("veterans", "HCCB", "sociopolitical_org", "annual", "Hội Cựu chiến binh {of}",
         headcounts=(("key_sociopolitical", 3, 5),), measures=("staff_key_sociopolitical",)),
    Role("labour", "LDLD", "sociopolitical_org", "annual", "Liên đoàn Lao động {of}",
         headcounts=(("key_sociopolitical", 3, 6),), measures=("staff_key_sociopolitical",)),
    Role("journalists", "HNB", "other", "none", "Hội Nhà báo {of}", headcounts=(("other", 2, 4),)),
    Role("arts", "HVHNT", "other", "none", "Hội Văn học Nghệ thuật {of}", headcounts=(("other", 1, 3),)),
)
DISTRICT = Role(
    "district", "H", "district_committee", "annual", "",
    headcounts=(("hr_official", 1, 2), ("info_official", 1, 3)),
    measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
)
COMMUNE = Role(
    "commune", "X", "commune_committee", "annual", "",
    headcounts=(("info_official", 1, 2),),
    # hr officials too: the staff of the abolished district committees moved to the communes
    measures=(*_STATE, "staff_hr_officials", "staff_info_officials"),
)
ROLE_BY_KEY = {r.key: r for r in (*ROLES, DISTRICT, COMMUNE)}
# The department merger of 1 March 2025: the Sở TT&TT ("ict") ends, the Sở KH&CN ("science")
# succeeds it and the Sở VH-TT-DL ("culture") takes its press and publishing duties, and with
# them the quarterly press briefings, so it reports quarterly from that day.
ICT_ROLE, ICT_SUCCESSOR_ROLE, PRESS_ROLE = "ict", "science", "culture"
PRESS_FIELD = "press_publishing"
# The Sở TT&TT's measures that go with its press and publishing duties; the others go with the
# department to the Sở KH&CN.
PRESS_MEASURES = frozenset({
    "products_total", "products_ethnic_language", "products_foreign_language", "products_digital_platform",
    "exhibitions_held", "books_published", "hr_items_monitored", "misinformation_items", "press_briefings_held",
})
# An agency that sends reports though it is in no register: the agency_not_registered fault.
UNREGISTERED = Role("ethnic", "BDT", "department", "annual", "Ban Dân tộc {of}",
                    measures=(*_STATE, "staff_hr_officials"))

# indicator -> (baseline low, baseline high, level the pace moves towards)
TRAJECTORIES = {
    "spokes": (0.35, 0.70, 1.0),
    "mfd_share": (0.06, 0.12, 0.175),
    "digitised": (0.30, 0.60, 1.0),
    "misinfo": (0.13, 0.22, 0.08),
    "fake_news": (0.60, 0.86, 0.93),
    "trained": (0.08, 0.22, 1.0),
    "trained_key": (0.08, 0.22, 0.75),
    "tasks": (0.0, 0.0, 1.0),
    "exhibitions": (0.0, 0.0, 1.0),
}
PACES = {"ahead": 2.2, "on_track": 1.0, "behind": 0.45}
PROFILE_WEIGHTS = {"strong": (0.6, 0.3, 0.1), "average": (0.25, 0.5, 0.25), "weak": (0.1, 0.3, 0.6)}

# UPR cycle III recommendations (task codes from the dbt macro): the year work on each starts and
# the year it is completed in the provinces that lead; others lag behind by their pace. Sở Ngoại
# vụ, the lead of international cooperation and foreign information (task 4.1), reports them.
UPR_SCHEDULE = {"UPR-63": (2023, 2025), "UPR-67": (2023, 2027), "UPR-86": (2024, 2028)}
UPR_DEFAULT_SCHEDULE = (2024, 2027)  # a recommendation the macro lists but this table does not
UPR_LAG = {"ahead": (0, 0), "on_track": (0, 1), "behind": (1, 2)}
UPR_REPORTER = "foreign"


@dataclass
class Unit:
    """The work of one legacy agency or one commune; see the module docstring."""

    code: str
    role: Role
    territory: str  # legacy province whose trajectories drive it
    first_year: int  # communes exist from the merger year
    headcount: dict[str, int]
    spokes_threshold: float
    persons: list[Person] = field(default_factory=list)


@dataclass(frozen=True)
class Share:
    """What an agency reports of a unit: all of it, or the measures of one duty field."""

    unit: str
    field: str | None = None  # None: the whole unit; PRESS_FIELD or "general": that part of it

    def measures(self, role: Role, *, quarterly: bool = False) -> tuple[str, ...]:
        measures = role.quarterly_measures if quarterly else role.measures
        if self.field is None:
            return measures
        return tuple(m for m in measures if (m in PRESS_MEASURES) == (self.field == PRESS_FIELD))


@dataclass
class Agency:
    code: str
    name: str
    province_code: str
    role: Role
    valid_from: date
    valid_to: date | None
    # from a day on, the units (or parts of units) it reports; see the module docstring
    lineage: list[tuple[date, tuple[Share, ...]]]
    renamed: tuple[date, str] | None = None  # a survivor's agency takes its current province's name
    reporting_from: tuple[date, str] | None = None  # from a day on, another reporting mode
    successor: str | None = None  # who takes over when it ends ("Đơn vị kế thừa")

    @property
    def kind(self) -> str:
        return self.role.kind

    def reporting_on(self, day: date) -> str:
        if self.reporting_from and day >= self.reporting_from[0]:
            return self.reporting_from[1]
        return self.role.reporting

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def name_on(self, day: date) -> str:
        if self.renamed and day >= self.renamed[0]:
            return self.renamed[1]
        return self.name

    def names(self) -> tuple[str, ...]:
        return (self.name, self.renamed[1]) if self.renamed else (self.name,)

    def shares_on(self, day: date) -> tuple[Share, ...]:
        found: tuple[Share, ...] = ()
        for start, shares in self.lineage:
            if start <= day:
                found = shares
        return found

    def register_rows(self, known_on: date) -> list[RegisterRow]:
        """Its register rows as a province sending the register on ``known_on`` lists them: the
        changes (renaming, reporting mode, end and successor) effective by then."""
        changes = sorted({d for d, _ in filter(None, (self.renamed, self.reporting_from))
                          if self.valid_from < d <= known_on})
        ends = self.valid_to if self.valid_to is not None and self.valid_to < known_on else None
        starts = [self.valid_from, *changes]
        rows = []
        for i, start in enumerate(starts):
            last = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else ends
            rows.append(RegisterRow(
                self.code, self.name_on(start), self.province_code, self.kind, self.reporting_on(start), start, last,
                self.successor if last is not None and last == ends else None,
            ))
        return rows


@dataclass(frozen=True)
class RegisterRow:
    agency_code: str
    agency_name: str
    province_code: str
    agency_kind: str
    reporting: str
    valid_from: date
    valid_to: date | None
    successor_agency_code: str | None = None


@dataclass
class Enrolment:
    person: Person
    agency_code: str
    attended: bool
    completed: bool


@dataclass
class Course:
    course_id: str
    title: str
    organiser: str
    province_code: str
    start: date
    end: date
    mode: str  # in-person | online
    enrolments: list[Enrolment]


class World:
    def __init__(self, ref: Reference, *, provinces: int, years: tuple[int, ...], seed: int):
        self.ref = ref
        self.years = years
        self.seed = seed
        self.merger = ref.merger_date
        self.legacy_codes = self._select_provinces(provinces)
        self.current_codes = tuple(sorted({ref.mapping[c] for c in self.legacy_codes}))
        profiles = ["strong", "average", "weak"]
        self.rng("profiles").shuffle(profiles)
        self.profile = {c: profiles[i % 3] for i, c in enumerate(self.legacy_codes)}
        self._levels: dict[tuple[str, str], tuple[float, str]] = {}
        self.units: dict[str, Unit] = {}
        self.agencies: list[Agency] = []
        self.registers: dict[str, list[RegisterRow]] = {}
        self.register_first: dict[str, list[RegisterRow]] = {}
        self.register_ict: dict[str, list[RegisterRow]] = {}
        self.ict_merger = self._ict_merger_date()
        self._people = PersonFactory(self.rng("people"))
        self._build_agencies()
        used = {m for role in (*ROLES, DISTRICT, COMMUNE, UNREGISTERED) for m in role.measures + role.quarterly_measures}
        ref.require_measures(used | {"task_status"})

    def _ict_merger_date(self) -> date:
        ict = ROLE_BY_KEY[ICT_ROLE].lead_name
        days = {t.effective_from for t in self.ref.transfers if t.from_unit == ict}
        if len(days) != 1:
            raise ReferenceDataError(f"ref_duty_transfers.csv must move the duties of {ict} on one day, found {days}")
        return days.pop()

    # ------------------------------------------------------------------ randomness and levels

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _select_provinces(self, n: int) -> tuple[str, ...]:
        legacy = sorted(self.ref.legacy)
        missing = [c for c in ANCHOR_PROVINCES if c not in self.ref.legacy]
        if missing:
            raise ReferenceDataError(f"ref_provinces_legacy.csv lacks province(s) {', '.join(missing)}")
        chosen = list(ANCHOR_PROVINCES[:n])
        if n >= 6:
            chosen.append(self.ref.mapping[MERGER_PAIR_FROM])
        rest = [c for c in legacy if c not in chosen]
        chosen += self.rng("provinces").sample(rest, max(0, n - len(chosen)))
        return tuple(chosen)

    def pace(self, province: str, indicator: str) -> str:
        return self._param(province, indicator)[1]

    def _param(self, province: str, indicator: str) -> tuple[float, str]:
        key = (province, indicator)
        if key not in self._levels:
            rng = self.rng("level", province, indicator)
            low, high, _ = TRAJECTORIES[indicator]
            weights = PROFILE_WEIGHTS[self.profile.get(province, "average")]
            pace = rng.choices(list(PACES), weights)[0]
            self._levels[key] = (rng.uniform(low, high), pace)
        return self._levels[key]

    def level(self, province: str, indicator: str, year: int) -> float:
        """Where the indicator stands at the end of ``year``: the baseline moved towards the target
        at the province's pace times the straight line from 2023 to 2028."""
        base, pace = self._param(province, indicator)
        target = TRAJECTORIES[indicator][2]
        share = min(1.0, max(0.0, (year - BASELINE_YEAR) / (TARGET_YEAR - BASELINE_YEAR) * PACES[pace]))
        return base + (target - base) * share

    # ------------------------------------------------------------------ provinces and languages

    def minority_languages(self, province: str, *, current: bool = False) -> tuple[str, ...]:
        legacy = [c for c, cur in sorted(self.ref.mapping.items()) if cur == province] if current else [province]
        found: list[str] = []
        for code in legacy:
            for lang in MINORITY_LANGUAGES.get(self.ref.legacy[code].name_ascii, ()):
                if self.ref.languages.get(lang) == "ethnic_minority" and lang not in found:
                    found.append(lang)
        return tuple(found)

    def province(self, code: str, day: date) -> ProvinceRef:
        return self.ref.current[code] if day >= self.merger else self.ref.legacy[code]

    # ------------------------------------------------------------------ agencies and units

    def _new_unit(self, code: str, role: Role, territory: str, first_year: int) -> Unit:
        rng = self.rng("unit", code)
        unit = Unit(
            code=code,
            role=role,
            territory=territory,
            first_year=first_year,
            headcount={cat: rng.randint(lo, hi) for cat, lo, hi in role.headcounts},
            spokes_threshold=rng.random(),
        )
        style = next((MINORITY_NAME_STYLE[lang] for lang in self.minority_languages(territory)
                      if lang in MINORITY_NAME_STYLE), None)
        for category, count in unit.headcount.items():
            for _ in range(count):
                unit.persons.append(self._people.make(
                    unit_code=code, unit_kind=role.kind, province_code=territory, category=category,
                    minority_style=style,
                    with_national_id=rng.random() >= 0.1,
                ))
        self.units[code] = unit
        return unit

    def _build_agencies(self) -> None:
        day_before = self.merger - timedelta(days=1)
        merger_year = self.merger.year
        ict_end = self.ict_merger - timedelta(days=1)
        by_current: dict[str, list[str]] = {}
        for code in self.legacy_codes:
            by_current.setdefault(self.ref.mapping[code], []).append(code)

        def ict_part(province: str, role: Role) -> tuple[Share, ...]:
            """The part of a province's Sở TT&TT work a role takes over at the department merger."""
            if role.key == ICT_SUCCESSOR_ROLE:
                return (Share(f"{province}-{ROLE_BY_KEY[ICT_ROLE].suffix}", "general"),)
            if role.key == PRESS_ROLE:
                return (Share(f"{province}-{ROLE_BY_KEY[ICT_ROLE].suffix}", PRESS_FIELD),)
            return ()

        districts_of: dict[str, list[str]] = {}
        for code in self.legacy_codes:
            province = self.ref.legacy[code]
            survivor = self.ref.mapping[code] == code
            for role in ROLES:
                agency_code = f"{code}-{role.suffix}"
                self._new_unit(agency_code, role, code, BASELINE_YEAR)
                lineage = [(PLAN_START, (Share(agency_code),))]
                if ict_part(code, role):
                    lineage.append((self.ict_merger, (Share(agency_code), *ict_part(code, role))))
                agency = Agency(
                    code=agency_code, name=role.agency_name(province), province_code=code, role=role,
                    valid_from=PLAN_START, valid_to=None if survivor else day_before, lineage=lineage,
                )
                if role.key == ICT_ROLE:
                    agency.valid_to = ict_end
                    agency.successor = f"{code}-{ROLE_BY_KEY[ICT_SUCCESSOR_ROLE].suffix}"
                elif not survivor:
                    agency.successor = f"{self.ref.mapping[code]}-{role.suffix}"
                if role.key == PRESS_ROLE:
                    agency.reporting_from = (self.ict_merger, "quarterly")
                self.agencies.append(agency)
            districts = legacy_districts(code)
            rng = self.rng("districts", code)
            picked = sorted(rng.sample(range(len(districts)), min(len(districts), rng.randint(4, 8))))
            for index in picked:
                district = districts[index]
                agency_code = f"{code}-H{index + 1:02d}"
                self._new_unit(agency_code, DISTRICT, code, BASELINE_YEAR)
                districts_of.setdefault(code, []).append(agency_code)
                self.agencies.append(Agency(
                    code=agency_code, name=f"UBND {district.kind.lower()} {district.short}", province_code=code,
                    role=DISTRICT, valid_from=PLAN_START, valid_to=day_before,
                    lineage=[(PLAN_START, (Share(agency_code),))],
                ))

        by_code = {a.code: a for a in self.agencies}
        for current_code, members in sorted(by_current.items()):
            province = self.ref.current[current_code]
            for role in ROLES:
                if role.key == ICT_ROLE:  # ended before the provinces merged
                    continue
                shares = tuple(share for m in members for share in (Share(f"{m}-{role.suffix}"), *ict_part(m, role)))
                agency_code = f"{current_code}-{role.suffix}"
                existing = by_code.get(agency_code)
                if existing is not None:  # the survivor's agency goes on, under the current name
                    existing.lineage.append((self.merger, shares))
                    new_name = role.agency_name(province)
                    if new_name != existing.name:
                        existing.renamed = (self.merger, new_name)
                    continue
                agency = Agency(
                    code=agency_code, name=role.agency_name(province), province_code=current_code, role=role,
                    valid_from=self.merger, valid_to=None, lineage=[(self.merger, shares)],
                )
                if role.key == PRESS_ROLE:
                    agency.reporting_from = (self.merger, "quarterly")
                self.agencies.append(agency)
                by_code[agency_code] = agency
            wards = current_wards(current_code)
            for member in members:
                own = [i for i, w in enumerate(wards) if w.legacy_province == member]
                rng = self.rng("communes", member)
                communes = []
                for index in sorted(rng.sample(own, min(len(own), rng.randint(2, 4)))):
                    ward = wards[index]
                    agency_code = f"{current_code}-X{index + 1:03d}"
                    self._new_unit(agency_code, COMMUNE, member, merger_year)
                    communes.append(Agency(
                        code=agency_code, name=f"UBND {ward.name[:1].lower()}{ward.name[1:]}",
                        province_code=current_code, role=COMMUNE, valid_from=self.merger, valid_to=None,
                        lineage=[(self.merger, (Share(agency_code),))],
                    ))
                self.agencies.extend(communes)
                # The district committees' officials and duties move to the new communes (or,
                # where none is sampled, to the Sở KH&CN), which count them in their headcounts
                # from the merger on: their training before it still counts towards the
                # province's coverage. Each district's register row names its commune.
                receivers = communes or [by_code[f"{current_code}-{ROLE_BY_KEY[ICT_SUCCESSOR_ROLE].suffix}"]]
                for k, district in enumerate(districts_of.get(member, [])):
                    receiver = receivers[k % len(receivers)]
                    start, shares = receiver.lineage[-1]
                    receiver.lineage[-1] = (start, (*shares, Share(district)))
                    by_code[district].successor = receiver.code

        for agency in self.agencies:
            if agency.role.kind not in self.ref.agency_kinds:
                raise ReferenceDataError(f"agency kind {agency.role.kind!r} is not in ref_agency_kinds.csv")
        self._build_registers()

    def _build_registers(self) -> None:
        """Three versions of each province's register: as first sent (January 2023, every agency
        open-ended), after the department merger (1 March 2025) and after the provinces merged
        (1 July 2025). A register is sent whole, each version replacing the last."""
        first_day = date(BASELINE_YEAR, 1, 5)
        for agency in sorted(self.agencies, key=lambda a: a.code):
            for known_on, versions in ((first_day, self.register_first), (self.ict_merger, self.register_ict),
                                       (self.merger, self.registers)):
                if agency.valid_from <= known_on:
                    versions.setdefault(agency.province_code, []).extend(agency.register_rows(known_on))

    def successor(self, unit_code: str) -> str | None:
        """The agency that reports a unit's staff after the provinces merged (a commune for a
        district committee, the Sở KH&CN for the Sở TT&TT)."""
        return self._successors.get(unit_code)

    @cached_property
    def _successors(self) -> dict[str, str]:
        return {
            share.unit: agency.code
            for agency in self.agencies
            for start, shares in agency.lineage if start >= self.merger
            for share in shares if share.field != PRESS_FIELD
        }

    @cached_property
    def _by_code(self) -> dict[str, Agency]:
        return {a.code: a for a in self.agencies}

    # ------------------------------------------------------------------ tasks

    def _heir(self, agency: Agency, duty_field: str) -> Agency | None:
        """Who takes over an ended agency's duties of a field: the unit a duty transfer names, in
        the same province, else the successor its register row names."""
        if agency.valid_to is None:
            return None
        for transfer in self.ref.transfers:
            if (transfer.duty_field != duty_field or agency.valid_to + timedelta(days=1) != transfer.effective_from
                    or not self.ref.units[transfer.from_unit].covers(agency.kind, agency.name)):
                continue
            to_unit = self.ref.units[transfer.to_unit]
            for heir in self.agencies:
                if (heir.province_code == agency.province_code and heir.valid_on(transfer.effective_from)
                        and to_unit.covers(heir.kind, heir.name_on(transfer.effective_from))):
                    return heir
        return self._by_code.get(agency.successor) if agency.successor else None

    @functools.cache  # noqa: B019 - the world lives as long as one sample is written
    def task_leads(self, task_code: str, day: date) -> frozenset[str]:
        """The agencies that lead a task on ``day``: the lead units the annex names, resolved to
        the agencies they name (ref_plan_units) and handed down to successors (the same rule as
        the warehouse's int_task_duties)."""
        task = next(t for t in self.ref.tasks if t.code == task_code)
        leads = set()
        for unit_name in task.lead_units:
            unit = self.ref.units[unit_name]
            for agency in self.agencies:
                if not any(unit.covers(agency.kind, name) for name in agency.names()):
                    continue
                holder: Agency | None = agency
                for _ in range(10):
                    if holder is None or holder.valid_on(day) or holder.valid_from > day:
                        break
                    holder = self._heir(holder, task.duty_field)
                if holder is not None and holder.valid_on(day):
                    leads.add(holder.code)
        return frozenset(leads)

    def lead_tasks(self, agency: Agency, day: date) -> list[TaskRef]:
        """The tasks whose status ``agency`` owes for the period ending on ``day``."""
        return [t for t in self.ref.tasks
                if t.start_year <= day.year <= t.end_year and agency.code in self.task_leads(t.code, day)]

    # ------------------------------------------------------------------ values

    def unit_values(self, unit: Unit, year: int, measures: tuple[str, ...]) -> dict[str, int]:
        """One unit's results for a year (counts, flags) for the measures asked."""
        rng = self.rng("values", unit.code, year)
        prov = unit.territory
        growth = 1.12 ** (year - BASELINE_YEAR)
        base = self.rng("base", unit.code)
        out: dict[str, int] = {}
        if "spokesperson_mechanism" in measures:
            out["spokesperson_mechanism"] = int(unit.spokes_threshold < self.level(prov, "spokes", year))
        for category in self.ref.categories.values():  # headcounts: the denominators of the training indicators
            if category.headcount_measure in measures:
                out[category.headcount_measure] = unit.headcount.get(category.code, 0)
        if "products_total" in measures:
            scale = {"ict": (12, 30), "newspaper": (60, 140), "broadcaster": (40, 100)}.get(unit.role.key, (5, 15))
            total = round(base.randint(*scale) * growth * rng.uniform(0.9, 1.1))
            special = min(total, round(total * self.level(prov, "mfd_share", year) * rng.uniform(0.85, 1.15)))
            ethnic = round(special * rng.uniform(0.2, 0.35)) if self.minority_languages(prov) else 0
            foreign = round((special - ethnic) * rng.uniform(0.3, 0.45))
            out.update(products_total=total, products_ethnic_language=ethnic,
                       products_foreign_language=foreign, products_digital_platform=special - ethnic - foreign)
        if "exhibitions_held" in measures:
            first = {"ahead": 2023, "on_track": 2024, "behind": 2026}[self.pace(prov, "exhibitions")]
            chance = 0.85 if unit.role.key == "culture" else 0.25
            out["exhibitions_held"] = rng.randint(1, 2) if year >= first and rng.random() < chance else 0
        if "books_published" in measures:
            out["books_published"] = rng.randint(0, 2 if unit.role.key == "ict" else 1)
        if "data_sources_total" in measures:
            total = base.randint(15, 45) + 4 * (year - BASELINE_YEAR) + rng.randint(0, 3)
            out["data_sources_total"] = total
            out["data_sources_digitised_shared"] = min(total, round(total * self.level(prov, "digitised", year)))
        if "hr_items_monitored" in measures:
            monitored = round(base.randint(600, 2600) * 1.15 ** (year - BASELINE_YEAR) * rng.uniform(0.9, 1.1))
            out["hr_items_monitored"] = monitored
            out["misinformation_items"] = round(monitored * self.level(prov, "misinfo", year) * rng.uniform(0.92, 1.08))
        if "fake_news_detected" in measures:
            detected = round(base.randint(*((20, 90) if unit.role.key == "ict" else (10, 40))) * rng.uniform(0.8, 1.2))
            out["fake_news_detected"] = detected
            out["fake_news_handled"] = min(detected, round(detected * self.level(prov, "fake_news", year)
                                                            * rng.uniform(0.97, 1.03)))
        return {m: out[m] for m in measures if m in out}

    def task_status(self, unit: Unit, task_code: str, year: int) -> int:
        rng = self.rng("task", unit.code, task_code, year)
        pace = self.pace(unit.territory, "tasks")
        not_started = {"ahead": 0.0, "on_track": 0.08, "behind": 0.3}[pace] * (1.0 if year == BASELINE_YEAR else 0.4)
        completed = {"ahead": 0.12, "on_track": 0.06, "behind": 0.0}[pace] * (year - BASELINE_YEAR)
        draw = rng.random()
        return 0 if draw < not_started else 2 if draw > 1 - completed else 1

    def upr_status(self, unit: Unit, task_code: str, year: int) -> int:
        """0 not started, 1 in progress, 2 completed: a recommendation moves forward, never back."""
        start, done = UPR_SCHEDULE.get(task_code, UPR_DEFAULT_SCHEDULE)
        lag = self.rng("upr", unit.territory, task_code).randint(*UPR_LAG[self.pace(unit.territory, "tasks")])
        return 0 if year < start + lag else 2 if year >= done + lag else 1

    def briefings(self, unit: Unit, year: int, quarter: int) -> int:
        rng = self.rng("briefings", unit.code, year, quarter)
        if unit.role.key == "police":
            return rng.randint(0, 1)
        return {"ahead": rng.randint(1, 2), "on_track": rng.choice((0, 1, 1, 2)),
                "behind": rng.randint(0, 1)}[self.pace(unit.territory, "tasks")]

    def report_units(self, agency: Agency, period_end: date) -> tuple[tuple[Unit, Share], ...]:
        return tuple((self.units[share.unit], share) for share in agency.shares_on(period_end))

    # ------------------------------------------------------------------ training

    def courses(self) -> list[Course]:
        """The courses of the sample years, with who enrolled (see ``_events``)."""
        segments: dict[tuple[int, str, bool], list[tuple[Person, bool, bool]]] = {}
        merger_year = self.merger.year
        for unit in self.units.values():
            for person in unit.persons:
                for year, attended, completed in self._events(unit, person):
                    if year not in self.years:
                        continue
                    successor = self.successor(unit.code)
                    if year < merger_year or (year == merger_year and unit.role is DISTRICT):
                        after = False
                    elif successor is None or (person.national_id is None and year > merger_year):
                        # a staff number belongs to the agency: after the merger it would name
                        # another person, so only those with a CCCD are trained under the successor
                        continue
                    elif year == merger_year:
                        after = unit.role is COMMUNE or (
                            person.national_id is not None and self.rng("half", person.person_id).random() < 0.5)
                    else:
                        after = True
                    where = self.ref.mapping[unit.territory] if after else unit.territory
                    segments.setdefault((year, where, after), []).append((person, attended, completed))

        courses: list[Course] = []
        numbering: dict[tuple[str, int], int] = {}
        for (year, where, after), entries in sorted(segments.items()):
            general = [e for e in entries if e[0].category != "key_sociopolitical"]
            key = [e for e in entries if e[0].category == "key_sociopolitical"]
            groups: list[tuple[str, str, list]] = []
            classes = max(1, -(-len(general) // 45))
            for k in range(classes):
                title = (
                    f"Tập huấn kiến thức, kỹ năng truyền thông về quyền con người cho cán bộ, công chức "
                    f"sau sắp xếp đơn vị hành chính năm {year}" if after and year == merger_year else
                    f"Tập huấn kiến thức, kỹ năng truyền thông về quyền con người năm {year}"
                )
                if classes > 1:
                    title += f" (lớp {k + 1})"
                groups.append(("ict", title, general[k::classes]))
            groups.append(("front", "Hội nghị cập nhật thông tin tình hình công tác quyền con người cho cán bộ "
                           f"chủ chốt các tổ chức chính trị - xã hội năm {year}", key))
            for organiser_role, title, members in groups:
                if not members:
                    continue
                numbering[(where, year)] = numbering.get((where, year), 0) + 1
                number = numbering[(where, year)]
                rng = self.rng("course", where, year, number)
                if after and year == merger_year:
                    start = date(year, rng.randint(9, 11), rng.randint(3, 24))
                elif year == merger_year:
                    start = date(year, rng.randint(3, 6), rng.randint(3, 24))
                else:
                    start = date(year, rng.randint(4, 10), rng.randint(3, 24))
                if organiser_role == ICT_ROLE and start >= self.ict_merger:
                    organiser_role = PRESS_ROLE  # the training of communication staff went with the press duties
                organiser = f"{where}-{ROLE_BY_KEY[organiser_role].suffix}"
                enrolments = []
                for person, attended, completed in sorted(members, key=lambda m: m[0].person_id):
                    agency_code = self.successor(person.unit_code) if after else person.unit_code
                    enrolments.append(Enrolment(person, agency_code or person.unit_code, attended, completed))
                rng.shuffle(enrolments)
                courses.append(Course(
                    course_id=f"{where}-{year}-{number:02d}", title=title, organiser=organiser, province_code=where,
                    start=start, end=start + timedelta(days=rng.randint(0, 2)),
                    mode="online" if rng.random() < 0.2 else "in-person", enrolments=enrolments,
                ))
        return courses

    def _events(self, unit: Unit, person: Person) -> list[tuple[int, bool, bool]]:
        """(year, attended, completed) for one person: trained in the first year the province's
        coverage passes the person's threshold; some try a year earlier without completing and
        some come back for a refresher course."""
        rng = self.rng("training", person.person_id)
        indicator = "trained_key" if person.category == "key_sociopolitical" else "trained"
        threshold = rng.random()
        last = max(self.years)
        events: list[tuple[int, bool, bool]] = []
        trained = None
        for year in range(max(BASELINE_YEAR, unit.first_year), last + 1):
            coverage = self.level(unit.territory, indicator, year)
            if threshold < coverage:
                trained = year
                events.append((year, True, True))
                break
            if threshold < coverage + 0.06:
                events.append((year, rng.random() < 0.7, False))
        if trained is not None and trained < last and rng.random() < 0.1:
            events.append((rng.randint(trained + 1, last), True, True))
        return events
