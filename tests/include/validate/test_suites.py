"""The reviewed suite files and the GX project configuration, checked without a database."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planwh.ingest.schema import SOURCES
from planwh.validate.suites import (
    GX_PROJECT_DIR,
    MART_SUITES,
    SEEDS_DIR,
    SOURCE_SUITES,
    SUITES_DIR,
    SuiteError,
    load_rules,
    suite_parameters,
)


def test_every_source_and_mart_suite_loads_with_valid_rule_metadata():
    assert set(SOURCE_SUITES) == set(SOURCES)
    suites = {spec.suite for specs in SOURCE_SUITES.values() for spec in specs}
    for suite in suites:
        rules = load_rules(suite)
        assert {r.severity for r in rules.values()} <= {"error", "warning"}
    for mart in MART_SUITES:
        load_rules(mart.suite, for_marts=True)
    on_disk = {p.stem for p in SUITES_DIR.glob("*.json")}
    assert on_disk == suites | {m.suite for m in MART_SUITES}, "a suite file is not wired to a batch or mart"


def test_code_lists_come_from_the_seeds():
    parameters = suite_parameters()
    assert {"49", "48", "91"} <= set(
        parameters["province_codes"]
    )  # legacy Quảng Nam, current Đà Nẵng, An Giang
    assert "fake_news_handled" in parameters["measure_codes"]
    assert {"vi", "km", "cja"} <= set(parameters["language_codes"])
    assert "none" in parameters["reporting_modes"]
    # No suite spells out a code list a seed owns (measure names in rules about one measure are fine).
    text = " ".join(p.read_text() for p in SUITES_DIR.glob("*.json"))
    for code in ('"hr_official"', '"department"', '"km"', '"01"', '"2.1"'):
        assert code not in text, f"{code} is hard-coded in a suite; name the list with a $PARAMETER"


def test_flag_and_status_measures_of_the_seeds_have_their_range_rule():
    with (SEEDS_DIR / "ref_measures.csv").open(encoding="utf-8") as fh:
        bounded = {
            row["measure_code"]: list(range(int(row["min_value"]), int(row["max_value"]) + 1))
            for row in csv.DictReader(fh)
            if row["value_kind"] in ("flag", "status")
        }
    rules = load_rules("agency_submissions")
    ranges = {
        r.kwargs["row_condition"]["parameter"]: r.kwargs["value_set"]
        for r in rules.values()
        if r.kwargs.get("column") == "value" and "row_condition" in r.kwargs
    }
    assert ranges == bounded


def test_the_gx_project_holds_no_connection_string_or_machine_path():
    config = yaml.safe_load((GX_PROJECT_DIR / "gx" / "great_expectations.yml").read_text())
    assert config["analytics_enabled"] is False
    assert config["fluent_datasources"]["warehouse"]["connection_string"] == "${PLANWH_GX_CONNECTION}"
    stores = config["stores"]
    assert stores["validation_results_store"]["store_backend"]["base_directory"].startswith(
        "${PLANWH_GX_STATE_DIR}"
    )
    assert config["data_docs_sites"]["local_site"]["store_backend"]["base_directory"].startswith(
        "${PLANWH_GX_DOCS_DIR}"
    )


def _write_suite(folder: Path, expectations: list[dict]) -> None:
    (folder / "s.json").write_text(json.dumps({"name": "s", "expectations": expectations}))


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"severity": "error", "on_failure": "quarantine_rows"}, "meta.rule is missing"),
        ({"rule": "r", "severity": "fatal", "on_failure": "quarantine_rows"}, "meta.severity must be one of"),
        ({"rule": "r", "severity": "warning", "on_failure": "quarantine_rows"}, "on_failure of a warning"),
        ({"rule": "r", "severity": "error", "on_failure": "publish"}, "on_failure of a error"),
    ],
)
def test_a_malformed_rule_is_refused_with_file_and_position(tmp_path, meta, message):
    _write_suite(tmp_path, [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "meta": meta}])
    with pytest.raises(SuiteError, match=message) as error:
        load_rules("s", suites_dir=tmp_path)
    assert "s.json, expectation 1 (expect_column_to_exist)" in str(error.value)


def test_unknown_parameters_and_row_less_quarantine_queries_are_refused(tmp_path):
    meta = {"rule": "r", "severity": "error", "on_failure": "quarantine_rows"}
    _write_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "a", "value_set": {"$PARAMETER": "provinces"}},
                "meta": meta,
            }
        ],
    )
    with pytest.raises(SuiteError, match=r"unknown \$PARAMETER \['provinces'\]"):
        load_rules("s", suites_dir=tmp_path)
    _write_suite(
        tmp_path,
        [
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "select a from {batch}"},
                "meta": meta,
            }
        ],
    )
    with pytest.raises(SuiteError, match="must select row_number"):
        load_rules("s", suites_dir=tmp_path)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("select b.row_number from {batch} as b where b.x < 0", "without a JOIN must not alias"),
        ("select row_number from {batch} inner join landing.files using (file_id)", "with a JOIN must alias"),
    ],
)
def test_batch_aliasing_follows_how_gx_substitutes_it(tmp_path, query, message):
    meta = {"rule": "r", "severity": "error", "on_failure": "quarantine_rows"}
    _write_suite(
        tmp_path,
        [{"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": query}, "meta": meta}],
    )
    with pytest.raises(SuiteError, match=message):
        load_rules("s", suites_dir=tmp_path)


def test_importing_the_gate_does_not_import_great_expectations():
    # DAG files import planwh.validate at parse time; GX costs seconds to import.
    code = "import sys, planwh.validate, planwh.commands.validate; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
