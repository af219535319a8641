"""The plan-progress dashboard of Superset, kept as code: its connection, datasets, charts and layout.

build_bundle.py turns these definitions into the YAML files of Superset's import bundle with a
YAML dumper. Every dataset lists its columns once, here; the charts name columns and metrics of
their dataset, and tests/deploy/test_superset_bundle.py checks both against the dbt models. The
columns the charts depend on, by mart, come from chart_dependencies() at the end.

Vietnamese first, English in brackets, for everything a user reads. Runs with the standard library
(it is imported by build_bundle.py inside the Superset image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The marts login of the compose deployment; build_bundle.py --warehouse-url moves host, port and
# database (never the login) elsewhere, e.g. to the embedded warehouse of a local set-up.
BI_ROLE = "planwh_bi"
DATABASE_NAME = "planwh_marts"
DATABASE_UUID = "526d80d1-518b-5fda-b083-f4441de34497"
COMPOSE_WAREHOUSE = ("postgres", 5432, "planwh")
SCHEMA = "marts"


@dataclass(frozen=True)
class Status:
    code: str
    label_vi: str
    colour: str
    # the heat map's cell text when not label_vi
    short: str | None = None

    @property
    def cell(self) -> str:
        return self.short or self.label_vi

    @property
    def label(self) -> str:
        return f"{self.label_vi} ({self.code})"


# The statuses of fct_indicator_progress; a status missing here shows its code, uncoloured, so a
# new status never breaks the heat map (add it here to give it a label and a colour).
STATUSES = (
    Status("achieved", "Đạt", "#1a9850"),
    Status("on track", "Đúng lộ trình", "#91cf60"),
    Status("at risk", "Có nguy cơ", "#fdd049"),
    Status("off track", "Chậm", "#d73027"),
    Status("not applicable", "Không áp dụng", "#cfd8dc"),
    Status("no data", "Chưa có số liệu", "#f5f5f5", short="–"),
)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def status_case(attribute: str) -> str:
    """SQL mapping the status column to one text attribute of its Status (label, cell)."""
    whens = " ".join(
        f"WHEN {_sql_literal(s.code)} THEN {_sql_literal(getattr(s, attribute))}" for s in STATUSES
    )
    return f"CASE status {whens} ELSE status END"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    verbose_name: str
    groupby: bool = True
    # a calculated column: SQL over the table's own columns, for one chart's display
    expression: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Metric:
    name: str
    verbose_name: str
    expression: str
    description: str
    d3format: str | None = None


@dataclass(frozen=True)
class Dataset:
    table_name: str
    uuid: str
    description: str
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _text(name: str, verbose: str, **kw) -> Column:
    return Column(name, "TEXT", verbose, **kw)


def _integer(name: str, verbose: str, groupby: bool = True) -> Column:
    return Column(name, "INTEGER", verbose, groupby=groupby)


def _numeric(name: str, verbose: str) -> Column:
    return Column(name, "NUMERIC", verbose, groupby=False)


PROVINCE_NAME = _text("province_name", "Tỉnh, thành phố (province)")
# The heat map's column headers: the indicator codes are long English words, so the grid numbers
# the indicators 1-12 in code order and the indicator table gives the same numbers their names.
def indicator_number(table: str) -> Column:
    return Column(
        "indicator_number", "INTEGER", "Chỉ tiêu số (indicator no.)",
        expression=f"(SELECT COUNT(*) FROM {SCHEMA}.dim_indicator AS other "
                   f"WHERE other.indicator_code <= {table}.indicator_code)",
        description="1 to 12 in the order of the indicator codes, as in the indicator table.",
    )
YEAR = _integer("year", "Năm (year)")
INDICATOR = _text("indicator_code", "Mã chỉ tiêu (indicator)")

# What fct_indicator_progress and fct_indicator_progress_legacy have in common.
PROGRESS_MEASURES = (
    _numeric("value", "Giá trị (value)"),
    _text("unit", "Đơn vị (unit)"),
    _text("target_operator", "Phép so sánh (operator)"),
    _numeric("target_value", "Mục tiêu (target)"),
    _numeric("target_value_high", "Cận trên mục tiêu (target upper bound)"),
    _numeric("baseline_value", "Giá trị năm gốc (baseline)"),
    _numeric("trajectory_value", "Lộ trình (trajectory)"),
    _text("status", "Trạng thái (status)"),
    _integer("agencies_reported", "Đơn vị đã báo cáo (agencies reported)", groupby=False),
    _integer("agencies_expected", "Đơn vị phải báo cáo (agencies expected)", groupby=False),
    _numeric("completeness_rate", "Mức độ đầy đủ (completeness %)"),
    _text("status_label", "Trạng thái (status)", expression=status_case("label"),
          description="The status in Vietnamese (English)."),
)
VALUE_METRIC = Metric(
    "indicator_value", "Giá trị (value)", "MAX(value)",
    "The indicator's value (one row per indicator, province and year).", ",.1f",
)

PROGRESS = Dataset(
    table_name="fct_indicator_progress",
    uuid="0a101e42-4559-5328-8c9a-f2855141a0f8",
    description=(
        "Progress of the 12 indicators of Decision 1079/QĐ-TTg: one row per indicator x current "
        "province (or the nation, province_code 00) x year, 2023-2028, with status against the "
        "straight-line trajectory to the 2028 target."
    ),
    columns=(
        INDICATOR,
        _text("scope", "Phạm vi (scope)"),
        _text("province_code", "Mã tỉnh (province code)"),
        PROVINCE_NAME,
        YEAR,
        *PROGRESS_MEASURES,
        indicator_number("fct_indicator_progress"),
    ),
    metrics=(
        VALUE_METRIC,
        Metric("status_cell", "Trạng thái (status)", f"MAX({status_case('cell')})",
               "The status in Vietnamese, for a heat-map cell (one row per indicator, province and year)."),
        Metric("trajectory", "Lộ trình (trajectory)", "MAX(trajectory_value)",
               "Where the straight line from the baseline to the 2028 target stands in the year.", ",.1f"),
        Metric("target", "Mục tiêu 2028 (target)", "MAX(target_value)",
               "The target, or the lower bound of a range.", ",.1f"),
    ),
)

LEGACY = Dataset(
    table_name="fct_indicator_progress_legacy",
    uuid="aa7996e7-bd5e-455b-af02-d98f010f4e74",
    description=(
        "The same progress for the 63 legacy provinces over the years they existed (2023-2025), as "
        "reported under their own codes, against their own plans where they had one."
    ),
    columns=(
        INDICATOR,
        _text("province_code", "Mã tỉnh cũ (legacy province code)"),
        _text("province_name", "Tỉnh cũ (legacy province)"),
        _text("current_province_code", "Mã tỉnh hiện nay (current province code)"),
        YEAR,
        *PROGRESS_MEASURES,
        _text("target_source_document", "Văn bản giao mục tiêu (target set by)"),
    ),
    metrics=(VALUE_METRIC,),
)

SOURCES = Dataset(
    table_name="fct_indicator_sources",
    uuid="23c79bb0-f24a-437d-ac51-b193611200b2",
    description=(
        "Drill-through: the file, row, agency and measure behind every indicator value (current, "
        "national and legacy series); courses count persons, never name them."
    ),
    columns=(
        INDICATOR,
        _text("series", "Chuỗi (series: current, national, legacy)"),
        _text("province_code", "Mã tỉnh (province code)"),
        YEAR,
        _text("source_kind", "Loại nguồn (source: submission, course, register)"),
        _text("measure_role", "Vai trò (numerator / denominator)"),
        Column("file_id", "BIGINT", "Mã tệp (file id)"),
        _text("original_name", "Tệp gửi lên (file as sent)"),
        Column("received_at", "TIMESTAMP WITH TIME ZONE", "Thời điểm nhận (received at)"),
        _integer("row_number", "Dòng (row)"),
        _text("agency_code", "Mã đơn vị (agency)"),
        _text("measure_code", "Mã số liệu (measure)"),
        _text("task_code", "Nhiệm vụ (task)"),
        _text("period", "Kỳ báo cáo (period)"),
        _text("course_id", "Khoá học (course)"),
        _numeric("contributed_value", "Đóng góp (contribution)"),
        _integer("persons_counted", "Số người được tính (persons counted)", groupby=False),
    ),
)

COMPLIANCE = Dataset(
    table_name="fct_submission_compliance_by_province",
    uuid="8c4205f8-f498-50cd-a5e0-a61caefcf282",
    description=(
        "Reporting rates per current province (and the nation, 00), year and kind of report (annual "
        "or quarterly): reports received / expected, and on time / expected."
    ),
    columns=(
        _text("scope", "Phạm vi (scope)"),
        _text("province_code", "Mã tỉnh (province code)"),
        PROVINCE_NAME,
        YEAR,
        _text("period_kind", "Loại báo cáo (year / quarter)"),
        _integer("expected", "Phải nộp (expected)", groupby=False),
        _integer("received", "Đã nhận (received)", groupby=False),
        _integer("on_time", "Đúng hạn (on time)", groupby=False),
        _numeric("completeness_rate", "Mức độ đầy đủ (completeness %)"),
        _numeric("timeliness_rate", "Đúng hạn (timeliness %)"),
    ),
    metrics=(
        Metric("completeness", "Đã nhận / phải nộp (received / expected, %)",
               "100.0 * SUM(received) / NULLIF(SUM(expected), 0)",
               "Reports received as a share of reports owed (never an average of rates).", ",.0f"),
        Metric("timeliness", "Đúng hạn / phải nộp (on time / expected, %)",
               "100.0 * SUM(on_time) / NULLIF(SUM(expected), 0)",
               "Reports received by the deadline as a share of reports owed.", ",.0f"),
    ),
)

INDICATORS = Dataset(
    table_name="dim_indicator",
    uuid="cbdcda7e-24a8-5d4d-a2cb-f6073bc1de59",
    description="The 12 indicators of Decision 1079/QĐ-TTg, their names and 2028 targets.",
    columns=(
        INDICATOR,
        _text("name_vi", "Chỉ tiêu"),
        _text("name_en", "Indicator"),
        _text("unit", "Đơn vị (unit)"),
        _text("target_label", "Mục tiêu 2028 (target)"),
        _text("target_scope_default", "Phạm vi mục tiêu (target scope)"),
        indicator_number("dim_indicator"),
    ),
)

DATASETS = (PROGRESS, LEGACY, SOURCES, COMPLIANCE, INDICATORS)


def simple_filter(column: str, operator: str, value=None) -> dict:
    """An adhoc WHERE filter as Superset's explore view saves it."""
    adhoc = {
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": operator,
        "comparator": value,
        "clause": "WHERE",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
        "filterOptionName": f"filter_{column}_{operator}_{value}".replace(" ", "_").lower(),
    }
    if value is None:
        del adhoc["comparator"]
    return adhoc


@dataclass(frozen=True)
class Chart:
    key: str
    uuid: str
    slice_name: str
    description: str
    viz_type: str
    dataset: Dataset
    params: dict
    width: int = 12
    height: int = 50
    filters: tuple[str, ...] = ()  # the native filters that apply to it (keys of NATIVE_FILTERS)

    def columns_used(self) -> set[str]:
        used: set[str] = set()
        for key in ("x_axis", "groupby", "all_columns", "columns", "groupbyRows", "groupbyColumns"):
            value = self.params.get(key)
            used.update([value] if isinstance(value, str) else value or [])
        for item in self.params.get("order_by_cols") or []:
            used.add(item[0])
        used.update(f["subject"] for f in self.params.get("adhoc_filters") or [])
        return used

    def metrics_used(self) -> set[str]:
        used = set()
        for key in ("metric", "metrics"):
            value = self.params.get(key)
            used.update([value] if isinstance(value, str) else value or [])
        return used


def legend_html() -> str:
    """The statuses as coloured labels, for the dashboard's introduction."""
    swatch = (
        '<span style="display:inline-block;padding:1px 8px;margin:0 4px 2px 0;border-radius:3px;'
        'background:{colour}">{label}</span>'
    )
    return "".join(swatch.format(colour=s.colour, label=s.label) for s in STATUSES)


# A categorical colour per status: the cell's text is the status, so "equal" picks its colour.
HEATMAP_COLOURS = [
    {"column": "status_cell", "operator": "=", "targetValue": s.cell, "colorScheme": s.colour}
    for s in STATUSES
]

CHARTS = (
    Chart(
        key="heatmap",
        uuid="9abb40c0-335c-5bb6-a623-aba43d0c1874",
        slice_name="Trạng thái chỉ tiêu theo tỉnh (indicator status by province)",
        description=(
            "The current provinces x the 12 indicators (numbered as in the indicator table) for the "
            "year chosen in the year filter; each cell names and colours the status."
        ),
        viz_type="pivot_table_v2",
        dataset=PROGRESS,
        params={
            "groupbyRows": ["province_name"],
            "groupbyColumns": ["indicator_number"],
            "metrics": ["status_cell"],
            "metricsLayout": "COLUMNS",
            "adhoc_filters": [simple_filter("scope", "==", "province")],
            "row_limit": 10000,
            "order_desc": True,
            "aggregateFunction": "First",
            "rowOrder": "key_a_to_z",
            "colOrder": "key_a_to_z",
            "rowTotals": False,
            "colTotals": False,
            "conditional_formatting": HEATMAP_COLOURS,
        },
        height=80,
        filters=("year", "province"),
    ),
    Chart(
        key="trajectory",
        uuid="8dd6e448-e1fb-588a-9740-70c419b0f5e5",
        slice_name="Lộ trình toàn quốc đến 2028 (national trajectory to 2028)",
        description=(
            "The indicator chosen in the indicator filter, nationwide: its value by year, the "
            "straight-line trajectory from the 2023 baseline and the 2028 target."
        ),
        viz_type="echarts_timeseries_line",
        dataset=PROGRESS,
        params={
            "x_axis": "year",
            "x_axis_sort_asc": True,
            "metrics": ["indicator_value", "trajectory", "target"],
            "groupby": [],
            "adhoc_filters": [simple_filter("scope", "==", "national")],
            "row_limit": 10000,
            "truncate_metric": True,
            "show_empty_columns": True,
            "seriesType": "line",
            "markerEnabled": True,
            "markerSize": 6,
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "rich_tooltip": True,
            "x_axis_title": "Năm (year)",
            "x_axis_title_margin": 15,
            "y_axis_format": "SMART_NUMBER",
            "truncateXAxis": True,
            "y_axis_bounds": [None, None],
        },
        width=6,
        height=70,
        filters=("indicator",),
    ),
    Chart(
        key="completeness",
        uuid="de9d0bc4-d304-5eee-9160-b44190c35464",
        slice_name="Mức độ đầy đủ báo cáo theo tỉnh (submission completeness by province)",
        description="Annual reports received as a share of those owed, per current province, for the chosen year.",
        viz_type="echarts_timeseries_bar",
        dataset=COMPLIANCE,
        params={
            "x_axis": "province_name",
            "x_axis_sort": "completeness",
            "x_axis_sort_asc": True,
            "metrics": ["completeness"],
            "groupby": [],
            "adhoc_filters": [simple_filter("scope", "==", "province"),
                              simple_filter("period_kind", "==", "year")],
            "orientation": "horizontal",
            "show_empty_columns": True,
            "row_limit": 100,
            "show_value": True,
            "show_legend": False,
            "y_axis_format": "SMART_NUMBER",
            "y_axis_bounds": [0, 100],
        },
        width=6,
        height=70,
        filters=("year", "province"),
    ),
    Chart(
        key="table",
        uuid="9c8b29ab-6826-5783-8f3b-ef127d27f4c6",
        slice_name="Bảng tiến độ theo tỉnh (progress table by province)",
        description="Every indicator of every current province for the chosen year, with value, trajectory, target and status.",
        viz_type="table",
        dataset=PROGRESS,
        params={
            "query_mode": "raw",
            "all_columns": ["province_code", "province_name", "indicator_code", "year", "value",
                            "trajectory_value", "target_value", "status_label", "completeness_rate"],
            "order_by_cols": [["province_code", True], ["indicator_code", True]],
            "adhoc_filters": [simple_filter("scope", "==", "province")],
            "row_limit": 1000,
            "server_pagination": False,
            "include_search": True,
            "page_length": 25,
            "table_timestamp_format": "smart_date",
        },
        height=80,
        filters=("year", "province"),
    ),
    Chart(
        key="sources",
        uuid="cc753fd3-37aa-4ba2-aa07-b9d3649c47d1",
        slice_name="Nguồn số liệu: tệp, dòng, đơn vị (drill-through to the files behind each value)",
        description=(
            "The report lines, courses and register lines behind the chosen indicator's values in the "
            "chosen year, with the file as the sender named it and the row in it; search by province "
            "code, agency or file."
        ),
        viz_type="table",
        dataset=SOURCES,
        params={
            "query_mode": "raw",
            "all_columns": ["series", "province_code", "year", "indicator_code", "source_kind",
                            "measure_role", "original_name", "received_at", "row_number", "agency_code",
                            "measure_code", "period", "course_id", "contributed_value"],
            "order_by_cols": [["series", True], ["province_code", True], ["original_name", True],
                              ["row_number", True]],
            "adhoc_filters": [],
            "row_limit": 10000,
            "server_pagination": False,
            "include_search": True,
            "page_length": 20,
            "table_timestamp_format": "%Y-%m-%d %H:%M",
        },
        height=80,
        filters=("year", "indicator"),
    ),
    Chart(
        key="legacy",
        uuid="e867b362-985c-4c78-aa78-3d1b451f44d0",
        slice_name="Chuỗi số liệu của tỉnh cũ 2023-2025 (legacy provinces' own series)",
        description=(
            "The chosen indicator for each legacy province, year by year, as it reported under its "
            "own code before the 2025 merger (fct_indicator_progress_legacy)."
        ),
        viz_type="pivot_table_v2",
        dataset=LEGACY,
        params={
            "groupbyRows": ["current_province_code", "province_name"],
            "groupbyColumns": ["year"],
            "metrics": ["indicator_value"],
            "metricsLayout": "COLUMNS",
            "adhoc_filters": [simple_filter("value", "IS NOT NULL")],
            "row_limit": 10000,
            "order_desc": True,
            "aggregateFunction": "Sum",
            "valueFormat": ",.1f",
            "rowOrder": "key_a_to_z",
            "colOrder": "key_a_to_z",
            "rowTotals": False,
            "colTotals": False,
        },
        height=70,
        filters=("indicator",),
    ),
    Chart(
        key="indicators",
        uuid="723c5a66-2f9f-5b2c-95fb-40be9f349602",
        slice_name="Chỉ tiêu và mục tiêu 2028 (indicators and targets)",
        description="The 12 indicators of Decision 1079/QĐ-TTg with their 2028 targets; the number is the heat map's.",
        viz_type="table",
        dataset=INDICATORS,
        params={
            "query_mode": "raw",
            "all_columns": ["indicator_number", "indicator_code", "name_vi", "name_en", "target_label",
                            "target_scope_default"],
            "order_by_cols": [["indicator_code", True]],
            "adhoc_filters": [],
            "row_limit": 100,
            "server_pagination": False,
            "include_search": False,
            "page_length": 0,
        },
        height=60,
    ),
)


@dataclass(frozen=True)
class NativeFilter:
    key: str
    name: str
    description: str
    dataset: Dataset
    column: str
    # the first value is applied before any chart loads (requiredFirst); sorted descending, the
    # first year is the latest, and pre_filter keeps only the years that have a value
    default_to_first_item: bool
    sort_ascending: bool
    pre_filter: tuple[dict, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"NATIVE_FILTER-{self.key}"


NATIVE_FILTERS = (
    NativeFilter(
        key="year",
        name="Năm (year)",
        description="Opens on the latest year with a value; applies to the heat map, the tables and completeness.",
        dataset=PROGRESS,
        column="year",
        default_to_first_item=True,
        sort_ascending=False,
        pre_filter=(simple_filter("value", "IS NOT NULL"),),
    ),
    NativeFilter(
        key="indicator",
        name="Chỉ tiêu (indicator)",
        description="The indicator of the national trajectory, the sources and the legacy series.",
        dataset=PROGRESS,
        column="indicator_code",
        default_to_first_item=True,
        sort_ascending=True,
    ),
    NativeFilter(
        key="province",
        name="Tỉnh, thành phố (province)",
        description="Narrows the heat map, the progress table and completeness to some provinces (all if empty).",
        dataset=PROGRESS,
        column="province_name",
        default_to_first_item=False,
        sort_ascending=True,
        pre_filter=(simple_filter("scope", "==", "province"),),
    ),
)

# Dashboard rows, top to bottom: the chart keys in each.
LAYOUT = (
    ("status", ("heatmap",)),
    ("trajectory", ("trajectory", "completeness")),
    ("table", ("table",)),
    ("sources", ("sources",)),
    ("legacy", ("legacy",)),
    ("indicators", ("indicators",)),
)

DASHBOARD = {
    "uuid": "57251cf0-cd72-5257-af7b-6232db1c891c",
    "dashboard_title": "Tiến độ Đề án 1079 (plan progress, Decision 1079/QĐ-TTg)",
    "slug": "plan-progress",
    "description": (
        "Status of the 12 indicators per current province and nationally, the national trajectory "
        "to 2028, submission completeness, the files behind each value and the legacy provinces' "
        "own series, from the warehouse marts (read as planwh_bi)."
    ),
    "intro": (
        "**Đề án truyền thông về quyền con người 2023-2028 (QĐ 1079/QĐ-TTg).** Trạng thái so sánh "
        "giá trị với lộ trình thẳng từ năm gốc 2023 đến mục tiêu 2028: đạt, đúng lộ trình, có nguy "
        "cơ (trong 10 %), chậm. Chọn năm, chỉ tiêu và tỉnh ở thanh bộ lọc. "
        "*Status compares each value with the straight line from the 2023 baseline to the 2028 "
        "target: achieved, on track, at risk (within 10 %), off track. The dashboard opens on the "
        "latest year with data; choose the year, the indicator and provinces in the filter bar. "
        "Source: schema marts of the warehouse (dbt), read-only.*\n\n" + legend_html()
    ),
}



def chart_dependencies() -> dict[str, list[str]]:
    """Per mart, the physical columns the charts, metrics, calculated columns and filters read:
    what a change to the marts must keep (or change here)."""
    import re

    dependencies = {}
    for dataset in DATASETS:
        physical = {c.name for c in dataset.columns if c.expression is None}
        named: set[str] = set()
        filter_columns = {native.key: native.column for native in NATIVE_FILTERS}
        for chart in CHARTS:
            if chart.dataset is dataset:
                # a dashboard filter applies to a chart by the column's name in the chart's own dataset
                named |= chart.columns_used() | chart.metrics_used() | {filter_columns[f] for f in chart.filters}
        for native in NATIVE_FILTERS:
            if native.dataset is dataset:
                named |= {native.column, *(p["subject"] for p in native.pre_filter)}
        expressions = [c.expression for c in dataset.columns if c.name in named and c.expression]
        expressions += [m.expression for m in dataset.metrics if m.name in named]
        used = (named & physical) | {
            word for text in expressions for word in re.findall(r"[a-z_]+", text) if word in physical
        }
        dependencies[dataset.table_name] = sorted(used)
    return dependencies
