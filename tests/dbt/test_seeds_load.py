"""The reference seeds load into PostgreSQL with dbt and pass their dbt tests."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from dbt.cli.main import dbtRunner

from planwh.db import dbt_env
from planwh.settings import PROJECT_ROOT

DBT_DIR = PROJECT_ROOT / "dbt_project"


def test_reference_seeds_load_and_pass_their_dbt_tests(
    fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an empty warehouse and dbt writing its target and logs outside the repository
    for key, value in dbt_env(fresh_db).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    common = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
              "--target-path", str(tmp_path / "target")]
    runner = dbtRunner()

    # WHEN the seeds are loaded and their tests run
    seeded = runner.invoke(["seed", *common])
    tested = runner.invoke(["test", "--select", "resource_type:seed", "--indirect-selection", "cautious", *common])

    # THEN both succeed, and every seed test ran and passed
    assert seeded.success, seeded.exception or [str(r.message) for r in seeded.result]
    failed = [f"{r.node.name}: {r.status} {r.message}" for r in tested.result if str(r.status) != "pass"]
    assert tested.success and not failed, failed
    tested_names = {r.node.name for r in tested.result}
    assert any("relationships_ref_province_mapping_current_province_code" in n for n in tested_names)
    assert len(tested.result) >= 80

    with psycopg.connect(fresh_db) as conn:
        def scalar(sql: str) -> object:
            return conn.execute(sql).fetchone()[0]

        assert scalar("select count(*) from reference.ref_provinces_legacy") == 63
        assert scalar("select count(*) from reference.ref_provinces_current") == 34
        assert scalar("select count(*) from reference.ref_province_mapping") == 63
        # codes keep their leading zero and are text, so they join with what senders write
        assert scalar("select province_code from reference.ref_provinces_current where province_name = 'Hà Nội'") == "01"
        assert scalar(
            "select count(*) from reference.ref_provinces_legacy where province_code in ('01', '02', '04', '06', '08')"
        ) == 5
        types = dict(conn.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'reference' and column_name in ('province_code', 'task_code', 'target_value', "
            "'valid_from', 'is_cumulative')"
        ).fetchall())
        assert types["ref_provinces_legacy.province_code"] == "text"
        assert types["ref_plan_tasks.task_code"] == "text"
        assert types["ref_indicators.target_value"] == "numeric"
        assert types["ref_provinces_current.valid_from"] == "date"
        assert types["ref_indicators.is_cumulative"] == "boolean"
        # a legacy series rolls up through the mapping: Quảng Nam is now part of Đà Nẵng
        assert scalar(
            "select c.province_name from reference.ref_province_mapping as m "
            "inner join reference.ref_provinces_current as c on c.province_code = m.current_province_code "
            "where m.legacy_province_code = '49'"
        ) == "Đà Nẵng"
        assert scalar("select target_value_high from reference.ref_indicators "
                      "where indicator_code = 'minority_foreign_digital_share'") == 20
