"""A package as SDMX tools read it: sdmx1 and pysdmx, with the structure the package carries.

Each reader's values are compared, observation by observation, with the marts the package was
exported from: codes stay text (``01`` is not ``1``), a missing value is SDMX's missing value,
every coded value is a code of the codelist the structure names.
"""

from __future__ import annotations

import importlib.util
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import sdmx
from psycopg.rows import dict_row
from pysdmx.io import get_datasets, read_sdmx
from sync_marts import Marts

from planwh.settings import Settings, load_settings
from planwh.sync import export_package
from planwh.sync.contract import SHARED_TABLES, SharedTable
from planwh.sync.sdmx import STRUCTURE_FILE

REPO_ROOT = Path(__file__).resolve().parents[3]
CODELISTS = {"CL_INDICATOR", "CL_PROVINCE", "CL_PROVINCE_LEGACY", "CL_SERIES", "CL_UNIT", "CL_PROGRESS_STATUS",
             "CL_REPORT_PERIOD_KIND"}


def expected(table: SharedTable, marts: Marts | dict[str, list[dict]]) -> dict[tuple[str, ...], dict[str, object]]:
    """Key (as text) -> header -> the mart's value as published (a code, a number or None)."""
    found = {}
    for row in (marts.rows if isinstance(marts, Marts) else marts)[table.mart]:
        values: dict[str, object] = {}
        for column in table.columns:
            value = row.get(column.source)
            if value is not None and column.code_map:
                value = column.code_map[value]
            elif isinstance(value, bool):
                value = str(value).lower()
            elif value is not None and column.type != "numeric":
                value = str(value)
            values[column.header] = value
        found[tuple(values[c.header] for c in table.key)] = values
    return found


def assert_same(
    table: SharedTable, reader: str, observed: dict[tuple, dict[str, object]], marts: Marts | dict[str, list[dict]]
) -> None:
    """Every observation and value a reader found equals the mart's."""
    wanted = expected(table, marts)
    assert set(observed) == set(wanted), f"{reader}, {table.name}: keys differ"
    for key, values in wanted.items():
        for column in table.columns:
            want, got = values[column.header], observed[key].get(column.header)
            where = f"{reader}, {table.name} {key}, {column.header}"
            if column.type == "numeric":
                if want is None:
                    assert got is None or (isinstance(got, float | str) and math.isnan(float(got))), where
                else:
                    assert got is not None and math.isclose(float(got), float(want), rel_tol=1e-12), where
            elif want is None:
                # SDMX-CSV's marker (sdmx1), or absent from the XML (pysdmx fills text with '')
                assert got in (None, "#N/A", ""), f"{where}: {got!r}"
            elif column.type in ("integer", "boolean", "date") and not isinstance(got, str):
                # pysdmx types the columns after the structure's Integer, Boolean and GregorianDay
                assert str(got).lower() == want, f"{where}: {got!r} != {want!r}"
            else:
                # codes and text exactly: the province 01 is not 1
                assert got == want, f"{where}: {got!r} != {want!r}"


def from_sdmx1(message, table: SharedTable) -> dict[tuple, dict[str, object]]:
    (dataset,) = message.data
    found = {}
    for obs in dataset.obs:
        values: dict[str, object] = {k: v.value for k, v in obs.dimension.values.items()}
        values["OBS_VALUE"] = obs.value
        values.update({k: v.value for k, v in obs.attached_attribute.items()})
        found[tuple(values[c.header] for c in table.key)] = values
    return found


def from_pysdmx(dataset, table: SharedTable) -> dict[tuple, dict[str, object]]:
    """Records of the dataset's frame; pysdmx types the columns after the structure (pyarrow)."""
    found = {}
    for record in dataset.data.to_dict("records"):
        values = {k: None if pd.isna(v) else v for k, v in record.items()}
        found[tuple(values[c.header] for c in table.key)] = values
    return found


@pytest.fixture
def package(settings: Settings, marts: Marts, tmp_path: Path) -> Path:
    return export_package(settings, tmp_path / "package").directory


def test_sdmx1_reads_the_structure_and_every_file_of_a_package_as_the_marts_hold_them(
    package: Path, marts: Marts
) -> None:
    # WHEN sdmx1 reads the package's structure
    structure = sdmx.read_sdmx(package / STRUCTURE_FILE)

    # THEN it finds the codelists, named in Vietnamese and English, and a dataflow per table
    assert CODELISTS <= set(structure.codelist)
    provinces = structure.codelist["CL_PROVINCE"]
    assert provinces["01"].name.localizations == {"vi": "Hà Nội", "en": "Hà Nội"}
    assert provinces["00"].name.localizations["vi"] == "Toàn quốc"
    assert set(structure.codelist["CL_PROVINCE_LEGACY"].items) == {"01", "48", "49"}
    assert structure.codelist["CL_INDICATOR"]["trained_hr_officials"].name.localizations["vi"] == (
        "Chỉ tiêu trained_hr_officials")
    assert structure.codelist["CL_PROGRESS_STATUS"]["on_track"].name.localizations == {
        "vi": "Đúng lộ trình", "en": "On track"}
    assert {t.dataflow_id for t in SHARED_TABLES} == set(structure.dataflow)
    legacy_area = structure.structure["DSD_INDICATOR_VALUES_LEGACY"].dimensions.get("REF_AREA")
    assert legacy_area.local_representation.enumerated.id == "CL_PROVINCE_LEGACY"

    for table in SHARED_TABLES:
        dataflow = structure.dataflow[table.dataflow_id]
        dsd = dataflow.structure
        for path in (package / table.file_name, package / f"{table.name}.xml"):
            # WHEN it reads the SDMX-CSV and the SDMX-ML file of the table with its dataflow
            message = sdmx.read_sdmx(path, structure=dataflow if path.suffix == ".csv" else dsd)

            # THEN it finds every mart row with the mart's values, and every coded value is a code
            observed = from_sdmx1(message, table)
            assert_same(table, f"sdmx1 {path.name}", observed, marts)
            for column in table.columns:
                if column.codelist:
                    codes = structure.codelist[column.codelist]
                    assert all(obs[column.header] in codes for obs in observed.values()
                               if obs.get(column.header) not in (None, "#N/A")), (path.name, column.header)
            # ... and pandas gets numbers, missing ones as NaN
            if any(c.header == "OBS_VALUE" for c in table.columns):
                series = sdmx.to_pandas(message.data[0])
                assert len(series) == len(marts.rows[table.mart])
                assert series.isna().sum() == sum(r.get(c.source) is None for r in marts.rows[table.mart]
                                                  for c in table.columns if c.header == "OBS_VALUE")


def test_pysdmx_reads_the_structure_and_every_data_file_of_a_package_as_the_marts_hold_them(
    package: Path, marts: Marts
) -> None:
    # WHEN pysdmx reads the structure (validated against the SDMX-ML 2.1 schemas)
    message = read_sdmx(package / STRUCTURE_FILE, validate=True)

    # THEN it finds every codelist and a data structure per table
    codelists = {c.id: c for c in message.get_codelists()}
    assert CODELISTS <= set(codelists)
    assert [c.id for c in codelists["CL_PROVINCE_LEGACY"].codes] == ["01", "48", "49"]
    assert {d.id for d in message.get_data_structure_definitions()} == {t.dsd_id for t in SHARED_TABLES}

    for table in SHARED_TABLES:
        # WHEN it reads the table's SDMX-ML data with the package's structure
        (dataset,) = get_datasets(package / f"{table.name}.xml", package / STRUCTURE_FILE, validate=True)

        # THEN the dataset is bound to the table's structure and holds the marts' values, codes as text
        assert dataset.structure.id == table.dataflow_id
        dimensions = [c.id for c in dataset.structure.components.dimensions]
        assert sorted(dimensions) == sorted(c.header for c in table.key)
        assert "TIME_PERIOD" not in dimensions[:-1]
        assert_same(table, f"pysdmx {table.name}.xml", from_pysdmx(dataset, table), marts)


@pytest.fixture(scope="module")
def built_marts(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A warehouse whose marts dbt built from the hand-made dataset of ``tests/dbt`` (two provinces
    report, legacy Quảng Nam among them), with its national database."""
    from planwh.transform import transform
    from planwh.validate.schema import ensure_published_schema

    spec = importlib.util.spec_from_file_location("indicator_progress_dataset",
                                                  REPO_ROOT / "tests" / "dbt" / "test_indicator_progress.py")
    dataset = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dataset)
    name = f"t_sdmx_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
        conn.execute(f'create database "{name}_nat"')
    base = tmp_path_factory.mktemp("sdmx")
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    settings = load_settings({
        "PLANWH_WAREHOUSE_URL": url, "PLANWH_NATIONAL_URL": f"{url}_nat", "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"), "PLANWH_DOTENV": str(base / "no.env"),
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
    })
    try:
        with psycopg.connect(url) as conn:
            ensure_published_schema(conn)
            dataset.load_dataset(conn)
            conn.commit()
        transform(settings)
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'drop database if exists "{name}_nat" with (force)')


def test_a_package_of_marts_built_by_dbt_reads_in_both_clients_as_the_marts_hold_them(
    built_marts: Settings, tmp_path: Path
) -> None:
    # GIVEN marts built by dbt (every indicator, the 34 current and 63 legacy provinces, no data
    # for most of them) WHEN they are exported
    package = export_package(built_marts, tmp_path / "package").directory
    with psycopg.connect(built_marts.warehouse_url, row_factory=dict_row) as conn:
        marts = {t.mart: conn.execute(f"select * from marts.{t.mart}").fetchall() for t in SHARED_TABLES}
    assert marts["fct_indicator_progress_legacy"] and any(r["value"] is None for r in marts["fct_indicator_progress"])

    # THEN sdmx1 and pysdmx read every file with the package's structure, as the marts hold them
    structure = sdmx.read_sdmx(package / STRUCTURE_FILE)
    assert len(structure.codelist["CL_PROVINCE"]) == 35 and len(structure.codelist["CL_PROVINCE_LEGACY"]) == 63
    assert len(structure.codelist["CL_INDICATOR"]) == 12
    for table in SHARED_TABLES:
        dataflow = structure.dataflow[table.dataflow_id]
        for path in (package / table.file_name, package / f"{table.name}.xml"):
            message = sdmx.read_sdmx(path, structure=dataflow if path.suffix == ".csv" else dataflow.structure)
            assert_same(table, f"sdmx1 {path.name}", from_sdmx1(message, table), marts)
        (dataset,) = get_datasets(package / f"{table.name}.xml", package / STRUCTURE_FILE, validate=True)
        assert_same(table, f"pysdmx {table.name}.xml", from_pysdmx(dataset, table), marts)
