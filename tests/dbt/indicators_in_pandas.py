"""A second implementation of ``marts.fct_indicator_progress``, in plain Python and pandas.

It reads only what dbt reads, ``published.*``, the landing ledger and the seed CSVs, and follows
the rules as they are documented (the seeds' measure_rule and national_rule, the README's table
of aggregation rules, the model descriptions), not the SQL. ``recompute`` returns one row per
indicator, province (``00`` for the nation) and year with the mart's columns; the test compares
the two cell by cell.

The rules, in short:

* a province code means the province valid on the row's date (legacy until 30 June 2025, current
  from 1 July), and a legacy province counts for the current province it merged into;
* a province's agency register is its latest register file; an interval ends the day before the
  agency's next one starts, and never outlives its kind; who is in scope for a year is who is in
  the register on 31 December;
* the latest version of a report line is the one received last; a year's figure sums the periods
  of the coarsest kind an agency used (counts), or takes the latest period (states);
* training counts each person once, in the year and province of their first completion, and has
  data only where rosters of the category have arrived;
* national values follow the indicator's national rule, with coverage over the 34 provinces;
* statuses, in order: not applicable (province rows of national-only indicators), no register,
  no data, insufficient coverage (national rows below the rule's coverage), then against the
  target and the straight line from the baseline.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import psycopg

NATIONAL = "00"
LAST_LEGACY_DAY = date(2025, 6, 30)


def _frame(conn: psycopg.Connection, query: str) -> pd.DataFrame:
    cur = conn.execute(query)
    return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description], dtype=object)


def _seed(seeds: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(seeds / f"{name}.csv", dtype=str, keep_default_na=False)


def _float(value) -> float | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else float(value)


@dataclass(frozen=True)
class ProvincePeriod:
    period: str  # legacy | current
    code: str
    valid_from: date
    valid_to: date | None
    current_code: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Provinces:
    def __init__(self, seeds: Path):
        mapping = dict(zip(*(_seed(seeds, "ref_province_mapping")[c] for c in (
            "legacy_province_code", "current_province_code")), strict=True))
        self.periods: dict[str, list[ProvincePeriod]] = defaultdict(list)
        for period, name in (("legacy", "ref_provinces_legacy"), ("current", "ref_provinces_current")):
            for row in _seed(seeds, name).itertuples():
                self.periods[row.province_code].append(ProvincePeriod(
                    period, row.province_code, date.fromisoformat(row.valid_from),
                    date.fromisoformat(row.valid_to) if row.valid_to else None,
                    mapping[row.province_code] if period == "legacy" else row.province_code,
                ))
        self.current = sorted(_seed(seeds, "ref_provinces_current")["province_code"])

    def at(self, code: str, day: date) -> ProvincePeriod | None:
        """What a code means on a day; a code not valid then means its earliest period."""
        periods = self.periods.get(code)
        if not periods:
            return None
        valid = [p for p in periods if p.valid_on(day)]
        return valid[0] if valid else min(periods, key=lambda p: p.valid_from)


def _register(conn: psycopg.Connection, kinds: pd.DataFrame, provinces: Provinces) -> pd.DataFrame:
    """The effective-dated register: one row per agency and interval of the current register files."""
    rows = _frame(conn, "select * from published.agency_register")
    files = _frame(conn, "select file_id, received_at, province_code from landing.files")
    files = files[files.file_id.isin(rows.file_id)].copy()
    files["version_key"] = [p if p is not None else f"file {f}" for p, f in zip(files.province_code, files.file_id,
                                                                                 strict=True)]
    latest = files.sort_values(["received_at", "file_id"], ascending=False).drop_duplicates("version_key")
    rows = rows.merge(latest[["file_id", "received_at"]], on="file_id")
    rows = rows.sort_values(["received_at", "file_id", "row_number"], ascending=False)
    rows = rows.drop_duplicates(["agency_code", "valid_from"]).sort_values(["agency_code", "valid_from"])
    kind_end = {k: (date.fromisoformat(e) if e else None) for k, e in zip(kinds.agency_kind, kinds.exists_to,
                                                                             strict=True)}
    state = {k: v == "true" for k, v in zip(kinds.agency_kind, kinds.is_state_administrative, strict=True)}
    out = []
    for _, agency in rows.groupby("agency_code", sort=True):
        starts = list(agency.valid_from)
        for i, row in enumerate(agency.itertuples()):
            ends = [d for d in (row.valid_to, starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else None,
                                kind_end.get(row.agency_kind)) if d is not None]
            valid_to = min(ends) if ends else None
            if valid_to is not None and valid_to < row.valid_from:
                continue
            where = provinces.at(row.province_code, row.valid_from)
            out.append({
                "agency_code": row.agency_code, "agency_kind": row.agency_kind,
                "valid_from": row.valid_from, "valid_to": valid_to,
                "is_state_administrative": state.get(row.agency_kind, False),
                "is_expected": row.reporting != "none",
                "legacy_code": where.code if where and where.period == "legacy" else None,
                "current_code": where.current_code if where else None,
                "province_key": (where.period, where.code) if where else None,
            })
    return pd.DataFrame(out)


def _in_scope(register: pd.DataFrame, years: range) -> pd.DataFrame:
    """Who each province expects a report from per series and year (register on the reference day)."""
    out = []
    for series in ("current", "legacy"):
        for year in years:
            if series == "legacy" and year > LAST_LEGACY_DAY.year:
                continue
            day = date(year, 12, 31) if series == "current" else min(date(year, 12, 31), LAST_LEGACY_DAY)
            valid = register[[f <= day and (t is None or day <= t) for f, t in zip(register.valid_from,
                                                                                    register.valid_to, strict=True)]]
            valid = valid.sort_values("valid_from").drop_duplicates("agency_code", keep="last")
            code = valid.current_code if series == "current" else valid.legacy_code
            for row, province in zip(valid.itertuples(), code, strict=True):
                if province is not None:
                    out.append({"series": series, "province_code": province, "year": year,
                                "agency_code": row.agency_code, "is_state_administrative": row.is_state_administrative,
                                "is_expected": row.is_expected})
    return pd.DataFrame(out).astype({"is_state_administrative": bool, "is_expected": bool})


def _latest_lines(conn: psycopg.Connection, measures: pd.DataFrame, provinces: Provinces) -> pd.DataFrame:
    """The latest version of every report line, and whether it makes the agency's figure for its year."""
    lines = _frame(conn, "select * from published.agency_submissions")
    files = _frame(conn, "select file_id, received_at from landing.files")
    lines = lines.merge(files, on="file_id")
    lines["task_key"] = lines.task_code.fillna("")
    lines = lines.sort_values(["received_at", "file_id", "row_number"], ascending=False)
    lines = lines.drop_duplicates(["agency_code", "period", "measure_code", "task_key"]).copy()
    lines["year"] = [d.year for d in lines.period_start]
    lines["value"] = lines.value.map(float)
    where = [provinces.at(c, d) for c, d in zip(lines.province_code, lines.period_end, strict=True)]
    lines["current_code"] = [w.current_code if w else None for w in where]
    lines["legacy_code"] = [w.code if w and w.period == "legacy" else None for w in where]
    summed = {m for m, k, h in zip(measures.measure_code, measures.value_kind, measures.is_headcount, strict=True)
              if k == "count" and h != "true"}
    rank = {"year": 1, "quarter": 2, "month": 3}
    lines["kind_rank"] = lines.period_kind.map(rank)
    key = ["agency_code", "year", "measure_code", "task_key"]
    coarsest = lines.groupby(key).kind_rank.transform("min")
    latest_period = set(
        lines.sort_values(["period_end", "kind_rank"], ascending=[False, True]).drop_duplicates(key).index
    )
    lines["used"] = [
        (r == c) if m in summed else (i in latest_period)
        for r, c, m, i in zip(lines.kind_rank, coarsest, lines.measure_code, lines.index, strict=True)
    ]
    return lines[lines.used]


def _located(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines in the series they count for: current (every line of a current province) and legacy
    (lines under a legacy code, until the legacy provinces ended)."""
    current = lines[lines.current_code.notna()].assign(series="current", province_code=lambda d: d.current_code)
    legacy = lines[lines.legacy_code.notna() & (lines.year <= LAST_LEGACY_DAY.year)]
    legacy = legacy.assign(series="legacy", province_code=lambda d: d.legacy_code)
    return pd.concat([current, legacy], ignore_index=True)


def _training(conn: psycopg.Connection, register: pd.DataFrame, provinces: Provinces, first_day: date):
    """Each person's first completion since the scheme began, and the first year rosters of each
    category arrived per series and province; both placed by the trainee's agency on the course's
    last day, else by the course's province."""
    courses = _frame(conn, "select * from published.training_courses")
    attendance = _frame(conn, "select * from published.training_attendance")
    files = _frame(conn, "select file_id, received_at from landing.files")
    courses = courses.merge(files, on="file_id").sort_values(["received_at", "file_id"], ascending=False)
    courses = courses.drop_duplicates("course_id")
    courses["last_day"] = [e if e is not None else s for s, e in zip(courses.start_date, courses.end_date, strict=True)]
    rows = attendance.merge(courses[["file_id", "course_id", "province_code", "last_day"]], on=["file_id", "course_id"])

    def place(agency: str | None, course_province: str | None, day: date) -> ProvincePeriod | None:
        matches = register[(register.agency_code == agency)] if agency else register.iloc[0:0]
        matches = matches[[f <= day and (t is None or day <= t) for f, t in zip(matches.valid_from, matches.valid_to,
                                                                                 strict=True)]]
        if len(matches):
            period, code = matches.sort_values("valid_from").iloc[-1].province_key
            return next(p for p in provinces.periods[code] if p.period == period)
        return provinces.at(course_province, day) if course_province is not None else None

    rows["where"] = [place(a, p, d) for a, p, d in zip(rows.agency_code, rows.province_code, rows.last_day,
                                                        strict=True)]
    arrivals: dict[tuple[str, str, str], int] = {}
    for where, category, day in zip(rows["where"], rows.category, rows.last_day, strict=True):
        if where is None:
            continue
        for key in [("current", where.current_code, category)] + (
                [("legacy", where.code, category)] if where.period == "legacy" else []):
            arrivals[key] = min(arrivals.get(key, 9999), day.year)
    in_scheme = pd.Series([d >= first_day for d in rows.last_day], index=rows.index)
    done = rows[(rows.completed == True) & in_scheme]  # noqa: E712
    done = done.sort_values(["last_day", "course_id", "file_id", "row_number"]).drop_duplicates(
        ["person_key", "category"])
    persons = pd.DataFrame({
        "category": done.category, "year": [d.year for d in done.last_day],
        "current_code": [w.current_code if w else None for w in done["where"]],
        "legacy_code": [w.code if w and w.period == "legacy" else None for w in done["where"]],
    })
    return persons, arrivals


def recompute(conn: psycopg.Connection, seeds: Path) -> pd.DataFrame:
    provinces = Provinces(seeds)
    indicators = _seed(seeds, "ref_indicators")
    measures = _seed(seeds, "ref_measures")
    rules = _seed(seeds, "ref_national_rules").set_index("national_rule")
    targets = _seed(seeds, "ref_indicator_targets")
    kinds = _seed(seeds, "ref_agency_kinds")
    years = range(int(indicators.baseline_year.min()), int(indicators.target_year.max()) + 1)
    first_day = date(years[0], 1, 1)

    register = _register(conn, kinds, provinces)
    in_scope = _in_scope(register, years)
    lines = _latest_lines(conn, measures, provinces)
    located = _located(lines)
    persons, arrivals = _training(conn, register, provinces, first_day)
    known_measures = set(measures.measure_code)
    upr = _upr_codes(seeds)

    registered = {(r.series, r.province_code, r.year) for r in in_scope.itertuples()}
    areas = [("current", p) for p in provinces.current]

    out = []
    for ind in indicators.itertuples():
        numerator = [m.strip() for m in ind.numerator_measure.split("+") if m.strip() in known_measures]
        denominator = [m.strip() for m in ind.denominator_measure.split("+") if m.strip() in known_measures]
        cumulative = ind.is_cumulative == "true"
        category = ind.numerator_measure.split(":", 1)[1] if ind.numerator_measure.startswith("trainees_completed:") \
            else None
        cells: dict[tuple[str, int], dict] = {}

        def sums(series: str, code: str, measure_list: list[str], year: int) -> tuple[float, int]:
            part = located[(located.series == series) & (located.province_code == code) & (located.year == year)
                           & located.measure_code.isin(measure_list)]
            return float(part.value.sum()), len(part)

        for series, code in areas:
            to_date_num = to_date_den = 0.0
            held = 0.0
            for year in years:
                cell = {"numerator": None, "denominator": None, "has_data": False}
                if category is not None:
                    headcount, rows_used = sums(series, code, denominator, year)
                    arrived = arrivals.get((series, code, category), 9999) <= year
                    if rows_used > 0 and arrived:
                        count = ((persons.category == category) & (persons.current_code == code)
                                 & (persons.year <= year if cumulative else persons.year == year)).sum()
                        cell.update(numerator=float(count), denominator=headcount, has_data=True)
                elif ind.denominator_measure == "agencies_in_scope":
                    scope = in_scope[(in_scope.series == series) & (in_scope.province_code == code)
                                     & (in_scope.year == year) & in_scope.is_expected & in_scope.is_state_administrative]
                    flags = lines[(lines.year == year) & lines.measure_code.isin(numerator)]
                    flags = flags.groupby("agency_code").value.max()
                    reported = [flags[a] for a in scope.agency_code if a in flags.index]
                    cell["scope"] = (sum(1 for f in reported if f >= 1), len(scope))
                    if reported:
                        cell.update(numerator=float(cell["scope"][0]), denominator=float(len(scope)), has_data=True)
                elif ind.denominator_measure == "provinces_in_scope":
                    value, rows_used = sums(series, code, numerator, year)
                    held += value
                    cell["held"] = 1.0 if held >= 1 else 0.0
                    if rows_used > 0:
                        cell.update(numerator=cell["held"], denominator=1.0, has_data=True)
                elif ind.unit == "status":
                    cell["has_data"] = bool(((lines.current_code == code) & (lines.year == year)
                                             & lines.task_code.isin(upr) & lines.measure_code.isin(numerator)).any())
                else:
                    num, num_rows = sums(series, code, numerator, year)
                    den, den_rows = sums(series, code, denominator, year)
                    to_date_num += num
                    to_date_den += den
                    cell["counted"] = (to_date_num if cumulative else num, to_date_den if cumulative else den)
                    if num_rows > 0 and (not denominator or den_rows > 0):
                        cell.update(numerator=cell["counted"][0], denominator=cell["counted"][1] if denominator
                                    else None, has_data=True)
                cells[(code, year)] = cell

        # the nation, by the indicator's national rule
        for year in years:
            province_cells = [cells[(code, year)] for _, code in areas]
            with_data = [c for c in province_cells if c["has_data"]]
            cell = {"numerator": None, "denominator": None, "has_data": bool(with_data)}
            if ind.national_rule == "ratio_of_sums" and with_data:
                cell.update(numerator=sum(c["numerator"] for c in with_data),
                            denominator=sum(c["denominator"] for c in with_data))
            elif ind.national_rule == "share_of_all_provinces" and with_data:
                cell.update(numerator=sum(c["held"] for c in province_cells), denominator=float(len(province_cells)))
            elif ind.national_rule == "sum_of_provinces" and with_data:
                cell.update(numerator=sum(c["counted"][0] for c in province_cells))
            elif ind.national_rule == "lowest_reported_status":
                cell.update(_recommendations(lines, upr, numerator, measures, year))
            cells[(NATIONAL, year)] = cell

        for (code, year), cell in cells.items():
            cell.update(_completeness(ind, code, year, cells, in_scope, lines, numerator + denominator, registered,
                                      provinces.current))
            value = None
            if cell["numerator"] is not None:
                if ind.unit == "percent":
                    value = 100 * cell["numerator"] / cell["denominator"] if cell["denominator"] else None
                elif ind.unit == "status":
                    value = cell["lowest"]
                else:
                    value = cell["numerator"]
            cell["value"] = value
        _judge(ind, cells, targets, rules, years)
        for (code, year), cell in cells.items():
            out.append({"indicator_code": ind.indicator_code, "province_code": code, "year": year,
                        **{k: v for k, v in cell.items() if k in COMPARED}})
    return pd.DataFrame(out).set_index(["indicator_code", "province_code", "year"]).sort_index()


COMPARED = (
    "numerator", "denominator", "value", "status", "has_register", "agencies_reported", "agencies_expected",
    "completeness_rate", "provinces_reporting", "provinces_with_register", "provinces_total", "coverage_rate",
    "target_operator", "target_value", "target_value_high", "baseline_year", "baseline_value", "trajectory_value",
)


def mart_differences(conn: psycopg.Connection, seeds: Path) -> tuple[dict[tuple, dict], list[str]]:
    """The rows of ``marts.fct_indicator_progress`` by (indicator, province, year), and every cell
    where they differ from :func:`recompute`, named ``indicator/province/year column``."""
    expected = recompute(conn, seeds)
    cur = conn.execute(
        f"select indicator_code, province_code, year, {', '.join(COMPARED)} from marts.fct_indicator_progress"
    )
    names = [c.name for c in cur.description]
    mart = {tuple(row[:3]): dict(zip(names[3:], row[3:], strict=True)) for row in cur.fetchall()}
    differences = [f"{'/'.join(map(str, key))}: only in the mart" for key in set(mart) - set(expected.index)]
    differences += [f"{'/'.join(map(str, key))}: only in pandas" for key in set(expected.index) - set(mart)]
    for key in sorted(set(mart) & set(expected.index)):
        other = expected.loc[key]
        for column in COMPARED:
            if not _same(mart[key][column], other[column]):
                differences.append(
                    f"{'/'.join(map(str, key))} {column}: mart {mart[key][column]!r}, pandas {other[column]!r}"
                )
    return mart, differences


def _same(mart, pandas) -> bool:
    missing = pandas is None or (isinstance(pandas, float) and math.isnan(pandas))
    if mart is None or missing:
        return mart is None and missing
    if isinstance(mart, str | bool) or isinstance(pandas, str):
        return mart == pandas
    return math.isclose(float(mart), float(pandas), rel_tol=1e-9, abs_tol=1e-9)


def _upr_codes(seeds: Path) -> set[str]:
    import re

    macro = (seeds.parent / "macros" / "upr_recommendation_task_codes.sql").read_text(encoding="utf-8")
    body = macro.split("macro upr_recommendation_task_codes()", 1)[1]
    return set(re.findall(r"'([^']+)'", body))


def _recommendations(lines, upr, numerator, measures, year) -> dict:
    scale = measures.set_index("measure_code").loc[numerator[0]]
    lowest, highest = float(scale.min_value), float(scale.max_value)
    statuses = lines[lines.task_code.isin(upr) & lines.measure_code.isin(numerator) & (lines.year <= year)]
    best = statuses.groupby(["task_code", "year"]).value.max().reset_index()
    latest = best.sort_values("year").drop_duplicates("task_code", keep="last").set_index("task_code")
    if not (latest.year == year).any():
        return {"has_data": False}
    status = [latest.value.get(code, lowest) for code in sorted(upr)]
    return {"has_data": True, "lowest": min(status), "numerator": float(sum(s >= highest for s in status)),
            "denominator": float(len(status))}


def _completeness(ind, code, year, cells, in_scope, lines, measure_list, registered, current) -> dict:
    if code == NATIONAL:
        with_register = [p for p in current if ("current", p, year) in registered]
        reporting = [p for p in with_register if cells[(p, year)]["has_data"]]
        counts = [cells[(p, year)]["agencies"] for p in with_register]
        reported = sum(c[0] for c in counts) if counts else 0
        expected = sum(c[1] for c in counts) if counts else 0
        has_register = bool(with_register)
        out = {"provinces_reporting": len(reporting), "provinces_with_register": len(with_register),
               "provinces_total": len(current), "coverage_rate": 100 * len(reporting) / len(current)}
    else:
        has_register = ("current", code, year) in registered
        scope = in_scope[(in_scope.series == "current") & (in_scope.province_code == code) & (in_scope.year == year)
                         & in_scope.is_expected]
        if ind.denominator_measure == "agencies_in_scope":
            scope = scope[scope.is_state_administrative]
        reporters = set(lines[(lines.year == year) & lines.measure_code.isin(measure_list)].agency_code)
        reported = sum(a in reporters for a in scope.agency_code)
        expected = len(scope)
        cells[(code, year)]["agencies"] = (reported, expected)
        out = {"provinces_reporting": None, "provinces_with_register": None, "provinces_total": None,
               "coverage_rate": None}
    if ind.unit == "status" or not has_register:
        reported = expected = None
    return {**out, "has_register": has_register, "agencies_reported": reported, "agencies_expected": expected,
            "completeness_rate": 100 * reported / expected if expected else None}


def _judge(ind, cells, targets, rules, years) -> None:
    """Target, baseline, trajectory and status of every cell of one indicator."""
    national_only = ind.target_scope_default == "national"
    national_target = targets[(targets.indicator_code == ind.indicator_code) & (targets.scope == "national")
                              & (targets.target_year == ind.target_year)]
    target = national_target.iloc[0] if len(national_target) else None
    target_year = int(ind.target_year)
    min_coverage = float(rules.loc[ind.national_rule, "min_coverage_percent"])
    for code in {c for c, _ in cells}:
        applies = target is not None and (code == NATIONAL or not national_only)
        operator = target.target_operator if applies else None
        low = float(target.target_value) if applies else None
        high = float(target.target_value_high) if applies and target.target_value_high else None
        baseline = next(((y, cells[(code, y)]["value"]) for y in years
                         if y >= int(ind.baseline_year) and cells[(code, y)]["value"] is not None), (None, None))
        for year in years:
            cell = cells[(code, year)]
            value = cell["value"]
            trajectory = None
            if applies and baseline[0] is not None and year >= baseline[0]:
                base = baseline[1]
                end = low if operator != "between" else (low if base < low else high if base > high else base)
                trajectory = end if target_year <= baseline[0] else \
                    base + (end - base) * (year - baseline[0]) / (target_year - baseline[0])
            cell.update(target_operator=operator, target_value=low, target_value_high=high,
                        baseline_year=baseline[0], baseline_value=baseline[1], trajectory_value=trajectory)
            if code != NATIONAL and national_only:
                status = "not applicable"
            elif not cell["has_register"]:
                status = "no register"
            elif value is None:
                status = "no data"
            elif code == NATIONAL and (cell["coverage_rate"] or 0) < min_coverage:
                status = "insufficient coverage"
            elif operator is None:
                status = "not applicable"
            else:
                met = {">=": value >= low, ">": value > low, "<=": value <= low, "<": value < low,
                       "between": high is not None and low <= value <= high}[operator]
                up = operator in (">=", ">") or (operator == "between" and value < low)
                if met:
                    status = "achieved"
                elif year < target_year and ((up and value >= trajectory) or (not up and value <= trajectory)):
                    status = "on track"
                elif (up and value >= 0.9 * trajectory) or (not up and value <= 1.1 * trajectory):
                    status = "at risk"
                else:
                    status = "off track"
            cell["status"] = status
