"""The Superset dashboard kept as code (deploy/superset/planwh_dashboard.py) and its bundle.

`make bi-check` imports the bundle into a real Superset and draws it in Chromium; these tests are
the fast part that runs in `make test`: the YAML survives a round trip through a YAML parser (a
hand-written file once lost a column to an unquoted comma), the files have what Superset's import
schemas require and refer to each other by UUID, every dataset column, metric and calculated
column uses columns the dbt models have, every chart and dashboard filter hits columns its
datasets have, and the ZIP carries the password and the warehouse it is given.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import stat
import sys
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_DIR = REPO_ROOT / "deploy" / "superset"
MARTS = REPO_ROOT / "dbt_project" / "models" / "marts"

# the fields Superset's ImportV1*Schema classes mark required
REQUIRED = {
    "databases": {"database_name", "sqlalchemy_uri", "uuid", "version"},
    "datasets": {"table_name", "uuid", "version", "database_uuid"},
    "charts": {"slice_name", "viz_type", "uuid", "version", "dataset_uuid"},
    "dashboards": {"dashboard_title", "uuid", "version"},
}


def load_builder():
    spec = importlib.util.spec_from_file_location("build_bundle_under_test", SUPERSET_DIR / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder():
    return load_builder()


@pytest.fixture(scope="module")
def bundle(builder) -> dict[str, dict[str, dict]]:
    """kind -> file path (inside the bundle) -> the document as a YAML parser reads the written text."""
    files: dict[str, dict[str, dict]] = {kind: {} for kind in REQUIRED}
    for name, text in builder.bundle_files().items():
        kind = name.split("/", 1)[0]
        if kind in files:
            files[kind][name] = yaml.safe_load(text)
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


def sql_identifiers(expression: str, ignore: set[str]) -> set[str]:
    """Lower-case names in an expression (keywords and functions are written in capitals), less
    string literals and the names of tables and aliases in ``ignore``."""
    without_strings = re.sub(r"'[^']*'", "", expression)
    return set(re.findall(r"\b[a-z_][a-z0-9_]*\b", without_strings)) - ignore


def test_every_file_reads_back_as_written(builder) -> None:
    # GIVEN the documents, full of commas, colons, quotes and Vietnamese
    documents = builder.bundle_documents()
    assert any(", " in c["verbose_name"] for d in documents.values() for c in d.get("columns", [])), \
        "a verbose name with a comma, the case that once broke the import"
    # WHEN written and read by a YAML parser THEN nothing changed
    for name, text in builder.bundle_files().items():
        assert yaml.safe_load(text) == documents[name], name


def test_bundle_has_the_import_layout_and_required_fields(bundle, builder) -> None:
    metadata = yaml.safe_load(builder.bundle_files()["metadata.yaml"])
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


def test_the_connection_is_the_bi_role_with_no_secret(bundle, builder) -> None:
    from planwh.roles import BI, WAREHOUSE_ACCESS

    (database,) = bundle["databases"].values()
    uri = urlsplit(database["sqlalchemy_uri"])
    assert uri.username == BI and uri.password == builder.PASSWORD_MASK
    assert (uri.hostname, uri.port, uri.path) == ("postgres", 5432, "/planwh")
    assert WAREHOUSE_ACCESS["marts"][BI] == "read"
    assert not database.get("allow_dml") and not database.get("allow_csv_upload")
    assert "password" not in database


def test_every_dataset_is_a_mart_and_its_sql_uses_real_columns(bundle, dbt_models, builder) -> None:
    databases = by_uuid(bundle["databases"])
    tables = {d["table_name"] for d in bundle["datasets"].values()}
    # the exposure's promise: progress, the legacy series and the drill-through to files
    assert {"fct_indicator_progress", "fct_indicator_progress_legacy", "fct_indicator_sources"} <= tables
    for name, dataset in bundle["datasets"].items():
        database = databases[str(dataset["database_uuid"])]
        assert name == f"datasets/{database['database_name']}/{dataset['table_name']}.yaml"
        assert dataset["schema"] == "marts", name
        model = dbt_models.get(dataset["table_name"])
        assert model is not None, f"{name}: no dbt model {dataset['table_name']} in {MARTS}"
        physical = {c["column_name"]: c for c in dataset["columns"] if not c["expression"]}
        for column, spec in physical.items():
            assert column in model, f"{name}: column {column} is not in the dbt model"
            if model[column]:
                assert spec["type"].lower() == model[column].lower(), f"{name}: {column} type"
        # a calculated column or metric reads the table's own columns (a subquery names its table)
        ignore = {"marts", "other", *dbt_models}
        expressions = [(c["column_name"], c["expression"]) for c in dataset["columns"] if c["expression"]]
        expressions += [(m["metric_name"], m["expression"]) for m in dataset["metrics"]]
        for label, expression in expressions:
            unknown = sql_identifiers(expression, ignore) - set(physical)
            assert not unknown, f"{name}: {label} uses {unknown}"


def test_no_personal_data_and_no_landing_table_reaches_superset(bundle) -> None:
    # planwh_bi reads marts only; the drill-through names files and rows, never a person
    columns = {c["column_name"] for d in bundle["datasets"].values() for c in d["columns"]}
    assert not columns & {"person_key", "trainee_name", "national_id", "birth_year", "full_name"}
    assert all(d["schema"] == "marts" and not d["sql"] for d in bundle["datasets"].values())


def test_every_chart_uses_its_dataset_and_saves_its_query_context(bundle, builder) -> None:
    datasets = by_uuid(bundle["datasets"])
    for name, chart in bundle["charts"].items():
        dataset = datasets.get(str(chart["dataset_uuid"]))
        assert dataset is not None, f"{name}: dataset {chart['dataset_uuid']} is not in the bundle"
        params = chart["params"]
        assert params["viz_type"] == chart["viz_type"], name
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        spec = next(c for c in builder.spec.CHARTS if c.uuid == chart["uuid"])
        assert spec.columns_used() and spec.columns_used() <= columns, name
        assert spec.metrics_used() <= metrics, name

        # the query context is JSON Superset's API runs: same chart, its dataset's names only
        assert chart["query_context"], f"{name}: no saved query context"
        context = json.loads(chart["query_context"])
        assert context["form_data"] == params
        assert context["result_type"] == "full" and context["datasource"]["type"] == "table"
        for query in context["queries"]:
            named = {c if isinstance(c, str) else c["sqlExpression"] for c in query["columns"]}
            assert named and named <= columns, f"{name}: query columns {named - columns}"
            assert set(query.get("metrics") or []) <= metrics, name
            assert {f["col"] for f in query["filters"]} <= columns, name
            assert query["row_limit"] == params["row_limit"], name


def test_the_heat_map_colours_each_status_as_a_category(bundle, builder) -> None:
    heatmap = next(c for c in bundle["charts"].values() if c["uuid"] == next(
        s.uuid for s in builder.spec.CHARTS if s.key == "heatmap"))
    rules = heatmap["params"]["conditional_formatting"]
    # one exact-match rule per status, each its own colour: categories, not bins of a scale
    assert all(rule["operator"] == "=" for rule in rules)
    assert len({rule["targetValue"] for rule in rules}) == len({rule["colorScheme"] for rule in rules}) == len(rules)
    four = {"achieved", "on track", "at risk", "off track"}
    assert four <= {s.code for s in builder.spec.STATUSES}
    cell_texts = {s.cell for s in builder.spec.STATUSES if s.code in four}
    assert cell_texts <= {rule["targetValue"] for rule in rules}
    # the cell text is what status_cell returns for each status
    metric = next(m for d in bundle["datasets"].values() for m in d["metrics"] if m["metric_name"] == "status_cell")
    for status in builder.spec.STATUSES:
        assert f"WHEN '{status.code}' THEN '{status.cell}'" in metric["expression"]


def test_the_dashboard_places_every_chart_and_its_filters_fit_every_chart_in_scope(bundle) -> None:
    (dashboard,) = bundle["dashboards"].values()
    position = dashboard["position"]
    placed = {
        str(item["meta"]["uuid"]): item["meta"]["chartId"]
        for item in position.values() if isinstance(item, dict) and item.get("type") == "CHART"
    }
    charts = by_uuid(bundle["charts"])
    assert set(placed) == set(charts), "every chart on the dashboard and only those"
    assert len(set(placed.values())) == len(placed), "chart ids are unique"
    for key, item in position.items():
        if not isinstance(item, dict) or key == "HEADER_ID":
            continue
        assert item["id"] == key
        for child in item.get("children", []):
            assert child in position, f"{key} has a missing child {child}"
            assert position[child]["parents"][-1] == key, f"{child} does not name {key} as parent"
    datasets = by_uuid(bundle["datasets"])
    chart_columns = {
        placed[chart_uuid]: {c["column_name"] for c in datasets[str(chart["dataset_uuid"])]["columns"]}
        for chart_uuid, chart in charts.items()
    }
    filters = dashboard["metadata"]["native_filter_configuration"]
    assert {f["targets"][0]["column"]["name"] for f in filters} >= {"year", "indicator_code"}
    for native in filters:
        (target,) = native["targets"]
        column = target["column"]["name"]
        assert column in {c["column_name"] for c in datasets[str(target["datasetUuid"])]["columns"]}
        excluded = set(native["scope"]["excluded"])
        assert excluded <= set(placed.values()), native["id"]
        # a filter applies to a chart by column name: every chart in scope must have the column
        for chart_id in set(placed.values()) - excluded:
            assert column in chart_columns[chart_id], f"{native['id']} reaches chart {chart_id} without {column}"
        # stale ids would aim it at other charts: the dashboard derives them from the scope
        assert "chartsInScope" not in native
        if native["controlValues"]["defaultToFirstItem"]:
            assert native["requiredFirst"] is True, f"{native['id']}: the charts would load before it applies"


def test_the_year_filter_opens_on_the_latest_year_that_has_a_value(bundle) -> None:
    (dashboard,) = bundle["dashboards"].values()
    year = next(f for f in dashboard["metadata"]["native_filter_configuration"]
                if f["targets"][0]["column"]["name"] == "year")
    # the first of the years sorted newest first, among those with a value: computed by Superset
    # from the warehouse each time the dashboard opens (bi-check compares it with the warehouse)
    assert year["controlValues"]["defaultToFirstItem"] and not year["controlValues"]["sortAscending"]
    assert [(f["subject"], f["operator"]) for f in year["adhoc_filters"]] == [("value", "IS NOT NULL")]
    assert year["defaultDataMask"]["filterState"] == {}, "no year is written into the bundle"


def test_chart_dependencies_name_real_columns(builder, dbt_models) -> None:
    dependencies = builder.spec.chart_dependencies()
    assert set(dependencies) == {d.table_name for d in builder.spec.DATASETS}
    for table, columns in dependencies.items():
        assert columns and set(columns) <= set(dbt_models[table]), table
    assert {"value", "status", "year", "indicator_code", "province_name"} <= set(dependencies["fct_indicator_progress"])


def test_zip_for_superset_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builder) -> None:
    first = builder.build_bundle(tmp_path / "a.zip")
    second = builder.build_bundle(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes(), "the same definitions give the same ZIP"
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        # Superset drops the single top folder of the ZIP
        assert {n.split("/", 1)[0] for n in names} == {builder.ROOT}
        inside = {n.split("/", 1)[1] for n in names}
        assert inside == set(builder.bundle_files())
        assert {n.split("/")[0] for n in inside} == {"metadata.yaml", "databases", "datasets", "charts", "dashboards"}

    # GIVEN a password with every character YAML cares about WHEN bundled for the embedded warehouse
    password = "p@ss: w'o\"rd #1 \\ Đà Nẵng, {x: [y]}"
    monkeypatch.setenv("MARTS_PASSWORD", password)
    out = tmp_path / "secret" / "bundle.zip"
    assert builder.main([str(out), "--password-env", "MARTS_PASSWORD",
                         "--warehouse-url", "postgresql://postgres@127.0.0.1:54329/planwh"]) == 0
    # THEN only the ZIP's database file has it, readable by its owner alone, and the connection
    # goes to that warehouse as planwh_bi
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as archive:
        database = yaml.safe_load(io.BytesIO(archive.read(f"{builder.ROOT}/databases/planwh_marts.yaml")))
        assert database["password"] == password
        uri = urlsplit(database["sqlalchemy_uri"])
        assert (uri.username, uri.password, uri.hostname, uri.port, uri.path) == (
            "planwh_bi", builder.PASSWORD_MASK, "127.0.0.1", 54329, "/planwh")
        others = [n for n in archive.namelist() if not n.endswith("databases/planwh_marts.yaml")]
        assert all(password not in archive.read(n).decode() for n in others)
    assert builder.main([str(tmp_path / "c.zip"), "--password-env", "UNSET_VARIABLE_FOR_TEST"]) == 2
    assert builder.main([str(tmp_path / "d.zip"), "--warehouse-url", "mysql://h/planwh"]) == 2
    assert builder.main([str(tmp_path / "e.zip"), "--warehouse-url", "postgresql://h:5432/"]) == 2


def test_the_check_installs_the_superset_of_the_compose_image() -> None:
    dockerfile = (SUPERSET_DIR / "Dockerfile").read_text(encoding="utf-8")
    image = re.search(r"(?m)^FROM apache/superset:(\S+)$", dockerfile).group(1)
    driver = re.search(r"psycopg2-binary==(\S+)", dockerfile).group(1)
    wanted = (SUPERSET_DIR / "requirements-check.in").read_text(encoding="utf-8")
    lock = (SUPERSET_DIR / "requirements-check.lock").read_text(encoding="utf-8")
    for text in (wanted, lock):
        assert re.search(rf"(?m)^apache-superset=={re.escape(image)}$", text)
        assert re.search(rf"(?m)^psycopg2-binary=={re.escape(driver)}$", text)
    # the lock pins everything (what the check proves is reproducible)
    requirements = [line for line in lock.splitlines() if line and not line.startswith((" ", "#"))]
    assert requirements and all("==" in line for line in requirements)
    assert re.search(r"(?m)^marshmallow==3\.", lock), "Superset 4.1 cannot import with marshmallow 4"
    assert sys.version_info[:2] == (3, 11), "the lock is resolved for Python 3.11"
