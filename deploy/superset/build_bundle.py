"""Build the dashboard bundle `superset import-dashboards -p` reads, from the definitions in planwh_dashboard.py.

    python build_bundle.py /tmp/planwh_dashboard.zip --password-env PLANWH_BI_PASSWORD
    python build_bundle.py /tmp/planwh_dashboard.zip --password-env PLANWH_BI_PASSWORD \\
        --warehouse-url postgresql://127.0.0.1:54329/planwh      # the embedded warehouse
    python build_bundle.py --yaml-dir /tmp/planwh_dashboard       # the YAML files, to read

Superset's import format is a ZIP whose single top folder holds metadata.yaml, databases/,
datasets/<database>/, charts/ and dashboards/. Every file is written by PyYAML's safe dumper (a
hand-quoted flow mapping once made Superset reject the whole bundle over an unquoted comma).

Every chart carries the query context Superset's explore view saves with it (what
/api/v1/chart/{id}/data/, reports and thumbnails run), built here the way the chart's front-end
plugin builds it; `make bi-check` compares it with what the dashboard really sends.

The connection logs in as planwh_bi with Superset's password mask (XXXXXXXXXX); with
--password-env the password is written into the ZIP only (a file readable by its owner alone, to
delete after the import), which is how Superset's importer takes the password of a masked URI.
Runs with the standard library and PyYAML, both in the Superset image (which has no planwh).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import planwh_dashboard as spec  # noqa: E402  (beside this file, in the repository and in the image)

ROOT = "planwh_dashboard"
PASSWORD_MASK = "XXXXXXXXXX"
VERSION = "1.0.0"
# fixed timestamps: the same definitions give the same ZIP
ZIP_TIME = (2023, 1, 1, 0, 0, 0)
METADATA_TIMESTAMP = "2025-11-22T00:00:00+00:00"
# a chart's id inside the bundle; the importer maps them to the ids it creates, by UUID
CHART_IDS = {chart.key: number for number, chart in enumerate(spec.CHARTS, start=1)}
UNARY_OPERATORS = {"IS NOT NULL", "IS NULL", "IS TRUE", "IS FALSE"}


class BundleError(ValueError):
    pass


# -- YAML -------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _text_representer(dumper: yaml.SafeDumper, text: str):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text_representer)


def dump(document: dict) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


# -- the documents ----------------------------------------------------------------------------


def sqlalchemy_uri(host: str, port: int, database: str) -> str:
    return f"postgresql+psycopg2://{spec.BI_ROLE}:{PASSWORD_MASK}@{host}:{port}/{database}"


def warehouse_location(url: str) -> tuple[str, int, str]:
    """Host, port and database of a libpq or SQLAlchemy URL (its login is ignored: BI is planwh_bi)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or not parts.hostname:
        raise BundleError(f"--warehouse-url {url!r}: expected postgresql://HOST:PORT/DATABASE")
    database = parts.path.lstrip("/")
    if not database:
        raise BundleError(f"--warehouse-url {url!r}: names no database")
    return parts.hostname, parts.port or 5432, database


def database_document(location: tuple[str, int, str]) -> dict:
    return {
        "database_name": spec.DATABASE_NAME,
        "sqlalchemy_uri": sqlalchemy_uri(*location),
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {
            "metadata_params": {},
            "engine_params": {},
            "metadata_cache_timeout": {},
            "schemas_allowed_for_csv_upload": [],
        },
        "uuid": spec.DATABASE_UUID,
        "version": VERSION,
    }


def dataset_document(dataset: spec.Dataset) -> dict:
    return {
        "table_name": dataset.table_name,
        "main_dttm_col": None,
        "description": dataset.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": spec.SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "uuid": dataset.uuid,
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.verbose_name,
                "metric_type": None,
                "expression": m.expression,
                "description": m.description,
                "d3format": m.d3format,
                "extra": None,
                "warning_text": None,
            }
            for m in dataset.metrics
        ],
        "columns": [
            {
                "column_name": c.name,
                "verbose_name": c.verbose_name,
                "is_dttm": False,
                "is_active": True,
                "type": c.type,
                "groupby": c.groupby,
                "filterable": c.expression is None,
                "expression": c.expression,
                "description": c.description,
                "python_date_format": None,
            }
            for c in dataset.columns
        ],
        "version": VERSION,
        "database_uuid": spec.DATABASE_UUID,
    }


def form_data(chart: spec.Chart) -> dict:
    """The chart's params as the explore view saves them (order_by_cols as JSON strings)."""
    params = {"viz_type": chart.viz_type, **copy.deepcopy(chart.params)}
    if "order_by_cols" in params:
        params["order_by_cols"] = [json.dumps(item) for item in params["order_by_cols"]]
    params["extra_form_data"] = {}
    return params


def _query_filter(adhoc: dict) -> dict:
    clause = {"col": adhoc["subject"], "op": adhoc["operator"]}
    if adhoc["operator"] not in UNARY_OPERATORS:
        clause["val"] = adhoc["comparator"]
    return clause


def _base_query(chart: spec.Chart) -> dict:
    """@superset-ui/core buildQueryObject: what every chart type starts from."""
    params = chart.params
    raw = params.get("query_mode") == "raw"
    if raw:
        columns = list(params["all_columns"])
    else:
        x_axis = params.get("x_axis")
        columns = [x_axis] if x_axis else []
        columns += params.get("groupby") or []
        columns += params.get("groupbyColumns") or []
        columns += params.get("groupbyRows") or []
    metrics = None if raw else list(params.get("metrics") or ([params["metric"]] if "metric" in params else []))
    adhoc = params.get("adhoc_filters") or []
    query = {
        "filters": [_query_filter(f) for f in adhoc if f["clause"] == "WHERE" and f["expressionType"] == "SIMPLE"],
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": columns,
        "orderby": [list(item) for item in params.get("order_by_cols") or []],
        "annotation_layers": [],
        "row_limit": params.get("row_limit"),
        "series_limit": 0,
        "order_desc": params.get("order_desc", True),
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }
    if metrics is not None:
        query["metrics"] = metrics
    if not query["orderby"]:
        del query["orderby"]
    return query


def _base_axis(column: str) -> dict:
    return {"columnType": "BASE_AXIS", "sqlExpression": column, "label": column, "expressionType": "SQL"}


def chart_queries(chart: spec.Chart) -> list[dict]:
    """The queries of the chart's front-end buildQuery, by viz type."""
    query = _base_query(chart)
    params = chart.params
    if chart.viz_type == "table":
        query.update(post_processing=[], time_offsets=[])
    elif chart.viz_type == "handlebars":
        pass
    elif chart.viz_type == "pivot_table_v2":
        metrics = query.get("metrics") or []
        query["columns"] = list(dict.fromkeys(params.get("groupbyColumns", []) + params.get("groupbyRows", [])))
        if metrics:
            query["orderby"] = [[metrics[0], not query["order_desc"]]]
    elif chart.viz_type.startswith("echarts_timeseries"):
        x_axis = params["x_axis"]
        groupby = params.get("groupby") or []
        metrics = query["metrics"]
        query["columns"] = [_base_axis(x_axis), *groupby]
        query["series_columns"] = groupby
        query["time_offsets"] = []
        query["orderby"] = [[metrics[0], not query["order_desc"]]]
        post_processing = [{
            "operation": "pivot",
            "options": {
                "index": [x_axis],
                "columns": groupby,
                "aggregates": {m: {"operator": "mean"} for m in metrics},
                "drop_missing_columns": not params.get("show_empty_columns", False),
            },
        }]
        sort_by = params.get("x_axis_sort")
        if sort_by is not None and "x_axis_sort_asc" in params and not groupby and sort_by in {x_axis, *metrics}:
            options = {"is_sort_index": True} if sort_by == x_axis else {"by": sort_by}
            post_processing.append({"operation": "sort", "options": {**options, "ascending": params["x_axis_sort_asc"]}})
        post_processing.append({"operation": "flatten"})
        query["post_processing"] = post_processing
    else:
        raise BundleError(f"chart {chart.key}: no query builder for viz type {chart.viz_type}")
    return [query]


def query_context(chart: spec.Chart) -> dict:
    return {
        # the importer puts the dataset's id here (and in form_data) once it exists
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": chart_queries(chart),
        "form_data": form_data(chart),
        "result_format": "json",
        "result_type": "full",
    }


def chart_document(chart: spec.Chart) -> dict:
    return {
        "slice_name": chart.slice_name,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": form_data(chart),
        "query_context": json.dumps(query_context(chart), ensure_ascii=False),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": chart.dataset.uuid,
    }


def _position() -> dict:
    charts = {chart.key: chart for chart in spec.CHARTS}
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "GRID_ID": {"children": [], "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": spec.DASHBOARD["dashboard_title"]}, "type": "HEADER"},
    }
    rows = [("intro", ())] + list(spec.LAYOUT)
    for row_key, chart_keys in rows:
        row_id = f"ROW-{row_key}"
        position["GRID_ID"]["children"].append(row_id)
        row = {"children": [], "id": row_id, "meta": {"background": "BACKGROUND_TRANSPARENT"},
               "parents": ["ROOT_ID", "GRID_ID"], "type": "ROW"}
        position[row_id] = row
        if row_key == "intro":
            row["children"].append("MARKDOWN-intro")
            position["MARKDOWN-intro"] = {
                "children": [], "id": "MARKDOWN-intro",
                "meta": {"code": spec.DASHBOARD["intro"], "height": 24, "width": 12},
                "parents": ["ROOT_ID", "GRID_ID", row_id], "type": "MARKDOWN",
            }
        for key in chart_keys:
            chart = charts[key]
            chart_id = f"CHART-{key}"
            row["children"].append(chart_id)
            position[chart_id] = {
                "children": [], "id": chart_id,
                "meta": {"chartId": CHART_IDS[key], "height": chart.height, "sliceName": chart.slice_name,
                         "uuid": chart.uuid, "width": chart.width},
                "parents": ["ROOT_ID", "GRID_ID", row_id], "type": "CHART",
            }
    placed = [key for _, keys in spec.LAYOUT for key in keys]
    if sorted(placed) != sorted(charts):
        raise BundleError(f"planwh_dashboard.LAYOUT places {sorted(placed)}, the charts are {sorted(charts)}")
    return position


def _native_filter(native: spec.NativeFilter) -> dict:
    excluded = [CHART_IDS[c.key] for c in spec.CHARTS if native.key not in c.filters]
    return {
        "id": native.id,
        "name": native.name,
        "description": native.description,
        "filterType": "filter_select",
        "type": "NATIVE_FILTER",
        "controlValues": {
            "enableEmptyFilter": native.default_to_first_item,
            "defaultToFirstItem": native.default_to_first_item,
            "multiSelect": not native.default_to_first_item,
            "searchAllOptions": False,
            "inverseSelection": False,
            "sortAscending": native.sort_ascending,
        },
        # charts wait for this filter's first value before they load
        "requiredFirst": native.default_to_first_item,
        "targets": [{"datasetUuid": native.dataset.uuid, "column": {"name": native.column}}],
        "adhoc_filters": list(native.pre_filter),
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        # chartsInScope is left out: the dashboard derives it from the scope with its own chart ids
        "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
        "tabsInScope": [],
    }


def dashboard_document() -> dict:
    return {
        "dashboard_title": spec.DASHBOARD["dashboard_title"],
        "description": spec.DASHBOARD["description"],
        "css": "",
        "slug": spec.DASHBOARD["slug"],
        "certified_by": "",
        "certification_details": "",
        "published": True,
        "uuid": spec.DASHBOARD["uuid"],
        "position": _position(),
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "label_colors": {status.code: status.colour for status in spec.STATUSES},
            "native_filter_configuration": [_native_filter(f) for f in spec.NATIVE_FILTERS],
        },
        "version": VERSION,
    }


def bundle_documents(location: tuple[str, int, str] = spec.COMPOSE_WAREHOUSE) -> dict[str, dict]:
    """The bundle's files: path inside the top folder -> document."""
    documents = {
        "metadata.yaml": {"version": VERSION, "type": "Dashboard", "timestamp": METADATA_TIMESTAMP},
        f"databases/{spec.DATABASE_NAME}.yaml": database_document(location),
    }
    for dataset in spec.DATASETS:
        documents[f"datasets/{spec.DATABASE_NAME}/{dataset.table_name}.yaml"] = dataset_document(dataset)
    for chart in spec.CHARTS:
        documents[f"charts/{chart.key}.yaml"] = chart_document(chart)
    documents["dashboards/plan_progress.yaml"] = dashboard_document()
    return documents


def bundle_files(location: tuple[str, int, str] = spec.COMPOSE_WAREHOUSE, password: str | None = None) -> dict[str, str]:
    files = {name: dump(document) for name, document in bundle_documents(location).items()}
    if password:
        name = f"databases/{spec.DATABASE_NAME}.yaml"
        files[name] += dump({"password": password})
    return files


def build_bundle(out: Path, password: str | None = None, location: tuple[str, int, str] = spec.COMPOSE_WAREHOUSE) -> Path:
    files = bundle_files(location, password)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in files.items():
            info = zipfile.ZipInfo(f"{ROOT}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, text.encode("utf-8"))
    return out


def write_yaml_dir(folder: Path, location: tuple[str, int, str] = spec.COMPOSE_WAREHOUSE) -> Path:
    for name, text in bundle_files(location).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, nargs="?", help="the ZIP to write")
    parser.add_argument("--password-env", metavar="VARIABLE",
                        help="environment variable holding planwh_bi's password")
    parser.add_argument("--warehouse-url", metavar="URL",
                        help="the warehouse's host, port and database (default: the compose host "
                             "postgres:5432/planwh); the login stays planwh_bi")
    parser.add_argument("--yaml-dir", type=Path, help="also write the YAML files into this folder")
    args = parser.parse_args(argv)
    if not args.out and not args.yaml_dir:
        parser.error("give the ZIP to write, or --yaml-dir")
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"build_bundle: environment variable {args.password_env} is not set", file=sys.stderr)
            return 2
    try:
        location = warehouse_location(args.warehouse_url) if args.warehouse_url else spec.COMPOSE_WAREHOUSE
        if args.yaml_dir:
            print(f"dashboard YAML written to {write_yaml_dir(args.yaml_dir, location)}")
        if args.out:
            path = build_bundle(args.out, password, location)
            host, port, database = location
            print(f"dashboard bundle written to {path} (marts as {spec.BI_ROLE} on {host}:{port}/{database})")
    except (BundleError, OSError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
