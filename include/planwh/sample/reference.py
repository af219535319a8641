"""What the sample generator reads: the dbt seeds and the official lists of districts and wards.

Provinces, the 2025 merger mapping, measures, trainee categories, languages, agency kinds and plan
tasks come from ``dbt_project/seeds/ref_*.csv`` (read with the ``csv`` module), so the sample can
never name a code the warehouse does not know. District and ward names, which no seed holds, come
from the ``vietnamadminunits`` and ``vietnam-provinces`` packages that built the province seeds.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from planwh.settings import PROJECT_ROOT

DEFAULT_SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"
# The UPR recommendations' task codes live in a dbt macro (no seed holds them yet); the sample
# reads them from there, so it reports exactly the codes the indicator model looks for.
UPR_MACRO = PROJECT_ROOT / "dbt_project" / "macros" / "upr_recommendation_task_codes.sql"

SEED_FILES = (
    "ref_provinces_legacy.csv",
    "ref_provinces_current.csv",
    "ref_province_mapping.csv",
    "ref_measures.csv",
    "ref_trainee_categories.csv",
    "ref_languages.csv",
    "ref_agency_kinds.csv",
    "ref_plan_tasks.csv",
    "ref_plan_units.csv",
    "ref_duty_transfers.csv",
)


class ReferenceDataError(RuntimeError):
    """A seed file is missing or does not have the columns the generator needs."""


@dataclass(frozen=True)
class ProvinceRef:
    code: str
    name: str  # "Quảng Nam"
    name_full: str  # "Tỉnh Quảng Nam"
    name_ascii: str  # "Quang Nam"
    kind: str  # province | municipality

    @property
    def of_name(self) -> str:
        """How an agency name ends: "tỉnh Quảng Nam", "thành phố Đà Nẵng"."""
        return self.name_full[:1].lower() + self.name_full[1:]


@dataclass(frozen=True)
class MeasureRef:
    code: str
    value_kind: str  # count | flag | status
    min_value: int | None
    max_value: int | None
    requires_task_code: bool


@dataclass(frozen=True)
class CategoryRef:
    code: str
    label_vi: str
    aliases: tuple[str, ...]
    headcount_measure: str | None


@dataclass(frozen=True)
class TaskRef:
    code: str
    lead_units: tuple[str, ...]  # as the annex names them (ref_plan_units.unit_name)
    duty_field: str  # press_publishing | general
    start_year: int
    end_year: int
    reporting_frequency: str


@dataclass(frozen=True)
class PlanUnitRef:
    """How a unit the annex names resolves to register agencies (ref_plan_units)."""

    name: str
    resolution: str  # named | collective | unspecified | outside
    kinds: tuple[str, ...]
    pattern: re.Pattern | None  # the agency's name matches it (case-insensitive) for a named unit

    def covers(self, kind: str, agency_name: str) -> bool:
        if self.resolution not in ("named", "collective") or kind not in self.kinds:
            return False
        return self.pattern is None or self.pattern.search(agency_name) is not None


@dataclass(frozen=True)
class DutyTransferRef:
    """Duties of a field that went elsewhere than the register's successor (ref_duty_transfers)."""

    from_unit: str
    duty_field: str
    to_unit: str
    effective_from: date


@dataclass(frozen=True)
class Reference:
    legacy: dict[str, ProvinceRef]
    current: dict[str, ProvinceRef]
    mapping: dict[str, str]  # legacy code -> current code
    merger_date: date
    measures: dict[str, MeasureRef]
    categories: dict[str, CategoryRef]
    languages: dict[str, str]  # code -> national | foreign | ethnic_minority
    language_names: dict[str, str]  # code -> "Tiếng Khmer"
    agency_kinds: frozenset[str]
    tasks: tuple[TaskRef, ...]
    units: dict[str, PlanUnitRef]
    transfers: tuple[DutyTransferRef, ...]
    upr_recommendations: tuple[str, ...]  # task codes of the UPR recommendations: UPR-63, ...

    def require_measures(self, codes: set[str]) -> None:
        missing = sorted(codes - set(self.measures))
        if missing:
            raise ReferenceDataError(
                f"ref_measures.csv lacks measure(s) the sample reports: {', '.join(missing)}"
            )


def _rows(seeds_dir: Path, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    path = seeds_dir / name
    if not path.is_file():
        raise ReferenceDataError(
            f"reference seed {path} is missing; build the seeds with `python -m planwh.reference.build_seeds`"
        )
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        absent = [c for c in columns if c not in (reader.fieldnames or [])]
        if absent:
            raise ReferenceDataError(f"{path}: missing column(s) {', '.join(absent)}")
        return [{k: (v or "").strip() for k, v in row.items()} for row in reader]


def _int_or_none(text: str) -> int | None:
    return int(float(text)) if text else None


def _provinces(seeds_dir: Path, name: str) -> dict[str, ProvinceRef]:
    rows = _rows(
        seeds_dir, name, ("province_code", "province_name", "province_name_full", "province_name_ascii", "province_kind")
    )
    return {
        r["province_code"].zfill(2): ProvinceRef(
            code=r["province_code"].zfill(2),
            name=unicodedata.normalize("NFC", r["province_name"]),
            name_full=unicodedata.normalize("NFC", r["province_name_full"]),
            name_ascii=r["province_name_ascii"],
            kind=r["province_kind"],
        )
        for r in rows
    }


def upr_recommendation_codes(path: Path = UPR_MACRO) -> tuple[str, ...]:
    """The task codes that the dbt macro ``upr_recommendation_task_codes`` lists."""
    if not path.is_file():
        raise ReferenceDataError(f"{path} is missing: it lists the UPR recommendations' task codes")
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    body = re.search(r"\{%-?\s*macro\s+upr_recommendation_task_codes\(\).*?%\}(.*?)\{%-?\s*endmacro", text, re.S)
    codes = tuple(re.findall(r"'([^']+)'", body.group(1))) if body else ()
    if not codes:
        raise ReferenceDataError(f"{path}: no quoted task codes in macro upr_recommendation_task_codes")
    return codes


def load_reference(seeds_dir: Path | None = None) -> Reference:
    """Read the seeds the sample depends on; a missing file or column is a :class:`ReferenceDataError`."""
    seeds_dir = Path(seeds_dir or DEFAULT_SEEDS_DIR)
    legacy = _provinces(seeds_dir, "ref_provinces_legacy.csv")
    current = _provinces(seeds_dir, "ref_provinces_current.csv")

    mapping: dict[str, str] = {}
    effective: set[str] = set()
    for r in _rows(seeds_dir, "ref_province_mapping.csv", ("legacy_province_code", "current_province_code", "effective_date")):
        mapping[r["legacy_province_code"].zfill(2)] = r["current_province_code"].zfill(2)
        effective.add(r["effective_date"])
    if len(effective) != 1:
        raise ReferenceDataError(f"ref_province_mapping.csv: expected one effective_date, found {sorted(effective)}")
    unmapped = sorted(set(legacy) - set(mapping))
    if unmapped or not set(mapping.values()) <= set(current):
        raise ReferenceDataError("ref_province_mapping.csv does not map every legacy province to a current one")

    measures = {
        r["measure_code"]: MeasureRef(
            code=r["measure_code"],
            value_kind=r["value_kind"],
            min_value=_int_or_none(r["min_value"]),
            max_value=_int_or_none(r["max_value"]),
            requires_task_code=r["requires_task_code"].lower() == "true",
        )
        for r in _rows(
            seeds_dir,
            "ref_measures.csv",
            ("measure_code", "value_kind", "min_value", "max_value", "requires_task_code"),
        )
    }
    categories = {
        r["category_code"]: CategoryRef(
            code=r["category_code"],
            label_vi=r["label_vi"],
            aliases=tuple(a.strip() for a in r["label_vi_aliases"].split(";") if a.strip()),
            headcount_measure=r["headcount_measure"] or None,
        )
        for r in _rows(
            seeds_dir,
            "ref_trainee_categories.csv",
            ("category_code", "label_vi", "label_vi_aliases", "headcount_measure"),
        )
    }
    language_rows = _rows(seeds_dir, "ref_languages.csv", ("language_code", "name_vi", "language_kind"))
    languages = {r["language_code"]: r["language_kind"] for r in language_rows}
    language_names = {r["language_code"]: r["name_vi"] for r in language_rows}
    kinds = frozenset(r["agency_kind"] for r in _rows(seeds_dir, "ref_agency_kinds.csv", ("agency_kind",)))
    tasks = tuple(
        TaskRef(
            code=r["task_code"],
            lead_units=tuple(u.strip() for u in r["lead_units"].split(";") if u.strip()),
            duty_field=r["duty_field"],
            start_year=int(r["start_year"]),
            end_year=int(r["end_year"]),
            reporting_frequency=r["reporting_frequency"],
        )
        for r in _rows(
            seeds_dir,
            "ref_plan_tasks.csv",
            ("task_code", "lead_units", "duty_field", "start_year", "end_year", "reporting_frequency"),
        )
    )
    units = {
        r["unit_name"]: PlanUnitRef(
            name=r["unit_name"],
            resolution=r["resolution"],
            kinds=tuple(k for k in r["agency_kinds"].split(";") if k),
            pattern=re.compile(r["name_pattern"], re.IGNORECASE) if r["name_pattern"] else None,
        )
        for r in _rows(seeds_dir, "ref_plan_units.csv", ("unit_name", "resolution", "agency_kinds", "name_pattern"))
    }
    unknown = sorted({u for t in tasks for u in t.lead_units} - set(units))
    if unknown:
        raise ReferenceDataError(f"ref_plan_units.csv lacks the lead unit(s) {', '.join(unknown)}")
    transfers = tuple(
        DutyTransferRef(r["from_unit"], r["duty_field"], r["to_unit"], date.fromisoformat(r["effective_from"]))
        for r in _rows(seeds_dir, "ref_duty_transfers.csv", ("from_unit", "duty_field", "to_unit", "effective_from"))
    )
    return Reference(
        legacy=legacy,
        current=current,
        mapping=mapping,
        merger_date=date.fromisoformat(effective.pop()),
        measures=measures,
        categories=categories,
        languages=languages,
        language_names=language_names,
        agency_kinds=kinds,
        tasks=tasks,
        units=units,
        transfers=transfers,
        upr_recommendations=upr_recommendation_codes(),
    )


@dataclass(frozen=True)
class District:
    code: str  # the statistics office's three-digit code
    name: str  # "Huyện Tây Giang"
    short: str  # "Tây Giang"
    kind: str  # "Huyện", "Thành phố", "Thị xã", "Quận"


@dataclass(frozen=True)
class Ward:
    code: str  # five digits
    name: str  # "Phường Hải Châu"
    short: str
    legacy_province: str | None  # the legacy province whose ward kept this code


def _adminunits_query(sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Query the SQLite dataset shipped in ``vietnamadminunits`` without importing the package,
    whose import builds its address parsers (over a second on a small machine)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceDataError("the vietnamadminunits package is not installed (see requirements.lock)")
    dataset = Path(spec.submodule_search_locations[0]) / "data" / "dataset.db"
    with closing(sqlite3.connect(f"{dataset.as_uri()}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


@cache
def legacy_districts(province_code: str) -> tuple[District, ...]:
    """The districts of a legacy province, by code (from ``vietnamadminunits``)."""
    rows = _adminunits_query(
        "select distinct districtCode, district, districtShort, districtType from admin_units_legacy "
        "where provinceCode = ? and districtCode is not null order by districtCode",
        (f"{int(province_code):02d}",),
    )
    return tuple(
        District(
            code=str(r["districtCode"]),
            name=unicodedata.normalize("NFC", r["district"]),
            short=unicodedata.normalize("NFC", r["districtShort"]),
            kind=unicodedata.normalize("NFC", r["districtType"]),
        )
        for r in rows
    )


@cache
def _legacy_province_of_ward() -> dict[str, str]:
    return {
        f"{int(r['wardCode']):05d}": f"{int(r['provinceCode']):02d}"
        for r in _adminunits_query(
            "select distinct wardCode, provinceCode from admin_units_legacy where wardCode is not null"
        )
    }


@cache
def current_wards(province_code: str) -> tuple[Ward, ...]:
    """The communes and wards of a current province, by code (from ``vietnam-provinces``)."""
    from vietnam_provinces import Ward as VpWard

    legacy_of = _legacy_province_of_ward()
    wards = []
    for w in VpWard.iter_all():
        if int(w.province_code) != int(province_code):
            continue
        code = f"{int(w.code):05d}"
        name = unicodedata.normalize("NFC", w.name)
        kind, _, short = name.partition(" ")
        if kind == "Đặc":  # "Đặc khu Phú Quốc"
            short = short.removeprefix("khu ")
        wards.append(Ward(code=code, name=name, short=short, legacy_province=legacy_of.get(code)))
    return tuple(sorted(wards, key=lambda w: w.code))
