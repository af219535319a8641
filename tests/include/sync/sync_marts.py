"""Hand-made marts for the sync tests, with the column names and types the dbt YAML declares.

``create_marts`` reads each mart's columns from ``dbt_project/models/marts/**/_*__models.yml``
(so a renamed mart column breaks these tests the way it would break the sync) and creates the
tables in schema ``marts``; ``Marts`` holds a small dataset as dicts, written with ``write``.
Columns the YAML declares without a type take the type the sync maps them to, else text.

The dataset: three indicators x (national 00, Hà Nội 01, Đà Nẵng 48) x 2023-2025, two of them
for the legacy provinces 01 and 49 (Quảng Nam, now part of 48), compliance (annual and quarterly
reports) and training coverage (two categories) for 01 and 48, the metadata of the three
indicators and of the second training one, and five provinces (two current, three legacy). Personal data of a test roster sits where a careless sync could pick
it up: raw tables, the quarantine, and mart columns that are not shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from planwh.ingest.schema import ensure_schema as ensure_ingest_schema
from planwh.sync.contract import SHARED_TABLES

REPO = Path(__file__).resolve().parents[3]
MARTS_DIR = REPO / "dbt_project" / "models" / "marts"
MARTS = ("fct_indicator_progress", "fct_indicator_progress_legacy", "fct_submission_compliance_by_province",
         "fct_training_coverage", "dim_indicator", "dim_province", "fct_indicator_sources")

# The test roster's personal data: none of it may reach the national database or a package.
NAMES = ("Nguyễn Thị Hoa", "Trần Văn Bình", "Nguyen Thi Hoa")
NATIONAL_IDS = ("049187004321", "001090012345")
PERSON_KEYS = tuple(hashlib.sha256(f"roster person {i}".encode()).hexdigest() for i in (1, 2))

INDICATORS = ("books_published", "spokesperson_mechanism", "trained_hr_officials")
AREAS = ("00", "01", "48")
YEARS = (2023, 2024, 2025)


def _declared_columns() -> dict[str, list[tuple[str, str | None]]]:
    found: dict[str, list[tuple[str, str | None]]] = {}
    for path in sorted(MARTS_DIR.rglob("_*__models.yml")):
        for model in (yaml.safe_load(path.read_text("utf-8")) or {}).get("models", []):
            found[model["name"]] = [(c["name"], c.get("data_type")) for c in model.get("columns", [])]
    return found


def mart_columns(mart: str) -> list[tuple[str, str]]:
    """(column, type) of a mart as declared; the sync's mapping when the mart is not declared yet."""
    mapped = {c.source: c.type for t in SHARED_TABLES if t.mart == mart for c in t.columns}
    declared = _declared_columns().get(mart)
    if declared is None:
        return list(mapped.items())
    return [(name, data_type or mapped.get(name, "text")) for name, data_type in declared]


def create_marts(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists marts")
    for mart in MARTS:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(data_type)) for name, data_type in mart_columns(mart)
        )
        conn.execute(sql.SQL("create table marts.{} ({})").format(sql.Identifier(mart), columns))
    conn.commit()


def plant_personal_data(conn: psycopg.Connection) -> None:
    """The roster's names, ID numbers and person keys in raw, quarantine and unshared mart columns."""
    ensure_ingest_schema(conn)
    file_id = conn.execute(
        "insert into landing.files (source, original_name, size_bytes, received_at, status) "
        "values ('rosters', %s, 100, %s, 'received') returning file_id",
        (f"danh-sach-{NAMES[2].replace(' ', '-')}.xlsx", datetime(2024, 3, 15, tzinfo=UTC)),
    ).fetchone()[0]
    for i, key in enumerate(PERSON_KEYS, start=1):
        conn.execute(
            "insert into raw.training_attendance (file_id, row_number, course_id, person_key, category) "
            "values (%s, %s, 'DN-2024-01', %s, 'hr_official')",
            (file_id, i, key),
        )
    conn.execute(
        "insert into quarantine.rejected_rows (file_id, row_number, column_name, value, reason_code, message) "
        "values (%s, 3, 'national_id', %s, 'bad_id', %s)",
        (file_id, NATIONAL_IDS[1], f"{NAMES[1]}: số CCCD không hợp lệ"),
    )
    conn.execute(
        "update marts.fct_indicator_progress set target_source_document = %s",
        (f"Kế hoạch 9034/KH-UBND, đầu mối {NAMES[0]} (CCCD {NATIONAL_IDS[0]}, mã {PERSON_KEYS[0]})",),
    )
    conn.execute(
        "insert into marts.fct_indicator_sources (indicator_code, series, province_code, year, source_kind, "
        "file_id, original_name) values ('trained_hr_officials', 'current', '48', 2024, 'course', %s, %s)",
        (file_id, f"{NAMES[1]} {NATIONAL_IDS[1]}.xlsx"),
    )
    conn.commit()


class Marts:
    """The dataset, one list of dicts per mart; unspecified columns are NULL."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {mart: [] for mart in MARTS if mart != "fct_indicator_sources"}
        units = {"books_published": "count", "spokesperson_mechanism": "percent", "trained_hr_officials": "percent"}
        for n, (indicator, area, year) in enumerate(
            (i, a, y) for i in INDICATORS for a in AREAS for y in YEARS
        ):
            percent = units[indicator] == "percent"
            value = Decimal(10 + 7 * n) / (Decimal(3) if percent else Decimal(1))
            self.rows["fct_indicator_progress"].append({
                "indicator_code": indicator, "scope": "national" if area == "00" else "province",
                "province_key": None if area == "00" else f"current:{area}", "province_code": area,
                "province_name": {"00": "Toàn quốc", "01": "Hà Nội", "48": "Đà Nẵng"}[area], "year": year,
                "numerator": value if not percent else Decimal(10 + 7 * n), "denominator": 3 if percent else None,
                "value": value, "unit": units[indicator],
                "target_scope": None if indicator == "books_published" and area != "00" else "national",
                "target_operator": ">=", "target_value": Decimal(1000 if indicator == "books_published" else 100),
                "target_year": 2028, "baseline_year": 2023, "baseline_value": Decimal("1.50"),
                "trajectory_value": Decimal("20.000"), "status": ("on track", "at risk", "no data")[n % 3],
                "agencies_reported": n % 4, "agencies_expected": 4, "completeness_rate": Decimal(25 * (n % 4)),
            })
        for n, (indicator, area, year) in enumerate(
            (i, a, y) for i in INDICATORS[1:] for a in ("01", "49") for y in YEARS
        ):
            value = None if n % 4 == 3 else Decimal(100 * (n + 1)) / Decimal(7)
            self.rows["fct_indicator_progress_legacy"].append({
                "indicator_code": indicator, "province_key": f"legacy:{area}", "province_code": area,
                "province_name": {"01": "Hà Nội", "49": "Quảng Nam"}[area],
                "current_province_code": {"01": "01", "49": "48"}[area], "year": year,
                "numerator": None if value is None else Decimal(100 * (n + 1)),
                "denominator": None if value is None else 700, "value": value, "unit": "percent",
                "target_scope": "province" if area == "49" else "national", "target_operator": ">=",
                "target_value": Decimal(90 if area == "49" else 100), "target_year": 2028,
                "target_source_document": "Kế hoạch 9034/KH-UBND" if area == "49" else "QĐ 1079/QĐ-TTg",
                "baseline_year": 2023, "baseline_value": Decimal("14.285714285714285714"),
                "trajectory_value": Decimal("30.5"), "status": "no data" if value is None else "achieved",
                "agencies_reported": None if value is None else 3, "agencies_expected": 7,
                "completeness_rate": None if value is None else Decimal("42.857142857142857143"),
            })
        for area in ("01", "48"):
            for year in YEARS:
                for kind, owed in (("year", 10), ("quarter", 0)):
                    received = year - 2016 if owed else 0
                    self.rows["fct_submission_compliance_by_province"].append({
                        "scope": "province", "province_key": f"current:{area}", "province_code": area,
                        "year": year, "period_kind": kind, "expected": owed, "received": received,
                        "on_time": received - 2 if owed else 0, "received_late": 2 if owed else 0,
                        "not_received": owed - received, "received_not_expected": 1,
                        "completeness_rate": Decimal(10 * received) if owed else None,
                        "timeliness_rate": Decimal(10 * (received - 2)) if owed else None,
                    })
                for category in ("hr_official", "info_official"):
                    self.rows["fct_training_coverage"].append({
                        "category_code": category, "indicator_code": f"trained_{category}s", "scope": "province",
                        "province_key": f"current:{area}", "province_code": area, "year": year,
                        "trainees_new_in_year": 1, "trainees_cumulative": year - 2022, "headcount": Decimal(20),
                        "headcount_agencies": 2, "coverage_rate": Decimal(5 * (year - 2022)),
                    })
        for indicator in (*INDICATORS, "trained_info_officials"):
            self.rows["dim_indicator"].append({
                "indicator_code": indicator, "name_vi": f"Chỉ tiêu {indicator}", "name_en": indicator.replace("_", " "),
                "unit": units.get(indicator, "percent"), "direction": "increase", "is_cumulative": indicator != "spokesperson_mechanism",
                "computation": "measure_sum", "target_operator": ">=", "target_value": Decimal(100),
                "target_label": ">= 100 %", "target_scope_default": "province", "baseline_year": 2023,
                "target_year": 2028, "source_reference": "QĐ 1079/QĐ-TTg",
            })
        for period, code, name, current, valid_to in (
            ("current", "01", "Hà Nội", "01", None), ("current", "48", "Đà Nẵng", "48", None),
            ("legacy", "01", "Hà Nội", "01", date(2025, 6, 30)), ("legacy", "48", "Đà Nẵng", "48", date(2025, 6, 30)),
            ("legacy", "49", "Quảng Nam", "48", date(2025, 6, 30)),
        ):
            self.rows["dim_province"].append({
                "province_key": f"{period}:{code}", "province_code": code, "province_period": period,
                "province_name": name, "province_name_full": f"Tỉnh {name}", "province_kind": "province",
                "is_current": period == "current", "valid_from": date(2025, 7, 1) if period == "current" else date(2008, 8, 1),
                "valid_to": valid_to, "current_province_code": current,
                "current_province_name": {"01": "Hà Nội", "48": "Đà Nẵng"}[current],
            })

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def find(self, mart: str, **key) -> dict:
        return next(r for r in self.rows[mart] if all(r[k] == v for k, v in key.items()))

    def write(self, conn: psycopg.Connection) -> None:
        """Replace the marts' contents with the dataset (as a dbt build would)."""
        for mart, rows in self.rows.items():
            names = [name for name, _ in mart_columns(mart)]
            conn.execute(sql.SQL("delete from marts.{}").format(sql.Identifier(mart)))
            if not rows:
                continue
            statement = sql.SQL("insert into marts.{} ({}) values ({})").format(
                sql.Identifier(mart),
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
            )
            with conn.cursor() as cur:
                cur.executemany(statement, [[row.get(name) for name in names] for row in rows])
        conn.commit()


def scan_for_personal_data(blobs: Iterator[tuple[str, bytes]]) -> list[str]:
    """Where any name, ID number or person key of the test roster appears (case-insensitive)."""
    needles = [s.casefold() for s in (*NAMES, *NATIONAL_IDS, *PERSON_KEYS)]
    hits = []
    for where, blob in blobs:
        text = blob.decode("utf-8", errors="replace").casefold()
        hits += [f"{where}: {needle}" for needle in needles if needle in text]
    return hits
