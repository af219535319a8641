"""The Superset dashboard kept as code (deploy/superset/dashboard) against the dbt marts it reads.

Superset is not installed here, so the bundle is checked for what its importer requires (the v1
import schemas: required fields, UUID references between files) and for what would break it at
run time: a dataset column or table that the dbt models do not have, a chart on a column or
metric its dataset lacks, a chart missing from the dashboard, a filter aimed at nothing.
"""

from __future__ import annotations

import importlib.util
import io
import re
import stat
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = REPO_ROOT / "deploy" / "superset" / "dashboard"
MARTS = REPO_ROOT / "dbt_project" / "models" / "marts"

# the fields Superset's ImportV1*Schema classes mark required
REQUIRED = {
    "databases": {"database_name", "sqlalchemy_uri", "uuid", "version"},
    "datasets": {"table_name", "uuid", "version", "database_uuid"},
    "charts": {"slice_name", "viz_type", "uuid", "version", "dataset_uuid"},
    "dashboards": {"dashboard_title", "uuid", "version"},
}


def load_builder():
    spec = importlib.util.spec_from_file_location("build_bundle", BUNDLE.parent / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle() -> dict[str, dict[str, dict]]:
    """kind -> file path (inside the bundle) -> parsed YAML."""
    files: dict[str, dict[str, dict]] = {kind: {} for kind in REQUIRED}
    for path in sorted(BUNDLE.rglob("*.yaml")):
        relative = path.relative_to(BUNDLE).as_posix()
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = relative.split("/", 1)[0]
        if kind in files:
            files[kind][relative] = document
    return files


@pytest.fixture(scope="module")
def dbt_models() -> dict[str, dict[str, str | None]]:
    """Mart model -> column -> data_type, from the models' YAML."""
    models: dict[str, dict[str, str | None]] = {}
    for path in MARTS.rglob("_*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            models[model["name"]] = {c["name"]: c.get("data_type") for c in model.get("columns", [])}
    return models


def by_uuid(documents: dict[str, dict]) -> dict[str, dict]:
    return {str(d["uuid"]): d for d in documents.values()}


def sql_identifiers(expression: str) -> set[str]:
    """Lower-case names in a metric expression (keywords and functions are written in capitals)."""
    without_strings = re.sub(r"'[^']*'", "", expression)
    return set(re.findall(r"\b[a-z_][a-z0-9_]*\b", without_strings))


def test_bundle_has_the_import_layout_and_required_fields(bundle) -> None:
    metadata = yaml.safe_load((BUNDLE / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["type"] == "Dashboard" and metadata["version"] == "1.0.0"
    uuids = []
    for kind, documents in bundle.items():
        assert documents, f"no {kind}"
        for name, document in documents.items():
            missing = REQUIRED[kind] - set(document)
            assert not missing, f"{name}: missing {missing}"
            assert document["version"] == "1.0.0", name
            uuids.append(str(uuid.UUID(str(document["uuid"]))))
    assert len(uuids) == len(set(uuids)), "a UUID is used twice"


def test_the_connection_is_the_bi_role_with_no_secret(bundle) -> None:
    from planwh.roles import BI, WAREHOUSE_ACCESS

    (database,) = bundle["databases"].values()
    uri = urlsplit(database["sqlalchemy_uri"])
    assert uri.username == BI and uri.password == load_builder().PASSWORD_MASK
    assert WAREHOUSE_ACCESS["marts"][BI] == "read"
    assert not database.get("allow_dml") and not database.get("allow_csv_upload")
    for path in BUNDLE.rglob("*.yaml"):
        assert not re.search(r"(?m)^password:", path.read_text(encoding="utf-8")), path


def test_every_dataset_is_a_mart_the_dbt_models_have(bundle, dbt_models) -> None:
    databases = by_uuid(bundle["databases"])
    for name, dataset in bundle["datasets"].items():
        database = databases[str(dataset["database_uuid"])]
        assert name == f"datasets/{database['database_name']}/{dataset['table_name']}.yaml"
        assert dataset["schema"] == "marts", name
        model = dbt_models.get(dataset["table_name"])
        assert model is not None, f"{name}: no dbt model {dataset['table_name']} in {MARTS}"
        columns = {c["column_name"]: c for c in dataset["columns"]}
        for column, spec in columns.items():
            assert column in model, f"{name}: column {column} is not in the dbt model"
            if model[column]:
                assert spec["type"].lower() == model[column].lower(), f"{name}: {column} type"
        for metric in dataset.get("metrics") or []:
            unknown = sql_identifiers(metric["expression"]) - set(columns)
            assert not unknown, f"{name}: metric {metric['metric_name']} uses {unknown}"


def chart_references(params: dict) -> tuple[set[str], set[str]]:
    """Columns and metrics a chart's form data names."""
    columns: set[str] = set()
    for key in ("x_axis", "groupby", "all_columns", "columns", "series"):
        value = params.get(key)
        if isinstance(value, str):
            columns.add(value)
        elif isinstance(value, list):
            columns.update(v for v in value if isinstance(v, str))
    for item in params.get("order_by_cols") or []:
        columns.add(yaml.safe_load(item)[0])
    for adhoc in params.get("adhoc_filters") or []:
        columns.add(adhoc["subject"])
    metrics = set()
    for key in ("metric", "metrics"):
        value = params.get(key)
        metrics.update([value] if isinstance(value, str) else value or [])
    if params.get("x_axis_sort"):
        metrics.add(params["x_axis_sort"])
    return columns, metrics


def test_every_chart_uses_a_bundled_dataset_and_its_columns(bundle) -> None:
    datasets = by_uuid(bundle["datasets"])
    for name, chart in bundle["charts"].items():
        dataset = datasets.get(str(chart["dataset_uuid"]))
        assert dataset is not None, f"{name}: dataset {chart['dataset_uuid']} is not in the bundle"
        assert chart["params"]["viz_type"] == chart["viz_type"], name
        columns, metrics = chart_references(chart["params"])
        assert columns, f"{name} names no column"
        assert columns <= {c["column_name"] for c in dataset["columns"]}, name
        assert metrics <= {m["metric_name"] for m in dataset.get("metrics") or []}, name


def test_the_dashboard_shows_every_chart_and_its_filters_hit_real_columns(bundle) -> None:
    (dashboard,) = bundle["dashboards"].values()
    position = dashboard["position"]
    placed = {
        str(item["meta"]["uuid"]): item["meta"]["chartId"]
        for item in position.values() if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert set(placed) == set(by_uuid(bundle["charts"])), "every chart on the dashboard and only those"
    assert len(set(placed.values())) == len(placed), "chart ids are unique"
    for key, item in position.items():
        if not isinstance(item, dict) or key == "HEADER_ID":
            continue
        assert item["id"] == key
        for child in item.get("children", []):
            assert child in position, f"{key} has a missing child {child}"
            assert position[child]["parents"][-1] == key, f"{child} does not name {key} as parent"
    datasets = by_uuid(bundle["datasets"])
    for native in dashboard["metadata"]["native_filter_configuration"]:
        for target in native["targets"]:
            dataset = datasets[str(target["datasetUuid"])]
            assert target["column"]["name"] in {c["column_name"] for c in dataset["columns"]}
        excluded = set(native["scope"]["excluded"])
        in_scope = set(native["chartsInScope"])
        assert excluded | in_scope == set(placed.values()) and not excluded & in_scope, native["id"]


def test_the_dashboard_covers_the_three_views_of_the_issue(bundle) -> None:
    datasets = by_uuid(bundle["datasets"])
    charts = [(c, datasets[str(c["dataset_uuid"])]["table_name"]) for c in bundle["charts"].values()]
    kinds = {(c["viz_type"], table) for c, table in charts}
    # progress by province and indicator; trajectory to 2028 (nationwide); submission completeness
    assert ("heatmap_v2", "fct_indicator_progress") in kinds
    assert ("echarts_timeseries_line", "fct_indicator_progress") in kinds
    assert ("echarts_timeseries_bar", "fct_submission_compliance_by_province") in kinds
    line = next(c for c, _ in charts if c["viz_type"] == "echarts_timeseries_line")
    assert set(line["params"]["metrics"]) == {"indicator_value", "trajectory", "target"}
    assert {"subject": "scope", "comparator": "national"}.items() <= line["params"]["adhoc_filters"][0].items()


def test_zip_for_superset_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder = load_builder()
    first = builder.build_bundle(tmp_path / "a.zip")
    second = builder.build_bundle(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes(), "the same YAML gives the same ZIP"
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        # Superset drops the single top folder of the ZIP
        assert {n.split("/", 1)[0] for n in names} == {builder.ROOT}
        inside = {n.split("/", 1)[1] for n in names}
        assert inside == {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*.yaml")}
        for name in names:
            original = (BUNDLE / name.split("/", 1)[1]).read_text(encoding="utf-8")
            assert archive.read(name).decode("utf-8") == original

    # GIVEN a password with every character YAML cares about WHEN bundled for import
    password = "p@ss: w'o\"rd #1 \\ Đà Nẵng"
    monkeypatch.setenv("MARTS_PASSWORD", password)
    out = tmp_path / "secret" / "bundle.zip"
    assert builder.main([str(out), "--password-env", "MARTS_PASSWORD"]) == 0
    # THEN only the ZIP's database file has it, readable by its owner alone
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as archive:
        database = yaml.safe_load(io.BytesIO(archive.read(f"{builder.ROOT}/databases/planwh_marts.yaml")))
        assert database["password"] == password
        assert builder.PASSWORD_MASK in database["sqlalchemy_uri"]
        assert password not in archive.read(f"{builder.ROOT}/metadata.yaml").decode()
    assert "password:" not in (BUNDLE / "databases" / "planwh_marts.yaml").read_text(encoding="utf-8")
    assert builder.main([str(tmp_path / "c.zip"), "--password-env", "UNSET_VARIABLE_FOR_TEST"]) == 2
