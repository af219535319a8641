"""What the report shows, read from the marts only (so it can run as the BI role, ``planwh_bi``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

NATIONAL_CODE = "00"
COMPLIANCE_MART = "marts.fct_submission_compliance_by_province"


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    unit: str
    target_label: str | None
    short_name_vi: str = ""
    national_rule_vi: str = ""  # how the national value is made (ref_national_rules)
    min_coverage_percent: float | None = None

    @property
    def label(self) -> str:
        """The short Vietnamese name for a column header (the code when the mart has none)."""
        return self.short_name_vi or self.code


@dataclass(frozen=True)
class Coverage:
    """What a national value stands on: the provinces with data out of all, and the agencies
    that reported out of those expected in the provinces with a register."""

    provinces_reporting: int | None
    provinces_total: int | None
    agencies_reported: int | None
    agencies_expected: int | None

    def label(self) -> str:
        """``5/34 tỉnh · 48/53 đơn vị`` (provinces with data, agencies that reported)."""
        parts = []
        if self.provinces_total:
            parts.append(f"{self.provinces_reporting or 0}/{self.provinces_total} tỉnh")
        if self.agencies_expected:
            parts.append(f"{self.agencies_reported or 0}/{self.agencies_expected} đơn vị")
        return " · ".join(parts)


@dataclass(frozen=True)
class Cell:
    """One indicator in one province (or nationwide) in the report year."""

    value: float | None
    status: str
    coverage: Coverage | None = None  # national cells


@dataclass(frozen=True)
class Province:
    code: str
    name: str

    @property
    def is_national(self) -> bool:
        return self.code == NATIONAL_CODE


@dataclass(frozen=True)
class NationalPoint:
    year: int
    value: float | None
    status: str
    coverage: Coverage | None = None


@dataclass(frozen=True)
class Trajectory:
    """An indicator's national series and the straight line it is held to."""

    indicator: Indicator
    points: list[NationalPoint]
    baseline_year: int | None
    baseline_value: float | None
    target_operator: str | None
    target_value: float | None
    target_value_high: float | None
    target_year: int | None

    def latest(self) -> NationalPoint | None:
        """The last year with a value."""
        return next((p for p in reversed(self.points) if p.value is not None), None)

    def line_end(self) -> float | None:
        """Where the trajectory ends in the target year: the target, or for a range the bound
        nearest the baseline (the baseline itself when it is already inside the range), as the
        status in fct_indicator_progress is computed."""
        if self.baseline_value is None or self.target_value is None:
            return None
        if self.target_operator == "between" and self.target_value_high is not None:
            return min(max(self.baseline_value, self.target_value), self.target_value_high)
        return self.target_value


@dataclass(frozen=True)
class Completeness:
    province: Province
    received: int
    expected: int
    has_register: bool = True  # False: no agency register, so nobody is known to owe a report

    @property
    def rate(self) -> float | None:
        return 100.0 * self.received / self.expected if self.expected else None


@dataclass
class ReportData:
    year: int | None
    years: list[int]
    indicators: list[Indicator]
    provinces: list[Province]  # national first, then the current provinces by code
    cells: dict[tuple[str, str], Cell]  # (province code, indicator code)
    trajectories: list[Trajectory]
    completeness: list[Completeness]
    completeness_year: int | None
    completeness_source: str
    marts_read: list[str] = field(default_factory=list)

    @property
    def current_provinces(self) -> list[Province]:
        return [p for p in self.provinces if not p.is_national]


COVERAGE_COLUMNS = "provinces_reporting, provinces_total, agencies_reported, agencies_expected"


def _number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


def _coverage(values) -> Coverage:
    return Coverage(*values)


def _table_readable(conn: psycopg.Connection, relation: str) -> bool:
    row = conn.execute(
        "select to_regclass(%s) is not null and has_table_privilege(to_regclass(%s), 'select')",
        (relation, relation),
    ).fetchone()
    return bool(row[0])


def read_report_data(conn: psycopg.Connection) -> ReportData:
    """Everything the report draws, from fct_indicator_progress, dim_indicator and the compliance mart."""
    marts = ["marts.fct_indicator_progress", "marts.dim_indicator"]
    year = conn.execute(
        "select max(year) from marts.fct_indicator_progress where value is not null"
    ).fetchone()[0]
    years = [r[0] for r in conn.execute("select distinct year from marts.fct_indicator_progress order by year")]
    indicators = [
        Indicator(code, name_vi, name_en, unit, target_label, short_name_vi or "", rule_vi or "",
                  _number(min_coverage))
        for code, name_vi, name_en, unit, target_label, short_name_vi, rule_vi, min_coverage in conn.execute(
            "select indicator_code, name_vi, name_en, unit, target_label, short_name_vi, national_rule_label_vi, "
            "min_coverage_percent from marts.dim_indicator order by indicator_code"
        )
    ]
    grid_year = year if year is not None else (years[-1] if years else None)
    rows = conn.execute(
        f"""
        select province_code, province_name, indicator_code, value, status, has_register, {COVERAGE_COLUMNS}
        from marts.fct_indicator_progress
        where year = %s
        order by province_code <> %s, province_code, indicator_code
        """,
        (grid_year, NATIONAL_CODE),
    ).fetchall()
    provinces: dict[str, Province] = {}
    cells: dict[tuple[str, str], Cell] = {}
    registered: dict[str, bool] = {}
    for code, name, indicator, value, status, has_register, *coverage in rows:
        provinces.setdefault(code, Province(code, name))
        registered[code] = registered.get(code, False) or bool(has_register)
        cells[(code, indicator)] = Cell(_number(value), status, _coverage(coverage) if code == NATIONAL_CODE else None)

    series: dict[str, list[tuple]] = {}
    for row in conn.execute(
        f"""
        select indicator_code, year, value, status, baseline_year, baseline_value,
            target_operator, target_value, target_value_high, target_year, {COVERAGE_COLUMNS}
        from marts.fct_indicator_progress
        where province_code = %s
        order by indicator_code, year
        """,
        (NATIONAL_CODE,),
    ):
        series.setdefault(row[0], []).append(row)
    trajectories = []
    for indicator in indicators:
        lines = series.get(indicator.code, [])
        # baseline and target are the same on every year's row; take them from any row that has them
        with_baseline = next((r for r in lines if r[5] is not None), None)
        with_target = next((r for r in lines if r[7] is not None), None)
        trajectories.append(Trajectory(
            indicator=indicator,
            points=[NationalPoint(r[1], _number(r[2]), r[3], _coverage(r[10:])) for r in lines],
            baseline_year=with_baseline[4] if with_baseline else None,
            baseline_value=_number(with_baseline[5]) if with_baseline else None,
            target_operator=with_target[6] if with_target else None,
            target_value=_number(with_target[7]) if with_target else None,
            target_value_high=_number(with_target[8]) if with_target else None,
            target_year=with_target[9] if with_target else None,
        ))

    completeness, completeness_year, source = _read_completeness(conn, grid_year, provinces, registered, marts)
    return ReportData(
        year=year,
        years=years,
        indicators=indicators,
        provinces=list(provinces.values()),
        cells=cells,
        trajectories=trajectories,
        completeness=completeness,
        completeness_year=completeness_year,
        completeness_source=source,
        marts_read=marts,
    )


def _read_completeness(
    conn: psycopg.Connection, year: int | None, provinces: dict[str, Province], registered: dict[str, bool],
    marts: list[str],
) -> tuple[list[Completeness], int | None, str]:
    current = [p for p in provinces.values() if not p.is_national]
    if _table_readable(conn, COMPLIANCE_MART):
        marts.append(COMPLIANCE_MART)
        # The annual report is the obligation every reporting agency has; the latest year in which
        # any was owed (the current year's may not be due yet).
        owed_year = conn.execute(
            f"select max(year) from {COMPLIANCE_MART} "
            "where period_kind = 'year' and scope = 'province' and expected > 0 and year <= coalesce(%s, year)",
            (year,),
        ).fetchone()[0]
        counts = {
            code: (received, expected)
            for code, received, expected in conn.execute(
                f"select province_code, received, expected from {COMPLIANCE_MART} "
                "where period_kind = 'year' and scope = 'province' and year = %s",
                (owed_year,),
            )
        }
        source = "annual reports received / expected (fct_submission_compliance_by_province)"
        return (
            [Completeness(p, *counts.get(p.code, (0, 0)), registered.get(p.code, False)) for p in current],
            owed_year,
            source,
        )
    counts = {
        code: (int(reported or 0), int(expected or 0))
        for code, reported, expected in conn.execute(
            "select province_code, sum(agencies_reported), sum(agencies_expected) "
            "from marts.fct_indicator_progress where scope = 'province' and year = %s group by province_code",
            (year,),
        )
    }
    source = "agency reports per indicator, summed over the 12 indicators (fct_indicator_progress)"
    return [Completeness(p, *counts.get(p.code, (0, 0)), registered.get(p.code, False)) for p in current], year, source
