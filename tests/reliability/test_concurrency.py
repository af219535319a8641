"""Concurrency between processes (two Airflow workers, a worker and an operator's command): the
same file ingested by two processes at once is loaded once; two transforms at once leave the
marts exactly as one transform does.

(Threads in one process are covered by ``tests/include/ingest/test_ledger.py`` and
``tests/include/sync/test_sync.py``; here each actor is its own process with its own connections.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg
from conftest import PSEUDONYM_KEY, write_portal_export

from planwh.ingest.parsing import VIETNAM_TZ

ROWS = 40_000
RECEIVED = datetime(2024, 12, 2, 8, 0, tzinfo=VIETNAM_TZ)

INGEST_LANDING = r"""
import json, sys
from planwh.ingest.load import ingest_landing
from planwh.settings import load_settings
outcomes = ingest_landing(load_settings(), "portal")
print("OUTCOMES " + json.dumps([[o.status, o.rows_loaded] for o in outcomes]))
"""

BUILD = r"""
import json, sys, time
from planwh.orchestration.tasks import build_warehouse
from planwh.settings import load_settings
started = time.time()
print("BUILD " + json.dumps({"summary": build_warehouse(load_settings()), "started": started, "ended": time.time()}))
"""


def run_together(code: str, env: dict[str, str], copies: int = 2, timeout: float = 300) -> list[subprocess.CompletedProcess]:
    """``copies`` processes running ``code`` started at the same moment; their results."""
    children = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(copies)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return results


def tagged(result: subprocess.CompletedProcess, tag: str):
    lines = [line for line in result.stdout.splitlines() if line.startswith(tag + " ")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    return json.loads(lines[-1][len(tag) + 1:])


def test_the_same_file_scanned_by_two_processes_at_once_is_loaded_once(settings, tmp_path: Path) -> None:
    # GIVEN a large portal export in the landing folder
    write_portal_export(settings.landing_dir / "portal" / "quangnam.gov.vn_2024-12-01.jsonl", ROWS, RECEIVED)

    # WHEN two processes scan the landing folder at the same moment (two workers running the DAG)
    results = run_together(INGEST_LANDING, dict(os.environ))

    # THEN one loaded the file and the other found it taken
    outcomes = sorted(tuple(o) for r in results for o in tagged(r, "OUTCOMES"))
    assert ("loaded", ROWS) in outcomes and outcomes.count(("loaded", ROWS)) == 1
    assert {status for status, _ in outcomes} <= {"loaded", "duplicate"}
    with psycopg.connect(settings.warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.portal_statistics").fetchone()[0] == ROWS
        statuses = [r[0] for r in conn.execute("select status from landing.files order by file_id")]
    assert statuses.count("loaded") == 1 and set(statuses) <= {"loaded", "duplicate"}
    assert len(list(settings.archive_dir.rglob("*.jsonl"))) == 1


def test_two_transforms_at_once_leave_the_marts_as_one_transform_does(pipeline, copy_database, tmp_path: Path) -> None:
    # GIVEN a copy of the pipeline's warehouse (published data, built marts)
    url = copy_database(pipeline.db_name)
    expected = {k: v for k, v in pipeline.rounds[-1]["fingerprints"].items() if k.startswith("marts.")}
    env = {
        **os.environ,
        "PLANWH_WAREHOUSE_URL": url,
        "PLANWH_STATE_DIR": str(tmp_path / "state"),
        "PLANWH_LANDING_DIR": str(tmp_path / "landing"),
        "PLANWH_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PLANWH_DOTENV": str(tmp_path / "no.env"),
    }

    # WHEN two processes run the transform at the same moment (a scheduled run and a manual one)
    started = time.monotonic()
    builds = [tagged(r, "BUILD") for r in run_together(BUILD, env)]

    # THEN both succeed, every model and test passing ...
    for build in builds:
        assert build["summary"].get("error", 0) == 0 and build["summary"].get("fail", 0) == 0, build
        assert build["summary"] == pipeline.rounds[-1]["build"]
    assert time.monotonic() - started < 240
    # ... and the marts are exactly those one build gives
    driver = _driver()
    assert {k: v for k, v in driver.fingerprints(url, ("marts",)).items()} == expected


def _driver():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipeline_driver", Path(__file__).with_name("pipeline_driver.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
