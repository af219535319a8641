"""Write the reference seeds of the warehouse into ``dbt_project/seeds/``.

    python -m planwh.reference.build_seeds           # (re)write the seed CSVs
    python -m planwh.reference.build_seeds --check   # exit 1, naming the stale files, without writing

Province lists and the merger mapping come from the installed ``vietnamadminunits`` and
``vietnam-provinces`` packages (see :mod:`planwh.reference.provinces`); the catalogues of the plan
come from :mod:`planwh.reference.catalogue`. Output is deterministic (UTF-8 without BOM, LF line
endings, provinces sorted by code, catalogues in the order of the source documents), so the
committed files can be checked against a fresh build byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from planwh.reference import catalogue as cat
from planwh.reference.provinces import Province, ascii_name, load_provinces
from planwh.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"

PROVINCE_COLUMNS = (
    "province_code", "province_name", "province_name_full", "province_name_ascii", "province_kind",
    "valid_from", "valid_to",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "ref_provinces_legacy": PROVINCE_COLUMNS,
    "ref_provinces_current": PROVINCE_COLUMNS,
    "ref_province_mapping": ("legacy_province_code", "current_province_code", "effective_date"),
    "ref_indicators": (
        "indicator_code", "name_vi", "short_name_vi", "name_en", "unit", "numerator_measure", "denominator_measure",
        "measure_rule", "is_cumulative", "direction", "target_operator", "target_value",
        "target_value_high", "target_scope_default", "national_rule", "baseline_year", "target_year",
        "source_reference",
    ),
    "ref_national_rules": ("national_rule", "label_vi", "label_en", "description", "min_coverage_percent"),
    "ref_indicator_targets": (
        "indicator_code", "scope", "province_code", "target_year", "target_operator", "target_value",
        "target_value_high", "source_document", "note",
    ),
    "ref_plan_tasks": (
        "task_code", "group_code", "group_name_vi", "group_name_en", "title_vi", "title_en", "lead_units",
        "partner_units", "duty_field", "start_year", "end_year", "reporting_frequency",
    ),
    "ref_plan_units": ("unit_name", "resolution", "agency_kinds", "name_pattern", "note"),
    "ref_plan_task_duties": ("task_code", "duty_role", "unit_position", "unit_name"),
    "ref_duty_transfers": ("from_unit", "duty_field", "to_unit", "effective_from", "note"),
    "ref_measures": (
        "measure_code", "name_vi", "name_en", "value_kind", "min_value", "max_value", "requires_task_code",
        "is_headcount",
    ),
    "ref_trainee_categories": (
        "category_code", "label_vi", "label_vi_aliases", "label_en", "indicator_code", "headcount_measure",
    ),
    "ref_languages": ("language_code", "name_vi", "name_en", "language_kind"),
    "ref_agency_kinds": (
        "agency_kind", "label_vi", "label_en", "is_state_administrative", "exists_from", "exists_to",
    ),
    "ref_reporting_calendar": ("frequency", "period_kind", "deadline_rule", "deadline_month", "deadline_day"),
}

LIST_SEPARATOR = ";"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


def _province_rows(provinces: Iterable[Province], valid_from: str, valid_to: str | None) -> list[dict]:
    return [
        {
            "province_code": p.code,
            "province_name": p.name,
            "province_name_full": p.name_full,
            "province_name_ascii": ascii_name(p.name),
            "province_kind": p.kind,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        for p in provinces
    ]


def _indicator_rows() -> list[dict]:
    return [
        {
            **row,
            "baseline_year": cat.BASELINE_YEAR,
            "target_year": cat.TARGET_YEAR,
            "source_reference": cat.INDICATOR_SOURCE_REFERENCE,
        }
        for row in cat.INDICATORS
    ]


def _target_rows() -> list[dict]:
    def row(target: tuple, scope: str, province_code: str | None, source: str) -> dict:
        indicator_code, operator, value, value_high, note = target
        return {
            "indicator_code": indicator_code,
            "scope": scope,
            "province_code": province_code,
            "target_year": cat.TARGET_YEAR,
            "target_operator": operator,
            "target_value": value,
            "target_value_high": value_high,
            "source_document": source,
            "note": note,
        }

    rows = [row(target, "national", None, cat.DECISION_1079) for target in cat.NATIONAL_TARGETS]
    for province_code in sorted(cat.PROVINCE_TARGETS):
        source, targets = cat.PROVINCE_TARGETS[province_code]
        rows.extend(row(target, "province", province_code, source) for target in targets)
    return rows


def _task_rows() -> list[dict]:
    rows = []
    for code, title_vi, title_en, leads, partners, duty_field, frequency in cat.TASKS:
        group = code.split(".")[0]
        group_vi, group_en = cat.TASK_GROUPS[group]
        rows.append({
            "task_code": code,
            "group_code": group,
            "group_name_vi": group_vi,
            "group_name_en": group_en,
            "title_vi": title_vi,
            "title_en": title_en,
            "lead_units": leads,
            "partner_units": partners,
            "duty_field": duty_field,
            "start_year": cat.BASELINE_YEAR,
            "end_year": cat.TARGET_YEAR,
            "reporting_frequency": frequency,
        })
    return rows


def _duty_rows() -> list[dict]:
    """One row per unit the annex names for a task, leads first, in the annex's order."""
    rows = []
    for code, _, _, leads, partners, _, _ in cat.TASKS:
        for role, units in (("lead", leads), ("partner", partners)):
            rows.extend(
                {"task_code": code, "duty_role": role, "unit_position": position, "unit_name": unit}
                for position, unit in enumerate(units, start=1)
            )
    return rows


def _measure_rows() -> list[dict]:
    return [
        {
            **row,
            "requires_task_code": row["measure_code"] == "task_status",
            "is_headcount": row["measure_code"].startswith("staff_"),
        }
        for row in cat.MEASURES
    ]


def build_rows() -> dict[str, list[dict]]:
    """Every seed's rows, by seed name, in output order."""
    provinces = load_provinces()
    return {
        "ref_provinces_legacy": _province_rows(provinces.legacy, cat.LEGACY_VALID_FROM, cat.LAST_LEGACY_DAY),
        "ref_provinces_current": _province_rows(provinces.current, cat.MERGER_DATE, None),
        "ref_province_mapping": [
            {"legacy_province_code": legacy, "current_province_code": current, "effective_date": cat.MERGER_DATE}
            for legacy, current in provinces.mapping.items()
        ],
        "ref_indicators": _indicator_rows(),
        "ref_indicator_targets": _target_rows(),
        "ref_national_rules": [dict(row) for row in cat.NATIONAL_RULES],
        "ref_plan_tasks": _task_rows(),
        "ref_plan_units": [dict(row) for row in cat.PLAN_UNITS],
        "ref_plan_task_duties": _duty_rows(),
        "ref_duty_transfers": [dict(row) for row in cat.DUTY_TRANSFERS],
        "ref_measures": _measure_rows(),
        "ref_trainee_categories": [dict(row) for row in cat.TRAINEE_CATEGORIES],
        "ref_languages": [
            dict(zip(COLUMNS["ref_languages"], row, strict=True)) for row in cat.LANGUAGES
        ],
        "ref_agency_kinds": [dict(row) for row in cat.AGENCY_KINDS],
        "ref_reporting_calendar": [
            dict(zip(COLUMNS["ref_reporting_calendar"], row, strict=True)) for row in cat.REPORTING_CALENDAR
        ],
    }


def render_csv(name: str, rows: Iterable[Mapping[str, object]]) -> bytes:
    """The bytes of one seed: header and rows in the declared column order, UTF-8, LF."""
    columns = COLUMNS[name]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for number, row in enumerate(rows, start=1):
        if set(row) != set(columns):
            raise ValueError(
                f"{name}.csv row {number}: columns {sorted(set(row) ^ set(columns))} do not match the seed's "
                "declared columns"
            )
        cells = [_cell(row[column]) for column in columns]
        for column, value in zip(columns, cells, strict=True):
            if "\n" in value or "\r" in value:
                raise ValueError(f"{name}.csv row {number}, column {column}: line break in value")
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def build_all(out_dir: Path) -> dict[str, Path]:
    """Write every seed CSV into ``out_dir``; return the paths by seed name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, rows in build_rows().items():
        path = out_dir / f"{name}.csv"
        path.write_bytes(render_csv(name, rows))
        written[name] = path
    return written


def stale_files(seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """File names in ``seeds_dir`` that are missing or differ from a fresh build."""
    with tempfile.TemporaryDirectory(prefix="planwh-seeds-") as tmp:
        fresh = build_all(Path(tmp))
        stale = []
        for path in fresh.values():
            committed = Path(seeds_dir) / path.name
            if not committed.is_file() or committed.read_bytes() != path.read_bytes():
                stale.append(path.name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m planwh.reference.build_seeds",
        description="Generate the reference seeds (provinces, indicators, targets, tasks, catalogues).",
    )
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk and exit 1 if any differs; write nothing")
    parser.add_argument("--out-dir", type=Path, default=SEEDS_DIR, help=f"seed folder (default {SEEDS_DIR})")
    args = parser.parse_args(argv)

    if args.check:
        stale = stale_files(args.out_dir)
        if stale:
            print(f"reference seeds out of date in {args.out_dir}: {', '.join(stale)}", file=sys.stderr)
            print("regenerate them with: python -m planwh.reference.build_seeds", file=sys.stderr)
            return 1
        print(f"reference seeds in {args.out_dir} are up to date ({len(COLUMNS)} files)")
        return 0

    for path in build_all(args.out_dir).values():
        rows = path.read_bytes().count(b"\n") - 1
        print(f"wrote {path} ({rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
