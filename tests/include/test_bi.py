"""How `make bi-check` judges what Chromium and the chart-data API showed (planwh.bi).

The check itself needs Superset and Chromium and runs as `make bi-check`; these tests keep its
verdicts honest: a dashboard that drew everything as saved passes, and each defect seen by hand
in issue 18 (error box, "No results", filters not applied on first load, no saved query context
matching the dashboard) fails it with the chart named.
"""

from __future__ import annotations

import copy

from planwh.bi import ChartResult, _with, browser_failures

HEATMAP = "Trạng thái chỉ tiêu theo tỉnh (indicator status by province)"
SAVED_QUERY = {
    "columns": ["indicator_number", "province_name"], "metrics": ["status_cell"],
    "orderby": [["status_cell", False]], "row_limit": 10000,
    "filters": [{"col": "scope", "op": "==", "val": "province"}],
}


def good_run() -> tuple[dict, list[ChartResult], dict[int, dict]]:
    sent = {**copy.deepcopy(SAVED_QUERY)}
    sent["filters"] = sent["filters"] + [{"col": "year", "op": "IN", "val": [2025]}]
    seen = {
        "timed_out": False, "seconds_to_draw": 9.0,
        "charts": [{"title": HEATMAP, "loading": False, "error": None, "empty": None, "canvases": 0,
                    "table_rows": 34, "table_cells": 408, "coloured_cells": 408, "drawn": True}],
        "requests": [{"request_id": "1", "body": {"form_data": {"slice_id": 7}, "queries": [sent]}},
                     {"request_id": "2", "body": {"form_data": {}, "queries": [{"columns": ["year"]}]}}],
        "responses": [{"request_id": "1", "status": 200}, {"request_id": "2", "status": 200}],
    }
    charts = [ChartResult(7, HEATMAP, saved_rows=408, filtered_rows=408, filters={"year": 2025})]
    return seen, charts, {7: {"queries": [copy.deepcopy(SAVED_QUERY)]}}


def test_a_dashboard_drawn_as_saved_passes() -> None:
    assert browser_failures(*good_run(), HEATMAP) == []


def test_an_error_box_or_no_results_fails_naming_the_chart() -> None:
    seen, charts, saved = good_run()
    seen["charts"][0].update(error="Unexpected error", empty="No results were returned for this query",
                             table_rows=0, table_cells=0, coloured_cells=0, drawn=False)
    failures = browser_failures(seen, charts, saved, HEATMAP)
    assert any("error box 'Unexpected error'" in f for f in failures)
    assert any("No results were returned" in f for f in failures)
    assert any(f.startswith(f"{HEATMAP}: drew nothing") for f in failures)
    assert any("no cell coloured by its status" in f for f in failures)


def test_a_chart_loaded_before_the_default_filter_applied_fails() -> None:
    seen, charts, saved = good_run()
    seen["requests"][0]["body"]["queries"][0]["filters"] = copy.deepcopy(SAVED_QUERY["filters"])
    failures = browser_failures(seen, charts, saved, HEATMAP)
    assert failures == [f"{HEATMAP}: loaded without the default filters [('year', '[2025]')]"]


def test_a_saved_query_context_unlike_the_dashboards_query_fails() -> None:
    seen, charts, saved = good_run()
    saved[7]["queries"][0]["orderby"] = [["province_name", True]]
    failures = browser_failures(seen, charts, saved, HEATMAP)
    assert len(failures) == 1 and "differs from the saved query context in orderby" in failures[0]


def test_a_failed_data_request_or_a_silent_chart_fails() -> None:
    seen, charts, saved = good_run()
    seen["responses"][0]["status"] = 500
    assert "chart 7: the data request answered 500" in browser_failures(seen, charts, saved, HEATMAP)
    seen, charts, saved = good_run()
    seen["requests"] = seen["requests"][1:]
    assert browser_failures(seen, charts, saved, HEATMAP) == [f"{HEATMAP}: the dashboard sent no data request for it"]
    seen, charts, saved = good_run()
    seen["timed_out"] = True
    assert browser_failures(seen, charts, saved, HEATMAP) == ["not every chart had finished after 9.0 s"]


def test_urls_for_superset_keep_the_server_and_change_login_and_database() -> None:
    url = "postgresql://postgres@127.0.0.1:54329/planwh"
    assert _with(url, user="planwh_bi", password="s3cret") == "postgresql://planwh_bi:s3cret@127.0.0.1:54329/planwh"
    assert _with(url, user="", database=None) == "postgresql://127.0.0.1:54329/planwh"
    assert _with(url, database="superset_bi_check", scheme="postgresql+psycopg2") == (
        "postgresql+psycopg2://postgres@127.0.0.1:54329/superset_bi_check")
